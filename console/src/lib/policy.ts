// Policy documents in the editor: a quick check of the JSON and of the policy grammar's shape
// before sending (the server's policy parser has the last word and its MalformedPolicy reason is
// shown as it is), and the templates a bucket policy can start from.

export type PolicyKind = 'identity' | 'bucket';

/** Where a JSON.parse error is, as "line L, column C" when the engine tells the offset. */
function jsonErrorText(text: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const m = /position (\d+)/.exec(msg);
  if (!m) return msg;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${msg} (line ${line}, column ${col})`;
}

const EFFECTS = ['Allow', 'Deny'];
const STATEMENT_KEYS = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'];

function isStringList(v: unknown): boolean {
  return typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'));
}

/** The problems found in a policy document's text; empty when it looks well formed. */
export function policyProblems(text: string, kind: PolicyKind): string[] {
  if (text.trim() === '') return ['The document is empty.'];
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return [`Not valid JSON: ${jsonErrorText(text, err)}`];
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return ['A policy is a JSON object.'];
  const d = doc as Record<string, unknown>;
  const problems: string[] = [];
  if (d.Version !== undefined && d.Version !== '2012-10-17' && d.Version !== '2008-10-17') problems.push('Version must be "2012-10-17" (or "2008-10-17").');
  for (const k of Object.keys(d)) if (!['Version', 'Id', 'Statement'].includes(k)) problems.push(`Unknown top-level field "${k}".`);
  const raw = d.Statement;
  if (raw === undefined) return [...problems, 'A policy needs a "Statement".'];
  const statements = Array.isArray(raw) ? raw : [raw];
  if (statements.length === 0) problems.push('"Statement" is empty.');
  statements.forEach((st, i) => {
    const where = `Statement ${i + 1}`;
    if (typeof st !== 'object' || st === null || Array.isArray(st)) {
      problems.push(`${where} is not an object.`);
      return;
    }
    const s = st as Record<string, unknown>;
    for (const k of Object.keys(s)) if (!STATEMENT_KEYS.includes(k)) problems.push(`${where}: unknown field "${k}".`);
    if (!EFFECTS.includes(s.Effect as string)) problems.push(`${where}: "Effect" must be "Allow" or "Deny".`);
    if ((s.Action === undefined) === (s.NotAction === undefined)) problems.push(`${where}: give exactly one of "Action" and "NotAction".`);
    else if (!isStringList(s.Action ?? s.NotAction)) problems.push(`${where}: actions are a string or a list of strings.`);
    if ((s.Resource === undefined) === (s.NotResource === undefined)) problems.push(`${where}: give exactly one of "Resource" and "NotResource".`);
    else if (!isStringList(s.Resource ?? s.NotResource)) problems.push(`${where}: resources are a string or a list of strings.`);
    const hasPrincipal = s.Principal !== undefined || s.NotPrincipal !== undefined;
    if (kind === 'bucket' && !hasPrincipal) problems.push(`${where}: a bucket policy statement names a "Principal".`);
    if (kind === 'identity' && hasPrincipal) problems.push(`${where}: an identity policy has no "Principal" (it applies to whom it is attached to).`);
    if (s.Condition !== undefined && (typeof s.Condition !== 'object' || s.Condition === null || Array.isArray(s.Condition)))
      problems.push(`${where}: "Condition" is an object.`);
  });
  return problems;
}

/** Pretty-prints JSON text (unchanged when it does not parse). */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/**
 * The server's canned policies (src/iam/canned-policies.ts: readonly, readwrite, writeonly) as
 * bucket policies of one bucket, for a chosen principal: the same actions, on this bucket and its
 * objects instead of every bucket. (The canned diagnostics and consoleAdmin grant admin actions,
 * which a bucket policy cannot.)
 */
export const BUCKET_TEMPLATES: ReadonlyArray<{ name: string; description: string; actions: string[]; list?: boolean }> = [
  {
    name: 'readonly',
    description: 'read objects and the bucket location (no listing), like the canned readonly',
    actions: ['s3:GetBucketLocation', 's3:GetObject'],
  },
  { name: 'readonly+list', description: 'readonly, and list the bucket', actions: ['s3:GetBucketLocation', 's3:GetObject'], list: true },
  { name: 'readwrite', description: 'every S3 action on this bucket and its objects, like the canned readwrite', actions: ['s3:*'] },
  { name: 'writeonly', description: 'upload objects only, like the canned writeonly', actions: ['s3:PutObject'] },
];

/** `*` (everyone, anonymous callers included) or a user of this server by name. */
export function principalOf(who: string): unknown {
  const w = who.trim();
  if (w === '' || w === '*') return '*';
  return { AWS: [w.startsWith('arn:') ? w : `arn:aws:iam::000000000000:user/${w}`] };
}

/** The document of a template for a bucket and principal, as pretty JSON. */
export function bucketTemplate(name: string, bucket: string, who: string): string {
  const t = BUCKET_TEMPLATES.find((x) => x.name === name);
  if (!t) return '';
  const principal = principalOf(who);
  const statements: object[] = [];
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const objectActions = t.actions.filter((a) => a !== 's3:GetBucketLocation');
  if (t.actions.includes('s3:*')) {
    statements.push({ Sid: 'ReadWrite', Effect: 'Allow', Principal: principal, Action: ['s3:*'], Resource: [bucketArn, `${bucketArn}/*`] });
  } else {
    const bucketActions = [...(t.actions.includes('s3:GetBucketLocation') ? ['s3:GetBucketLocation'] : []), ...(t.list ? ['s3:ListBucket'] : [])];
    if (bucketActions.length > 0) statements.push({ Sid: 'Bucket', Effect: 'Allow', Principal: principal, Action: bucketActions, Resource: [bucketArn] });
    statements.push({ Sid: 'Objects', Effect: 'Allow', Principal: principal, Action: objectActions, Resource: [`${bucketArn}/*`] });
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2);
}

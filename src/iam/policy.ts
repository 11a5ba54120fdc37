// IAM JSON policy documents: parsed, validated (AWS's MalformedPolicy reasons) and compiled once into
// matchers that evaluate in microseconds. Identity policies (users, groups, access keys, sessions) and
// resource policies (bucket policies, with Principal) share the language; see docs/iam.md.
import { OPEN_SERVICES, S3_ACTIONS_LOWER } from './policy-catalogue.js';
import type { CompiledCondition } from './policy-conditions.js';
import { compileConditions } from './policy-conditions.js';
import { PolicyError } from './policy-error.js';
import type { ConditionValues } from './policy-match.js';
import { Template, globMatch, globMatchEscaped, hasGlob } from './policy-match.js';

export { PolicyError } from './policy-error.js';

/** The account every Strata principal belongs to (one server, one account): 12 digits, as ARNs need. */
export const STRATA_ACCOUNT_ID = '000000000000';

/**
 * Who makes a request, as policies see it. The ARNs (docs/iam.md, "Principals and ARNs"):
 * root `arn:aws:iam::<account>:root`, user NAME `arn:aws:iam::<account>:user/NAME`, a session of role R
 * `arn:aws:sts::<account>:assumed-role/R/SESSION` (matched by the role's `arn:aws:iam::<account>:role/R`
 * too), anonymous: no ARN (only Principal "*" matches it).
 */
export interface RequestPrincipal {
  readonly kind: 'root' | 'user' | 'assumed-role' | 'anonymous';
  readonly account: string;
  /** '' for anonymous. */
  readonly arn: string;
  /** The role's ARN for an assumed-role session. */
  readonly roleArn?: string;
  /** The unique id (the canonical user id buckets record as owner): `{"CanonicalUser": id}` matches it. */
  readonly userId: string;
  /** The user name (users), the session name (assumed roles). */
  readonly name?: string;
}

/**
 * The condition keys a principal brings to every request (merge them into conditionContext's input):
 * aws:username (users only, as AWS), aws:userid, aws:PrincipalType (Account, User, AssumedRole, Anonymous),
 * aws:PrincipalArn and aws:PrincipalAccount (not for anonymous).
 */
export function principalContextValues(p: RequestPrincipal): Record<string, string | undefined> {
  const type = { root: 'Account', user: 'User', 'assumed-role': 'AssumedRole', anonymous: 'Anonymous' }[p.kind];
  return {
    'aws:username': p.kind === 'user' ? p.name : undefined,
    'aws:userid': p.userId,
    'aws:PrincipalType': type,
    'aws:PrincipalArn': p.kind === 'anonymous' ? undefined : (p.roleArn ?? p.arn),
    'aws:PrincipalAccount': p.kind === 'anonymous' ? undefined : p.account,
  };
}

/** The ARN of a Strata identity (see RequestPrincipal). */
export function principalArn(kind: 'root' | 'user' | 'role', name: string, account = STRATA_ACCOUNT_ID): string {
  return kind === 'root' ? `arn:aws:iam::${account}:root` : `arn:aws:iam::${account}:${kind}/${name}`;
}

/**
 * 'identity': attached to a user, group, access key or session (no Principal); 'resource': a bucket
 * policy (Principal required); 'trust': a role's trust policy (Principal required, no Resource, only
 * `sts:` actions).
 */
export type PolicyKind = 'identity' | 'resource' | 'trust';

export interface ParseOptions {
  readonly kind: PolicyKind;
  /** A bucket policy's bucket: every Resource must be in it ("Policy has invalid resource" otherwise). */
  readonly bucket?: string;
  /** For logs: the managed policy's name, "bucket policy", "inline policy of key AK…". */
  readonly name?: string;
}

export interface CompiledStatement {
  /** Position in the Statement array (0-based). */
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: 'Allow' | 'Deny';
  readonly actions: ListMatcher;
  readonly resources: ListMatcher;
  /** Resource policies only. */
  readonly principals: PrincipalMatcher | undefined;
  readonly conditions: readonly CompiledCondition[];
  /** `<policy name> statement <index> (<sid>)`, for the log line (built once). */
  readonly label: string;
}

export interface CompiledPolicy {
  readonly name: string;
  readonly kind: PolicyKind;
  readonly version: '2012-10-17' | '2008-10-17';
  readonly id: string | undefined;
  readonly statements: readonly CompiledStatement[];
  /** The document as given (GetBucketPolicy returns it as stored). */
  readonly text: string;
  /**
   * The condition keys its statements test, as the context stores them (normalizeKey: the part
   * before a `/` lower-cased, `s3:existingobjecttag/Team`): a request builds costly keys (the
   * object's current tags) only when a policy asks for them.
   */
  readonly conditionKeys: ReadonlySet<string>;
}

export type ParseResult = { readonly ok: true; readonly policy: CompiledPolicy } | { readonly ok: false; readonly error: PolicyError };

const TOP_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

/** Parses and compiles a policy document (JSON text or an already parsed value). Never throws. */
export function parsePolicy(document: string | unknown, options: ParseOptions): ParseResult {
  try {
    return { ok: true, policy: compilePolicy(document, options) };
  } catch (err) {
    if (err instanceof PolicyError) return { ok: false, error: err };
    throw err;
  }
}

/** parsePolicy that throws the PolicyError (for the canned policies and tests). */
export function compilePolicy(document: string | unknown, options: ParseOptions): CompiledPolicy {
  let value: unknown = document;
  let text: string;
  if (typeof document === 'string') {
    text = document;
    try {
      value = JSON.parse(document);
    } catch {
      throw new PolicyError('This policy contains invalid Json');
    }
  } else text = JSON.stringify(document);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PolicyError('This policy contains invalid Json');
  const doc = value as Record<string, unknown>;
  for (const field of Object.keys(doc)) if (!TOP_FIELDS.has(field)) throw new PolicyError(`Unknown field ${field}`);
  const version = doc['Version'] ?? '2008-10-17';
  if (version !== '2012-10-17' && version !== '2008-10-17') throw new PolicyError('The policy must contain a valid version string');
  const id = doc['Id'];
  if (id !== undefined && typeof id !== 'string') throw new PolicyError('Syntax errors in policy.');
  if (doc['Statement'] === undefined) throw new PolicyError('Missing required field Statement');
  const raw = Array.isArray(doc['Statement']) ? (doc['Statement'] as unknown[]) : [doc['Statement']];
  if (raw.length === 0) throw new PolicyError('Could not parse the policy: Statement is empty!');
  const variables = version === '2012-10-17';
  const sids = new Set<string>();
  const name = options.name ?? (options.kind === 'resource' ? 'bucket policy' : 'policy');
  const statements = raw.map((s, i) => {
    const st = compileStatement(s, i, options, variables, name);
    if (st.sid !== undefined && st.sid !== '') {
      if (sids.has(st.sid)) throw new PolicyError('The Statement Ids in the policy are not unique');
      sids.add(st.sid);
    }
    return st;
  });
  const conditionKeys = new Set(statements.flatMap((st) => st.conditions.map((c) => c.contextKey)));
  return Object.freeze({ name, kind: options.kind, version, id, statements, text, conditionKeys });
}

function compileStatement(value: unknown, index: number, options: ParseOptions, variables: boolean, policyName: string): CompiledStatement {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PolicyError('Syntax errors in policy.');
  const st = value as Record<string, unknown>;
  for (const field of Object.keys(st)) if (!STATEMENT_FIELDS.has(field)) throw new PolicyError(`Unknown field ${field}`);
  for (const name of ['Principal', 'Action', 'Resource']) {
    if (st[name] !== undefined && st[`Not${name}`] !== undefined) throw new PolicyError(`Statement/policy already has instance of ${name}`);
  }
  const sid = st['Sid'];
  if (sid !== undefined && typeof sid !== 'string') throw new PolicyError('Syntax errors in policy.');
  const effect = st['Effect'];
  if (effect === undefined) throw new PolicyError('Missing required field Effect');
  if (effect !== 'Allow' && effect !== 'Deny') throw new PolicyError(`Invalid effect: ${typeof effect === 'string' ? effect : JSON.stringify(effect)}`);

  let principals: PrincipalMatcher | undefined;
  const hasPrincipal = st['Principal'] !== undefined || st['NotPrincipal'] !== undefined;
  if (options.kind === 'identity') {
    if (hasPrincipal) throw new PolicyError('Policy document should not specify a principal.');
  } else {
    if (!hasPrincipal) throw new PolicyError('Missing required field Principal');
    principals = compilePrincipal(st['Principal'] ?? st['NotPrincipal'], st['NotPrincipal'] !== undefined);
  }

  const actionList = strings(st['Action'] ?? st['NotAction'], 'Policy has invalid action');
  if (actionList === undefined) throw new PolicyError('Missing required field Action');
  for (const a of actionList) validateAction(a, options.kind);
  const actions = new ListMatcher(
    actionList.map((a) => Template.of(a.toLowerCase(), false)),
    st['NotAction'] !== undefined,
  );

  if (options.kind === 'trust' && (st['Resource'] !== undefined || st['NotResource'] !== undefined)) throw new PolicyError('Has prohibited field Resource');
  const resourceList = options.kind === 'trust' ? ['*'] : strings(st['Resource'] ?? st['NotResource'], 'Policy has invalid resource');
  if (resourceList === undefined) throw new PolicyError('Missing required field Resource');
  for (const r of resourceList) validateResource(r, options.bucket);
  const resources = new ListMatcher(
    resourceList.map((r) => Template.of(r, variables)),
    st['NotResource'] !== undefined,
  );

  const conditions = st['Condition'] === undefined ? [] : compileConditions(st['Condition'], variables);
  const label = `${policyName} statement ${index}${sid ? ` (${sid as string})` : ''}`;
  return { index, sid: sid as string | undefined, effect, actions, resources, principals, conditions, label };
}

/** A string or a non-empty array of strings; undefined when absent or empty. */
function strings(value: unknown, invalid: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return undefined;
  if (!list.every((v) => typeof v === 'string' && v !== '')) throw new PolicyError(invalid);
  return list as string[];
}

function validateAction(action: string, kind: PolicyKind): void {
  if (action === '*') return;
  const m = /^([A-Za-z0-9-]+):([A-Za-z0-9*?]+)$/.exec(action);
  if (!m) throw new PolicyError('Policy has invalid action');
  const service = m[1]!.toLowerCase();
  if (kind === 'trust') {
    if (service !== 'sts') throw new PolicyError('Policy has invalid action');
  } else if (service === 's3') {
    const lower = action.toLowerCase();
    const known = hasGlob(lower) ? S3_ACTIONS_LOWER.some((a) => globMatch(lower, a)) : S3_ACTIONS_LOWER.includes(lower);
    if (!known) throw new PolicyError('Policy has invalid action');
  } else if (kind === 'resource' || !OPEN_SERVICES.has(service)) {
    throw new PolicyError('Policy has invalid action');
  }
}

function validateResource(resource: string, bucket: string | undefined): void {
  if (resource === '*') return; // in a bucket policy: everything the policy can reach, i.e. this bucket
  // arn:partition:service:region:account:resource
  const parts = resource.split(':');
  if (parts.length < 6 || parts[0] !== 'arn' || !/^[a-z-]+$/.test(parts[1]!) || parts[2] === '') throw new PolicyError('Policy has invalid resource');
  if (bucket === undefined) return;
  if (parts[2] !== 's3') throw new PolicyError('Policy has invalid resource');
  const path = parts.slice(5).join(':');
  const first = path.split('/')[0]!;
  if (first === '' || (!first.includes('${') && !globMatch(first, bucket))) {
    throw new PolicyError('Policy has invalid resource');
  }
}

/**
 * A list of patterns (Action or Resource), matched case-sensitively against an already normalised value
 * (actions are lower-cased on both sides). Exact entries go in a Set; `*` short-circuits; globs and
 * templates with variables are tested in order. `not`: NotAction / NotResource.
 */
export class ListMatcher {
  private readonly all: boolean;
  private readonly exact = new Set<string>();
  /** Patterns whose only wildcard is one trailing `*` (`arn:aws:s3:::b/*`, `s3:get*`): a startsWith. */
  private readonly prefixes: string[] = [];
  private readonly globs: string[] = [];
  private readonly templates: Template[] = [];

  constructor(
    patterns: readonly Template[],
    readonly not: boolean,
  ) {
    let all = false;
    for (const t of patterns) {
      if (t.literal === undefined) this.templates.push(t);
      else if (t.literal === '*') all = true;
      else if (t.literal.endsWith('*') && !hasGlob(t.literal.slice(0, -1))) this.prefixes.push(t.literal.slice(0, -1));
      else if (hasGlob(t.literal)) this.globs.push(t.literal);
      else this.exact.add(t.literal);
    }
    this.all = all;
  }

  /**
   * For actions on no resource (ListAllMyBuckets: the request's resource is `*`): AWS applies any Resource
   * element (`arn:aws:s3:::*` works for it), and a NotResource unless it lists `*`.
   */
  matchesUnscoped(): boolean {
    return !this.not || !this.all;
  }

  /** Whether the element applies to `value` (NotX inverted). */
  matches(value: string, context: ConditionValues): boolean {
    return this.listed(value, context) !== this.not;
  }

  private listed(value: string, context: ConditionValues): boolean {
    if (this.all) return true;
    for (const p of this.prefixes) if (value.startsWith(p)) return true;
    if (this.exact.size > 0 && this.exact.has(value)) return true;
    for (const g of this.globs) if (globMatch(g, value)) return true;
    for (const t of this.templates) {
      const p = t.resolve(context);
      if (p !== undefined && globMatchEscaped(p, value)) return true;
    }
    return false;
  }
}

const ACCOUNT = /^\d{12}$/;
const PRINCIPAL_ARN = /^arn:aws:(iam::\d{12}:(root|user\/[\w+=,.@/-]+|role\/[\w+=,.@/-]+)|sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/;

/** Principal / NotPrincipal of a bucket policy statement. */
export class PrincipalMatcher {
  constructor(
    private readonly any: boolean,
    private readonly arns: ReadonlySet<string>,
    private readonly canonical: ReadonlySet<string>,
    readonly not: boolean,
  ) {}

  matches(p: RequestPrincipal): boolean {
    return this.listed(p) !== this.not;
  }

  private listed(p: RequestPrincipal): boolean {
    if (this.any) return true;
    if (p.kind === 'anonymous') return false;
    return this.arns.has(p.arn) || (p.roleArn !== undefined && this.arns.has(p.roleArn)) || this.canonical.has(p.userId);
  }
}

/**
 * `"*"`, `{"AWS": "*"}` (everyone, anonymous included), `{"AWS": [ARN or 12-digit account, …]}` (an account
 * id means the account's root: `arn:aws:iam::<id>:root`), `{"CanonicalUser": id}`; `Service` and `Federated`
 * are accepted and match no Strata principal. Anything else is "Invalid principal in policy".
 */
function compilePrincipal(value: unknown, not: boolean): PrincipalMatcher {
  if (value === '*') return new PrincipalMatcher(true, new Set(), new Set(), not);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PolicyError('Invalid principal in policy');
  let any = false;
  const arns = new Set<string>();
  const canonical = new Set<string>();
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw new PolicyError('Invalid principal in policy');
  for (const [type, raw] of entries) {
    const list = Array.isArray(raw) ? raw : [raw];
    if (list.length === 0 || !list.every((v) => typeof v === 'string' && v !== '')) throw new PolicyError('Invalid principal in policy');
    for (const v of list as string[]) {
      if (type === 'AWS') {
        if (v === '*') any = true;
        else if (ACCOUNT.test(v)) arns.add(`arn:aws:iam::${v}:root`);
        else if (PRINCIPAL_ARN.test(v)) arns.add(v);
        else throw new PolicyError('Invalid principal in policy');
      } else if (type === 'CanonicalUser') {
        if (v === '*') any = true;
        else canonical.add(v);
      } else if (type === 'Service' || type === 'Federated') {
        // accepted, never a Strata principal
      } else throw new PolicyError('Invalid principal in policy');
    }
  }
  return new PrincipalMatcher(any, arns, canonical, not);
}

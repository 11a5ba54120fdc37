// The authorization cells of `npm run bench` (docs/iam.md, "Cost"): HEAD and GET of a 4 KiB object
// by the root key and by a policy-bound user, interleaved round by round, the user's against root's
// (target 'same', ≥ 0.90×). The user is made through the admin API the way a deployment would:
// the canned `readonly` policy attached to it, a managed policy attached to a group it is in, and an
// access key with an inline policy that narrows (each request evaluates all three). Strata only.
import type { LoadResult } from './client.js';
import { buildHead, requestOnce } from './client.js';
import type { Cell } from './cells.js';
import type { Mode } from './options.js';
import type { Ctx, LoadSpec, Side } from './sides.js';
import type { Target } from './targets.js';
import { objectPath, type S3Credentials, signHeaders } from './sign.js';

const KiB = 1024;
const HOST = '127.0.0.1';
const BUCKET = 'bench';
const KEY = `get-${4 * KiB}`;

/** What the cells use of run.ts (passed in: run.ts is the entry point, so no import cycle). */
export interface AuthHelpers {
  load(ctx: Ctx, side: Side, spec: LoadSpec): Promise<LoadResult>;
  target(side: Side, method: string, bucket: string, key?: string): string;
  putObject(side: Side, bucket: string, key: string, body: Buffer): Promise<void>;
  once(side: Side, key: string, fn: () => Promise<void>): Promise<void>;
  bodyOf(size: number): Buffer;
  wrkOrNode(ctx: Ctx): 'wrk' | 'node';
  perSecond(r: LoadResult): number;
}

/** The bench user's access key (fixed, so presigned lists are made once per side). */
export const BENCH_USER = {
  name: 'bench-user',
  group: 'bench-readers',
  policy: 'bench-read',
  accessKey: 'BENCHUSER0000000KEY1',
  secretKey: 'bench-user-secret-0123456789abcdefghij',
};

const READ_BENCH = (actions: string[]) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: actions, Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`] }],
});

/** One admin API call, signed with the side's (root) keys; throws unless 200. */
async function admin(side: Pick<Side, 'creds' | 'hostHeader' | 'port'>, method: 'POST', path: string, body: object): Promise<void> {
  const bytes = Buffer.from(JSON.stringify(body));
  const p = objectPath('_strata', `admin/v1/${path}`);
  const { target, headers } = signHeaders(side.creds!, side.hostHeader, method, p, [], Date.now(), bytes);
  const res = await requestOnce(HOST, side.port, {
    head: buildHead(method, target, side.hostHeader, { ...headers, 'content-type': 'application/json' }, bytes.length),
    body: [bytes],
    keepBody: true,
  });
  if (res.status !== 200) throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${res.body?.toString('utf8').slice(0, 300) ?? ''}`);
}

/**
 * Creates the bench user through the admin API of the server `side` reaches with root's keys: canned
 * readonly + a group's managed policy + a key with an inline policy. Returns the user's credentials.
 */
export async function createBenchUser(side: Pick<Side, 'creds' | 'hostHeader' | 'port'>): Promise<S3Credentials> {
  const u = BENCH_USER;
  await admin(side, 'POST', 'policies', { name: u.policy, document: READ_BENCH(['s3:GetObject', 's3:ListBucket']) });
  await admin(side, 'POST', 'groups', { name: u.group });
  await admin(side, 'POST', `policies/${u.policy}/attach`, { group: u.group });
  await admin(side, 'POST', 'users', { name: u.name, policies: ['readonly'] });
  await admin(side, 'POST', `groups/${u.group}/members`, { users: [u.name] });
  await admin(side, 'POST', `users/${u.name}/keys`, {
    accessKey: u.accessKey,
    secretKey: u.secretKey,
    policy: JSON.stringify(READ_BENCH(['s3:GetObject'])),
  });
  return { accessKey: u.accessKey, secretKey: u.secretKey, region: side.creds!.region };
}

/** The side as the bench user (made once per server). */
async function ensureUser(d: AuthHelpers, side: Side): Promise<Side> {
  let creds: S3Credentials | undefined;
  await d.once(side, 'bench-user', async () => {
    creds = await createBenchUser(side);
  });
  const u = BENCH_USER;
  creds ??= { accessKey: u.accessKey, secretKey: u.secretKey, region: side.creds!.region };
  return { ...side, name: `${side.name} (bench-user)`, creds };
}

function authCell(d: AuthHelpers, method: 'HEAD' | 'GET', who: 'root' | 'user', c: number, modes: Mode[], goal?: Target): Cell {
  const verb = method.toLowerCase();
  return {
    id: `auth-${verb}-${who}-c${c}`,
    title: `${method} 4 KiB, c${c}, as ${who === 'root' ? 'root' : 'a policy-bound user (user + group + key policies)'}`,
    unit: 'req/s',
    modes,
    group: `auth-${verb}`,
    target: goal,
    nginx: false,
    tool: method === 'HEAD' ? () => 'node' : d.wrkOrNode,
    async run(ctx, side, _round, measured) {
      if (side.name !== 'strata') return undefined;
      await d.once(side, KEY, () => d.putObject(side, BUCKET, KEY, d.bodyOf(4 * KiB)));
      const as = who === 'root' ? side : await ensureUser(d, side);
      const spec: LoadSpec = { method, paths: [d.target(as, method, BUCKET, KEY)], concurrency: c, bodySize: 0, durationS: ctx.opts.durationS };
      const r = await measured(() => d.load(ctx, as, spec));
      // A refused request would be measured as a cheap one: any error fails the cell.
      if (r.errors > 0) throw new Error(`${method} as ${who}: ${r.errors} errors (${JSON.stringify(r.statuses)})`);
      return { value: d.perSecond(r), load: r };
    },
  };
}

/** HEAD and GET 4 KiB as root and as the bench user, each pair interleaved. */
export function authCells(d: AuthHelpers): Cell[] {
  const modes: Mode[] = ['full', 'quick'];
  const near = (of: string): Target => ({ kind: 'same', sameAs: of, min: 0.9, text: `≥ 0.90× ${of}` });
  return [
    authCell(d, 'HEAD', 'root', 16, modes),
    authCell(d, 'HEAD', 'user', 16, modes, near('auth-head-root-c16')),
    authCell(d, 'GET', 'root', 16, modes),
    authCell(d, 'GET', 'user', 16, modes, near('auth-get-root-c16')),
  ];
}

// The admin API's operations (docs/admin-api.md): users, groups, managed policies, attachments and
// access keys, each named by the admin action the policy language authorizes (admin:CreateUser…).
// Pure request → JSON logic over the store's identity tables; HTTP, SigV4 and logging are http.ts's.
import { randomBytes, randomUUID } from 'node:crypto';
import type { SecretBox } from '../iam/secret-box.js';
import type { AccessKeyRecord, AttachTarget, IdentityStore, IdentityStatus } from '../store/identities.js';
import { StoreError } from '../store/errors.js';
import { parsePolicy } from '../iam/policy.js';
import type { KeyService } from '../kms/kms.js';
import type { AdminMetrics } from './usage-operations.js';
import type { AdminHeal } from './heal-operations.js';
import type { AdminCluster } from './cluster-operations.js';

/** An admin error: a code, a message and its HTTP status (answered as JSON). */
export class AdminError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

const invalid = (message: string) => new AdminError('InvalidArgument', 400, message);

/** Store errors → admin errors (anything else is a server fault). */
export function adminErrorOf(err: unknown): AdminError | undefined {
  if (err instanceof AdminError) return err;
  if (!(err instanceof StoreError)) return undefined;
  switch (err.code) {
    case 'NoSuchEntity':
      return new AdminError('NoSuchEntity', 404, err.message);
    case 'EntityAlreadyExists':
      return new AdminError('EntityAlreadyExists', 409, err.message);
    case 'DeleteConflict':
      return new AdminError('DeleteConflict', 409, err.message);
    case 'Busy':
      return new AdminError('SlowDown', 503, 'The metadata store is busy: retry.');
    default:
      return undefined;
  }
}

export interface AdminContext {
  readonly identities: IdentityStore;
  readonly box: SecretBox;
  /** The root access key: no user key may take it. */
  readonly rootAccessKey: string;
  readonly now: () => number;
  /** The key service (kms-operations.ts); absent: the kms calls answer 501 KMSNotConfigured. */
  readonly kms?: KeyService | undefined;
  /** The server's region (key ARNs). */
  readonly region: string;
  /** Usage, history and jobs (usage-operations.ts); absent: those calls answer 501. */
  readonly metrics?: AdminMetrics | undefined;
  /** The heal status (heal-operations.ts); absent (one drive): it answers 501. */
  readonly heal?: AdminHeal | undefined;
  /** The cluster status (cluster-operations.ts); absent (SQLite metadata): it answers 501. */
  readonly cluster?: AdminCluster | undefined;
}

export interface AdminRequest {
  /** Path segments after /_strata/admin/v1/, percent-decoded. */
  readonly params: string[];
  readonly body: Record<string, unknown>;
  /** The query string's parameters. */
  readonly query?: URLSearchParams;
}

export type Json = Record<string, unknown>;
type Handler = (ctx: AdminContext, req: AdminRequest) => Json | Promise<Json>;

export interface AdminRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Path segments; ':x' matches one segment (a name). */
  readonly path: readonly string[];
  /** The admin action the authorizer checks (src/admin/authorize.ts): admin:…, or kms:… for the key service's routes. */
  readonly action: `admin:${string}` | `kms:${string}`;
  /** A kms: route's resource ARN from its path parameters (absent: `*`, as AWS's kms:ListKeys and kms:CreateKey). */
  readonly resource?: (params: readonly string[], region: string) => string;
  readonly run: Handler;
}

// ---- validation ------------------------------------------------------------------------------

const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const GROUP_NAME = /^[\w+=,.@-]{1,128}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const ACCESS_KEY = /^[A-Za-z0-9._=+-]{3,128}$/;
const SECRET_KEY = /^[\x21-\x7e]{8,128}$/;
const MAX_POLICY_BYTES = 20_480;

function name(value: unknown, rule: RegExp, what: string): string {
  if (typeof value !== 'string' || !rule.test(value))
    throw invalid(`Invalid ${what} name: it must be ${what === 'user' ? '1-64' : '1-128'} characters of A-Z a-z 0-9 and +=,.@_-`);
  return value;
}
const userName = (v: unknown) => name(v, USER_NAME, 'user');
const groupName = (v: unknown) => name(v, GROUP_NAME, 'group');
const policyName = (v: unknown) => name(v, POLICY_NAME, 'policy');

function stringList(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(`${what} must be a list of names`);
  return v as string[];
}

/**
 * A policy document: JSON text (or an object) of an identity policy the policy language accepts
 * (src/iam/policy.ts); a malformed one → MalformedPolicy with the parser's reason.
 */
export function policyDocument(v: unknown, what = 'policy document'): string {
  let doc: unknown = v;
  if (typeof v === 'string') {
    try {
      doc = JSON.parse(v);
    } catch {
      throw new AdminError('MalformedPolicy', 400, `The ${what} is not valid JSON.`);
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new AdminError('MalformedPolicy', 400, `The ${what} must be a JSON object.`);
  const st = (doc as Json).Statement;
  if (st === undefined || (typeof st !== 'object' && !Array.isArray(st)) || st === null)
    throw new AdminError('MalformedPolicy', 400, `The ${what} must have a Statement.`);
  const text = typeof v === 'string' ? v : JSON.stringify(doc);
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw new AdminError('MalformedPolicy', 400, `The ${what} is larger than ${MAX_POLICY_BYTES} bytes.`);
  const parsed = parsePolicy(doc, { kind: 'identity' });
  if (!parsed.ok) throw new AdminError('MalformedPolicy', 400, parsed.error.message);
  return text;
}

/** An expiry: an ISO 8601 date or ms since the epoch, in the future. */
function expiry(v: unknown, now: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) throw invalid('expiry must be an ISO 8601 date');
  if (ms <= now) throw invalid('expiry must be in the future');
  return ms;
}

const ALNUM_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SECRET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function randomString(n: number, alphabet: string): string {
  // 256 is a multiple of 64 but not of 36: rejection sampling keeps every character equally likely.
  const out: string[] = [];
  const limit = 256 - (256 % alphabet.length);
  while (out.length < n) for (const b of randomBytes(n * 2)) if (b < limit && out.length < n) out.push(alphabet[b % alphabet.length]!);
  return out.join('');
}
/** A new access key id: 20 characters A–Z0–9 (AWS's and MinIO's shape). */
export const newAccessKeyId = () => randomString(20, ALNUM_UPPER);
/** A new secret: 40 characters of base64's alphabet (AWS's shape). */
export const newSecretKey = () => randomString(40, SECRET_CHARS);

/** Builds a sealed key record from a request body (accessKey, secretKey, expiry, policy: all optional). */
function keyFromBody(ctx: AdminContext, user: string, body: Json): { record: AccessKeyRecord; secretKey: string } {
  const accessKeyId = body.accessKey === undefined ? newAccessKeyId() : body.accessKey;
  if (typeof accessKeyId !== 'string' || !ACCESS_KEY.test(accessKeyId)) throw invalid('accessKey must be 3-128 characters of A-Z a-z 0-9 and ._=+-');
  if (accessKeyId === ctx.rootAccessKey) throw new AdminError('EntityAlreadyExists', 409, 'The access key exists already.');
  const secretKey = body.secretKey === undefined ? newSecretKey() : body.secretKey;
  if (typeof secretKey !== 'string' || !SECRET_KEY.test(secretKey)) throw invalid('secretKey must be 8-128 printable ASCII characters without spaces');
  const now = ctx.now();
  const expires = expiry(body.expiry, now);
  const policy = body.policy === undefined ? undefined : policyDocument(body.policy, 'access key policy');
  const record: AccessKeyRecord = {
    accessKeyId,
    userName: user,
    secret: ctx.box.seal(secretKey, accessKeyId),
    status: 'enabled',
    created: now,
    ...(expires !== undefined && { expires }),
    ...(policy !== undefined && { policy }),
  };
  return { record, secretKey };
}

const iso = (ms: number) => new Date(ms).toISOString();
function keyInfo(k: AccessKeyRecord): Json {
  return {
    accessKey: k.accessKeyId,
    user: k.userName,
    status: k.status,
    created: iso(k.created),
    ...(k.expires !== undefined && { expiry: iso(k.expires) }),
    ...(k.policy !== undefined && { policy: JSON.parse(k.policy) as unknown }),
  };
}
function userInfo(u: { name: string; userId: string; status: IdentityStatus; created: number }): Json {
  return { name: u.name, userId: u.userId, status: u.status, created: iso(u.created) };
}
function mustUser(ctx: AdminContext, n: string) {
  const u = ctx.identities.getUser(n);
  if (!u) throw new AdminError('NoSuchEntity', 404, `The user with name ${n} cannot be found.`);
  return u;
}
const OK: Json = Object.freeze({});

// ---- the operations ----------------------------------------------------------------------------

export const ROUTES: readonly AdminRoute[] = [
  { method: 'GET', path: ['users'], action: 'admin:ListUsers', run: (c) => ({ users: c.identities.listUsers().map((u) => userInfo(u)) }) },
  {
    method: 'POST',
    path: ['users'],
    action: 'admin:CreateUser',
    run: async (c, r) => {
      const n = userName(r.body.name);
      const policies = stringList(r.body.policies, 'policies').map(policyName);
      for (const p of policies) if (!c.identities.getPolicy(p)) throw new AdminError('NoSuchEntity', 404, `The policy with name ${p} cannot be found.`);
      const user = { name: n, userId: `U${randomUUID().replaceAll('-', '').slice(0, 20).toUpperCase()}`, status: 'enabled' as const, created: c.now() };
      const wantsKey = r.body.accessKey !== undefined || r.body.secretKey !== undefined || r.body.key === true;
      const key = wantsKey ? keyFromBody(c, n, r.body) : undefined;
      await c.identities.createUser(user, key?.record);
      for (const p of policies) await c.identities.attachPolicy(p, { user: n });
      return { user: userInfo(user), policies, ...(key && { accessKey: key.record.accessKeyId, secretKey: key.secretKey }) };
    },
  },
  {
    method: 'GET',
    path: ['users', ':user'],
    action: 'admin:GetUser',
    run: (c, r) => {
      const u = mustUser(c, r.params[0]!);
      return {
        user: userInfo(u),
        groups: c.identities.groupsOfUser(u.name),
        policies: c.identities.attachedPolicies({ user: u.name }),
        accessKeys: c.identities.listAccessKeys(u.name).map(keyInfo),
      };
    },
  },
  {
    method: 'POST',
    path: ['users', ':user', 'enable'],
    action: 'admin:EnableUser',
    run: async (c, r) => (await c.identities.setUserStatus(r.params[0]!, 'enabled'), OK),
  },
  {
    method: 'POST',
    path: ['users', ':user', 'disable'],
    action: 'admin:DisableUser',
    run: async (c, r) => (await c.identities.setUserStatus(r.params[0]!, 'disabled'), OK),
  },
  { method: 'DELETE', path: ['users', ':user'], action: 'admin:DeleteUser', run: async (c, r) => (await c.identities.deleteUser(r.params[0]!), OK) },

  {
    method: 'GET',
    path: ['users', ':user', 'keys'],
    action: 'admin:ListAccessKeys',
    run: (c, r) => ({ accessKeys: c.identities.listAccessKeys(mustUser(c, r.params[0]!).name).map(keyInfo) }),
  },
  {
    method: 'POST',
    path: ['users', ':user', 'keys'],
    action: 'admin:CreateAccessKey',
    run: async (c, r) => {
      const key = keyFromBody(c, mustUser(c, r.params[0]!).name, r.body);
      await c.identities.createAccessKey(key.record);
      return { ...keyInfo(key.record), secretKey: key.secretKey };
    },
  },
  {
    method: 'GET',
    path: ['keys', ':key'],
    action: 'admin:GetAccessKey',
    run: (c, r) => {
      const k = c.identities.getAccessKey(r.params[0]!);
      if (!k) throw new AdminError('NoSuchEntity', 404, `The access key ${r.params[0]} cannot be found.`);
      return keyInfo(k);
    },
  },
  {
    method: 'POST',
    path: ['keys', ':key', 'enable'],
    action: 'admin:EnableAccessKey',
    run: async (c, r) => (await c.identities.setAccessKeyStatus(r.params[0]!, 'enabled'), OK),
  },
  {
    method: 'POST',
    path: ['keys', ':key', 'disable'],
    action: 'admin:DisableAccessKey',
    run: async (c, r) => (await c.identities.setAccessKeyStatus(r.params[0]!, 'disabled'), OK),
  },
  { method: 'DELETE', path: ['keys', ':key'], action: 'admin:DeleteAccessKey', run: async (c, r) => (await c.identities.deleteAccessKey(r.params[0]!), OK) },

  {
    method: 'GET',
    path: ['groups'],
    action: 'admin:ListGroups',
    run: (c) => ({ groups: c.identities.listGroups().map((g) => ({ name: g.name, members: g.members })) }),
  },
  {
    method: 'POST',
    path: ['groups'],
    action: 'admin:CreateGroup',
    run: async (c, r) => {
      const n = groupName(r.body.name);
      const members = stringList(r.body.members, 'members');
      await c.identities.createGroup(n, c.now());
      if (members.length > 0) await c.identities.updateGroupMembers(n, members, []);
      return { name: n, members };
    },
  },
  {
    method: 'GET',
    path: ['groups', ':group'],
    action: 'admin:GetGroup',
    run: (c, r) => {
      const g = c.identities.getGroup(r.params[0]!);
      if (!g) throw new AdminError('NoSuchEntity', 404, `The group with name ${r.params[0]} cannot be found.`);
      return { name: g.name, created: iso(g.created), members: g.members, policies: c.identities.attachedPolicies({ group: g.name }) };
    },
  },
  { method: 'DELETE', path: ['groups', ':group'], action: 'admin:DeleteGroup', run: async (c, r) => (await c.identities.deleteGroup(r.params[0]!), OK) },
  {
    method: 'POST',
    path: ['groups', ':group', 'members'],
    action: 'admin:AddUserToGroup',
    run: async (c, r) => (await c.identities.updateGroupMembers(r.params[0]!, stringList(r.body.users, 'users'), []), OK),
  },
  {
    method: 'POST',
    path: ['groups', ':group', 'members', 'remove'],
    action: 'admin:RemoveUserFromGroup',
    run: async (c, r) => (await c.identities.updateGroupMembers(r.params[0]!, [], stringList(r.body.users, 'users')), OK),
  },

  {
    method: 'GET',
    path: ['policies'],
    action: 'admin:ListPolicies',
    run: (c) => ({ policies: c.identities.listPolicies().map((p) => ({ name: p.name, updated: iso(p.updated) })) }),
  },
  {
    method: 'POST',
    path: ['policies'],
    action: 'admin:CreatePolicy',
    run: async (c, r) => {
      const n = policyName(r.body.name);
      await c.identities.putPolicy(n, policyDocument(r.body.document), c.now());
      return { name: n };
    },
  },
  {
    method: 'GET',
    path: ['policies', ':policy'],
    action: 'admin:GetPolicy',
    run: (c, r) => {
      const p = c.identities.getPolicy(r.params[0]!);
      if (!p) throw new AdminError('NoSuchEntity', 404, `The policy with name ${r.params[0]} cannot be found.`);
      return {
        name: p.name,
        created: iso(p.created),
        updated: iso(p.updated),
        document: JSON.parse(p.document) as unknown,
        attachedTo: c.identities.policyTargets(p.name),
      };
    },
  },
  { method: 'DELETE', path: ['policies', ':policy'], action: 'admin:DeletePolicy', run: async (c, r) => (await c.identities.deletePolicy(r.params[0]!), OK) },
  {
    method: 'POST',
    path: ['policies', ':policy', 'attach'],
    action: 'admin:AttachUserOrGroupPolicy',
    run: async (c, r) => (await c.identities.attachPolicy(r.params[0]!, target(r.body)), OK),
  },
  {
    method: 'POST',
    path: ['policies', ':policy', 'detach'],
    action: 'admin:DetachUserOrGroupPolicy',
    run: async (c, r) => (await c.identities.detachPolicy(r.params[0]!, target(r.body)), OK),
  },
];

function target(body: Json): AttachTarget {
  const named = [body.user, body.group, body.role].filter((v) => v !== undefined).length;
  if (named !== 1) throw invalid('name exactly one of user, group and role');
  if (body.role !== undefined) return { role: name(body.role, USER_NAME, 'role') };
  return body.user !== undefined ? { user: userName(body.user) } : { group: groupName(body.group) };
}

/** The route of a method and path segments, with the ':x' segments as params; undefined: none. */
export function matchRoute(
  method: string,
  segments: readonly string[],
  routes: readonly AdminRoute[] = ROUTES,
): { route: AdminRoute; params: string[] } | 'method' | undefined {
  let pathMatched = false;
  for (const route of routes) {
    if (route.path.length !== segments.length) continue;
    const params: string[] = [];
    if (!route.path.every((p, i) => (p.startsWith(':') ? (params.push(segments[i]!), segments[i] !== '') : p === segments[i]))) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  return pathMatched ? 'method' : undefined;
}

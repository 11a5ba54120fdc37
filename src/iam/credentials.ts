// The server's credential source: the root access key from configuration, every other access key
// from the metadata store. The principal resolved for a key (its compiled policies, its opened
// secret) is cached, tagged with the identity generation it was resolved at; a request reads the
// generation (one small read) and reuses the principal while it is unchanged. Every identity write
// bumps the generation in its own transaction, so disabling a user or a key, deleting a key, or
// changing a group or a policy takes effect on the next request in every process sharing the
// store; a key's expiry is checked against the clock on every request.
import type { IdentityStore, KeyWithUser } from '../store/identities.js';
import { ROOT_USER_ID } from '../store/types.js';
import { type CredentialCache, type CredentialSource, type Principal, type StoredCredentials, withCredentialCache } from './principal.js';
import { type CompiledPolicy, compilePolicy, parsePolicy } from './policy.js';
import type { SecretBox } from './secret-box.js';
import { SessionTokenError, type SessionResolver } from './sessions.js';

const DENY_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] };

/** Why a stored key does not authenticate (undefined: it does). Each answers InvalidAccessKeyId. */
export function keyRefusal(k: KeyWithUser, now: number): string | undefined {
  if (k.userStatus !== 'enabled') return 'user disabled';
  if (k.status !== 'enabled') return 'access key disabled';
  if (k.expires !== undefined && k.expires <= now) return 'access key expired';
  return undefined;
}

export interface IdentityCredentialsOptions {
  rootAccessKey: string;
  rootSecretKey: string;
  identities: Pick<IdentityStore, 'identityGeneration' | 'lookupAccessKey' | 'groupsOfUser' | 'attachedPolicies' | 'getPolicy'>;
  box: SecretBox;
  now?: () => number;
  /** Temporary (STS) credentials: a request with a session token goes here (sessions.ts). */
  sessions?: SessionResolver;
}

/**
 * Root from configuration (never stored), users' keys from the store. An unknown key, a disabled
 * user or key and an expired key all find nothing (→ InvalidAccessKeyId, as AWS answers for an
 * inactive key). A stored secret this server cannot decrypt throws SecretUnreadableError (→ a
 * logged 500), never a quiet "unknown key".
 */
export function identityCredentials(opts: IdentityCredentialsOptions): CredentialSource {
  const root: StoredCredentials = Object.freeze({
    principal: Object.freeze({ accessKeyId: opts.rootAccessKey, userId: ROOT_USER_ID, kind: 'root' as const }),
    secretKey: opts.rootSecretKey,
  });
  const now = opts.now ?? Date.now;
  /** Compiled policies by name and document text (a changed document is another entry). */
  const compiledCache = new Map<string, CompiledPolicy>();
  const compiled = (name: string, doc: string): CompiledPolicy => {
    const id = `${name}\u0000${doc}`;
    let c = compiledCache.get(id);
    if (c === undefined) {
      c = compileStoredPolicy(name, doc);
      if (compiledCache.size > 10_000) compiledCache.clear();
      compiledCache.set(id, c);
    }
    return c;
  };
  /** Resolved keys by access key id, each with the generation it was resolved at and the key's expiry. */
  const resolved = new Map<string, { generation: number; expires?: number; found: StoredCredentials }>();
  // Without reading anything: for the pipeline, whose bucket statement reads the generation and
  // re-authenticates when it moved (src/s3/auth/cached.ts). Expiry still by the clock.
  const cache: CredentialCache = (accessKeyId) => {
    const c = resolved.get(accessKeyId);
    if (c === undefined || (c.expires !== undefined && c.expires <= now())) return undefined;
    return { found: c.found, generation: c.generation };
  };
  return withCredentialCache((accessKeyId, sessionToken) => {
    // A session token: an STS session's key, resolved from the sealed token (sessions.ts).
    if (sessionToken !== undefined)
      return opts.sessions ? opts.sessions(accessKeyId, sessionToken, compiled) : Promise.reject(new SessionTokenError('InvalidToken'));
    if (accessKeyId === opts.rootAccessKey) return Promise.resolve(root);
    // The hit: one read of the generation (a one-row primary-key read). Every change to a key, its
    // user, the user's groups or any policy bumps it, so an equal generation means nothing this
    // principal depends on changed; only the clock can expire the key meanwhile.
    const cached = resolved.get(accessKeyId);
    if (cached !== undefined && cached.generation === opts.identities.identityGeneration()) {
      return Promise.resolve(cached.expires !== undefined && cached.expires <= now() ? undefined : cached.found);
    }
    // The miss: the key row and the generation in one statement, then the user's policies (read after
    // the generation: what is cached is at least as new as its tag).
    const { generation, key: k } = opts.identities.lookupAccessKey(accessKeyId);
    if (k === undefined || keyRefusal(k, now()) !== undefined) {
      resolved.delete(accessKeyId);
      return Promise.resolve(undefined);
    }
    const { policies } = identityPolicies(opts.identities, k.userName);
    const identity = [...policies].map(([name, doc]) => compiled(name, doc));
    const principal: Principal = Object.freeze({
      accessKeyId,
      userId: k.userId,
      kind: 'user',
      userName: k.userName,
      ...(k.policy !== undefined && { keyPolicy: k.policy }),
      policies: { identity, ...(k.policy !== undefined && { key: compiled(`access key ${accessKeyId}`, k.policy) }) },
    });
    const found: StoredCredentials = Object.freeze({ principal, secretKey: opts.box.open(k.secret, accessKeyId) });
    if (resolved.size > 10_000) resolved.clear();
    resolved.set(accessKeyId, { generation, ...(k.expires !== undefined && { expires: k.expires }), found });
    return Promise.resolve(found);
  }, cache);
}

/**
 * A stored identity policy, compiled. A document the language refuses (stored before validation, or
 * edited by hand) must not fail open: it denies everything.
 */
export function compileStoredPolicy(name: string, doc: string): CompiledPolicy {
  const r = parsePolicy(doc, { kind: 'identity', name });
  return r.ok ? r.policy : compilePolicy(DENY_ALL, { kind: 'identity', name: `${name} (unreadable: denies all)` });
}

/**
 * What the authorizer will need of a user beyond its principal: its groups and the documents of the
 * managed policies attached to it and to them (JSON text, by policy name). Read from the store on
 * each call (primary-key and index reads): the integrator may cache compiled policies on top.
 */
export function identityPolicies(
  identities: Pick<IdentityStore, 'groupsOfUser' | 'attachedPolicies' | 'getPolicy'>,
  userName: string,
): { groups: string[]; policies: Map<string, string> } {
  const groups = identities.groupsOfUser(userName);
  const policies = new Map<string, string>();
  const names = [...identities.attachedPolicies({ user: userName }), ...groups.flatMap((g) => identities.attachedPolicies({ group: g }))];
  for (const name of names) {
    if (policies.has(name)) continue;
    const p = identities.getPolicy(name);
    if (p) policies.set(name, p.document);
  }
  return { groups, policies };
}

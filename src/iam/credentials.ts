// The server's credential source: the root access key from configuration, every other access key
// from the metadata store. Each request reads its key row and the identity generation (one
// statement); the principal resolved for the key (its compiled policies, its opened secret) is
// cached, tagged with the generation it was resolved at, and reused while the generation is
// unchanged. Every identity write bumps the generation in the same transaction, so disabling a
// user or a key, deleting a key, or changing a group or a policy takes effect on the next request
// in every process sharing the store; a key's expiry is checked against the clock per request.
import type { IdentityStore, KeyWithUser } from '../store/identities.js';
import { ROOT_USER_ID } from '../store/types.js';
import type { CredentialSource, Principal, StoredCredentials } from './principal.js';
import { type CompiledPolicy, compilePolicy, parsePolicy } from './policy.js';
import type { SecretBox } from './secret-box.js';

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
  identities: Pick<IdentityStore, 'lookupAccessKey' | 'groupsOfUser' | 'attachedPolicies' | 'getPolicy'>;
  box: SecretBox;
  now?: () => number;
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
      const r = parsePolicy(doc, { kind: 'identity', name });
      // A stored document the language refuses (stored before validation, or edited by hand) must
      // not fail open: it denies everything.
      c = r.ok ? r.policy : compilePolicy(DENY_ALL, { kind: 'identity', name: `${name} (unreadable: denies all)` });
      if (compiledCache.size > 10_000) compiledCache.clear();
      compiledCache.set(id, c);
    }
    return c;
  };
  /** Resolved keys by access key id, each with the generation it was resolved at and its sealed secret. */
  const resolved = new Map<string, { generation: number; sealed: Buffer; found: StoredCredentials }>();
  return (accessKeyId) => {
    if (accessKeyId === opts.rootAccessKey) return Promise.resolve(root);
    const { generation, key: k } = opts.identities.lookupAccessKey(accessKeyId);
    // The row is checked on every request (status, expiry against the clock), cached or not.
    if (k === undefined || keyRefusal(k, now()) !== undefined) {
      resolved.delete(accessKeyId);
      return Promise.resolve(undefined);
    }
    const cached = resolved.get(accessKeyId);
    if (cached !== undefined && cached.generation === generation && cached.sealed.equals(k.secret.sealed)) return Promise.resolve(cached.found);
    // Opening the secret (AES-GCM) and reading the policies happen once per key and generation.
    // The policies are read after the generation: what is cached is at least as new as its tag.
    const secretKey = cached !== undefined && cached.sealed.equals(k.secret.sealed) ? cached.found.secretKey : opts.box.open(k.secret, accessKeyId);
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
    const found: StoredCredentials = Object.freeze({ principal, secretKey });
    if (resolved.size > 10_000) resolved.clear();
    resolved.set(accessKeyId, { generation, sealed: k.secret.sealed, found });
    return Promise.resolve(found);
  };
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

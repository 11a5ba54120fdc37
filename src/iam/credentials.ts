// The server's credential source: the root access key from configuration, every other access key
// from the metadata store, read per request (one primary-key read), so disabling a user or a key,
// or deleting a key, takes effect on the next request in every process sharing the store.
import type { IdentityStore, KeyWithUser } from '../store/identities.js';
import { ROOT_USER_ID } from '../store/types.js';
import type { CredentialSource, Principal, StoredCredentials } from './principal.js';
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
  identities: Pick<IdentityStore, 'getAccessKey' | 'groupsOfUser' | 'attachedPolicies' | 'getPolicy'>;
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
      const r = parsePolicy(doc, { kind: 'identity', name });
      // A stored document the language refuses (stored before validation, or edited by hand) must
      // not fail open: it denies everything.
      c = r.ok ? r.policy : compilePolicy(DENY_ALL, { kind: 'identity', name: `${name} (unreadable: denies all)` });
      if (compiledCache.size > 10_000) compiledCache.clear();
      compiledCache.set(id, c);
    }
    return c;
  };
  /** Opened secrets by access key id, reused while the sealed bytes are the same (AES-GCM per request is cheap, but free is cheaper). */
  const opened = new Map<string, { sealed: Buffer; plain: string }>();
  return (accessKeyId, sessionToken) => {
    // A session token: an STS session's key, resolved from the sealed token (sessions.ts).
    if (sessionToken !== undefined)
      return opts.sessions ? opts.sessions(accessKeyId, sessionToken, compiled) : Promise.reject(new SessionTokenError('InvalidToken'));
    if (accessKeyId === opts.rootAccessKey) return Promise.resolve(root);
    const k = opts.identities.getAccessKey(accessKeyId);
    if (k === undefined || keyRefusal(k, now()) !== undefined) {
      opened.delete(accessKeyId);
      return Promise.resolve(undefined);
    }
    let cached = opened.get(accessKeyId);
    if (cached === undefined || !cached.sealed.equals(k.secret.sealed)) {
      cached = { sealed: k.secret.sealed, plain: opts.box.open(k.secret, accessKeyId) };
      if (opened.size > 10_000) opened.clear();
      opened.set(accessKeyId, cached);
    }
    // The user's policies and its groups', read now (a change takes effect on the next request),
    // compiled once per distinct document.
    const { policies } = identityPolicies(opts.identities, k.userName);
    const identity = [...policies].map(([name, doc]) => compiled(name, doc));
    const principal: Principal = {
      accessKeyId,
      userId: k.userId,
      kind: 'user',
      userName: k.userName,
      ...(k.policy !== undefined && { keyPolicy: k.policy }),
      policies: { identity, ...(k.policy !== undefined && { key: compiled(`access key ${accessKeyId}`, k.policy) }) },
    };
    return Promise.resolve({ principal, secretKey: cached.plain });
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

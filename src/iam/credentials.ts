// The server's credential source: the root access key from configuration, every other access key
// from the metadata store, read per request (one primary-key read), so disabling a user or a key,
// or deleting a key, takes effect on the next request in every process sharing the store.
import type { IdentityStore, KeyWithUser } from '../store/identities.js';
import { ROOT_USER_ID } from '../store/types.js';
import type { CredentialSource, Principal, StoredCredentials } from './principal.js';
import type { SecretBox } from './secret-box.js';

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
  identities: Pick<IdentityStore, 'getAccessKey'>;
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
  /** Opened secrets by access key id, reused while the sealed bytes are the same (AES-GCM per request is cheap, but free is cheaper). */
  const opened = new Map<string, { sealed: Buffer; plain: string }>();
  return (accessKeyId) => {
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
    const principal: Principal = {
      accessKeyId,
      userId: k.userId,
      kind: 'user',
      userName: k.userName,
      ...(k.policy !== undefined && { keyPolicy: k.policy }),
    };
    return Promise.resolve({ principal, secretKey: cached.plain });
  };
}

/**
 * What the authorizer will need of a user beyond its principal: its groups and the documents of the
 * managed policies attached to it and to them (JSON text, by policy name). Read from the store on
 * each call (primary-key and index reads): the integrator may cache compiled policies on top.
 */
export function identityPolicies(identities: IdentityStore, userName: string): { groups: string[]; policies: Map<string, string> } {
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

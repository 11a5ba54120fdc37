// Who a request acts as (the principal) and where the server finds it: the credential source maps an
// access key id to its principal and, apart from it, the secret that verifies the signature.
import { ROOT_USER_ID } from '../store/types.js';
import type { CompiledPolicy } from './policy.js';

/**
 * 'root': the configured access key, which owns everything; 'user': a stored user's access key
 * (src/iam/credentials.ts), allowed what its policies allow (authorize.ts).
 */
export type PrincipalKind = 'root' | 'anonymous' | 'user';

export interface Principal {
  /** The access key id the request was signed with ('' for anonymous). */
  readonly accessKeyId: string;
  /** The user id buckets record as their owner. */
  readonly userId: string;
  readonly kind: PrincipalKind;
  /** A user's name (kind 'user'): aws:username, and the key to its groups and attached policies. */
  readonly userName?: string;
  /** The access key's inline policy (JSON text) that narrows the user's rights (kind 'user'). */
  readonly keyPolicy?: string;
  /**
   * A user's policies as authorize() evaluates them, compiled, resolved by the credential source for
   * this request: `identity` = the user's attached policies and its groups'; `key` = the access key's
   * inline policy, which only narrows.
   */
  /** An STS session (src/iam/sessions.ts): a role assumed by someone, kind 'user' without userName. */
  readonly session?: { readonly roleName: string; readonly roleId: string; readonly sessionName: string; readonly expires: number };
  readonly policies?: { readonly identity: readonly CompiledPolicy[]; readonly key?: CompiledPolicy; readonly session?: CompiledPolicy };
}

/** The principal of an unsigned request (allowed only what a bucket policy or ACL grants everyone). */
export const ANONYMOUS: Principal = Object.freeze({ accessKeyId: '', userId: 'anonymous', kind: 'anonymous' });

/** What a credential lookup finds: the principal, and the signing material kept apart from it. */
export interface StoredCredentials {
  readonly principal: Principal;
  /** The secret access key: only signature verification uses it. */
  readonly secretKey: string;
}

/**
 * Finds the credentials of an access key id (async: later a user database). `sessionToken`: the
 * request's x-amz-security-token, for temporary (STS) credentials; a bad one rejects with
 * SessionTokenError (src/iam/sessions.ts).
 */
export type CredentialSource = (accessKeyId: string, sessionToken?: string) => Promise<StoredCredentials | undefined>;

/**
 * A principal a credential source resolved earlier, answered from its cache without reading the
 * store, with the identity generation it was resolved at: valid only once a later read of the
 * generation (the pipeline's bucket statement) finds it unchanged (src/s3/auth/cached.ts).
 */
export interface CachedCredentials {
  readonly found: StoredCredentials;
  readonly generation: number;
}
export type CredentialCache = (accessKeyId: string) => CachedCredentials | undefined;

const CREDENTIAL_CACHE = Symbol('strata.credentialCache');

/** `source`, able to answer from `cache` too (credentialCacheOf). */
export function withCredentialCache(source: CredentialSource, cache: CredentialCache): CredentialSource {
  return Object.assign(source, { [CREDENTIAL_CACHE]: cache });
}

/** The cache a credential source answers from without reading (undefined: it has none). */
export function credentialCacheOf(source: CredentialSource): CredentialCache | undefined {
  return (source as { [CREDENTIAL_CACHE]?: CredentialCache })[CREDENTIAL_CACHE];
}

/** The credential source of a server with only the root access key configured. */
export function rootCredentials(accessKey: string, secretKey: string): CredentialSource {
  const found: StoredCredentials = Object.freeze({
    principal: Object.freeze({ accessKeyId: accessKey, userId: ROOT_USER_ID, kind: 'root' as const }),
    secretKey,
  });
  return (accessKeyId) => Promise.resolve(accessKeyId === accessKey ? found : undefined);
}

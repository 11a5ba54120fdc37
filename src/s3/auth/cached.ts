// Authentication from the credential cache, confirmed by the next read. A user's request on an
// existing bucket reads the bucket (with its access documents) in one statement that also returns
// the identity generation (s3/bucket-access.ts): the credential lookup can then skip its own read
// of the generation. Stage 3 authenticates with the principal the credential source cached
// (`pending`: the generation it was resolved at); stage 4's statement confirms it, and when the
// generation moved (a user, key, group or policy changed, in any process) or the bucket is not
// there to tell, the request is authenticated again with a fresh lookup before anything is
// authorized or read. Authorization never sees an unconfirmed principal.
import type { CredentialSource } from '../../iam/principal.js';
import { credentialCacheOf } from '../../iam/principal.js';
import type { RequestContext } from '../context.js';
import { type Authenticated, authenticate } from './authenticate.js';

/** NaN never equals a generation: principals from the cache of different generations are never confirmed. */
const MIXED = Number.NaN;

/**
 * Stage 3 for a request whose next read returns the identity generation: `pending` is the
 * generation to confirm (undefined: the credentials were read now, nothing to confirm). Any failure
 * with cached credentials (a secret that changed…) is decided again with fresh ones.
 */
export function authenticateCached(ctx: RequestContext, source: CredentialSource): Promise<Authenticated & { pending?: number }> {
  const cache = credentialCacheOf(source);
  if (cache === undefined) return authenticate(ctx, source);
  let pending: number | undefined;
  const cached: CredentialSource = (accessKeyId, sessionToken) => {
    // An STS session's credentials are never cached (sessions.ts opens the token each time).
    const c = sessionToken === undefined ? cache(accessKeyId) : undefined;
    if (c === undefined) return source(accessKeyId, sessionToken);
    pending = pending === undefined || pending === c.generation ? c.generation : MIXED;
    return Promise.resolve(c.found);
  };
  // (Promise chains rather than async functions: this is on every user request's path.)
  return authenticate(ctx, cached).then(
    (a): Authenticated & { pending?: number } => (pending === undefined ? a : { auth: a.auth, principal: a.principal, pending }),
    // Decided again with fresh credentials (the same error, when it was not the cache's).
    () => authenticate(ctx, source),
  );
}

/**
 * Stage 4's confirmation: the principal authenticated from the cache at generation `pending` stands
 * when the bucket statement read the same `generation` (nothing to wait for: undefined); otherwise
 * the request is authenticated again (a disabled user or deleted key → InvalidAccessKeyId now,
 * before NoSuchBucket).
 */
export function confirmCached(
  ctx: RequestContext,
  source: CredentialSource,
  pending: number | undefined,
  generation: number | undefined,
): Promise<void> | undefined {
  if (pending === undefined || pending === generation) return undefined;
  return authenticate(ctx, source).then((fresh) => {
    ctx.auth = fresh.auth;
    ctx.principal = fresh.principal;
  });
}

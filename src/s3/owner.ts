// Canonical user ids: how S3 names an owner or a grantee (a 64-hex ID and a DisplayName) in
// listings, ACLs and errors. The root user keeps the id it always had (derived from the configured
// access key, so listings made before users existed still match); every stored user gets one
// derived from its user id, stable across its access keys. docs/iam.md, "ACLs and Object Ownership".
import { createHash } from 'node:crypto';
import type { Principal } from '../iam/principal.js';
import { ROOT_USER_ID } from '../store/types.js';

/** An owner or canonical-user grantee as S3 shows it. */
export type CanonicalUser = {
  readonly ID: string;
  readonly DisplayName: string;
};

const cache = new Map<string, CanonicalUser>();

/** The root user's canonical user (one per configured access key). */
export function ownerOf(accessKey: string): CanonicalUser {
  let o = cache.get(accessKey);
  if (!o) {
    o = { ID: createHash('sha256').update(`strata-owner:${accessKey}`).digest('hex'), DisplayName: accessKey };
    cache.set(accessKey, o);
  }
  return o;
}

/** The canonical id of a stored user (not the root user): 64 hex digits from its user id. */
export function userCanonicalId(userId: string): string {
  return createHash('sha256').update(`strata-user:${userId}`).digest('hex');
}

/**
 * The canonical user of `userId` (a bucket's owner, a principal): the root user's comes from the
 * configured root access key; a stored user's from its user id, shown with `name` (its user name)
 * when known, else its user id.
 */
export function canonicalUserOf(rootAccessKey: string, userId: string, name?: string): CanonicalUser {
  if (userId === ROOT_USER_ID) return ownerOf(rootAccessKey);
  return { ID: userCanonicalId(userId), DisplayName: name ?? userId };
}

/** The canonical id a principal is known by in ACL grants (undefined: anonymous, who has none). */
export function principalCanonicalId(rootAccessKey: string, p: Principal): string | undefined {
  if (p.kind === 'anonymous') return undefined;
  return canonicalUserOf(rootAccessKey, p.userId).ID;
}

/** The caller's canonical user (listings' Initiator, the writer of an object). */
export function callerOwner(ctx: { readonly config: { readonly accessKey: string }; readonly principal: Principal }): CanonicalUser {
  return canonicalUserOf(ctx.config.accessKey, ctx.principal.userId, ctx.principal.userName);
}

/** A bucket's owner as S3 shows it (listings' Owner, GetBucketAcl's Owner). */
export function bucketOwnerOf(ctx: { readonly config: { readonly accessKey: string }; readonly principal: Principal }, ownerUserId: string): CanonicalUser {
  return ownerUserId === ctx.principal.userId ? callerOwner(ctx) : canonicalUserOf(ctx.config.accessKey, ownerUserId);
}

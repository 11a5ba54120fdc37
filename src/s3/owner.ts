// The owner shown in listings: one canonical id per access key (single-tenant until IAM exists).
import { createHash } from 'node:crypto';

const cache = new Map<string, { ID: string; DisplayName: string }>();

export function ownerOf(accessKey: string): { ID: string; DisplayName: string } {
  let o = cache.get(accessKey);
  if (!o) {
    o = { ID: createHash('sha256').update(`strata-owner:${accessKey}`).digest('hex'), DisplayName: accessKey };
    cache.set(accessKey, o);
  }
  return o;
}

/**
 * The access key whose owner a listing shows: the caller's; for an anonymous caller (a bucket
 * policy let it list), the account's, i.e. root's (one account per server).
 */
export function listingOwnerKey(ctx: { readonly auth?: { readonly accessKey: string }; readonly config: { readonly accessKey: string } }): string {
  return ctx.auth?.accessKey ?? ctx.config.accessKey;
}

// What a write gives a new object version besides its bytes and headers — tags (x-amz-tagging,
// tagging.ts), object-lock retention and legal hold (x-amz-object-lock-*, the bucket's default
// retention: object-lock.ts), its ACL (x-amz-acl, x-amz-grant-*, the form's `acl`: acl.ts) — and the response headers a version's extras add to GET and HEAD.
// One seam for every write path (PUT, POST form, CopyObject, CreateMultipartUpload; a completed
// upload carries its upload's extras) so each concept lives in its own module.
import type { BucketRecord, ObjectRecord, VersionExtras } from '../store/types.js';
import type { RequestContext } from './context.js';
import { header } from './context.js';
import type { AclRequest } from './acl-grants.js';
import { aclRequestFrom, newObjectAcl } from './acl.js';
import { type LockVisibility, lockFromRequest, lockHeaders, withDefaultRetention } from './object-lock.js';
import { tagCountHeaders, tagsFromRequest } from './tagging.js';

/** Where a write's extras come from: request headers, or (POST) the form's fields by lowercase name. */
export type ExtrasSource = { readonly kind: 'headers'; readonly ctx: RequestContext } | { readonly kind: 'form'; readonly fields: ReadonlyMap<string, string> };

/** The value of a header (or form field) by its lowercase name. */
export function sourceValue(src: ExtrasSource, name: string): string | undefined {
  return src.kind === 'form' ? src.fields.get(name) : header(src.ctx, name);
}

/** What a write's request asks for: the version's extras, and the ACL (resolved at the write: withBucketDefaults). */
export type RequestExtras = VersionExtras & { readonly aclRequest?: AclRequest };

/**
 * The extras a write's request asks for (synchronous: the typed inputs call it, so a bad header is
 * refused before the body is read). Tags: x-amz-tagging. Lock: x-amz-object-lock-mode,
 * -retain-until-date, -legal-hold (checked against the bucket: InvalidRequest without object lock).
 * ACL: x-amz-acl or x-amz-grant-* (the form: `acl`).
 */
export function extrasFromRequest(src: ExtrasSource, bucket: BucketRecord | undefined): RequestExtras {
  const aclRequest = aclRequestFrom(src);
  return { ...tagsFromRequest(src), ...lockFromRequest(src, bucket), ...(aclRequest !== undefined && { aclRequest }) };
}

/**
 * The extras a version is written with: the bucket's default retention applied (object lock) when
 * the write names none, and the ACL the request asked for resolved against the bucket's Object
 * Ownership and Block Public Access (acl.ts: AccessControlListNotSupported, AccessDenied).
 */
export async function withBucketDefaults(ctx: RequestContext, bucket: BucketRecord, extras: RequestExtras, now = Date.now()): Promise<VersionExtras> {
  const { aclRequest, ...rest } = extras;
  const acl = await newObjectAcl(ctx, bucket, aclRequest);
  return withDefaultRetention(ctx, bucket, acl === undefined ? rest : { ...rest, acl }, now);
}

/**
 * GET/HEAD response headers of a version's extras: x-amz-tagging-count, x-amz-object-lock-* (those
 * the caller may see: object-lock.ts's lockVisibility).
 */
export function extrasHeaders(rec: ObjectRecord, lock?: LockVisibility): Record<string, string> {
  return { ...tagCountHeaders(rec), ...lockHeaders(rec, lock) };
}

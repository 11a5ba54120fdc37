// The source of CopyObject and UploadPartCopy: x-amz-copy-source parsed (URL-encoded; '+' is a
// plus, not a space), authorized (s3:GetObject on the source), loaded, and its
// x-amz-copy-source-if-* conditions checked. A source version is named with ?versionId= (malformed:
// InvalidArgument, but CopyObject's is S3's bare InvalidRequest "Invalid Request"; empty: InvalidArgument
// "Version id cannot be the empty string" for both); a source whose latest version is a delete marker
// is NoSuchKey with the marker's x-amz-delete-marker / x-amz-version-id, and naming a delete marker by
// its version id is InvalidRequest, as Amazon S3 answers (a marker has no data to copy).
// An SSE-C source is opened with x-amz-copy-source-server-side-encryption-customer-* (sse.ts readKey).
import type { S3Action } from '../iam/authorize.js';
import type { ObjectHandle } from '../store/store.js';
import { NULL_VERSION, type ObjectRecord } from '../store/types.js';
import { checkAccess } from './access.js';
import { loadBucketWithAccess } from './bucket-access.js';
import { percentDecode } from './auth/sigv4.js';
import type { BucketRequest } from './context.js';
import { header } from './context.js';
import { S3Error } from './errors.js';
import { checkVersionId, loadObject, wellFormedVersionId } from './object-read.js';
import { checkConditionals } from './preconditions.js';
import { COPY_SOURCE_SSE_C_HEADERS, type CustomerKey, parseCustomerKey, requireSecureForCustomerKey } from './sse.js';

/** What reading the copy source needs (the registry's sourceActions of CopyObject and UploadPartCopy). */
export const COPY_SOURCE_ACTIONS: readonly S3Action[] = ['s3:GetObject'];
/** The same for a source named with ?versionId=. */
export const COPY_SOURCE_VERSION_ACTIONS: readonly S3Action[] = ['s3:GetObjectVersion'];

export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

export function parseCopySource(value: string): CopySource {
  let v = value.trim();
  let versionId: string | undefined;
  const q = v.indexOf('?');
  if (q >= 0) {
    const m = /^versionId=(.*)$/.exec(v.slice(q + 1));
    if (!m) throw new S3Error('InvalidArgument', 'Invalid copy source: unknown parameter.', { ArgumentName: 'x-amz-copy-source' });
    versionId = percentDecode(m[1] ?? '');
    v = v.slice(0, q);
  }
  const decoded = percentDecode(v).replace(/^\//, '');
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: value,
    });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/**
 * The source object after its x-amz-copy-source-if-* conditions (412 when one fails), as a read
 * handle: the caller streams or releases it.
 */
export async function loadCopySource(ctx: BucketRequest, src: CopySource): Promise<ObjectHandle> {
  // The authorize stage for the source side: s3:GetObject (s3:GetObjectVersion for a version) on it.
  // Another bucket than the request's: read with its access documents in one statement (not root).
  const { bucket: srcBucket, access: srcAccess } =
    src.bucket === ctx.bucket
      ? { bucket: ctx.bucketRecord, access: ctx.bucketAccess }
      : ctx.principal.kind === 'root'
        ? { bucket: await ctx.store.getBucket(src.bucket), access: undefined }
        : await loadBucketWithAccess(ctx.store, src.bucket);
  await checkAccess(
    ctx,
    src.versionId !== undefined ? COPY_SOURCE_VERSION_ACTIONS : COPY_SOURCE_ACTIONS,
    { kind: 'object', bucket: src.bucket, key: src.key, owner: srcBucket?.owner, versionId: src.versionId },
    srcAccess,
  );
  if (ctx.op === 'CopyObject' && src.versionId && !wellFormedVersionId(src.versionId)) throw new S3Error('InvalidRequest');
  checkVersionId(src.versionId, 'x-amz-copy-source');
  const source = await loadSourceObject(ctx, src);
  try {
    checkConditionals(
      source.record,
      {
        ifMatch: header(ctx, 'x-amz-copy-source-if-match'),
        ifNoneMatch: header(ctx, 'x-amz-copy-source-if-none-match'),
        ifModifiedSince: header(ctx, 'x-amz-copy-source-if-modified-since'),
        ifUnmodifiedSince: header(ctx, 'x-amz-copy-source-if-unmodified-since'),
      },
      'copy-source',
    );
  } catch (err) {
    source.release(); // the copy will not read the source
    throw err;
  }
  return source;
}

/** The source version, with the copy-specific answers for delete markers (no marker headers). */
async function loadSourceObject(ctx: BucketRequest, src: CopySource): Promise<ObjectHandle> {
  try {
    return await loadObject(ctx, src.bucket, src.key, src.versionId);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'MethodNotAllowed') {
      throw new S3Error('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.');
    }
    // The latest is a delete marker: NoSuchKey with the marker's headers, as S3 answers a copy too.
    throw err;
  }
}

/** x-amz-copy-source-version-id: the version copied (also 'null' when the request named it). */
export function copySourceVersionHeader(src: CopySource, copied: ObjectRecord): Record<string, string> {
  if (copied.versionId === NULL_VERSION && src.versionId === undefined) return {};
  return { 'x-amz-copy-source-version-id': copied.versionId };
}

/** The copy source's customer key (x-amz-copy-source-server-side-encryption-customer-*), validated; HTTPS as for any SSE-C key. */
export function copySourceCustomerKey(ctx: BucketRequest): CustomerKey | undefined {
  const customer = parseCustomerKey((name) => header(ctx, name), COPY_SOURCE_SSE_C_HEADERS);
  if (customer !== undefined) requireSecureForCustomerKey(ctx);
  return customer;
}

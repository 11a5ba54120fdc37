// The typed inputs of operations: the request headers (and endpoint parameters) an operation takes,
// parsed and validated once by the pipeline (the registry's `input`, run after the request checks
// and before the body) and handed to the handler as `ctx.input`. Handlers and the modules they
// call read these, not the headers. Later SSE, tagging and object-lock headers join here.
import type { ObjectMeta, WriteCondition } from '../store/types.js';
import type { ChecksumAlgorithm } from './checksums.js';
import type { RequestContext } from './context.js';
import { header } from './context.js';
import type { CopySource } from './copy-source.js';
import { parseCopySource } from './copy-source.js';
import { S3Error } from './errors.js';
import type { ChecksumType } from './multipart.js';
import { parsePartNumber, requireUploadId, uploadChecksumFromRequest, uploadIdOf } from './multipart.js';
import { RESPONSE_OVERRIDES, metaFromRequest, storageClassFromRequest } from './object-meta.js';
import type { Conditionals } from './preconditions.js';
import { writeCondition } from './preconditions.js';
import { type RequestExtras, extrasFromRequest } from './version-extras.js';

/** PutObject: what the object will carry and the write's condition (checksums: the body reader's). */
export interface PutObjectInput {
  readonly meta: ObjectMeta;
  readonly storageClass: string;
  readonly condition: WriteCondition | undefined;
  /** Tags, retention, legal hold from the request's headers (version-extras.ts); the bucket's default retention is applied at the write. */
  readonly extras: RequestExtras;
}

export function putObjectInput(ctx: RequestContext): PutObjectInput {
  return {
    meta: metaFromRequest(ctx),
    storageClass: storageClassFromRequest(ctx),
    condition: writeCondition(ctx),
    extras: extrasFromRequest({ kind: 'headers', ctx }, ctx.bucketRecord),
  };
}

/** CreateMultipartUpload: what the completed object will carry, and its checksum algorithm and type. */
export interface CreateMultipartUploadInput {
  readonly meta: ObjectMeta;
  readonly storageClass: string;
  readonly checksum: { readonly algorithm?: ChecksumAlgorithm; readonly type?: ChecksumType };
  /** What the completed object will carry besides (version-extras.ts). */
  readonly extras: RequestExtras;
}

export function createMultipartUploadInput(ctx: RequestContext): CreateMultipartUploadInput {
  return {
    meta: metaFromRequest(ctx),
    storageClass: storageClassFromRequest(ctx),
    checksum: uploadChecksumFromRequest(ctx),
    extras: extrasFromRequest({ kind: 'headers', ctx }, ctx.bucketRecord),
  };
}

/** CopyObject: the source, the metadata directive (REPLACE: the new metadata), storage class, condition. */
export interface CopyObjectInput {
  readonly source: CopySource;
  readonly directive: 'COPY' | 'REPLACE';
  /** The metadata of x-amz-metadata-directive: REPLACE (the request's headers); undefined for COPY. */
  readonly meta: ObjectMeta | undefined;
  /** x-amz-storage-class when given; undefined keeps the source's. */
  readonly storageClass: string | undefined;
  readonly condition: WriteCondition | undefined;
  /** The request's extras (x-amz-tagging with x-amz-tagging-directive REPLACE, x-amz-object-lock-*): never copied from the source. */
  readonly extras: RequestExtras;
}

export function copyObjectInput(ctx: RequestContext): CopyObjectInput {
  const directive = (header(ctx, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive });
  }
  return {
    source: parseCopySource(header(ctx, 'x-amz-copy-source') ?? ''),
    directive,
    meta: directive === 'REPLACE' ? metaFromRequest(ctx) : undefined,
    storageClass: header(ctx, 'x-amz-storage-class') !== undefined ? storageClassFromRequest(ctx) : undefined,
    condition: writeCondition(ctx),
    extras: extrasFromRequest({ kind: 'headers', ctx }, ctx.bucketRecord),
  };
}

/** UploadPart and UploadPartCopy: which upload and which part (InvalidArgument without uploadId or for a bad number). */
export interface PartInput {
  readonly uploadId: string;
  readonly partNumber: number;
}

export function partInput(ctx: RequestContext): PartInput {
  requireUploadId(ctx);
  return { uploadId: uploadIdOf(ctx), partNumber: parsePartNumber(ctx) };
}

/** UploadPartCopy: the part, its source and the raw x-amz-copy-source-range (checked against the source's size). */
export interface UploadPartCopyInput extends PartInput {
  readonly source: CopySource;
  readonly range: string | undefined;
}

export function uploadPartCopyInput(ctx: RequestContext): UploadPartCopyInput {
  const part = partInput(ctx);
  return { ...part, source: parseCopySource(header(ctx, 'x-amz-copy-source') ?? ''), range: header(ctx, 'x-amz-copy-source-range') };
}

/** CompleteMultipartUpload: the upload and the write's condition (the part list is the body's). */
export interface CompleteMultipartUploadInput {
  readonly uploadId: string;
  readonly condition: WriteCondition | undefined;
}

export function completeMultipartUploadInput(ctx: RequestContext): CompleteMultipartUploadInput {
  return { uploadId: uploadIdOf(ctx), condition: writeCondition(ctx) };
}

/** GetObject and HeadObject: conditionals, Range or partNumber, checksum mode, response-* overrides. */
export interface GetObjectInput {
  readonly conditions: Conditionals;
  readonly range: string | undefined;
  /** The raw partNumber (validated against the object's parts: its errors need the record). */
  readonly partNumber: string | undefined;
  /** x-amz-checksum-mode: ENABLED. */
  readonly checksumMode: boolean;
  /** response-* query overrides → the response header they set. */
  readonly overrides: ReadonlyArray<readonly [string, string]>;
}

export function getObjectInput(ctx: RequestContext): GetObjectInput {
  // response-* overrides become response headers: a control character (CR, LF, NUL...) cannot be
  // in one (and must never split a header), so such a value is refused before anything is read.
  for (const [name, value] of ctx.query) {
    if (name.startsWith('response-') && /[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
      throw new S3Error('InvalidArgument', `${name} must not contain control characters.`, { ArgumentName: name, ArgumentValue: value });
    }
  }
  const overrides: Array<readonly [string, string]> = [];
  for (const [param, name] of RESPONSE_OVERRIDES) {
    const v = ctx.query.get(param);
    if (v !== undefined) overrides.push([name, v]);
  }
  return {
    conditions: {
      ifMatch: header(ctx, 'if-match'),
      ifNoneMatch: header(ctx, 'if-none-match'),
      ifModifiedSince: header(ctx, 'if-modified-since'),
      ifUnmodifiedSince: header(ctx, 'if-unmodified-since'),
    },
    range: header(ctx, 'range'),
    partNumber: ctx.endpoint.partNumber,
    checksumMode: (header(ctx, 'x-amz-checksum-mode') ?? '').toUpperCase() === 'ENABLED',
    overrides,
  };
}

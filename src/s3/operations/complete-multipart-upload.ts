// CompleteMultipartUpload — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
// Validates the listed parts against the uploaded ones, then makes the object out of the parts'
// pieces in one metadata transaction: no byte is copied, so completing 1 GiB takes milliseconds.
// Unlisted parts are discarded. If-None-Match: * / If-Match are checked in that same transaction.
// An encrypted upload's object carries the upload's encryption (the store copies `sse`); its parts'
// ETags are already what S3 shows for them (sse.ts sealedEtag), so no key is needed here.
import type { ObjectContent, ObjectRecord, PartRecord, UploadRecord } from '../../store/types.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from '../checksums.js';
import type { ObjectRequest, RequestContext, S3Response, WithInput } from '../context.js';
import type { CompleteMultipartUploadInput } from '../inputs.js';
import { header } from '../context.js';
import { S3Error } from '../errors.js';
import { readXmlBody } from '../body.js';
import {
  CHECKSUM_FIELD,
  MAX_MULTIPART_OBJECT_SIZE,
  MAX_PART_NUMBER,
  MIN_PART_SIZE,
  bareEtag,
  checksumFields,
  checksumTypeOf,
  combineCrc,
  compositeChecksum,
  multipartEtag,
  objectLocation,
  uploadAlgorithm,
  withoutPartCount,
} from '../multipart.js';
import { StoreError } from '../../store/errors.js';
import { children, parseXml, text, type XmlNode } from '../xml.js';
import { versionIdHeader } from '../object-read.js';
import { checkOptionalCustomerKey, multipartSseHeaders } from '../sse-multipart.js';

/** One <Part> of the request. */
export interface CompletedPart {
  partNumber: number;
  etag: string;
  /** Checksums the client listed for the part, by lowercase algorithm. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** The parts listed in the request body, in request order. Empty or malformed → MalformedXML. */
export function parseCompleteBody(xml: string): CompletedPart[] {
  const root = parseXml(xml, 'CompleteMultipartUpload');
  const parts: CompletedPart[] = [];
  for (const p of children(root, 'Part')) {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new S3Error('MalformedXML');
    const node = p as XmlNode;
    const num = text(node['PartNumber']);
    const etag = text(node['ETag']);
    if (num === undefined || !/^\d{1,9}$/.test(num.trim()) || etag === undefined) throw new S3Error('MalformedXML');
    const checksums: CompletedPart['checksums'] = {};
    for (const alg of CHECKSUM_ALGORITHMS) {
      const v = text(node[CHECKSUM_FIELD[alg]]);
      if (v !== undefined && v !== '') checksums[alg] = v.trim();
    }
    parts.push({ partNumber: Number(num.trim()), etag, checksums });
  }
  if (parts.length === 0)
    throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema: it lists no parts.');
  return parts;
}

/** The object checksum of a completed upload, or undefined when the upload declared no algorithm. */
async function objectChecksum(upload: UploadRecord, chosen: PartRecord[]): Promise<{ alg: ChecksumAlgorithm; value: string } | undefined> {
  const alg = uploadAlgorithm(upload);
  if (!alg) return undefined;
  const values: string[] = [];
  for (const p of chosen) {
    const v = p.checksums?.[alg];
    // UploadPart and UploadPartCopy give every part of such an upload that checksum, so this is
    // a defence only: refuse rather than invent a value.
    if (v === undefined) {
      throw new S3Error(
        'InvalidRequest',
        `The upload was created using a ${alg} checksum. The complete request must include the checksum for each part. It was missing for part ${p.partNumber} in the request.`,
      );
    }
    values.push(v);
  }
  if (upload.checksumType === 'FULL_OBJECT') {
    return {
      alg,
      value: combineCrc(
        alg,
        chosen.map((p) => ({ value: p.checksums![alg]!, size: p.size })),
      ),
    };
  }
  return { alg, value: await compositeChecksum(alg, values) };
}

/**
 * Checks the request's parts against the uploaded ones (S3's order: part order, then each part's
 * existence, ETag and checksums, then sizes) and describes the object. Throws S3 errors; the
 * upload is left intact when it does.
 */
export async function buildCompletedObject(ctx: RequestContext, upload: UploadRecord, uploaded: PartRecord[], listed: CompletedPart[]): Promise<ObjectContent> {
  // Strictly ascending: a part number listed twice is refused too (AWS answers InvalidPartOrder).
  for (let i = 1; i < listed.length; i++) {
    if (listed[i]!.partNumber <= listed[i - 1]!.partNumber) throw new S3Error('InvalidPartOrder', undefined, { UploadId: upload.uploadId });
  }
  // With an additional checksum on every part, the parts must start at 1 and be consecutive
  // (CompletedPart, general purpose buckets): part N of the object is then upload part N.
  if (uploadAlgorithm(upload) !== undefined && listed.some((l, i) => l.partNumber !== i + 1)) {
    throw new S3Error('InvalidPartOrder', undefined, { UploadId: upload.uploadId });
  }
  const byNumber = new Map(uploaded.map((p) => [p.partNumber, p]));
  const chosen: PartRecord[] = [];
  for (const l of listed) {
    const p = l.partNumber >= 1 && l.partNumber <= MAX_PART_NUMBER ? byNumber.get(l.partNumber) : undefined;
    const invalid = () => new S3Error('InvalidPart', undefined, { UploadId: upload.uploadId, PartNumber: l.partNumber, ETag: l.etag });
    if (!p || bareEtag(p.etag) !== bareEtag(l.etag)) throw invalid();
    for (const [alg, v] of Object.entries(l.checksums)) {
      const stored = p.checksums?.[alg];
      if (stored !== undefined && stored !== v) throw invalid();
    }
    chosen.push(p);
  }
  for (let i = 0; i < chosen.length - 1; i++) {
    const p = chosen[i]!;
    if (p.size < MIN_PART_SIZE) {
      throw new S3Error('EntityTooSmall', undefined, {
        ProposedSize: p.size,
        MinSizeAllowed: MIN_PART_SIZE,
        PartNumber: p.partNumber,
        ETag: bareEtag(p.etag),
      });
    }
  }
  const size = chosen.reduce((n, p) => n + p.size, 0);
  if (size > MAX_MULTIPART_OBJECT_SIZE) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: size, MaxSizeAllowed: MAX_MULTIPART_OBJECT_SIZE });
  const declaredSize = header(ctx, 'x-amz-mp-object-size');
  if (declaredSize !== undefined && declaredSize.trim() !== String(size)) {
    throw new S3Error('InvalidRequest', `The provided 'x-amz-mp-object-size' header value ${declaredSize} does not match what was computed: ${size}`);
  }

  const meta = structuredClone(upload.meta);
  delete meta.checksums;
  const checksum = await objectChecksum(upload, chosen);
  if (checksum) {
    // A checksum of the whole object the client sent along must agree with the one we built.
    const sent = header(ctx, `x-amz-checksum-${checksum.alg}`);
    if (sent !== undefined && withoutPartCount(sent.trim()) !== withoutPartCount(checksum.value)) {
      throw new S3Error('BadDigest', `The ${checksum.alg.toUpperCase()} you specified for the object did not match the calculated checksum.`);
    }
    meta.checksums = { [checksum.alg]: checksum.value };
  }
  const sentType = header(ctx, 'x-amz-checksum-type');
  if (sentType !== undefined && upload.checksumType !== undefined && sentType.toUpperCase() !== upload.checksumType) {
    throw new S3Error(
      'InvalidRequest',
      `The upload was created using the ${upload.checksumType} checksum mode. The complete request must use the same checksum mode.`,
    );
  }
  return {
    size,
    etag: multipartEtag(chosen.map((p) => p.etag)),
    storageClass: upload.storageClass,
    meta,
    // What CreateMultipartUpload asked for: tags, retention, legal hold, the ACL.
    ...(upload.tags !== undefined ? { tags: upload.tags } : {}),
    ...(upload.retention !== undefined ? { retention: upload.retention } : {}),
    ...(upload.legalHold !== undefined ? { legalHold: upload.legalHold } : {}),
    ...(upload.acl !== undefined ? { acl: upload.acl } : {}),
    data: chosen.map((p) => p.data),
    parts: chosen.map((p) => p.size),
  };
}

/** The CompleteMultipartUploadResult of an object made from an upload. */
function result(ctx: RequestContext, record: ObjectRecord): S3Response {
  const bucket = record.bucket;
  const key = record.key;
  const values = Object.values(record.meta.checksums ?? {});
  return {
    status: 200,
    headers: { ...versionIdHeader(record), ...multipartSseHeaders(record.sse, ctx.config.region, 'complete') },
    body: {
      root: 'CompleteMultipartUploadResult',
      content: {
        Location: objectLocation(ctx, bucket, key),
        Bucket: bucket,
        Key: key,
        ETag: record.etag,
        ...checksumFields(record.meta.checksums),
        ChecksumType: values.length > 0 ? checksumTypeOf(values[0]!) : undefined,
      },
    },
  };
}

/**
 * A completion retried after a lost response (the upload is gone because it completed): when the
 * current object is the one this upload made and the request lists the same parts (same ETags, so
 * the same multipart ETag), the answer is the first one's, whatever the conditions say now (they
 * held when the object was made). Otherwise NoSuchUpload, as for an unknown upload: the object was
 * overwritten or deleted since, or the upload was aborted. Survives restarts (the upload id is kept
 * with the object in the metadata store).
 */
async function replayCompleted(ctx: RequestContext, bucket: string, key: string, uploadId: string, listed?: CompletedPart[]): Promise<S3Response | undefined> {
  const done = await ctx.store.completedUpload(bucket, key, uploadId);
  if (!done) return undefined;
  const parts = listed ?? parseCompleteBody(await readXmlBody(ctx));
  if (multipartEtag(parts.map((p) => p.etag)) !== done.record.etag) return undefined;
  await checkOptionalCustomerKey(ctx, bucket, key, done.record.sse);
  return result(ctx, done.record);
}

export async function completeMultipartUpload(ctx: WithInput<ObjectRequest, CompleteMultipartUploadInput>): Promise<S3Response> {
  const bucket = ctx.bucket;
  const key = ctx.key;
  const { uploadId, condition: cond } = ctx.input;
  const pending = await ctx.store.getUpload(bucket, key, uploadId);
  if (pending === undefined) {
    const replay = await replayCompleted(ctx, bucket, key, uploadId);
    if (replay) return replay;
    await ctx.store.requireUpload(bucket, key, uploadId); // NoSuchBucket / NoSuchUpload before reading the body
  } else {
    await checkOptionalCustomerKey(ctx, bucket, key, pending.sse); // before the body is read
  }
  const listed = parseCompleteBody(await readXmlBody(ctx));
  try {
    const record = await ctx.store.completeUpload(bucket, key, uploadId, (upload, parts) => buildCompletedObject(ctx, upload, parts, listed), cond);
    return result(ctx, record);
  } catch (err) {
    // Completed by a concurrent request with the same parts meanwhile: the same answer as it got.
    if (err instanceof StoreError && err.code === 'NoSuchUpload') {
      const replay = await replayCompleted(ctx, bucket, key, uploadId, listed);
      if (replay) return replay;
    }
    throw err;
  }
}

// UploadPartCopy — https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html
// A part whose bytes come from an existing object (optionally a byte range of it), after the
// x-amz-copy-source-if-* conditions. The bytes are copied into the part's own piece, sealed with the
// upload's data key when it is encrypted; an SSE-C source is opened with the x-amz-copy-source-
// server-side-encryption-customer-* key, an SSE-S3/KMS one with its own data key.
import type { PartRecord } from '../../store/types.js';
import { header, type ObjectRequest, type S3Response, type WithInput } from '../context.js';
import { S3Error } from '../errors.js';
import type { UploadPartCopyInput } from '../inputs.js';
import { MAX_PART_SIZE, checksumFields, uploadAlgorithm, withChecksum } from '../multipart.js';
import type { ByteRange } from '../preconditions.js';
import { copySourceVersionHeader, loadCopySource } from '../copy-source.js';
import { COPY_SOURCE_SSE_C_HEADERS, parseCustomerKey, readKey, requireSecureForCustomerKey, sealedEtag } from '../sse.js';
import { multipartSseHeaders, partKey } from '../sse-multipart.js';
import { bodyHash } from '../../store/hash-offload.js';

const RANGE_FORM =
  'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy';

/**
 * x-amz-copy-source-range: exactly `bytes=first-last`, inclusive, inside the source. Malformed and
 * out-of-bounds ranges are both InvalidArgument, as Amazon S3 answers them (unlike GET's Range).
 */
export function parseCopySourceRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!m) throw new S3Error('InvalidArgument', RANGE_FORM, { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: value });
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start > end || end >= size) {
    throw new S3Error('InvalidArgument', `Range specified is not valid for source object of size: ${size}`, {
      ArgumentName: 'x-amz-copy-source-range',
      ArgumentValue: value,
    });
  }
  return { start, end };
}

export async function uploadPartCopy(ctx: WithInput<ObjectRequest, UploadPartCopyInput>): Promise<S3Response> {
  const bucket = ctx.bucket;
  const key = ctx.key;
  const { uploadId, partNumber } = ctx.input;
  const upload = await ctx.store.requireUpload(bucket, key, uploadId);
  const sealKey = await partKey(ctx, upload);
  const sourceCustomer = parseCustomerKey((name) => header(ctx, name), COPY_SOURCE_SSE_C_HEADERS);
  if (sourceCustomer !== undefined) requireSecureForCustomerKey(ctx);
  const source = await loadCopySource(ctx, ctx.input.source);
  const rec = source.record;
  let range: ReturnType<typeof parseCopySourceRange>;
  let length: number;
  let sourceKey: Buffer | undefined;
  try {
    range = parseCopySourceRange(ctx.input.range, rec.size);
    length = range ? range.end - range.start + 1 : rec.size;
    if (length > MAX_PART_SIZE) {
      throw new S3Error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PART_SIZE}`);
    }
    sourceKey = await readKey(ctx, rec.bucket, rec.key, rec.sse, sourceCustomer);
  } catch (err) {
    source.release(); // the source will not be read
    throw err;
  }

  // A large copy's MD5 runs on a worker thread (store/hash-offload.ts), beside the read and the write.
  const md5 = bodyHash(['md5'], length);
  const reader = source.stream(range, sourceKey);
  async function* hashed(): AsyncGenerator<Buffer> {
    if (length === 0) return; // a 0-byte source has no range to read
    for await (const chunk of reader as AsyncIterable<Buffer>) {
      const behind = md5.update(chunk);
      if (behind) await behind;
      yield chunk;
    }
  }
  const alg = uploadAlgorithm(upload);
  const withSum = withChecksum(hashed(), alg);
  let ref;
  try {
    ref = await ctx.store.writeData(withSum.source, ctx.signal, sealKey, upload.storageClass);
  } catch (err) {
    md5.abort();
    throw err;
  } finally {
    reader.destroy();
  }
  const part: PartRecord = {
    partNumber,
    size: ref.size,
    etag: sealedEtag(upload.sse, sealKey, (await md5.digest()).digests.md5!.toString('hex')),
    lastModified: Date.now(),
    data: ref,
  };
  if (alg && withSum.hasher) part.checksums = { [alg]: await withSum.hasher.digest() };
  await ctx.store.commitPart(bucket, key, upload.uploadId, part);
  return {
    status: 200,
    headers: { ...copySourceVersionHeader(ctx.input.source, rec), ...multipartSseHeaders(upload.sse, ctx.config.region, 'part') },
    body: {
      root: 'CopyPartResult',
      content: { ETag: part.etag, LastModified: new Date(part.lastModified).toISOString(), ...checksumFields(part.checksums) },
    },
  };
}

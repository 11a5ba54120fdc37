// UploadPart — https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
// A part is written like an object (verified body → durable piece → metadata commit); its ETag is
// the quoted MD5 of its bytes (a MAC of it for SSE-C/KMS uploads). Uploading a part number again
// replaces the part. An encrypted upload's part is sealed with the upload's data key.
import type { PartRecord } from '../../store/types.js';
import { objectBody } from '../body.js';
import type { ObjectRequest, S3Response, WithInput } from '../context.js';
import type { PartInput } from '../inputs.js';
import { uploadAlgorithm, withChecksum } from '../multipart.js';
import { requireIntegrityForLock } from '../object-lock.js';
import { sealedEtag } from '../sse.js';
import { multipartSseHeaders, partKey } from '../sse-multipart.js';

export async function uploadPart(ctx: WithInput<ObjectRequest, PartInput>): Promise<S3Response> {
  const bucket = ctx.bucket;
  const key = ctx.key;
  // Everything that can be refused is refused before a byte of the body is read.
  const { uploadId, partNumber } = ctx.input;
  const upload = await ctx.store.requireUpload(bucket, key, uploadId);
  requireIntegrityForLock(ctx, upload, 'Put Part'); // the upload will be a version under object lock
  const sealKey = await partKey(ctx, upload);
  const body = objectBody(ctx); // at most 5 GiB, like a part
  const alg = uploadAlgorithm(upload);
  const hashed = withChecksum(body.source, alg);

  const ref = await ctx.store.writeData(hashed.source, ctx.signal, sealKey, upload.storageClass);
  const digest = body.digest();
  const checksums: Record<string, string> = { ...digest.checksums };
  if (alg && hashed.hasher && checksums[alg] === undefined) checksums[alg] = await hashed.hasher.digest();
  const part: PartRecord = {
    partNumber,
    size: digest.size,
    etag: sealedEtag(upload.sse, sealKey, digest.md5),
    lastModified: Date.now(),
    data: ref,
  };
  if (Object.keys(checksums).length > 0) part.checksums = checksums;
  await ctx.store.commitPart(bucket, key, upload.uploadId, part);

  const headers: Record<string, string> = { etag: part.etag, ...multipartSseHeaders(upload.sse, ctx.config.region, 'part') };
  for (const [a, value] of Object.entries(checksums)) headers[`x-amz-checksum-${a}`] = value;
  return { status: 200, headers };
}

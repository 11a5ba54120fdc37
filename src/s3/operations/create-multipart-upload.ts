// CreateMultipartUpload — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
// Stores what the object will carry (content headers, x-amz-meta-*, storage class) and the
// checksum algorithm and type its parts and the completed object use, and its encryption (SSE-C,
// SSE-S3, SSE-KMS or the bucket's default: one data key for all its parts, s3/sse-multipart.ts).
import type { UploadRecord } from '../../store/types.js';
import { header, type ObjectRequest, type S3Response, type WithInput } from '../context.js';
import type { CreateMultipartUploadInput } from '../inputs.js';
import { newUploadId } from '../multipart.js';
import { withBucketDefaults } from '../version-extras.js';
import { parseSseRequest, sseHeaders, writeEncryption } from '../sse.js';

export async function createMultipartUpload(ctx: WithInput<ObjectRequest, CreateMultipartUploadInput>): Promise<S3Response> {
  const bucket = ctx.bucket;
  const key = ctx.key;
  const { storageClass, checksum } = ctx.input;
  const meta = { ...ctx.input.meta };
  // The data key is made now (SSE-S3/KMS: wrapped by the key service) and kept with the upload only
  // in the form that finds it again; the parts unwrap or derive it (sse-multipart.ts partKey).
  const encryption = await writeEncryption(
    ctx,
    bucket,
    key,
    parseSseRequest(ctx, (name) => header(ctx, name)),
  );
  const initiated = Date.now();
  const extras = await withBucketDefaults(ctx, ctx.bucketRecord, ctx.input.extras, initiated);
  const upload: UploadRecord = { bucket, key, uploadId: newUploadId(initiated), initiated, meta, storageClass, ...extras };
  if (encryption !== undefined) upload.sse = encryption.stored;
  if (checksum.algorithm) {
    upload.checksumAlgorithm = checksum.algorithm;
    upload.checksumType = checksum.type;
  }
  await ctx.store.createUpload(upload);
  const headers: Record<string, string> = sseHeaders(upload.sse, ctx.config.region);
  if (checksum.algorithm) {
    headers['x-amz-checksum-algorithm'] = checksum.algorithm.toUpperCase();
    headers['x-amz-checksum-type'] = checksum.type!;
  }
  return {
    status: 200,
    headers,
    body: { root: 'InitiateMultipartUploadResult', content: { Bucket: bucket, Key: key, UploadId: upload.uploadId } },
  };
}

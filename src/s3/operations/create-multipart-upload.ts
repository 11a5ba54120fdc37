// CreateMultipartUpload — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
// Stores what the object will carry (content headers, x-amz-meta-*, storage class) and the
// checksum algorithm and type its parts and the completed object use.
import type { UploadRecord } from '../../store/types.js';
import type { ObjectRequest, S3Response, WithInput } from '../context.js';
import type { CreateMultipartUploadInput } from '../inputs.js';
import { newUploadId } from '../multipart.js';
import { withBucketDefaults } from '../version-extras.js';

export async function createMultipartUpload(ctx: WithInput<ObjectRequest, CreateMultipartUploadInput>): Promise<S3Response> {
  const bucket = ctx.bucket;
  const key = ctx.key;
  const { storageClass, checksum } = ctx.input;
  const meta = { ...ctx.input.meta };
  const initiated = Date.now();
  const extras = await withBucketDefaults(ctx, ctx.bucketRecord, ctx.input.extras, initiated);
  const upload: UploadRecord = { bucket, key, uploadId: newUploadId(initiated), initiated, meta, storageClass, ...extras };
  if (checksum.algorithm) {
    upload.checksumAlgorithm = checksum.algorithm;
    upload.checksumType = checksum.type;
  }
  await ctx.store.createUpload(upload);
  const headers: Record<string, string> = {};
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

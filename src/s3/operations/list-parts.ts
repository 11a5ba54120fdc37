// ListParts — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
// Pages of an upload's parts by part number: max-parts (default and cap 1000), part-number-marker.
// Sizes are the parts' plaintext sizes; an SSE-C upload's key, when given, must be the upload's.
import type { ObjectRequest, S3Response } from '../context.js';
import { MAX_LIST_PARTS, checksumFields, parseCount, uploadIdOf } from '../multipart.js';
import { callerOwner } from '../owner.js';
import { checkOptionalCustomerKey } from '../sse-multipart.js';

export async function listParts(ctx: ObjectRequest): Promise<S3Response> {
  const bucket = ctx.bucket;
  const key = ctx.key;
  const maxParts = Math.min(parseCount(ctx.query.get('max-parts'), 'max-parts', MAX_LIST_PARTS), MAX_LIST_PARTS);
  const marker = parseCount(ctx.query.get('part-number-marker'), 'part-number-marker', 0);
  const upload = await ctx.store.requireUpload(bucket, key, uploadIdOf(ctx));
  await checkOptionalCustomerKey(ctx, bucket, key, upload.sse);
  // One more than asked tells whether the page is truncated.
  const parts = await ctx.store.listParts(bucket, key, upload.uploadId, marker, maxParts + 1);
  const isTruncated = parts.length > maxParts;
  const page = parts.slice(0, maxParts);
  const owner = callerOwner(ctx);
  return {
    status: 200,
    body: {
      root: 'ListPartsResult',
      content: {
        Bucket: bucket,
        Key: key,
        UploadId: upload.uploadId,
        PartNumberMarker: marker,
        NextPartNumberMarker: page.length > 0 ? page[page.length - 1]!.partNumber : undefined,
        MaxParts: maxParts,
        IsTruncated: isTruncated,
        Part: page.map((p) => ({
          PartNumber: p.partNumber,
          LastModified: new Date(p.lastModified).toISOString(),
          ETag: p.etag,
          Size: p.size,
          ...checksumFields(p.checksums),
        })),
        Initiator: owner,
        Owner: owner,
        StorageClass: upload.storageClass,
        ChecksumAlgorithm: upload.checksumAlgorithm?.toUpperCase(),
        ChecksumType: upload.checksumType,
      },
    },
  };
}

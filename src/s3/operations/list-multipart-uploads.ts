// ListMultipartUploads — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
// In-progress uploads by key (UTF-8 byte order), then initiation time; prefix, delimiter
// (CommonPrefixes, counted in max-uploads), key-marker / upload-id-marker, encoding-type=url.
import type { BucketRequest, S3Response } from '../context.js';
import { encoderFor, parseEncodingType, parseMaxKeys } from '../listing-params.js';
import { listingOwnerKey, ownerOf } from '../owner.js';

export async function listMultipartUploads(ctx: BucketRequest): Promise<S3Response> {
  const bucket = ctx.bucket;
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  // Without key-marker, upload-id-marker is ignored (S3).
  const uploadIdMarker = keyMarker === '' ? '' : (ctx.query.get('upload-id-marker') ?? '');
  const maxUploads = parseMaxKeys(ctx, 'max-uploads');
  const encoding = parseEncodingType(ctx);
  const enc = encoderFor(encoding);
  const page = await ctx.store.listUploadPage({ bucket, prefix, delimiter, keyMarker, uploadIdMarker, maxUploads });
  const owner = ownerOf(listingOwnerKey(ctx));
  return {
    status: 200,
    body: {
      root: 'ListMultipartUploadsResult',
      content: {
        Bucket: bucket,
        KeyMarker: enc(keyMarker),
        UploadIdMarker: uploadIdMarker,
        NextKeyMarker: page.isTruncated ? enc(page.nextKeyMarker) : undefined,
        NextUploadIdMarker: page.isTruncated ? page.nextUploadIdMarker : undefined,
        Delimiter: delimiter !== '' ? enc(delimiter) : undefined,
        Prefix: enc(prefix),
        MaxUploads: maxUploads,
        IsTruncated: page.isTruncated,
        EncodingType: encoding,
        Upload: page.uploads.map((u) => ({
          Key: enc(u.key),
          UploadId: u.uploadId,
          Initiator: owner,
          Owner: owner,
          StorageClass: u.storageClass,
          Initiated: new Date(u.initiated).toISOString(),
          ChecksumAlgorithm: u.checksumAlgorithm?.toUpperCase(),
          ChecksumType: u.checksumType,
        })),
        CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
      },
    },
  };
}

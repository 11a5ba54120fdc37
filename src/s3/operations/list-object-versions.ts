// ListObjectVersions — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
// Until versioning exists every object has exactly one version, 'null', which is the latest.
// Bucket-emptying tools (boto3 object_versions.delete(), Terraform force_destroy) depend on it.
import type { RequestContext, S3Response } from '../context.js';
import { encoderFor, objectEntry, parseEncodingType, parseMaxKeys } from '../listing-params.js';

export async function listObjectVersions(ctx: RequestContext): Promise<S3Response> {
  const bucket = ctx.bucket!;
  await ctx.store.requireBucket(bucket);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const versionIdMarker = ctx.query.get('version-id-marker');
  const maxKeys = parseMaxKeys(ctx);
  const encoding = parseEncodingType(ctx);
  const enc = encoderFor(encoding);
  const page = await ctx.store.list({ bucket, prefix, delimiter, after: keyMarker, maxKeys });
  const owner = ctx.auth!.accessKey;
  const lastIsPrefix = page.nextAfter !== undefined && page.commonPrefixes.includes(page.nextAfter);
  return {
    status: 200,
    body: {
      root: 'ListVersionsResult',
      content: {
        Name: bucket,
        Prefix: enc(prefix),
        KeyMarker: enc(keyMarker),
        VersionIdMarker: versionIdMarker ?? '',
        NextKeyMarker: page.isTruncated ? enc(page.nextAfter) : undefined,
        NextVersionIdMarker: page.isTruncated && !lastIsPrefix ? 'null' : undefined,
        MaxKeys: maxKeys,
        Delimiter: delimiter !== '' ? enc(delimiter) : undefined,
        IsTruncated: page.isTruncated,
        EncodingType: encoding,
        Version: page.objects.map((o) => {
          const e = objectEntry(o, enc as (s: string) => string, owner);
          return { Key: e.Key, VersionId: o.versionId, IsLatest: true, LastModified: e.LastModified, ETag: e.ETag, Size: e.Size, Owner: e.Owner, StorageClass: e.StorageClass };
        }),
        CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
      },
    },
  };
}

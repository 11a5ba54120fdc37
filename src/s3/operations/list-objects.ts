// ListObjects (V1) — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html
// NextMarker is sent only when a delimiter was given and the page is truncated (clients use the
// last key otherwise); Contents always carry Owner.
import type { RequestContext, S3Response } from '../context.js';
import { encoderFor, objectEntry, parseEncodingType, parseMaxKeys } from '../listing-params.js';

export async function listObjects(ctx: RequestContext): Promise<S3Response> {
  const bucket = ctx.bucket!;
  await ctx.store.requireBucket(bucket);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const maxKeys = parseMaxKeys(ctx);
  const encoding = parseEncodingType(ctx);
  const enc = encoderFor(encoding);
  const page = await ctx.store.list({ bucket, prefix, delimiter, after: marker, maxKeys });
  const owner = ctx.auth!.accessKey;
  return {
    status: 200,
    body: {
      root: 'ListBucketResult',
      content: {
        Name: bucket,
        Prefix: enc(prefix),
        Marker: enc(marker),
        NextMarker: page.isTruncated && delimiter !== '' ? enc(page.nextAfter) : undefined,
        MaxKeys: maxKeys,
        Delimiter: delimiter !== '' ? enc(delimiter) : undefined,
        IsTruncated: page.isTruncated,
        EncodingType: encoding,
        Contents: page.objects.map((o) => objectEntry(o, enc as (s: string) => string, owner)),
        CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
      },
    },
  };
}

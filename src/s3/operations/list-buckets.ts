// ListBuckets — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
import type { RequestContext, S3Response } from '../context.js';
import { ownerOf } from '../owner.js';

export async function listBuckets(ctx: RequestContext): Promise<S3Response> {
  const prefix = ctx.query.get('prefix') ?? '';
  const buckets = (await ctx.store.listBuckets())
    .filter((b) => b.name.startsWith(prefix))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    status: 200,
    body: {
      root: 'ListAllMyBucketsResult',
      content: {
        Owner: ownerOf(ctx.auth!.accessKey),
        Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: new Date(b.createdAt).toISOString(), BucketRegion: b.region })) },
        Prefix: ctx.query.has('prefix') ? prefix : undefined,
      },
    },
  };
}

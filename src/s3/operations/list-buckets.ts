// ListBuckets — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
// Name order. The 2024 parameters: max-buckets (1–10000), continuation-token (opaque: base64url of
// the last name listed), prefix, bucket-region. Without any of them every bucket is listed on one
// page, as S3 does; with one of them but no max-buckets, a page holds up to 10000. The answer
// carries ContinuationToken only when more buckets follow, Prefix when prefix was sent.
import type { RequestContext, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { callerOwner } from '../owner.js';

export const MAX_BUCKETS_LIMIT = 10_000;
const TOKEN_PREFIX = 'b1:';

export function encodeBucketToken(lastName: string): string {
  return Buffer.from(TOKEN_PREFIX + lastName, 'utf8').toString('base64url');
}

function decodeBucketToken(token: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!text.startsWith(TOKEN_PREFIX)) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token', ArgumentValue: token });
  }
  return text.slice(TOKEN_PREFIX.length);
}

function parseMaxBuckets(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d{1,6}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_BUCKETS_LIMIT)) {
    throw new S3Error('InvalidArgument', `max-buckets must be an integer between 1 and ${MAX_BUCKETS_LIMIT}.`, {
      ArgumentName: 'max-buckets',
      ArgumentValue: v,
    });
  }
  return n;
}

export async function listBuckets(ctx: RequestContext): Promise<S3Response> {
  const maxBuckets = parseMaxBuckets(ctx.query.get('max-buckets'));
  const prefix = ctx.query.get('prefix');
  // An empty continuation-token= is no token, as for ListObjectsV2.
  const token = ctx.query.get('continuation-token') || undefined;
  const region = ctx.query.get('bucket-region') || undefined;
  const after = token !== undefined ? decodeBucketToken(token) : undefined;
  const paged = maxBuckets !== undefined || prefix !== undefined || token !== undefined || region !== undefined;
  const limit = maxBuckets ?? (paged ? MAX_BUCKETS_LIMIT : Infinity);

  // Bucket names are lowercase ASCII: string order is byte order.
  const matching = (await ctx.store.listBuckets())
    .filter(
      (b) => (prefix === undefined || b.name.startsWith(prefix)) && (region === undefined || b.region === region) && (after === undefined || b.name > after),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = matching.length > limit ? matching.slice(0, limit) : matching;
  const more = page.length < matching.length;
  return {
    status: 200,
    body: {
      root: 'ListAllMyBucketsResult',
      content: {
        Owner: callerOwner(ctx),
        Buckets: { Bucket: page.map((b) => ({ Name: b.name, CreationDate: new Date(b.createdAt).toISOString(), BucketRegion: b.region })) },
        ContinuationToken: more ? encodeBucketToken(page[page.length - 1]!.name) : undefined,
        Prefix: prefix,
      },
    },
  };
}

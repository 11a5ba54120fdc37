// ListObjectsV2 — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
// NextContinuationToken exists iff the page is truncated; it is opaque (base64url of where the
// next page starts after) and never url-encoded.
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { ListingBody, commonPrefixXml, contentsXml, keyEncoder, ownerXml, parseEncodingType, parseMaxKeys } from '../listing-params.js';
import { listingOwnerKey } from '../owner.js';
import { xmlElement, xmlRootStart } from '../xml.js';

const TOKEN_PREFIX = 'v1:';

export function encodeToken(after: string): string {
  return Buffer.from(TOKEN_PREFIX + after, 'utf8').toString('base64url');
}

export function decodeToken(token: string): string {
  const text = /^[A-Za-z0-9_-]*$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!text.startsWith(TOKEN_PREFIX)) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token', ArgumentValue: token });
  }
  return text.slice(TOKEN_PREFIX.length);
}

export async function listObjectsV2(ctx: BucketRequest): Promise<S3Response> {
  const bucket = ctx.bucket;
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  // An empty continuation-token= is no token (S3 lists from the start, and echoes none).
  const token = ctx.query.get('continuation-token') || undefined;
  const startAfter = ctx.query.get('start-after');
  const maxKeys = parseMaxKeys(ctx);
  const encoding = parseEncodingType(ctx);
  const fetchOwner = ctx.query.get('fetch-owner') === 'true';
  const enc = keyEncoder(encoding);
  // The token wins over start-after; start-after still bounds the page when it sorts later.
  let after = token !== undefined ? decodeToken(token) : '';
  if (startAfter !== undefined && Buffer.compare(Buffer.from(startAfter), Buffer.from(after)) > 0) after = startAfter;
  const page = await ctx.store.list({ bucket, prefix, delimiter, after, maxKeys });
  const owner = fetchOwner ? ownerXml(listingOwnerKey(ctx)) : '';
  // Written straight to XML (a page has up to 1000 entries): the same bytes buildXml writes for
  // the shape { Name, Prefix, Delimiter?, MaxKeys, KeyCount, IsTruncated, EncodingType?,
  // ContinuationToken?, NextContinuationToken?, StartAfter?, Contents*, CommonPrefixes* }.
  const body = new ListingBody(
    xmlRootStart('ListBucketResult') +
      xmlElement('Name', bucket) +
      xmlElement('Prefix', enc(prefix)) +
      (delimiter !== '' ? xmlElement('Delimiter', enc(delimiter)) : '') +
      xmlElement('MaxKeys', maxKeys) +
      xmlElement('KeyCount', page.objects.length + page.commonPrefixes.length) +
      xmlElement('IsTruncated', page.isTruncated) +
      xmlElement('EncodingType', encoding) +
      xmlElement('ContinuationToken', token) +
      (page.isTruncated && page.nextAfter !== undefined ? xmlElement('NextContinuationToken', encodeToken(page.nextAfter)) : '') +
      (startAfter !== undefined ? xmlElement('StartAfter', enc(startAfter)) : ''),
  );
  for (const o of page.objects) body.write(contentsXml(o, enc, owner));
  for (const p of page.commonPrefixes) body.write(commonPrefixXml(p, enc));
  return body.end('</ListBucketResult>');
}

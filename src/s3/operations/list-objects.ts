// ListObjects (V1) — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html
// NextMarker is sent only when a delimiter was given and the page is truncated (clients use the
// last key otherwise); Contents always carry Owner. With encoding-type=url, Key, CommonPrefixes,
// Delimiter, Marker and NextMarker are url-encoded but Prefix is echoed as sent: what S3 answers
// (the reference suite lists Prefix='\n' through botocore, which asks for url encoding on every
// ListObjects and decodes exactly those five, and expects '\n' back).
import type { BucketRequest, S3Response } from '../context.js';
import { ListingBody, commonPrefixXml, contentsXml, keyEncoder, ownerXml, parseEncodingType, parseMaxKeys } from '../listing-params.js';
import { listingOwnerKey } from '../owner.js';
import { xmlElement, xmlRootStart } from '../xml.js';

export async function listObjects(ctx: BucketRequest): Promise<S3Response> {
  const bucket = ctx.bucket;
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const maxKeys = parseMaxKeys(ctx);
  const encoding = parseEncodingType(ctx);
  const enc = keyEncoder(encoding);
  const page = await ctx.store.list({ bucket, prefix, delimiter, after: marker, maxKeys });
  const owner = ownerXml(listingOwnerKey(ctx));
  // Written straight to XML: the same bytes buildXml writes for the shape { Name, Prefix, Marker,
  // NextMarker?, MaxKeys, Delimiter?, IsTruncated, EncodingType?, Contents*, CommonPrefixes* }.
  const body = new ListingBody(
    xmlRootStart('ListBucketResult') +
      xmlElement('Name', bucket) +
      xmlElement('Prefix', prefix) +
      xmlElement('Marker', enc(marker)) +
      (page.isTruncated && delimiter !== '' && page.nextAfter !== undefined ? xmlElement('NextMarker', enc(page.nextAfter)) : '') +
      xmlElement('MaxKeys', maxKeys) +
      (delimiter !== '' ? xmlElement('Delimiter', enc(delimiter)) : '') +
      xmlElement('IsTruncated', page.isTruncated) +
      xmlElement('EncodingType', encoding),
  );
  for (const o of page.objects) body.write(contentsXml(o, enc, owner));
  for (const p of page.commonPrefixes) body.write(commonPrefixXml(p, enc));
  return body.end('</ListBucketResult>');
}

// ListObjectVersions — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
// Until versioning exists every object has exactly one version, 'null', which is the latest.
// Bucket-emptying tools (boto3 object_versions.delete(), Terraform force_destroy) depend on it.
import type { BucketRequest, S3Response } from '../context.js';
import { ListingBody, commonPrefixXml, keyEncoder, ownerXml, parseEncodingType, parseMaxKeys, versionXml } from '../listing-params.js';
import { xmlElement, xmlRootStart } from '../xml.js';

export async function listObjectVersions(ctx: BucketRequest): Promise<S3Response> {
  const bucket = ctx.bucket;
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const versionIdMarker = ctx.query.get('version-id-marker');
  const maxKeys = parseMaxKeys(ctx);
  const encoding = parseEncodingType(ctx);
  const enc = keyEncoder(encoding);
  const page = await ctx.store.list({ bucket, prefix, delimiter, after: keyMarker, maxKeys });
  const owner = ownerXml(ctx.auth!.accessKey);
  const lastIsPrefix = page.nextAfter !== undefined && page.commonPrefixes.includes(page.nextAfter);
  // Written straight to XML: the same bytes buildXml writes for the shape { Name, Prefix, KeyMarker,
  // VersionIdMarker, NextKeyMarker?, NextVersionIdMarker?, MaxKeys, Delimiter?, IsTruncated,
  // EncodingType?, Version*, CommonPrefixes* }.
  const body = new ListingBody(
      xmlRootStart('ListVersionsResult') +
      xmlElement('Name', bucket) +
      xmlElement('Prefix', enc(prefix)) +
      xmlElement('KeyMarker', enc(keyMarker)) +
      xmlElement('VersionIdMarker', versionIdMarker ?? '') +
      (page.isTruncated && page.nextAfter !== undefined ? xmlElement('NextKeyMarker', enc(page.nextAfter)) : '') +
      (page.isTruncated && !lastIsPrefix ? xmlElement('NextVersionIdMarker', 'null') : '') +
      xmlElement('MaxKeys', maxKeys) +
      (delimiter !== '' ? xmlElement('Delimiter', enc(delimiter)) : '') +
      xmlElement('IsTruncated', page.isTruncated) +
      xmlElement('EncodingType', encoding),
  );
  for (const o of page.objects) body.write(versionXml(o, enc, owner));
  for (const p of page.commonPrefixes) body.write(commonPrefixXml(p, enc));
  return body.end('</ListVersionsResult>');
}

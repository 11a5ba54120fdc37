// ListObjectVersions — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
// Every version (MetaStore.scanVersions via store/version-listing.ts); until versioning can be
// enabled every object has exactly one, 'null', the latest. Bucket-emptying tools (boto3
// object_versions.delete(), Terraform force_destroy) depend on it.
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
  const page = await ctx.store.listVersions({ bucket, prefix, delimiter, keyMarker, versionIdMarker: versionIdMarker ?? '', maxKeys });
  const owner = ownerXml(ctx.auth!.accessKey);
  // Written straight to XML: the same bytes buildXml writes for the shape { Name, Prefix, KeyMarker,
  // VersionIdMarker, NextKeyMarker?, NextVersionIdMarker?, MaxKeys, Delimiter?, IsTruncated,
  // EncodingType?, Version*, CommonPrefixes* }.
  const body = new ListingBody(
    xmlRootStart('ListVersionsResult') +
      xmlElement('Name', bucket) +
      xmlElement('Prefix', enc(prefix)) +
      xmlElement('KeyMarker', enc(keyMarker)) +
      xmlElement('VersionIdMarker', versionIdMarker ?? '') +
      (page.isTruncated && page.nextKeyMarker !== undefined ? xmlElement('NextKeyMarker', enc(page.nextKeyMarker)) : '') +
      (page.isTruncated && page.nextVersionIdMarker !== undefined ? xmlElement('NextVersionIdMarker', page.nextVersionIdMarker) : '') +
      xmlElement('MaxKeys', maxKeys) +
      (delimiter !== '' ? xmlElement('Delimiter', enc(delimiter)) : '') +
      xmlElement('IsTruncated', page.isTruncated) +
      xmlElement('EncodingType', encoding),
  );
  for (const v of page.versions) body.write(versionXml(v, enc, owner));
  for (const p of page.commonPrefixes) body.write(commonPrefixXml(p, enc));
  return body.end('</ListVersionsResult>');
}

// ListObjectVersions — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
// Every version and delete marker (MetaStore.scanVersions via store/version-listing.ts), by key, newest
// first, markers interleaved; paged by key-marker + version-id-marker (NextKeyMarker /
// NextVersionIdMarker are the last entry's, or the common prefix a page ended at). A version-id-marker
// without a key-marker, or a malformed one, is InvalidArgument as AWS answers. Bucket-emptying tools
// (boto3 object_versions.delete(), Terraform force_destroy) depend on it.
import type { BucketRequest, S3Response } from '../context.js';
import { ListingBody, commonPrefixXml, keyEncoder, ownerXml, parseEncodingType, parseMaxKeys, versionXml } from '../listing-params.js';
import { listingOwnerKey } from '../owner.js';
import { xmlElement, xmlRootStart } from '../xml.js';
import { S3Error } from '../errors.js';
import { checkVersionId } from '../object-read.js';

export async function listObjectVersions(ctx: BucketRequest): Promise<S3Response> {
  const bucket = ctx.bucket;
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const versionIdMarker = ctx.query.get('version-id-marker');
  if (versionIdMarker !== undefined && versionIdMarker !== '' && keyMarker === '') {
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', {
      ArgumentName: 'version-id-marker',
      ArgumentValue: versionIdMarker,
    });
  }
  if (versionIdMarker !== '') checkVersionId(versionIdMarker, 'version-id-marker');
  const maxKeys = parseMaxKeys(ctx);
  const encoding = parseEncodingType(ctx);
  const enc = keyEncoder(encoding);
  const page = await ctx.store.listVersions({ bucket, prefix, delimiter, keyMarker, versionIdMarker: versionIdMarker ?? '', maxKeys });
  const owner = ownerXml(listingOwnerKey(ctx));
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

// Parameters and encoding shared by ListObjects, ListObjectsV2 and ListObjectVersions.
import type { ObjectRecord } from '../store/types.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';
import { ownerOf } from './owner.js';
import type { XmlNode } from './xml.js';

export const MAX_KEYS_LIMIT = 1000;

export function parseMaxKeys(ctx: RequestContext, name = 'max-keys'): number {
  const v = ctx.query.get(name);
  if (v === undefined || v === '') return MAX_KEYS_LIMIT;
  if (!/^\d+$/.test(v)) throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: name, ArgumentValue: v });
  return Math.min(Number(v), MAX_KEYS_LIMIT);
}

export function parseEncodingType(ctx: RequestContext): 'url' | undefined {
  const v = ctx.query.get('encoding-type');
  if (v === undefined || v === '') return undefined;
  if (v.toLowerCase() !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: v });
  return 'url';
}

/**
 * The encoding S3 applies with encoding-type=url: UTF-8 percent-encoding, space as '+', '/' kept.
 * Clients decode with unquote_plus-style decoders, so '+' in keys must become %2B.
 */
export function s3UrlEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** An encoder for names in a listing response, per encoding-type. */
export function encoderFor(encoding: 'url' | undefined): (s: string | undefined) => string | undefined {
  return encoding === 'url' ? (s) => (s === undefined ? undefined : s3UrlEncode(s)) : (s) => s;
}

/** A <Contents>/<Version> element's common fields. */
export function objectEntry(rec: ObjectRecord, enc: (s: string) => string | undefined, owner?: string): XmlNode {
  return {
    Key: enc(rec.key),
    LastModified: new Date(rec.lastModified).toISOString(),
    ETag: rec.etag,
    ...(rec.meta.checksums && Object.keys(rec.meta.checksums).length > 0
      ? { ChecksumAlgorithm: Object.keys(rec.meta.checksums).map((a) => a.toUpperCase()) }
      : {}),
    Size: rec.size,
    Owner: owner !== undefined ? ownerOf(owner) : undefined,
    StorageClass: rec.storageClass,
  };
}

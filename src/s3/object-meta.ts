// Object metadata between HTTP and the store: what a PUT/COPY stores from request headers, and the
// headers a GET/HEAD sends back from a stored record (with response-* overrides).
import type { ObjectMeta, ObjectRecord } from '../store/types.js';
import type { RequestContext } from './context.js';
import { header } from './context.js';
import { S3Error } from './errors.js';

/** S3 limits user metadata (names without the prefix plus values, in UTF-8 bytes). */
export const MAX_USER_METADATA = 2048;

export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

export const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
]);

const META_PREFIX = 'x-amz-meta-';

/** Content headers and x-amz-meta-* of a request, validated (MetadataTooLarge). */
export function metaFromRequest(ctx: Pick<RequestContext, 'headers' | 'req'>): ObjectMeta {
  const user: Record<string, string> = {};
  let size = 0;
  // rawHeaders keeps arrival order; duplicates of one name are joined with ',' as S3 does.
  const raw = ctx.req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!name.startsWith(META_PREFIX)) continue;
    const short = name.slice(META_PREFIX.length);
    const value = (raw[i + 1] ?? '').trim();
    user[short] = short in user ? `${user[short]},${value}` : value;
  }
  for (const [k, v] of Object.entries(user)) size += Buffer.byteLength(k) + Buffer.byteLength(v);
  if (size > MAX_USER_METADATA) {
    throw new S3Error('MetadataTooLarge', undefined, { Size: size, MaxSizeAllowed: MAX_USER_METADATA });
  }
  const meta: ObjectMeta = { user };
  const ct = header(ctx, 'content-type');
  meta.contentType = ct === undefined || ct === '' ? DEFAULT_CONTENT_TYPE : ct;
  const set = (field: keyof Omit<ObjectMeta, 'user' | 'checksums'>, name: string) => {
    const v = header(ctx, name);
    if (v !== undefined && v !== '') meta[field] = v;
  };
  // aws-chunked describes the upload's framing, not the object: never stored or replayed.
  const encoding = storedContentEncoding(header(ctx, 'content-encoding'));
  if (encoding !== undefined) meta.contentEncoding = encoding;
  set('contentDisposition', 'content-disposition');
  set('contentLanguage', 'content-language');
  set('cacheControl', 'cache-control');
  set('expires', 'expires');
  return meta;
}

/**
 * The Content-Encoding stored for an object: the header exactly as sent (`deflate, gzip` stays
 * `deflate, gzip`), with only the `aws-chunked` token (and its separator) taken out; undefined when
 * nothing else is left. The other tokens keep their spelling, spacing and order.
 */
export function storedContentEncoding(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const tokens = value.split(',');
  const kept = tokens.filter((t) => t.trim().toLowerCase() !== 'aws-chunked');
  if (kept.length === tokens.length) return value === '' ? undefined : value;
  const joined = kept.join(',').trim();
  return joined === '' ? undefined : joined;
}

/** x-amz-storage-class of a write, validated; STANDARD when absent. */
export function storageClassFromRequest(ctx: Pick<RequestContext, 'headers'>): string {
  const v = header(ctx, 'x-amz-storage-class');
  if (v === undefined || v === '') return 'STANDARD';
  if (!STORAGE_CLASSES.has(v)) throw new S3Error('InvalidStorageClass', undefined, { StorageClassRequested: v });
  return v;
}

/** RFC 7231 date for headers, from ms. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/**
 * httpDate with a one-entry cache: the format has a resolution of one second, so the string is
 * reused while calls stay within the same second (exact: the second is compared, not an age). One
 * cache per use, so that two uses (now, an object's Last-Modified) do not evict each other.
 */
export function httpDateCache(): (ms: number) => string {
  let second = NaN;
  let text = '';
  return (ms: number): string => {
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      text = new Date(ms).toUTCString();
      // NaN never equals itself: an invalid time is formatted (as 'Invalid Date') every time.
      second = s;
    }
    return text;
  };
}

const lastModifiedDate = httpDateCache();

/** response-* query parameters of GET/HEAD → the response header each overrides. */
export const RESPONSE_OVERRIDES: ReadonlyArray<readonly [string, string]> = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
];

/** Headers describing a stored object on GET/HEAD (not Content-Length/Range: the caller adds those). */
export function objectHeaders(rec: ObjectRecord, overrides: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const h: Record<string, string> = {
    'last-modified': lastModifiedDate(rec.lastModified),
    etag: rec.etag,
    'accept-ranges': 'bytes',
    'content-type': rec.meta.contentType ?? DEFAULT_CONTENT_TYPE,
  };
  if (rec.meta.contentEncoding) h['content-encoding'] = rec.meta.contentEncoding;
  if (rec.meta.contentDisposition) h['content-disposition'] = rec.meta.contentDisposition;
  if (rec.meta.contentLanguage) h['content-language'] = rec.meta.contentLanguage;
  if (rec.meta.cacheControl) h['cache-control'] = rec.meta.cacheControl;
  if (rec.meta.expires) h['expires'] = rec.meta.expires;
  if (rec.storageClass !== 'STANDARD') h['x-amz-storage-class'] = rec.storageClass;
  if (rec.versionId !== 'null') h['x-amz-version-id'] = rec.versionId;
  for (const [k, v] of Object.entries(rec.meta.user)) h[META_PREFIX + k] = v;
  for (const [name, value] of overrides) h[name] = value;
  return h;
}

/** Checksum headers, only when asked (x-amz-checksum-mode: ENABLED) and only for the whole object. */
export function checksumHeaders(rec: ObjectRecord, checksumMode: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  if (!checksumMode) return h;
  for (const [alg, value] of Object.entries(rec.meta.checksums ?? {})) h[`x-amz-checksum-${alg}`] = value;
  // A composite (multipart) value ends in -<parts>; a multipart FULL_OBJECT CRC does not.
  if (Object.keys(h).length > 0) h['x-amz-checksum-type'] = Object.values(h).some((v) => /-\d+$/.test(v)) ? 'COMPOSITE' : 'FULL_OBJECT';
  return h;
}

// Parameters and encoding shared by ListObjects, ListObjectsV2 and ListObjectVersions, and the XML of their entries.
import type { ListedObject, ListedVersion } from '../store/types.js';
import type { RequestContext, S3Response } from './context.js';
import { S3Error } from './errors.js';
import type { CanonicalUser } from './owner.js';
import { escapeXmlText, xmlElement } from './xml.js';

export const MAX_KEYS_LIMIT = 1000;

export function parseMaxKeys(ctx: RequestContext, name = 'max-keys'): number {
  const v = ctx.query.get(name);
  if (v === undefined || v === '') return MAX_KEYS_LIMIT;
  if (!/^\d+$/.test(v))
    throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: name, ArgumentValue: v });
  return Math.min(Number(v), MAX_KEYS_LIMIT);
}

export function parseEncodingType(ctx: RequestContext): 'url' | undefined {
  const v = ctx.query.get('encoding-type');
  if (v === undefined || v === '') return undefined;
  if (v.toLowerCase() !== 'url')
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: v });
  return 'url';
}

/** Bytes S3 leaves as they are under encoding-type=url: RFC 3986 unreserved characters, and '/'. */
const URL_SAFE = /^[A-Za-z0-9\-._~/]*$/;
const HEX = '0123456789ABCDEF';
/** Each byte as s3UrlEncode writes it. */
const ENCODED_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => {
  const c = String.fromCharCode(b);
  return b < 0x80 && URL_SAFE.test(c) ? c : `%${HEX[b >> 4]}${HEX[b & 15]}`;
});

/**
 * The encoding S3 applies with encoding-type=url: every UTF-8 byte outside RFC 3986's unreserved
 * set (A-Z a-z 0-9 - . _ ~) and '/' becomes %XX, so a space is %20 and '+' is %2B (the reference
 * suite's `quux ab/` → `quux%20ab/`, `asdf+b` → `asdf%2Bb`). Form encoding ('+' for a space) would
 * be wrong for every client that decodes with a plain percent-decoder (decodeURIComponent, Go's
 * PathUnescape); botocore's unquote_plus reads both. '/' stays, so prefixes read as paths.
 */
export function s3UrlEncode(s: string): string {
  if (URL_SAFE.test(s)) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += ENCODED_BYTE[b];
  return out;
}

/** An encoder for names in a listing response, per encoding-type. */
export function encoderFor(encoding: 'url' | undefined): (s: string | undefined) => string | undefined {
  return encoding === 'url' ? (s) => (s === undefined ? undefined : s3UrlEncode(s)) : (s) => s;
}

// ---- entries, written straight to XML (a page has up to 1000; see xml.ts "hand-written bodies") --

/** encoderFor for values that are always present (keys, common prefixes). */
export function keyEncoder(encoding: 'url' | undefined): (s: string) => string {
  return encoding === 'url' ? s3UrlEncode : (s) => s;
}

/** The <Owner> element listings show (the bucket's owner: owner.ts). */
export function ownerXml(o: CanonicalUser): string {
  return `<Owner>${xmlElement('ID', o.ID)}${xmlElement('DisplayName', o.DisplayName)}</Owner>`;
}

/** <ChecksumAlgorithm> elements by ListedObject.checksumAlgorithms value (a handful of combinations). */
const checksumXmlCache = new Map<string, string>();

function checksumAlgorithmsXml(names: string): string {
  if (names === '') return '';
  let xml = checksumXmlCache.get(names);
  if (xml === undefined) {
    xml = names
      .split(',')
      .map((a) => xmlElement('ChecksumAlgorithm', a.toUpperCase()))
      .join('');
    if (checksumXmlCache.size < 64) checksumXmlCache.set(names, xml);
  }
  return xml;
}

const MS_PER_DAY = 86_400_000;
const MAX_ISO_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z: later years have another format
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let isoDay = NaN;
let isoDayText = '';

/**
 * new Date(ms).toISOString(), several times faster: the date part is kept for the last day seen
 * (a listing page's objects were mostly written within days of each other), the time is arithmetic.
 */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_ISO_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / MS_PER_DAY);
  if (day !== isoDay) {
    isoDayText = new Date(day * MS_PER_DAY).toISOString().slice(0, 11); // 'YYYY-MM-DDT'
    isoDay = day;
  }
  let rest = ms - day * MS_PER_DAY;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${isoDayText}${PAD2[h]}:${PAD2[m]}:${PAD2[s]}.${PAD3[rest - s * 1000]}Z`;
}

/** ETags as stored ("hex" or "hex-parts") need only their quotes escaped. */
const PLAIN_ETAG = /^"[0-9A-Za-z-]*"$/;

function etagText(etag: string): string {
  return PLAIN_ETAG.test(etag) ? `&quot;${etag.slice(1, -1)}&quot;` : escapeXmlText(etag);
}

/**
 * A <Contents> element (ListObjects, ListObjectsV2): Key, LastModified, ETag, ChecksumAlgorithm*
 * (when the object has checksums), Size, Owner (`owner`: ownerXml() or ''), StorageClass.
 */
export function contentsXml(o: ListedObject, enc: (s: string) => string, owner: string): string {
  return (
    `<Contents><Key>${escapeXmlText(enc(o.key))}</Key><LastModified>${isoTime(o.lastModified)}</LastModified>` +
    `<ETag>${etagText(o.etag)}</ETag>${checksumAlgorithmsXml(o.checksumAlgorithms)}<Size>${o.size}</Size>${owner}` +
    `<StorageClass>${escapeXmlText(o.storageClass)}</StorageClass></Contents>`
  );
}

/** A <Version> or <DeleteMarker> element (ListObjectVersions). */
export function versionXml(o: ListedVersion, enc: (s: string) => string, owner: string): string {
  if (o.isDeleteMarker) {
    return (
      `<DeleteMarker><Key>${escapeXmlText(enc(o.key))}</Key><VersionId>${escapeXmlText(o.versionId)}</VersionId><IsLatest>${o.isLatest}</IsLatest>` +
      `<LastModified>${isoTime(o.lastModified)}</LastModified>${owner}</DeleteMarker>`
    );
  }
  return (
    `<Version><Key>${escapeXmlText(enc(o.key))}</Key><VersionId>${escapeXmlText(o.versionId)}</VersionId><IsLatest>${o.isLatest}</IsLatest>` +
    `<LastModified>${isoTime(o.lastModified)}</LastModified><ETag>${etagText(o.etag)}</ETag>` +
    `<Size>${o.size}</Size>${owner}<StorageClass>${escapeXmlText(o.storageClass)}</StorageClass></Version>`
  );
}

/** A <CommonPrefixes> element. */
export function commonPrefixXml(p: string, enc: (s: string) => string): string {
  return `<CommonPrefixes><Prefix>${escapeXmlText(enc(p))}</Prefix></CommonPrefixes>`;
}

/**
 * A listing answer assembled from many small strings, each encoded straight into one growing
 * buffer as it comes. Concatenating them first and encoding the result costs more:
 * flattening a rope of thousands of pieces, then encoding it, was ~1.2 ms of a 1000-entry page on
 * the test VM against ~0.8 ms this way (docs/performance.md, "Round two: listing").
 */
export class ListingBody {
  private buf: Buffer;
  private len = 0;

  constructor(start: string) {
    // Doubles as needed: a 1000-entry page (~200–250 KB) grows it twice (a copy of ~200 KB, cheap
    // next to the encoding), and a short listing does not hold a large buffer.
    this.buf = Buffer.allocUnsafe(64 * 1024);
    this.write(start);
  }

  write(xml: string): void {
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
    const most = xml.length * 3;
    if (this.len + most > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + most));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    this.len += this.buf.write(xml, this.len, 'utf8');
  }

  /** The 200 answer with the body so far and `last`. */
  end(last: string): S3Response {
    this.write(last);
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: this.buf.subarray(0, this.len) };
  }
}

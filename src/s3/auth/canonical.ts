// SigV4 canonicalisation helpers (S3 flavour): RFC 3986 encoding, percent-decoding, query splitting,
// and the canonical URI / query / header pieces of the canonical request. Pure functions, no crypto.
//
// Strings that stand for raw bytes: Node gives header values (and req.url, which it restricts to ASCII)
// as latin1 strings, one char per received byte. The canonical request is therefore assembled as a
// "byte string" (every char <= 0xFF) and hashed as latin1, so non-ASCII header bytes are hashed
// exactly as received instead of being re-encoded to UTF-8 a second time.

const HEX = '0123456789ABCDEF';

/** byte -> its canonical form: unreserved characters stay, everything else is %XX (uppercase). */
const ENCODED_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => (isUnreserved(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`));

function isUnreserved(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x30 && b <= 0x39) || // 0-9
    b === 0x2d ||
    b === 0x2e ||
    b === 0x5f ||
    b === 0x7e // - . _ ~
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** RFC 3986 encoding of raw bytes: all but A-Za-z0-9-._~ (and '/' unless encodeSlash) become %XX. */
export function uriEncodeBytes(bytes: Uint8Array, encodeSlash: boolean): string {
  let out = '';
  for (const b of bytes) out += b === 0x2f && !encodeSlash ? '/' : ENCODED_BYTE[b];
  return out;
}

/** RFC 3986 encoding of a string's UTF-8 bytes (space is %20, never '+'). */
export function uriEncode(s: string, encodeSlash: boolean): string {
  return uriEncodeBytes(Buffer.from(s, 'utf8'), encodeSlash);
}

/**
 * Percent-decodes to bytes. %XX (either hex case) becomes that byte; every other character, including
 * '+' and a '%' not followed by two hex digits, stays literal (as its UTF-8 bytes). Never throws.
 * Working on bytes lets a path such as '/%FF' round-trip exactly even though it is not UTF-8.
 */
export function percentDecodeToBytes(s: string): Buffer {
  if (!s.includes('%')) return Buffer.from(s, 'utf8');
  // Decoding only ever shrinks the UTF-8 length, so this buffer is always large enough.
  const out = Buffer.allocUnsafe(Buffer.byteLength(s, 'utf8'));
  let pos = 0;
  let literalStart = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) !== 0x25 || i + 2 >= s.length) continue;
    const hi = hexValue(s.charCodeAt(i + 1));
    const lo = hexValue(s.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) continue;
    // '%' is ASCII, so a literal run never ends inside a surrogate pair.
    if (i > literalStart) pos += out.write(s.slice(literalStart, i), pos, 'utf8');
    out[pos++] = (hi << 4) | lo;
    i += 2;
    literalStart = i + 1;
  }
  if (literalStart < s.length) pos += out.write(s.slice(literalStart), pos, 'utf8');
  return out.subarray(0, pos);
}

/**
 * Decodes %XX sequences as UTF-8 ('+' stays '+'; malformed '%' sequences are kept literally).
 * Exactly percentDecodeToBytes(s).toString('utf8'); an all-ASCII string whose escapes are all
 * ASCII (the usual query parameter, key or bucket name) is decoded without a Buffer.
 */
export function percentDecode(s: string): string {
  const first = s.indexOf('%');
  if (first < 0) return s;
  let out = '';
  let literalStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return percentDecodeToBytes(s).toString('utf8');
    if (c !== 0x25 || i < first || i + 2 >= s.length) continue;
    const hi = hexValue(s.charCodeAt(i + 1));
    const lo = hexValue(s.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) continue;
    const b = (hi << 4) | lo;
    // A byte >= 0x80 starts (or continues) a UTF-8 sequence: decoding it is the Buffer's job.
    if (b >= 0x80) return percentDecodeToBytes(s).toString('utf8');
    out += s.slice(literalStart, i) + String.fromCharCode(b);
    i += 2;
    literalStart = i + 1;
  }
  return out + s.slice(literalStart);
}

/**
 * Splits a raw query into [name, value] pairs, still percent-encoded: pieces separated by '&', the
 * first '=' separates name from value, empty pieces are skipped, a piece without '=' has value ''.
 */
export function splitRawQuery(rawQuery: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (rawQuery === '') return pairs;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    pairs.push(eq < 0 ? [piece, ''] : [piece.slice(0, eq), piece.slice(eq + 1)]);
  }
  return pairs;
}

/** Like splitRawQuery, with names and values percent-decoded ('+' is NOT turned into a space). */
export function parseRawQuery(rawQuery: string): Array<[string, string]> {
  return splitRawQuery(rawQuery).map(([n, v]) => [percentDecode(n), percentDecode(v)]);
}

/** One query parameter, as received and decoded. */
export interface QueryParam {
  /** Name and value exactly as received (still percent-encoded; value '' when there is no '='). */
  readonly rawName: string;
  readonly rawValue: string;
  /** Name and value percent-decoded ('+' is NOT a space). */
  readonly name: string;
  readonly value: string;
  /** Whether the piece had an '=' (SigV2 signs `name` and `name=` differently). */
  readonly hasValue: boolean;
}

/**
 * The query split and decoded once, for everything that reads it (router, SigV4, SigV2): the
 * pieces of splitRawQuery (empty pieces skipped, the first '=' separates), in order, raw and
 * decoded.
 */
export function parseQueryParams(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === '') return params;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    if (eq < 0) {
      params.push({ rawName: piece, rawValue: '', name: percentDecode(piece), value: '', hasValue: false });
    } else {
      const rawName = piece.slice(0, eq);
      const rawValue = piece.slice(eq + 1);
      params.push({ rawName, rawValue, name: percentDecode(rawName), value: percentDecode(rawValue), hasValue: true });
    }
  }
  return params;
}

/** 1 for the bytes RFC 3986 leaves unencoded (A-Za-z0-9-._~). */
const UNRESERVED: Uint8Array = Uint8Array.from({ length: 256 }, (_, b) => (isUnreserved(b) ? 1 : 0));

function upperHexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * True when canonicalComponent(s, encodeSlash) === s: s holds only unreserved characters (and '/'
 * unless encodeSlash) and %XX escapes (uppercase hex) of bytes that must stay escaped. What
 * presigners and SDKs send is usually already in this form; it then needs no decoding and
 * re-encoding.
 */
export function isCanonicalComponent(s: string, encodeSlash = true): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80 && UNRESERVED[c] === 1) continue;
    if (c === 0x2f && !encodeSlash) continue;
    if (c !== 0x25 || i + 2 >= s.length) return false;
    const hi = upperHexValue(s.charCodeAt(i + 1));
    const lo = upperHexValue(s.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return false;
    // '%41' decodes to 'A', which the canonical form writes as 'A' (and '%2F' as '/' in a path).
    const b = (hi << 4) | lo;
    if (UNRESERVED[b] === 1 || (b === 0x2f && !encodeSlash)) return false;
    i += 2;
  }
  return true;
}

/**
 * Decode what the client sent, then encode it the one AWS way (clients differ in what they escape).
 * Text already in that form is returned as it is.
 */
export function canonicalComponent(raw: string, encodeSlash: boolean): string {
  return isCanonicalComponent(raw, encodeSlash) ? raw : uriEncodeBytes(percentDecodeToBytes(raw), encodeSlash);
}

/**
 * S3 canonical URI: the path decoded and encoded exactly once, slashes kept, and NOT normalised
 * ('//', '/./' and '/../' are part of the key, so no URL parser may touch it).
 */
export function canonicalUri(rawPath: string): string {
  return rawPath === '' ? '/' : canonicalComponent(rawPath, false);
}

function comparePairs(a: readonly [string, string], b: readonly [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/**
 * Canonical query string from raw (still encoded) pairs: each name and value re-encoded, sorted by
 * encoded name then encoded value in plain code-unit order (the encoded text is ASCII, so this is
 * byte order), joined as name=value with '&'. Components already in canonical form are taken as
 * they are, and pairs already in order are not sorted (the usual presigned URL: both).
 */
export function canonicalQuery(rawPairs: ReadonlyArray<readonly [string, string]>): string {
  const encoded: Array<readonly [string, string]> = [];
  let sorted = true;
  for (const [n, v] of rawPairs) {
    const pair = [canonicalComponent(n, true), canonicalComponent(v, true)] as const;
    if (sorted && encoded.length > 0 && comparePairs(encoded[encoded.length - 1]!, pair) > 0) sorted = false;
    encoded.push(pair);
  }
  if (!sorted) encoded.sort(comparePairs);
  let out = '';
  for (let i = 0; i < encoded.length; i++) out += `${i === 0 ? '' : '&'}${encoded[i]![0]}=${encoded[i]![1]}`;
  return out;
}

/**
 * A value as a byte string. Values from Node are latin1 already (every char <= 0xFF) and pass
 * unchanged; a string holding real Unicode (chars > 0xFF, e.g. built by hand) is taken as UTF-8.
 */
export function toByteString(s: string): string {
  return /[^\x00-\xff]/.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

/**
 * Canonical header value: each received occurrence with leading/trailing spaces and tabs removed
 * and inner runs of spaces/tabs collapsed to one space; occurrences joined with ','. Only space and
 * tab count as whitespace: String#trim would also strip 0xA0, which in a latin1 byte string can be
 * the last byte of a UTF-8 character.
 */
export function canonicalHeaderValue(values: readonly string[]): string {
  return values
    .map((v) =>
      toByteString(v)
        .replace(/[ \t]+/g, ' ')
        .replace(/^ | $/g, ''),
    )
    .join(',');
}

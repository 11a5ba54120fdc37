// Small XML helpers for the bucket configuration documents the console reads and writes: direct
// children by name (S3's documents reuse names at several depths, e.g. Prefix), and a builder that
// escapes text. S3's namespace goes on the root element of what the console sends.

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** The direct child elements of `node` named `name`. */
export function kids(node: Element | Document, name: string): Element[] {
  const parent = node instanceof Document ? node.documentElement : node;
  if (!parent) return [];
  return Array.from(parent.children).filter((c) => c.localName === name);
}

/** The first direct child element named `name`. */
export function kid(node: Element | Document, name: string): Element | undefined {
  return kids(node, name)[0];
}

/** The text of the first direct child named `name` (trimmed), or undefined. */
export function kidText(node: Element | Document, name: string): string | undefined {
  const t = kid(node, name)?.textContent;
  return t === undefined || t === null ? undefined : t.trim();
}

/** A number from a child's text, or undefined when absent or not a number. */
export function kidNumber(node: Element | Document, name: string): number | undefined {
  const t = kidText(node, name);
  if (t === undefined || t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One element: text content, or nested elements (already serialized; undefined/false left out). */
export function el(name: string, content: string | number | boolean | Array<string | undefined | false>): string {
  const inner = Array.isArray(content) ? content.filter((c): c is string => typeof c === 'string').join('') : escapeXml(String(content));
  return `<${name}>${inner}</${name}>`;
}

/** An element only when `value` is defined. */
export function opt(name: string, value: string | number | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : el(name, value);
}

/** A whole document with S3's namespace on its root. */
export function doc(root: string, content: Array<string | undefined | false>): string {
  const inner = content.filter((c): c is string => typeof c === 'string').join('');
  return `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="${S3_NS}">${inner}</${root}>`;
}

// CRC32 (IEEE), for the x-amz-checksum-crc32 header some S3 PUTs require (PutObjectLockConfiguration
// wants Content-MD5 or an x-amz-checksum-*; WebCrypto has no MD5 and is absent over plain HTTP).
let table: Uint32Array | undefined;
function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** The base64 of the big-endian CRC32 of the text's UTF-8 bytes: x-amz-checksum-crc32's value. */
export function crc32Base64(text: string): string {
  const t = crcTable();
  let crc = 0xffffffff;
  for (const b of new TextEncoder().encode(text)) crc = (t[(crc ^ b) & 0xff] ?? 0) ^ (crc >>> 8);
  crc = (crc ^ 0xffffffff) >>> 0;
  return btoa(String.fromCharCode((crc >>> 24) & 0xff, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff));
}

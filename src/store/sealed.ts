// Sealed pieces: how an encrypted object's bytes lie on disk (and inline in the metadata store).
// The store seals with a 32-byte data key the caller gives it (s3/sse.ts gets it from the key service
// or derives it from a customer's key) and opens with the same key; it never sees where the key comes
// from. Format (docs/on-disk-format.md, "Sealed pieces"):
//
//   header   32 bytes: "STRS" | version 1 | log2(package size) | 2 zero bytes | salt (24 random bytes)
//   packages n = max(1, ceil(plain / P)) of them, each: ciphertext (P bytes, the last 0..P) | GCM tag (16)
//
// Each piece has its own key, HKDF-SHA256(data key, salt, "strata sealed piece v1"), so a data key
// shared by the parts of a multipart upload never meets the same nonce twice. Package i is sealed
// with AES-256-GCM, nonce = 4 zero bytes | i as 64-bit big-endian, associated data = the header and
// one byte, 1 for the last package and 0 for the others. So a flipped byte, a package moved within
// the piece or to another piece, a piece cut after any package, or a header changed is detected
// when that package is opened: the read fails (StoreError('DataCorrupt')), no byte of a package is
// served before its tag is checked. A range read opens only the packages it covers (and the header).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { StoreError } from './errors.js';

export const SEALED_HEADER_BYTES = 32;
export const SEALED_TAG_BYTES = 16;
/** Plaintext bytes per package: 64 KiB. A piece records it in its header (log2), so it may change for new pieces. */
export const PACKAGE_LOG2 = 16;
const MAGIC = Buffer.from('STRS', 'latin1');
const VERSION = 1;
const SALT_BYTES = 24;
const INFO = 'strata sealed piece v1';

/** The number of packages of a piece of `plain` bytes: at least one (an empty piece has one empty package). */
function packagesOf(plain: number, pkg: number): number {
  return plain === 0 ? 1 : Math.ceil(plain / pkg);
}

/** Bytes on disk of a sealed piece of `plain` bytes. */
export function sealedSize(plain: number, log2 = PACKAGE_LOG2): number {
  return SEALED_HEADER_BYTES + plain + SEALED_TAG_BYTES * packagesOf(plain, 2 ** log2);
}

/** Plaintext bytes of a sealed piece of `sealed` bytes (the inverse of sealedSize); -1 if no plaintext size gives it. */
export function plainSize(sealed: number, log2 = PACKAGE_LOG2): number {
  const body = sealed - SEALED_HEADER_BYTES;
  if (body < SEALED_TAG_BYTES) return -1;
  const n = Math.ceil(body / (2 ** log2 + SEALED_TAG_BYTES));
  const plain = body - SEALED_TAG_BYTES * n;
  return sealedSize(plain, log2) === sealed ? plain : -1;
}

function pieceKey(dataKey: Buffer, salt: Buffer): Buffer {
  if (dataKey.length !== 32) throw new Error('sealed: a data key has 32 bytes');
  return Buffer.from(hkdfSync('sha256', dataKey, salt, INFO, 32));
}

function nonce(i: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(i), 4);
  return n;
}

const LAST = Buffer.from([1]);
const NOT_LAST = Buffer.from([0]);

function sealPackage(key: Buffer, header: Buffer, i: number, last: boolean, plain: Buffer): Buffer[] {
  const c = createCipheriv('aes-256-gcm', key, nonce(i));
  c.setAAD(Buffer.concat([header, last ? LAST : NOT_LAST]));
  const body = c.update(plain);
  c.final();
  return [body, c.getAuthTag()];
}

/** One package (ciphertext and tag) opened, or StoreError('DataCorrupt'). */
function openPackage(key: Buffer, header: Buffer, i: number, last: boolean, bytes: Buffer, what: string): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, nonce(i));
  d.setAAD(Buffer.concat([header, last ? LAST : NOT_LAST]));
  d.setAuthTag(bytes.subarray(bytes.length - SEALED_TAG_BYTES));
  const body = d.update(bytes.subarray(0, bytes.length - SEALED_TAG_BYTES));
  try {
    d.final();
  } catch {
    throw new StoreError('DataCorrupt', `${what}: package ${i} does not authenticate (damaged, moved, or another key)`);
  }
  return body;
}

function newHeader(log2: number): Buffer {
  const h = Buffer.alloc(SEALED_HEADER_BYTES);
  MAGIC.copy(h, 0);
  h[4] = VERSION;
  h[5] = log2;
  randomBytes(SALT_BYTES).copy(h, 8);
  return h;
}

/**
 * Seals a stream of plaintext into a sealed piece: the header, then each package as soon as its
 * bytes are in (a package is held back until the next byte proves it is not the last).
 */
export async function* sealStream(source: AsyncIterable<Buffer>, dataKey: Buffer, log2 = PACKAGE_LOG2): AsyncGenerator<Buffer> {
  const header = newHeader(log2);
  const key = pieceKey(dataKey, header.subarray(8));
  const pkg = 2 ** log2;
  yield header;
  let i = 0;
  let held: Buffer[] = [];
  let heldBytes = 0;
  for await (const chunk of source) {
    let at = 0;
    while (at < chunk.length) {
      if (heldBytes === pkg) {
        // A full package and more bytes behind it: it is not the last.
        yield* sealPackage(key, header, i++, false, held.length === 1 ? held[0]! : Buffer.concat(held, pkg));
        held = [];
        heldBytes = 0;
      }
      const take = Math.min(pkg - heldBytes, chunk.length - at);
      held.push(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take));
      heldBytes += take;
      at += take;
    }
  }
  yield* sealPackage(key, header, i, true, held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes));
}

/** Seals bytes in memory (inline objects). */
export function sealBuffer(plain: Buffer, dataKey: Buffer, log2 = PACKAGE_LOG2): Buffer {
  const header = newHeader(log2);
  const key = pieceKey(dataKey, header.subarray(8));
  const pkg = 2 ** log2;
  const n = packagesOf(plain.length, pkg);
  const out: Buffer[] = [header];
  for (let i = 0; i < n; i++) out.push(...sealPackage(key, header, i, i === n - 1, plain.subarray(i * pkg, (i + 1) * pkg)));
  return Buffer.concat(out);
}

/** The piece's header, checked; its package size. Throws StoreError('DataCorrupt'). */
function readHeader(header: Buffer, what: string): { log2: number } {
  if (header.length !== SEALED_HEADER_BYTES || !header.subarray(0, 4).equals(MAGIC) || header[4] !== VERSION || header[5]! < 10 || header[5]! > 24) {
    throw new StoreError('DataCorrupt', `${what}: not a sealed piece (bad header)`);
  }
  return { log2: header[5]! };
}

/**
 * Reads plaintext bytes [start, end] (inclusive) of a sealed piece holding `plain` plaintext bytes,
 * sealed with packages of 2^log2 bytes. `read(from, to)` yields the piece's bytes [from, to]
 * (inclusive) exactly. Only the header and the packages the range covers are read (in one read when
 * the range starts in the first package); each package is authenticated before any of its bytes are
 * yielded. Throws StoreError('DataCorrupt') on any mismatch (`what` names the piece in the message).
 */
export async function* openSealed(
  read: (from: number, to: number) => AsyncIterable<Buffer>,
  plain: number,
  dataKey: Buffer,
  start: number,
  end: number,
  what: string,
  log2 = PACKAGE_LOG2,
): AsyncGenerator<Buffer> {
  if (end >= plain || start > end || start < 0) throw new StoreError('DataCorrupt', `${what}: bytes ${start}-${end} asked of a piece of ${plain}`);
  const pkg = 2 ** log2;
  const n = packagesOf(plain, pkg);
  const sealed = sealedSize(plain, log2);
  const first = Math.floor(start / pkg);
  const lastPkg = Math.floor(end / pkg);
  const stride = pkg + SEALED_TAG_BYTES;
  const from = first === 0 ? 0 : SEALED_HEADER_BYTES + first * stride;
  const to = Math.min(sealed, SEALED_HEADER_BYTES + (lastPkg + 1) * stride) - 1;
  const headerChunks: Buffer[] = [];
  let header: Buffer | undefined;
  let key: Buffer | undefined;
  const takeHeader = (): void => {
    header = Buffer.concat(headerChunks);
    if (readHeader(header, what).log2 !== log2) throw new StoreError('DataCorrupt', `${what}: package size does not match the piece's record`);
    key = pieceKey(dataKey, header.subarray(8));
  };
  if (from !== 0) {
    for await (const c of read(0, SEALED_HEADER_BYTES - 1)) headerChunks.push(c);
    takeHeader();
  }
  let i = first;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const want = (p: number): number => (p === n - 1 ? plain - p * pkg : pkg) + SEALED_TAG_BYTES;
  const open = (bytes: Buffer): Buffer => {
    const body = openPackage(key!, header!, i, i === n - 1, bytes, what);
    const lo = i === first ? start - i * pkg : 0;
    const hi = i === lastPkg ? end - i * pkg + 1 : body.length;
    return lo === 0 && hi === body.length ? body : body.subarray(lo, hi);
  };
  let skipHeader = from === 0;
  for await (let chunk of read(from, to)) {
    if (skipHeader) {
      // The read started at the header: take it first.
      const need = SEALED_HEADER_BYTES - headerChunks.reduce((sum, c) => sum + c.length, 0);
      headerChunks.push(chunk.subarray(0, need));
      chunk = chunk.subarray(Math.min(need, chunk.length));
      if (need > headerChunks[headerChunks.length - 1]!.length) continue;
      takeHeader();
      skipHeader = false;
    }
    while (chunk.length > 0) {
      const need = want(i) - pendingBytes;
      const part = chunk.length <= need ? chunk : chunk.subarray(0, need);
      pending.push(part);
      pendingBytes += part.length;
      chunk = chunk.subarray(part.length);
      if (pendingBytes === want(i)) {
        yield open(pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes));
        pending = [];
        pendingBytes = 0;
        i++;
      }
    }
  }
  if (i !== lastPkg + 1) throw new StoreError('DataCorrupt', `${what}: the piece ended inside package ${i}`);
}

/**
 * Plaintext bytes [start, end] (inclusive) of a sealed piece held in memory (an inline object), at
 * once: the packages the range covers are authenticated and opened. Throws StoreError('DataCorrupt').
 */
export function openSealedBuffer(sealed: Buffer, plain: number, dataKey: Buffer, start: number, end: number, what: string, log2 = PACKAGE_LOG2): Buffer {
  if (sealed.length !== sealedSize(plain, log2)) throw new StoreError('DataCorrupt', `${what}: ${sealed.length} sealed bytes for ${plain} plaintext bytes`);
  if (plain === 0) return Buffer.alloc(0);
  if (end >= plain || start > end || start < 0) throw new StoreError('DataCorrupt', `${what}: bytes ${start}-${end} asked of a piece of ${plain}`);
  const header = sealed.subarray(0, SEALED_HEADER_BYTES);
  if (readHeader(header, what).log2 !== log2) throw new StoreError('DataCorrupt', `${what}: package size does not match the piece's record`);
  const key = pieceKey(dataKey, header.subarray(8));
  const pkg = 2 ** log2;
  const n = packagesOf(plain, pkg);
  const first = Math.floor(start / pkg);
  const last = Math.floor(end / pkg);
  const out: Buffer[] = [];
  for (let i = first; i <= last; i++) {
    const at = SEALED_HEADER_BYTES + i * (pkg + SEALED_TAG_BYTES);
    const len = i === n - 1 ? plain - i * pkg : pkg;
    const body = openPackage(key, header, i, i === n - 1, sealed.subarray(at, at + len + SEALED_TAG_BYTES), what);
    out.push(body.subarray(i === first ? start - i * pkg : 0, i === last ? end - i * pkg + 1 : len));
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

/** The bytes an inline object keeps in the metadata store: its size, or its sealed piece's when sealed. */
export function storedInlineSize(rec: { size: number; sse?: unknown }): number {
  return rec.sse === undefined ? rec.size : sealedSize(rec.size);
}

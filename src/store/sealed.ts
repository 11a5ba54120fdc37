// Sealed pieces: how an encrypted object's bytes lie on disk (and inline in the metadata store).
// The store seals and opens with a 32-byte data key the caller gives it (s3/sse.ts gets it from the
// key service or derives it from a customer's key); it never sees where the key comes from. Format
// (docs/on-disk-format.md, "Sealed pieces"):
//
//   header   32 bytes: "STRS" | version | log2(package size) | 2 zero bytes | 24 bytes (below)
//   packages n = max(1, ceil(plain / P)) of them, each: ciphertext (P bytes, the last 0..P) | GCM tag (16)
//
// Version 1 (every piece in a data file; inline pieces written before version 2): the 24 bytes are
// a random salt, and each piece has its own key, HKDF-SHA256(data key, salt, "strata sealed piece
// v1" NUL piece id), so a data key shared by the parts of a multipart upload never meets the same
// nonce twice, and a piece's bytes open only under its own id (a data file moved to another id, e.g.
// two parts of one upload exchanged, fails). Package i's nonce is 4 zero bytes | i as 64-bit big-endian.
//
// Version 2 (inline pieces, sealBuffer): the 24 bytes are a random 12-byte nonce base and 12 zero
// bytes; the piece is sealed with the data key itself, package i's nonce being the base with i
// XORed into its last 4 bytes. No key derivation (two HMACs per small object): an inline piece has
// no id and its data key seals nothing else (every object's data key is its own: SSE-S3/KMS draw a
// fresh one, SSE-C derives it from the object's random salt; multipart parts, which share one, are
// always data files). A version 2 header is refused where a piece id is given (a data file).
//
// Either way package i is sealed with AES-256-GCM, associated data = the header and one byte, 1 for
// the last package and 0 for the others. So a flipped byte, a package moved within the piece or to
// another piece, a piece cut after any package, or a header changed is detected when that package
// is opened: the read fails (StoreError('DataCorrupt')), no byte of a package is served before its
// tag is checked. A range read opens only the packages it covers (and the header).
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { BLOCK, giveBack, takeBlock } from './data/block-pool.js';
import { StoreError } from './errors.js';
import { hkdf32 } from './hkdf.js';

export const SEALED_HEADER_BYTES = 32;
export const SEALED_TAG_BYTES = 16;
/** Plaintext bytes per package: 64 KiB. A piece records it in its header (log2), so it may change for new pieces. */
export const PACKAGE_LOG2 = 16;
const MAGIC = Buffer.from('STRS', 'latin1');
const MAGIC_U32 = MAGIC.readUInt32BE(0);
/** Pieces in data files (and inline pieces written before version 2): a piece key derived per piece. */
const VERSION = 1;
/** Inline pieces: the data key itself, a random nonce base. */
const VERSION_INLINE = 2;
const SALT_BYTES = 24;
const NONCE_BYTES = 12;
const INFO = 'strata sealed piece v1';
/** Package 0's nonce in a version 1 piece (never written to). */
const ZERO_NONCE = Buffer.alloc(NONCE_BYTES);

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

const INFO_PREFIX = `${INFO}\0`;

/** The key of one version 1 piece: HKDF-SHA256(data key, salt, INFO | 0 | piece id ('' inline)) to 32 bytes (hkdf.ts). */
function pieceKey(dataKey: Buffer, salt: Buffer, id: string): Buffer {
  if (dataKey.length !== 32) throw new Error('sealed: a data key has 32 bytes');
  // Reads of the same piece (a small object read again and again) reuse its key: two HMACs cost
  // about as much as opening 4 KiB on this machine. Keyed by everything the key derives from.
  const name = `${dataKey.toString('latin1')}${salt.toString('latin1')}${id}`;
  const known = PIECE_KEYS.get(name);
  if (known !== undefined) return known;
  const key = hkdf32(dataKey, salt, INFO_PREFIX, id);
  if (PIECE_KEYS.size >= PIECE_KEYS_MAX) PIECE_KEYS.delete(PIECE_KEYS.keys().next().value!);
  PIECE_KEYS.set(name, key);
  return key;
}

/**
 * Recently derived piece keys, at most PIECE_KEYS_MAX (the oldest goes first). Like the key
 * service's cache of unwrapped data keys, it holds key material in this process's memory only,
 * where the data keys it derives from already are while requests use them (docs/encryption.md).
 */
const PIECE_KEYS = new Map<string, Buffer>();
const PIECE_KEYS_MAX = 4096;

/** The per-piece constants of sealing and opening: its key, nonces, and the associated data of a package that is last or not (made when first needed). */
class Piece {
  readonly key: Buffer;
  /** Version 2: the header's nonce base; version 1: undefined (the nonce is the index). */
  private readonly base: Buffer | undefined;
  private last: Buffer | undefined;
  private notLast: Buffer | undefined;

  constructor(
    dataKey: Buffer,
    private readonly header: Buffer,
    id: string,
  ) {
    if (header[4] === VERSION_INLINE) {
      if (dataKey.length !== 32) throw new Error('sealed: a data key has 32 bytes');
      this.key = dataKey;
      this.base = header.subarray(8, 8 + NONCE_BYTES);
    } else {
      this.key = pieceKey(dataKey, header.subarray(8), id);
    }
  }

  nonce(i: number): Buffer {
    // Package 0's nonce: the base (version 2), or all zeros (version 1). The cipher copies its IV.
    if (i === 0) return this.base ?? ZERO_NONCE;
    const n = Buffer.allocUnsafe(NONCE_BYTES);
    if (this.base === undefined) {
      // i < 2^53: the high word then the low word of a 64-bit big-endian counter.
      n.writeUInt32BE(0, 0);
      n.writeUInt32BE(Math.floor(i / 0x1_0000_0000), 4);
      n.writeUInt32BE(i >>> 0, 8);
      return n;
    }
    // An inline piece has at most a few packages: i < 2^32.
    this.base.copy(n, 0);
    n.writeUInt32BE((n.readUInt32BE(8) ^ i) >>> 0, 8);
    return n;
  }

  aad(last: boolean): Buffer {
    if (last) return (this.last ??= aadOf(this.header, 1));
    return (this.notLast ??= aadOf(this.header, 0));
  }
}

function aadOf(header: Buffer, last: number): Buffer {
  const a = Buffer.allocUnsafe(SEALED_HEADER_BYTES + 1);
  header.copy(a, 0, 0, SEALED_HEADER_BYTES);
  a[SEALED_HEADER_BYTES] = last;
  return a;
}

/**
 * Seals package i of plaintext given in parts (a package's bytes are never joined first): appends
 * its ciphertext and tag to `out`. Returns the number of bytes appended.
 */
function sealPackage(p: Piece, i: number, last: boolean, parts: readonly Buffer[], out: Buffer[]): number {
  const c = createCipheriv('aes-256-gcm', p.key, p.nonce(i));
  c.setAAD(p.aad(last));
  let n = 0;
  for (const part of parts) {
    const body = c.update(part);
    out.push(body);
    n += body.length;
  }
  const rest = c.final();
  if (rest.length > 0) out.push(rest);
  out.push(c.getAuthTag());
  return n + rest.length + SEALED_TAG_BYTES;
}

/**
 * Opens one package (its ciphertext and tag, in parts) into `out` at `at`, or throws
 * StoreError('DataCorrupt'). The bytes written there before the tag is checked are not handed out
 * by the callers unless it checks. Returns the offset after the plaintext.
 */
function openPackageInto(p: Piece, i: number, last: boolean, parts: readonly Buffer[], bytes: number, out: Buffer, at: number, what: string): number {
  const d = createDecipheriv('aes-256-gcm', p.key, p.nonce(i));
  d.setAAD(p.aad(last));
  // The tag is the last 16 bytes of the parts; it may straddle two of them.
  const bodyBytes = bytes - SEALED_TAG_BYTES;
  const tagParts: Buffer[] = [];
  let seen = 0;
  for (const part of parts) {
    const body = Math.max(0, Math.min(part.length, bodyBytes - seen));
    if (body > 0) at += d.update(body === part.length ? part : part.subarray(0, body)).copy(out, at);
    if (body < part.length) tagParts.push(part.subarray(body));
    seen += part.length;
  }
  d.setAuthTag(tagParts.length === 1 ? tagParts[0]! : Buffer.concat(tagParts, SEALED_TAG_BYTES));
  try {
    at += d.final().copy(out, at);
  } catch {
    throw new StoreError('DataCorrupt', `${what}: package ${i} does not authenticate (damaged, moved, or another key)`);
  }
  return at;
}

/** Opens a piece's one and only package (its ciphertext and tag) into the buffer the cipher returns, or throws StoreError('DataCorrupt'). */
function openOnly(p: Piece, sealed: Buffer, what: string): Buffer {
  const d = createDecipheriv('aes-256-gcm', p.key, p.nonce(0));
  d.setAAD(p.aad(true));
  d.setAuthTag(sealed.subarray(sealed.length - SEALED_TAG_BYTES));
  const out = d.update(sealed.subarray(0, sealed.length - SEALED_TAG_BYTES));
  try {
    d.final();
  } catch {
    throw new StoreError('DataCorrupt', `${what}: package 0 does not authenticate (damaged, moved, or another key)`);
  }
  return out;
}

/**
 * Salts come from a pool of random bytes filled by the CSPRNG 4 KiB at a time (one call per ~170
 * pieces instead of one per piece: it counts for small objects); each salt is used once.
 */
const SALT_POOL = Buffer.alloc(SALT_BYTES * 170);
let saltAt = SALT_POOL.length;

function randomSalt(into: Buffer, at: number): void {
  if (saltAt + SALT_BYTES > SALT_POOL.length) {
    randomFillSync(SALT_POOL);
    saltAt = 0;
  }
  SALT_POOL.copy(into, at, saltAt, saltAt + SALT_BYTES);
  saltAt += SALT_BYTES;
}

function newHeader(log2: number, version = VERSION): Buffer {
  const h = Buffer.alloc(SEALED_HEADER_BYTES);
  MAGIC.copy(h, 0);
  h[4] = version;
  h[5] = log2;
  // Version 2 takes the first 12 bytes as its nonce base and keeps the last 12 zero.
  randomSalt(h, 8);
  if (version === VERSION_INLINE) h.fill(0, 8 + NONCE_BYTES);
  return h;
}

/**
/**
 * Sealed bytes per buffer sealStream yields: up to 16 packages (about 1 MiB with 64 KiB packages),
 * so the data store writes (one thread-pool write each) and hashes in large chunks, not a
 * ciphertext and a tag apart. Each buffer is joined to its exact size (no 1 MiB buffer for a small piece).
 */
const SEAL_BATCH = 16;

/**
 * Seals a stream of plaintext into a sealed piece with id `id` (the data store's): the header, then
 * the packages in buffers of up to SEAL_BATCH of them (a package is held back until the next byte
 * proves it is not the last: its associated data says which, and must be set before it is encrypted).
 */
export async function* sealStream(source: AsyncIterable<Buffer>, dataKey: Buffer, id: string, log2 = PACKAGE_LOG2): AsyncGenerator<Buffer> {
  const header = newHeader(log2);
  const piece = new Piece(dataKey, header, id);
  const pkg = 2 ** log2;
  const batch = SEAL_BATCH * (pkg + SEALED_TAG_BYTES);
  let i = 0;
  let held: Buffer[] = [];
  let heldBytes = 0;
  let out: Buffer[] = [header];
  let outBytes = header.length;
  for await (const chunk of source) {
    let from = 0;
    while (from < chunk.length) {
      if (heldBytes === pkg) {
        // A full package and more bytes behind it: it is not the last.
        outBytes += sealPackage(piece, i++, false, held, out);
        held = [];
        heldBytes = 0;
        if (outBytes + pkg + SEALED_TAG_BYTES > batch) {
          yield Buffer.concat(out, outBytes);
          out = [];
          outBytes = 0;
        }
      }
      const take = Math.min(pkg - heldBytes, chunk.length - from);
      held.push(from === 0 && take === chunk.length ? chunk : chunk.subarray(from, from + take));
      heldBytes += take;
      from += take;
    }
  }
  outBytes += sealPackage(piece, i, true, held, out);
  yield Buffer.concat(out, outBytes);
}

/** Seals bytes in memory: an inline object's piece (version 2, sealed with the data key itself, no piece id). */
export function sealBuffer(plain: Buffer, dataKey: Buffer, log2 = PACKAGE_LOG2): Buffer {
  const header = newHeader(log2, VERSION_INLINE);
  const piece = new Piece(dataKey, header, '');
  const pkg = 2 ** log2;
  const n = packagesOf(plain.length, pkg);
  const out: Buffer[] = [header];
  let bytes = header.length;
  for (let i = 0; i < n; i++) bytes += sealPackage(piece, i, i === n - 1, [plain.subarray(i * pkg, (i + 1) * pkg)], out);
  return Buffer.concat(out, bytes);
}

/**
 * The piece's header, checked: its version and package size. Version 2 (inline pieces) only where
 * no piece id is given. Throws StoreError('DataCorrupt').
 */
function readHeader(header: Buffer, id: string, what: string): { log2: number } {
  const v = header[4];
  if (
    header.length !== SEALED_HEADER_BYTES ||
    header.readUInt32BE(0) !== MAGIC_U32 ||
    (v !== VERSION && v !== VERSION_INLINE) ||
    header[5]! < 10 ||
    header[5]! > 24 ||
    header[6] !== 0 ||
    header[7] !== 0
  ) {
    throw new StoreError('DataCorrupt', `${what}: not a sealed piece (bad header)`);
  }
  if (v === VERSION_INLINE) {
    let reserved = id.length;
    for (let i = 8 + NONCE_BYTES; i < SEALED_HEADER_BYTES; i++) reserved |= header[i]!;
    if (reserved !== 0) throw new StoreError('DataCorrupt', `${what}: not a sealed piece of this kind (bad header)`);
  }
  return { log2: header[5]! };
}

/**
 * Reads plaintext bytes [start, end] (inclusive) of the sealed piece `id` holding `plain` plaintext
 * bytes, sealed with packages of 2^log2 bytes. `read(from, to)` yields the piece's bytes [from, to]
 * (inclusive) exactly. Only the header and the packages the range covers are read (in one read when
 * the range starts in the first package); each package is authenticated before any of its bytes are
 * yielded. Throws StoreError('DataCorrupt') on any mismatch (`what` names the piece in the message).
 */
export async function* openSealed(
  read: (from: number, to: number) => AsyncIterable<Buffer>,
  plain: number,
  dataKey: Buffer,
  id: string,
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
  let piece: Piece | undefined;
  const takeHeader = (): void => {
    const header = Buffer.concat(headerChunks);
    if (readHeader(header, id, what).log2 !== log2) throw new StoreError('DataCorrupt', `${what}: package size does not match the piece's record`);
    piece = new Piece(dataKey, header, id);
  };
  if (from !== 0) {
    for await (const c of read(0, SEALED_HEADER_BYTES - 1)) headerChunks.push(c);
    takeHeader();
  }
  let i = first;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const want = (p: number): number => (p === n - 1 ? plain - p * pkg : pkg) + SEALED_TAG_BYTES;
  let skipHeader = from === 0;
  /**
   * Where the packages that `rest` sealed bytes complete from package `k` on are opened: their
   * plaintext fits (a pooled 1 MiB buffer when it fits in one: the response hands it back once sent).
   */
  const openBuffer = (k: number, rest: number): Buffer => {
    let plainBytes = 0;
    for (; k <= lastPkg && rest >= want(k); k++) {
      plainBytes += want(k) - SEALED_TAG_BYTES;
      rest -= want(k);
    }
    return plainBytes <= BLOCK ? takeBlock(BLOCK) : Buffer.allocUnsafe(plainBytes);
  };
  // The chunks read whose bytes a pending package may still use: each goes back to the block pool
  // (a pooled block: block-pool.ts) once no pending part is a view of it.
  let held: Buffer[] = [];
  for await (const got of read(from, to)) {
    let chunk = got;
    held.push(got);
    if (skipHeader) {
      // The read started at the header: take it first.
      const need = SEALED_HEADER_BYTES - headerChunks.reduce((sum, c) => sum + c.length, 0);
      headerChunks.push(chunk.subarray(0, need));
      chunk = chunk.subarray(Math.min(need, chunk.length));
      if (need > headerChunks[headerChunks.length - 1]!.length) continue;
      takeHeader();
      skipHeader = false;
    }
    // The packages this chunk completes are opened into one buffer, yielded once they all check:
    // as few (and as large) writes to the client as the data store's reads, and no byte of a
    // package is handed out before its tag is checked.
    let out: Buffer | undefined;
    let at = 0;
    let lo = 0;
    while (chunk.length > 0) {
      // A reader yielding past the range read is a damaged piece, not a package to try.
      if (i > lastPkg) throw new StoreError('DataCorrupt', `${what}: more bytes than the packages ${first}-${lastPkg} read`);
      const need = want(i) - pendingBytes;
      const part = chunk.length <= need ? chunk : chunk.subarray(0, need);
      pending.push(part);
      pendingBytes += part.length;
      chunk = chunk.subarray(part.length);
      if (pendingBytes === want(i)) {
        out ??= openBuffer(i, pendingBytes + chunk.length);
        if (i === first) lo = start - i * pkg;
        const opened = openPackageInto(piece!, i, i === n - 1, pending, pendingBytes, out, at, what);
        at = i === lastPkg ? at + (end - i * pkg + 1) : opened;
        pending = [];
        pendingBytes = 0;
        i++;
      }
    }
    // Every byte of these chunks was opened into `out`, except a pending package's parts (kept).
    const stillUsed: Buffer[] = [];
    for (const c of held) {
      if (pending.some((p) => p.buffer === c.buffer)) stillUsed.push(c);
      else giveBack(c);
    }
    held = stillUsed;
    if (out !== undefined && at > lo) yield out.subarray(lo, at);
  }
  if (i !== lastPkg + 1) throw new StoreError('DataCorrupt', `${what}: the piece ended inside package ${i}`);
}

/**
 * Plaintext bytes [start, end] (inclusive) of a sealed piece held in memory (an inline object), at
 * once: the packages the range covers are authenticated and opened. Throws StoreError('DataCorrupt').
 */
export function openSealedBuffer(sealed: Buffer, plain: number, dataKey: Buffer, start: number, end: number, what: string, log2 = PACKAGE_LOG2): Buffer {
  if (sealed.length !== sealedSize(plain, log2)) throw new StoreError('DataCorrupt', `${what}: ${sealed.length} sealed bytes for ${plain} plaintext bytes`);
  const header = sealed.subarray(0, SEALED_HEADER_BYTES);
  if (readHeader(header, '', what).log2 !== log2) throw new StoreError('DataCorrupt', `${what}: package size does not match the piece's record`);
  const piece = new Piece(dataKey, header, '');
  // An empty piece is still authenticated (its one empty package): a damaged one is not "empty".
  if (plain === 0) {
    openPackageInto(piece, 0, true, [sealed.subarray(SEALED_HEADER_BYTES)], SEALED_TAG_BYTES, Buffer.alloc(0), 0, what);
    return Buffer.alloc(0);
  }
  if (end >= plain || start > end || start < 0) throw new StoreError('DataCorrupt', `${what}: bytes ${start}-${end} asked of a piece of ${plain}`);
  if (plain <= 2 ** log2) {
    // One package (every small object): opened straight into the buffer the cipher returns.
    const bytes = openOnly(piece, sealed.subarray(SEALED_HEADER_BYTES), what);
    return start === 0 && end === plain - 1 ? bytes : bytes.subarray(start, end + 1);
  }
  const pkg = 2 ** log2;
  const n = packagesOf(plain, pkg);
  const first = Math.floor(start / pkg);
  const last = Math.floor(end / pkg);
  const out = Buffer.allocUnsafe(Math.min(plain, (last + 1) * pkg) - first * pkg);
  let at = 0;
  for (let i = first; i <= last; i++) {
    const from = SEALED_HEADER_BYTES + i * (pkg + SEALED_TAG_BYTES);
    const len = (i === n - 1 ? plain - i * pkg : pkg) + SEALED_TAG_BYTES;
    at = openPackageInto(piece, i, i === n - 1, [sealed.subarray(from, from + len)], len, out, at, what);
  }
  return out.subarray(start - first * pkg, end - first * pkg + 1);
}

/** The bytes an inline object keeps in the metadata store: its size, or its sealed piece's when sealed. */
export function storedInlineSize(rec: { size: number; sse?: unknown }): number {
  return rec.sse === undefined ? rec.size : sealedSize(rec.size);
}

// Reads a byte range of one piece file and yields only bytes it has verified: the file's length
// against the record, and (format 1) each block against its checksum (the block hash the header
// names) before any of its bytes leave.
import { open, type FileHandle } from 'node:fs/promises';
import { PieceError } from '../errors.js';
import type { DataRef } from '../types.js';
import { borrowSlab, offloads, returnSlab, sha256Offloaded } from '../hash-offload.js';
import { takeBlock } from './block-pool.js';
import { HASH_SHA256, HEADER_SIZE, PIECE_MAGIC, footerSize, hasMagic, parseFooter, parseHeader, pieceFileSize } from './piece-format.js';

/** Blocks read (and checked) ahead of the one being yielded. */
const READ_AHEAD = 2;

interface ReadBlock {
  buf: Buffer;
  got: number;
  /** The block's digest (when checked and read whole). */
  digest?: Buffer;
}

/** Chunk size of legacy pieces (no block checksums): one thread-pool read per MiB, as before. */
const LEGACY_CHUNK = 1024 * 1024;

/** Reads up to buf.length bytes at `position`; returns how many there were (fewer only at end of file). */
export async function readAt(fh: FileHandle, buf: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * Yields bytes [start, end] (inclusive; end = start - 1 for nothing) of the piece `ref` stored at
 * `file`, in chunks of at most one block, and throws PieceError when the piece is missing, does not
 * have the length its record (`ref.size`) implies, or a block it touches fails its checksum. A
 * range that starts or ends inside a block reads and verifies the whole block.
 */
export async function* readPiece(ref: DataRef, file: string, start: number, end: number, blockChecks = true): AsyncGenerator<Buffer> {
  const size = ref.size;
  if (start < 0 || end >= size || end < start - 1) throw new RangeError(`range ${start}-${end} outside a piece of ${size} bytes`);
  const fail = (fault: ConstructorParameters<typeof PieceError>[0], detail: string) => new PieceError(fault, ref.id, file, detail);
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw fail('missing', 'the piece file is missing (ENOENT)');
    throw err;
  }
  try {
    const fileLength = (await fh.stat()).size;
    const head = Buffer.alloc(Math.min(HEADER_SIZE, fileLength));
    await readAt(fh, head, 0);

    // A file shorter than the magic that is a prefix of it is a format-1 piece cut short, taken as
    // such (an error), not a legacy piece: otherwise a piece of a few bytes truncated to exactly its
    // record's size would serve its header as data. (The price: a legacy piece of under 16 bytes
    // that happens to be such a prefix — starting with 0x89 — is refused; never wrong bytes.)
    const cutHeader = fileLength > 0 && fileLength < PIECE_MAGIC.length && head.equals(PIECE_MAGIC.subarray(0, fileLength));
    if (!hasMagic(head) && !cutHeader) {
      // Legacy piece (written before piece format 1): the raw bytes, nothing to verify but the length.
      if (fileLength !== size) throw fail('length', `legacy piece of ${fileLength} bytes, its record says ${size}`);
      for (let pos = start; pos <= end; ) {
        const buf = Buffer.allocUnsafe(Math.min(LEGACY_CHUNK, end + 1 - pos));
        const got = await readAt(fh, buf, pos);
        if (got !== buf.length) throw fail('short-read', `the file ended at byte ${pos + got} while reading up to ${end}`);
        pos += got;
        yield buf;
      }
      return;
    }

    const parsed = parseHeader(head);
    if ('error' in parsed) throw fail('format', parsed.error);
    const { blockSize, hash } = parsed;
    const digestSize = hash.size;
    const expected = pieceFileSize(size, blockSize, digestSize);
    if (fileLength !== expected) throw fail('length', `file of ${fileLength} bytes, a piece of ${size} data bytes has ${expected}`);
    const footer = Buffer.alloc(footerSize(size, blockSize, digestSize));
    if ((await readAt(fh, footer, HEADER_SIZE + size)) !== footer.length) throw fail('short-read', 'the file ended inside its footer');
    const table = parseFooter(head, footer, size, blockSize, digestSize);
    if ('error' in table) throw fail('format', table.error);
    const { digests } = table;

    // Large SHA-256 pieces where the offload is on: each block is read into pooled shared memory and
    // checked by a worker thread (hash-offload.ts, SHA-256 only), two blocks ahead of the one being
    // yielded, then copied out (one memcpy) so the slab goes back to the pool. Otherwise (a small
    // piece: a thread's round trip costs more than its hash; XXH3-128, 2–3× cheaper) each block is
    // checked here.
    const offload = blockChecks && hash.id === HASH_SHA256 && offloads(size);
    const readBlock = (block: number): Promise<ReadBlock> => {
      const len = Math.min(blockSize, size - block * blockSize);
      const at = HEADER_SIZE + block * blockSize;
      const p = offload
        ? (async () => {
            const slab = borrowSlab(len);
            try {
              const got = await readAt(fh, slab, at);
              const digest = got === len ? await sha256Offloaded(slab) : undefined;
              return { buf: Buffer.from(slab), got, digest };
            } finally {
              returnSlab(slab);
            }
          })()
        : (async () => {
            const buf = takeBlock(len);
            const got = await readAt(fh, buf, at);
            return { buf, got, digest: blockChecks && got === len ? hash.digest(buf) : undefined };
          })();
      p.catch(() => undefined); // handled where it is awaited (or dropped when the reader stops early)
      return p;
    };
    const first = Math.floor(start / blockSize);
    const last = end < start ? first - 1 : Math.floor(end / blockSize);
    const ahead: Array<Promise<ReadBlock>> = [];
    let next = first;
    const fillAhead = (): void => {
      while (next <= last && ahead.length < READ_AHEAD) ahead.push(readBlock(next++));
    };
    try {
      for (let block = first; block <= last; block++) {
        fillAhead();
        const { buf, got, digest } = await ahead.shift()!;
        fillAhead();
        const blockStart = block * blockSize;
        if (got !== buf.length) throw fail('short-read', `the file ended inside block ${block}`);
        // Verified before a byte of it is yielded: a damaged block is never sent, not even in part.
        if (blockChecks && !digest!.equals(digests.subarray(block * digestSize, (block + 1) * digestSize))) {
          throw fail('checksum', `block ${block} (data bytes ${blockStart}-${blockStart + buf.length - 1}) does not match its checksum`);
        }
        const from = Math.max(start, blockStart) - blockStart;
        const to = Math.min(end, blockStart + buf.length - 1) - blockStart;
        yield from === 0 && to === buf.length - 1 ? buf : buf.subarray(from, to + 1);
      }
    } finally {
      // The file is closed only after the reads still in flight (early stop, error) have finished.
      await Promise.allSettled(ahead);
    }
  } finally {
    await fh.close();
  }
}

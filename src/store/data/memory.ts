// In-memory data store for fast tests (buffers whole pieces: never use it for real data).
// Same behaviour as DirDataStore, checked by the contract suite in ../contract.ts.

import { randomBytes } from 'node:crypto';
import { PieceError } from '../errors.js';
import type { DataRef, DataStore } from '../types.js';

interface Piece {
  bytes: Buffer;
  createdAt: number;
}

export class MemoryDataStore implements DataStore {
  private readonly pieces = new Map<string, Piece>();

  async write(source: AsyncIterable<Buffer>, signal?: AbortSignal): Promise<DataRef> {
    signal?.throwIfAborted();
    const chunks: Buffer[] = [];
    const it = source[Symbol.asyncIterator]();
    try {
      for (;;) {
        const r = await new Promise<IteratorResult<Buffer>>((resolve, reject) => {
          // Reject on abort even when the source never yields again.
          const onAbort = () => reject(signal!.reason);
          signal?.addEventListener('abort', onAbort, { once: true });
          const done = () => signal?.removeEventListener('abort', onAbort);
          it.next().then(
            (v) => (done(), resolve(v)),
            (e) => (done(), reject(e)),
          );
        });
        if (r.done) break;
        chunks.push(Buffer.from(r.value));
      }
      signal?.throwIfAborted();
    } catch (err) {
      void Promise.resolve(it.return?.()).catch(() => {});
      throw err;
    }
    const bytes = Buffer.concat(chunks);
    const id = randomBytes(16).toString('hex');
    // Only a complete piece is ever visible: it is added after the source ended cleanly.
    this.pieces.set(id, { bytes, createdAt: Date.now() });
    return { id, size: bytes.length };
  }

  read(ref: DataRef, range?: { start: number; end: number }): AsyncIterable<Buffer> {
    const p = this.pieces.get(ref.id);
    const file = `memory:${ref.id}`;
    async function* bytes(): AsyncGenerator<Buffer> {
      if (!p) throw new PieceError('missing', ref.id, file, 'no such data piece (ENOENT)');
      // The same length check as the directory store (no block checksums: memory does not rot).
      if (p.bytes.length !== ref.size) throw new PieceError('length', ref.id, file, `piece of ${p.bytes.length} bytes, its record says ${ref.size}`);
      const out = range ? p.bytes.subarray(range.start, range.end + 1) : p.bytes;
      if (out.length > 0) yield out;
    }
    return bytes();
  }

  /** Test hook: replaces a piece's bytes as a damaged disk would (same id, other content or length). */
  damage(id: string, bytes: Buffer): void {
    const p = this.pieces.get(id);
    if (p) p.bytes = bytes;
  }

  async remove(id: string): Promise<void> {
    this.pieces.delete(id);
  }

  async *listIds(before: number): AsyncIterable<string> {
    for (const [id, p] of [...this.pieces]) if (p.createdAt < before) yield id;
  }

  /** Nothing is ever half-written in memory. */
  async sweepTemp(_before?: number): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}
}

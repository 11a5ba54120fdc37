// In-memory data store for fast tests (buffers whole pieces: never use it for real data).
// Same behaviour as DirDataStore, checked by the contract suite in ../contract.ts.

import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
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

  read(id: string, range?: { start: number; end: number }): NodeJS.ReadableStream {
    const p = this.pieces.get(id);
    if (!p) {
      const err = Object.assign(new Error(`ENOENT: no such data piece ${id}`), { code: 'ENOENT' });
      return new Readable({ read() { this.destroy(err); } });
    }
    const bytes = range ? p.bytes.subarray(range.start, range.end + 1) : p.bytes;
    return Readable.from(bytes.length > 0 ? [bytes] : []);
  }

  async remove(id: string): Promise<void> {
    this.pieces.delete(id);
  }

  async *listIds(before: number): AsyncIterable<string> {
    for (const [id, p] of [...this.pieces]) if (p.createdAt < before) yield id;
  }

  /** Nothing is ever half-written in memory. */
  async sweepTemp(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}
}

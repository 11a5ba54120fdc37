// The worker thread behind hash-offload.ts: keeps the hash state of the streams its parent opened
// and updates it from shared slabs (SharedArrayBuffers the parent fills and reuses). One message in,
// one answer out; a stream's messages arrive in order on the one port, so no locking is needed.
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/** What the parent sends (see hash-offload.ts). */
export type ToWorker =
  | { t: 'open'; id: number; algs: string[]; blockSize: number }
  | { t: 'update'; id: number; slab: SharedArrayBuffer; len: number }
  | { t: 'end'; id: number }
  | { t: 'drop'; id: number }
  /** One SHA-256 of bytes the parent will not touch until the answer (a block read for a GET). */
  | { t: 'sha256'; id: number; slab: SharedArrayBuffer; off: number; len: number };

/** What the worker answers: an ack per update (the slab may be reused), the digests at the end. */
export type FromWorker =
  | { t: 'ack'; id: number }
  | { t: 'digests'; id: number; digests: Record<string, Uint8Array>; blocks: Uint8Array[] }
  | { t: 'digest'; id: number; digest: Uint8Array }
  | { t: 'error'; id: number; message: string };

interface StreamState {
  hashes: Array<[string, Hash]>;
  blockSize: number;
  block?: Hash;
  inBlock: number;
  blocks: Uint8Array[];
}

const streams = new Map<number, StreamState>();

function update(s: StreamState, bytes: Buffer): void {
  for (const [, h] of s.hashes) h.update(bytes);
  if (s.blockSize === 0) return;
  for (let off = 0; off < bytes.length; ) {
    const take = Math.min(bytes.length - off, s.blockSize - s.inBlock);
    s.block ??= createHash('sha256');
    s.block.update(bytes.subarray(off, off + take));
    off += take;
    s.inBlock += take;
    if (s.inBlock === s.blockSize) {
      s.blocks.push(s.block.digest());
      s.block = undefined;
      s.inBlock = 0;
    }
  }
}

function handle(m: ToWorker): FromWorker | undefined {
  switch (m.t) {
    case 'open':
      streams.set(m.id, { hashes: m.algs.map((a) => [a, createHash(a)]), blockSize: m.blockSize, inBlock: 0, blocks: [] });
      return undefined;
    case 'update': {
      const s = streams.get(m.id);
      if (s) update(s, Buffer.from(m.slab, 0, m.len));
      return { t: 'ack', id: m.id }; // acked even for a dropped stream: the parent gets its slab back
    }
    case 'end': {
      const s = streams.get(m.id);
      streams.delete(m.id);
      if (!s) return { t: 'error', id: m.id, message: 'hash stream ended twice or never opened' };
      if (s.block) s.blocks.push(s.block.digest());
      const digests: Record<string, Uint8Array> = {};
      for (const [alg, h] of s.hashes) digests[alg] = h.digest();
      return { t: 'digests', id: m.id, digests, blocks: s.blocks };
    }
    case 'drop':
      streams.delete(m.id);
      return undefined;
    case 'sha256':
      return {
        t: 'digest',
        id: m.id,
        digest: createHash('sha256')
          .update(Buffer.from(m.slab, m.off, m.len))
          .digest(),
      };
  }
}

parentPort?.on('message', (m: ToWorker) => {
  let answer: FromWorker | undefined;
  try {
    answer = handle(m);
  } catch (err) {
    answer = { t: 'error', id: m.id, message: (err as Error).message };
  }
  if (answer) parentPort!.postMessage(answer);
});

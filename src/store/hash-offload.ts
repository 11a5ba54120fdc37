// Hashing of large bodies off the event loop: the bytes are copied into shared 1 MiB slabs (one
// memcpy, into memory that is reused, not freshly allocated) and a worker thread (hash-worker.ts)
// runs the streaming hashes over them, while the event loop goes on receiving and writing. The MD5
// of a 64 MiB body is ~140 ms of CPU on the test machine: on the event loop it was the bound of a
// large PUT (docs/performance.md, "Round two: large objects"). Small bodies are hashed in place:
// a round trip to a thread costs more than hashing a few KiB (callers decide with OFFLOAD_MIN).
import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './hash-worker.js';

/** Bodies at least this long are worth a thread's round trips. */
export const OFFLOAD_MIN = 1024 * 1024;

/**
 * Whether large hashes go to a worker thread at all. Only worth it with cores to spare: where every
 * core already runs a serving process (the default `--workers`, one per CPU), the thread competes
 * with the other workers and the copy into shared memory is pure cost — measured on the 2-core test
 * machine, offloading made GET 64 MiB 0.78×, PUT 64 MiB 0.88× and multipart 0.93× of the same
 * server hashing in place (docs/performance.md, "Round two: large objects"). One spare core is not
 * enough either: `--workers 1` on the same machine spent 8.2 against 6.1 ms of CPU per MiB PUT and
 * 3.5 against 2.2 per MiB read, and was slower, one stream or two, with the offload than without
 * (docs/performance.md, "The floor under the missed targets"). serve.ts decides (offloadWorthIt).
 */
let offloadOn = false;

/** CPUs beyond the serving processes that the offload needs before it is turned on. */
export const OFFLOAD_SPARE_CPUS = 2;

/** Whether a server of `processes` serving processes on `cpus` CPUs hashes large bodies on threads. */
export function offloadWorthIt(cpus: number, processes: number): boolean {
  return cpus - processes >= OFFLOAD_SPARE_CPUS;
}

/** Turns the offload on or off for this process (serve.ts: offloadWorthIt; off until asked). */
export function setHashOffload(on: boolean): void {
  offloadOn = on;
}

/** Whether a body or piece of `size` bytes is hashed on a worker thread. */
export function offloads(size: number | undefined): boolean {
  return offloadOn && size !== undefined && size >= OFFLOAD_MIN;
}
/** Bytes per message to the worker. */
const SLAB = 1024 * 1024;
/** Slabs a stream may have at the worker before update() asks its caller to wait (backpressure). */
const MAX_IN_FLIGHT = 2;
/**
 * Free slabs kept for reuse. Above it they are left to the garbage collector, which does not see
 * their memory and lets them pile up (docs/performance.md, "Memory"): keep it above what the
 * expected concurrency has in use (per stream MAX_IN_FLIGHT + 1).
 */
const MAX_FREE = 32;

const freeSlabs: SharedArrayBuffer[] = [];
const takeSlab = (): SharedArrayBuffer => freeSlabs.pop() ?? new SharedArrayBuffer(SLAB);
const giveSlab = (s: SharedArrayBuffer): void => {
  if (freeSlabs.length < MAX_FREE) freeSlabs.push(s);
};

/**
 * Shared memory of `len` bytes from the pool (a block to read and check with sha256Offloaded);
 * give it back with returnSlab once its bytes are copied out. Never handed to a socket: memory in
 * SharedArrayBuffers is not counted by the garbage collector's heuristics, so letting many of them
 * die unpooled grows the process by gigabytes before a collection (measured: 1.8 GiB peak RSS).
 */
export function borrowSlab(len: number): Buffer {
  return Buffer.from(len <= SLAB ? takeSlab() : new SharedArrayBuffer(len), 0, len);
}

export function returnSlab(b: Buffer): void {
  if (b.buffer.byteLength === SLAB && b.buffer instanceof SharedArrayBuffer) giveSlab(b.buffer);
}

/** Counters for tests and the bench: streams hashed off the event loop and their bytes. */
export const offloadStats = { streams: 0, bytes: 0 };

/** Whoever waits for a worker's answers: a stream, or one digest. */
interface Party {
  onMessage(m: FromWorker): void;
  fail(err: Error): void;
}

class PoolWorker {
  readonly streams = new Map<number, Party>();
  private readonly worker: Worker;
  dead = false;

  constructor() {
    this.worker = new Worker(new URL('./hash-worker.js', import.meta.url));
    this.worker.on('message', (m: FromWorker) => this.streams.get(m.id)?.onMessage(m));
    const fail = (err: Error): void => {
      this.dead = true;
      for (const s of [...this.streams.values()]) s.fail(err);
      this.streams.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`hash worker exited (code ${code})`)));
    // Idle, it never keeps the process alive (after the listeners: adding one refs the worker).
    this.worker.unref();
  }

  post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  /** A stream opened: while the worker has any, it keeps the process alive (its answers are awaited). */
  add(id: number, s: Party): void {
    this.streams.set(id, s);
    if (this.streams.size === 1) this.worker.ref();
  }

  remove(id: number): void {
    if (this.streams.delete(id) && this.streams.size === 0) this.worker.unref();
  }
}

const pool: PoolWorker[] = [];
/** Workers at most: one per CPU, at most 4 (asked once: it is a system call). */
const POOL_SIZE = Math.max(1, Math.min(availableParallelism(), 4));
let nextId = 1;

/** Streams the pool still tracks (opened, not yet digested or dropped and acked): tests check none leak. */
export function openOffloadStreams(): number {
  return pool.reduce((n, w) => n + w.streams.size, 0);
}

/** The live worker with the fewest open streams; the pool grows up to the number of CPUs (at most 4). */
function pickWorker(): PoolWorker {
  for (let i = pool.length - 1; i >= 0; i--) if (pool[i]!.dead) pool.splice(i, 1);
  const idle = pool.find((w) => w.streams.size === 0);
  if (idle) return idle;
  if (pool.length < POOL_SIZE) {
    const w = new PoolWorker();
    pool.push(w);
    return w;
  }
  return pool.reduce((a, b) => (b.streams.size < a.streams.size ? b : a));
}

/**
 * The SHA-256 of `bytes`, which must lie in a SharedArrayBuffer (a block read into one), computed
 * by a worker thread; the caller must not change the bytes before the answer.
 */
export function sha256Offloaded(bytes: Buffer): Promise<Buffer> {
  if (!(bytes.buffer instanceof SharedArrayBuffer)) return Promise.reject(new TypeError('sha256Offloaded: the bytes must lie in a SharedArrayBuffer'));
  const id = nextId++;
  const worker = pickWorker();
  return new Promise((resolve, reject) => {
    worker.add(id, {
      onMessage: (m) => {
        worker.remove(id);
        if (m.t === 'digest') resolve(Buffer.from(m.digest.buffer, m.digest.byteOffset, m.digest.byteLength));
        else reject(new Error(`hash worker: ${m.t === 'error' ? m.message : m.t}`));
      },
      fail: (err) => {
        worker.remove(id);
        reject(err);
      },
    });
    worker.post({ t: 'sha256', id, slab: bytes.buffer as SharedArrayBuffer, off: bytes.byteOffset, len: bytes.length });
  });
}

export interface OffloadedDigests {
  /** Digest per algorithm asked for. */
  digests: Record<string, Buffer>;
  /** With a block size: the SHA-256 of each block (the last one may be shorter). */
  blocks: Buffer[];
}

/**
 * Streaming hashes (node:crypto algorithm names) of one body, computed by a worker thread. Feed it
 * with update() in order; when update() returns a promise, await it before the next update (the
 * worker is behind by MAX_IN_FLIGHT slabs). digest() once at the end; abort() if the body fails.
 */
export class OffloadedHash implements Party {
  private readonly id = nextId++;
  private readonly worker: PoolWorker;
  private view: Buffer | undefined;
  private slab: SharedArrayBuffer | undefined;
  private fill = 0;
  /** Slabs at the worker, in the order they were sent (acks come back in that order). */
  private readonly sent: SharedArrayBuffer[] = [];
  private waiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private result: { resolve: (d: OffloadedDigests) => void; reject: (e: Error) => void } | undefined;
  private failed: Error | undefined;
  private closed = false;

  /** `blockSize` > 0 also yields the SHA-256 of every `blockSize` bytes (piece-format blocks). */
  constructor(algs: readonly string[], blockSize = 0) {
    this.worker = pickWorker();
    this.worker.add(this.id, this);
    this.worker.post({ t: 'open', id: this.id, algs: [...algs], blockSize });
    offloadStats.streams++;
  }

  update(chunk: Buffer): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    if (this.closed) throw new Error('update() after digest() or abort()');
    for (let off = 0; off < chunk.length; ) {
      if (!this.view) {
        this.slab = takeSlab();
        this.view = Buffer.from(this.slab);
        this.fill = 0;
      }
      const n = chunk.copy(this.view, this.fill, off);
      off += n;
      this.fill += n;
      if (this.fill === SLAB) this.send();
    }
    offloadStats.bytes += chunk.length;
    if (this.sent.length < MAX_IN_FLIGHT) return undefined;
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** The digests of everything updated; the stream is closed afterwards. */
  digest(): Promise<OffloadedDigests> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error('digest() twice or after abort()'));
    if (this.fill > 0) this.send();
    this.closed = true;
    this.dropSlab();
    return new Promise((resolve, reject) => {
      this.result = { resolve, reject };
      this.worker.post({ t: 'end', id: this.id });
    });
  }

  /** Forgets the stream (the body failed); slabs still at the worker come back with their acks. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropSlab();
    if (!this.failed) this.worker.post({ t: 'drop', id: this.id });
    this.forgetWhenIdle();
  }

  /** From PoolWorker: a message for this stream. */
  onMessage(m: FromWorker): void {
    if (m.t === 'ack') {
      giveSlab(this.sent.shift()!);
      if (this.waiter && this.sent.length < MAX_IN_FLIGHT) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve();
      }
      if (this.closed && !this.result) this.forgetWhenIdle();
    } else if (m.t === 'digests') {
      this.worker.remove(this.id);
      const digests: Record<string, Buffer> = {};
      for (const [alg, d] of Object.entries(m.digests)) digests[alg] = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
      this.result?.resolve({ digests, blocks: m.blocks.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)) });
    } else {
      this.fail(new Error(`hash worker: ${m.t === 'error' ? m.message : `unexpected answer ${m.t}`}`));
    }
  }

  /** From PoolWorker: the worker died or refused; whoever waits gets the error. */
  fail(err: Error): void {
    this.failed ??= err;
    this.worker.remove(this.id);
    this.waiter?.reject(err);
    this.result?.reject(err);
    this.waiter = undefined;
    this.result = undefined;
  }

  private send(): void {
    this.sent.push(this.slab!);
    this.worker.post({ t: 'update', id: this.id, slab: this.slab!, len: this.fill });
    this.slab = undefined;
    this.view = undefined;
    this.fill = 0;
  }

  private dropSlab(): void {
    if (this.slab) giveSlab(this.slab); // never sent: nobody else holds it
    this.slab = undefined;
    this.view = undefined;
  }

  private forgetWhenIdle(): void {
    if (this.sent.length === 0) this.worker.remove(this.id);
  }
}

/** What OffloadedHash and its in-place twin offer: update (await a returned promise), digest, abort. */
export interface BodyHash {
  update(chunk: Buffer): Promise<void> | undefined;
  digest(): Promise<OffloadedDigests>;
  abort(): void;
}

/** The same streaming hashes in place (no blocks): for bodies under OFFLOAD_MIN. */
class InPlaceHash implements BodyHash {
  private readonly hashes: Array<[string, Hash]>;
  constructor(algs: readonly string[]) {
    this.hashes = algs.map((a) => [a, createHash(a)]);
  }
  update(chunk: Buffer): undefined {
    for (const [, h] of this.hashes) h.update(chunk);
    return undefined;
  }
  async digest(): Promise<OffloadedDigests> {
    const digests: Record<string, Buffer> = {};
    for (const [alg, h] of this.hashes) digests[alg] = h.digest();
    return { digests, blocks: [] };
  }
  abort(): void {}
}

/** Streaming hashes of a body of `size` bytes (undefined: unknown): on a worker thread from OFFLOAD_MIN on, else in place. */
export function bodyHash(algs: readonly string[], size: number | undefined): BodyHash {
  return offloads(size) ? new OffloadedHash(algs) : new InPlaceHash(algs);
}

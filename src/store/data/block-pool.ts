// Reused buffers for the blocks a large GET reads — 1 MiB blocks of a piece, a shard's block of an
// erasure-coded one — and, for an encrypted object, the buffers it opens them into
// (docs/performance.md, "Large GETs: block buffers reused"). A fresh buffer per block lives outside
// V8's heap; at ~1 GB/s the dead ones made V8 run a full mark-compact every ~25 MiB served, a third
// of the GET's CPU here. The readers take their buffers from here; the HTTP response hands a buffer
// back — or any view of it — once its bytes were written to the socket (the write's callback,
// without an error), and the next read of that size fills it again. The sealed reader hands back
// the blocks it opened. A buffer never handed back (a copy, a cut connection) is an ordinary Buffer
// the GC collects. Only buffers lent here are taken back, each once per loan: a second hand-back is
// ignored. So a consumer that gives a buffer back must be its last user: each buffer lent is
// yielded down one chain of generators to one response (or one sealed reader), never shared.
export const BLOCK = 1024 * 1024;
/** Smaller buffers are not pooled (cheap to allocate, and many sizes). */
const MIN_POOLED = 64 * 1024;
/** Bytes of free buffers kept at most (per process): the reads of a few concurrent GETs in flight. */
const MAX_FREE_BYTES = 24 * BLOCK;

/** Free buffers by length. */
const free = new Map<number, Buffer[]>();
let freeBytes = 0;
/** The buffers lent and not yet handed back, by their memory (a view of one finds it). */
const lent = new WeakMap<ArrayBufferLike, Buffer>();
/** Loans not handed back (tests: a reader that borrows must give back what it does not pass on). */
let outstanding = 0;

/** A buffer of `len` bytes to read into (its contents arbitrary): pooled from 64 KiB on, else a new one. */
export function takeBlock(len: number): Buffer {
  if (len < MIN_POOLED) return Buffer.allocUnsafe(len);
  let b = free.get(len)?.pop();
  if (b !== undefined) freeBytes -= len;
  // allocUnsafeSlow: memory of its own (not Node's shared 8 KiB pool), so `.buffer` names it alone.
  else b = Buffer.allocUnsafeSlow(len);
  lent.set(b.buffer, b);
  outstanding++;
  return b;
}

/** `view` (a pooled buffer or a view of one) is used by no one any more: it goes back for the next read. Other buffers are ignored. */
export function giveBack(view: Buffer): void {
  const b = lent.get(view.buffer);
  if (b === undefined) return;
  lent.delete(view.buffer);
  outstanding--;
  if (freeBytes + b.length > MAX_FREE_BYTES) return;
  const list = free.get(b.length);
  if (list === undefined) free.set(b.length, [b]);
  else list.push(b);
  freeBytes += b.length;
}

/** Buffers lent and not handed back (tests; a loan never handed back stays counted). */
export function pooledLent(): number {
  return outstanding;
}

/** Free buffers held now (tests). */
export function pooledFree(): number {
  let n = 0;
  for (const list of free.values()) n += list.length;
  return n;
}

// Reused 1 MiB buffers for the blocks a large GET reads and, for an encrypted object, the buffers
// it opens them into (docs/performance.md, "Large GETs: block buffers reused"). A fresh 1 MiB
// Buffer per block lives outside V8's heap; at ~1 GB/s the dead ones made V8 run a full
// mark-compact every ~25 MiB served, a third of the GET's CPU here. The piece reader and the
// sealed reader take their 1 MiB buffers from here; the HTTP response hands a buffer back — or any
// view of it — once its bytes were written to the socket (the write's callback, without an error),
// and the next read fills it again. The sealed reader hands back the blocks it opened. A buffer
// never handed back (a copy, a cut connection) is an ordinary Buffer the GC collects. Only buffers
// lent here are taken back, each once per loan: a second hand-back is ignored. So a consumer that
// gives a buffer back must be its last user: each buffer lent is yielded down one chain of
// generators to one response (or one sealed reader), never shared.
export const BLOCK = 1024 * 1024;
/** Free buffers kept at most (per process): more than the reads of a few concurrent GETs in flight. */
const MAX_FREE = 16;

const free: Buffer[] = [];
/** The buffers lent and not yet handed back, by their memory (a view of one finds it). */
const lent = new WeakMap<ArrayBufferLike, Buffer>();

/** A buffer of `len` bytes: a pooled one for len 1 MiB (its contents arbitrary), else a new one. */
export function takeBlock(len: number): Buffer {
  if (len !== BLOCK) return Buffer.allocUnsafe(len);
  // allocUnsafeSlow: memory of its own (not Node's shared 8 KiB pool), so `.buffer` names it alone.
  const b = free.pop() ?? Buffer.allocUnsafeSlow(BLOCK);
  lent.set(b.buffer, b);
  return b;
}

/** `view` (a pooled buffer or a view of one) is used by no one any more: it goes back for the next read. Other buffers are ignored. */
export function giveBack(view: Buffer): void {
  const b = lent.get(view.buffer);
  if (b === undefined) return;
  lent.delete(view.buffer);
  if (free.length < MAX_FREE) free.push(b);
}

/** Free buffers held now (tests). */
export function pooledFree(): number {
  return free.length;
}

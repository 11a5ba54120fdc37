// Keeps dead I/O buffers from piling up between garbage collections (docs/performance.md, "Round
// two: listing, startup, memory").
//
// A large PUT or GET goes through many short-lived Buffers (64 KiB socket chunks in, 1 MiB file
// chunks out). Their bytes live outside V8's heap (malloc), and V8 collects the small objects that
// own them only when its own heap needs it or when the external bytes have grown by tens of MiB
// since the last collection. Meanwhile the dead chunks fill malloc's heap, which does not shrink
// afterwards: one 64 MiB PUT left the server's RSS ~30 MiB higher for good on the test VM.
//
// The guard looks at V8's count of external bytes (ArrayBuffers' among them; no system call) every
// INTERVAL_MS and asks for a young-
// generation collection (a scavenge: ~1 ms, the dead chunks are young) when it grew by more than
// GROWTH since the last look. Idle or small-request servers never trigger it. V8's `gc` function is
// reached without a launch flag: --expose-gc set at run time, then `gc` read from a fresh context
// (Node's documented use of v8.setFlagsFromString), so every way of starting Strata gets it.
import { runInNewContext } from 'node:vm';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/** External bytes allowed to build up between two looks before a collection is asked for. */
export const GROWTH = 8 * 1024 * 1024;
const INTERVAL_MS = 25;

type Gc = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

function v8Gc(): Gc | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as Gc) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One look of the guard (exported for its test): asks `gc` for a scavenge when `external()` grew by
 * more than GROWTH since the previous look (or the last collection), and follows it down.
 */
export function guardStep(gc: Gc, external: () => number): () => void {
  let last = external();
  return () => {
    const now = external();
    if (now - last > GROWTH) {
      gc({ type: 'minor' });
      last = external();
    } else if (now < last) {
      last = now;
    }
  };
}

/** Starts the guard; returns its stop function. Does nothing where V8 will not hand out `gc`. */
export function startMemoryGuard(): () => void {
  const gc = v8Gc();
  if (gc === undefined) return () => undefined;
  const timer = setInterval(
    guardStep(gc, () => getHeapStatistics().external_memory),
    INTERVAL_MS,
  );
  timer.unref();
  return () => clearInterval(timer);
}

// Random bytes for keys, IVs and salts from a pool the CSPRNG refills 4 KiB at a time: one
// randomFillSync per ~100 small draws instead of one crypto.randomBytes each (OpenSSL's RAND_bytes
// also makes a getpid system call per call to notice a fork). Each byte is handed out once and
// zeroed in the pool as it leaves.
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let used = pool.length;

/** `n` (≤ 4096) fresh random bytes, in a buffer of their own. */
export function pooledRandom(n: number): Buffer {
  if (used + n > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + n));
  pool.fill(0, used, used + n);
  used += n;
  return out;
}

// The crash harness (crash.test.ts's, object-harness.ts) on six drives: the objects above the inline
// limit are erasure-coded (EC 3+3, one shard file per drive), the metadata database has copies on
// four drives. The same kill-during-writes cycles and the same checks after every restart: every
// acknowledged object byte-exact through GET, HEAD and the listings, nothing torn, every piece the
// metadata references with its shard on every drive (no drive fails here), and at the end no
// leftovers on any drive (tmp/, unreferenced shards).
//
//   STRATA_CRASH_SEED=<n>          reproduce a run (the seed is printed at the start and in every failure)
//   STRATA_CRASH_DRIVES_KILLS=<n>  number of kills (default 8, the CI mode: under a minute on 2 cores; a start on six drives takes seconds here)
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inCrashDir } from './cycles.js';
import { runHarness } from './object-harness.js';

const SEED = process.env.STRATA_CRASH_SEED ? Number(process.env.STRATA_CRASH_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const KILLS = Math.max(1, Number(process.env.STRATA_CRASH_DRIVES_KILLS ?? 8) || 8);

describe('crash safety on six drives', () => {
  it(`keeps every acknowledged erasure-coded write through ${KILLS} SIGKILLs (seed ${SEED})`, { timeout: 120_000 + KILLS * 6_000 }, async () => {
    console.log(`# crash harness on six drives: seed ${SEED} (STRATA_CRASH_SEED=${SEED} to replay), ${KILLS} kills`);
    await inCrashDir('crash-drives', SEED, (root) =>
      runHarness(
        SEED,
        KILLS,
        Array.from({ length: 6 }, (_, i) => join(root, `disk${i + 1}`)),
      ),
    );
  });
});

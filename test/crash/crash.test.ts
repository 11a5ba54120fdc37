// Crash harness: the real server as a child process, concurrent uploads, SIGKILL at a random
// moment, restart on the same data directory, check everything, repeat.
//
//   STRATA_CRASH_SEED=<n>    reproduce a run (the seed is printed at the start and in every failure)
//   STRATA_CRASH_KILLS=<n>   number of kills (default 50, the CI mode: well under 90 s on 2 cores)
//
// The client model records what was acknowledged: an acknowledged PUT / copy / completion must be
// there, byte-exact (sha256) with its own metadata; an acknowledged delete must stay deleted;
// a request in flight at the kill is "unknown": before or after, never a mix (body of one write
// with metadata of another, a truncated body, half a completion). After each restart: every key
// with GET and HEAD, ListObjectsV2 (must list exactly the keys that exist, with their ETags and
// sizes), ListMultipartUploads / ListParts against the model, every piece the metadata references
// must exist on disk, every start must reach `listening` (a bounded wait of 30 s; the times are
// reported, speed is the benchmark's business), and now and then a second server on the same
// directory must be refused. At the end, with no kill: leftovers (tmp/, orphaned pieces, discarded
// parts) must be gone without any user action: the pieces on disk are exactly the referenced ones.
// A seed fixes each cycle's decisions (kill delay, kills during startup, listing page sizes) and
// each worker's stream of choices (operations, keys, sizes); which requests a kill catches in
// flight, and so the state the next cycle starts from, still depends on timing.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { crashClient, inCrashDir } from './cycles.js';
import { deadline, spawnRaw, startOn } from './harness.js';
import { runHarness, START_LIMIT_MS } from './object-harness.js';

const SEED = process.env.STRATA_CRASH_SEED ? Number(process.env.STRATA_CRASH_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const KILLS = Math.max(1, Number(process.env.STRATA_CRASH_KILLS ?? 50) || 50);

describe('crash safety', () => {
  it('refuses a second server on the same data directory (it exits by itself, non-zero, naming the directory); a SIGKILLed holder leaves no stale lock', {
    timeout: 60_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'strata-lock-'));
    const started: { kill: () => Promise<void> }[] = [];
    try {
      const first = await startOn(dataDir);
      started.push(first);
      const second = spawnRaw(dataDir);
      started.push({ kill: async () => void (second.child.kill('SIGKILL'), await second.exited) });
      const r = await Promise.race([second.exited, deadline(START_LIMIT_MS)]);
      assert.ok(r, `the second server must exit by itself:\n${second.output()}`);
      assert.notEqual(r.code, 0, 'the second server must exit non-zero');
      assert.match(second.output(), /in use by another Strata process/);
      assert.ok(second.output().includes(dataDir), `the message must name the directory:\n${second.output()}`);
      // The first one is untouched.
      const c = crashClient(first.url);
      await c.send(new ListBucketsCommand({}));
      c.destroy();
      await first.kill();
      // No stale lock after SIGKILL: the next start succeeds at once.
      const third = await startOn(dataDir, START_LIMIT_MS);
      started.push(third);
      assert.equal(await third.stop(), 0);
    } finally {
      await Promise.all(started.map((s) => s.kill()));
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it(`keeps every acknowledged write through ${KILLS} SIGKILLs (seed ${SEED})`, { timeout: 120_000 + KILLS * 6_000 }, async () => {
    console.log(`# crash harness: seed ${SEED} (STRATA_CRASH_SEED=${SEED} to replay), ${KILLS} kills`);
    await inCrashDir('crash', SEED, (dataDir) => runHarness(SEED, KILLS, [dataDir]));
  });
});

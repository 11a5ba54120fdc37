// Coordination rows (coord.ts) on both implementations, and across two SQLite stores on one file
// (two processes): leases, write intents and the sweep cutoff, pending frees with pins.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCoordinationContract } from './contract-coord.js';
import { memoryMetaStore } from './meta/memory.js';
import { SqliteMetaStore } from './meta/sqlite.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-coord-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

runCoordinationContract('sqlite :memory:', async () => {
  const m = memoryMetaStore();
  return { c: m.coord, close: async () => m.close() };
});
let n = 0;
runCoordinationContract('sqlite', async () => {
  const m = SqliteMetaStore.open(join(dir, `c${++n}.db`));
  return { c: m.coord, close: async () => m.close() };
});

describe('Coordination across two SQLite stores on one file', () => {
  it('two stores › a lease, an intent and a pin made through one are seen and honoured by the other', async () => {
    const file = join(dir, 'two.db');
    const a = SqliteMetaStore.open(file);
    const b = SqliteMetaStore.open(file);
    try {
      assert.equal(await a.coord.tryLease('upload:u', 'A', 1000, 10_000), true);
      assert.equal(await b.coord.tryLease('upload:u', 'B', 1001, 10_000), false);
      await a.coord.addIntent('i', 'A', 1000, 10_000);
      assert.equal(await b.coord.oldestIntent(1001), 1000);
      await a.coord.addPendingFrees(['piece'], 1000);
      await b.coord.pin('reader', ['piece'], 9000);
      assert.deepEqual(await a.coord.takeDueFrees(2000, 3000, 10, () => false), [], 'pinned in the other store');
      await b.coord.unpin('reader');
      assert.deepEqual(await a.coord.takeDueFrees(2000, 3000, 10, () => false), ['piece']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

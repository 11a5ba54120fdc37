// The heal status: what the admin API answers (drive states with a rebuild's progress, the queue
// with the objects its pieces belong to, bytes healed, the scrub's position and last pass), the
// admin route's 501 on a one-drive server, and `strata admin heal status`'s table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEAL_ROUTES } from '../admin/heal-operations.js';
import type { AdminContext } from '../admin/operations.js';
import { type HealStatusJson, healStatusText, humanBytes } from '../cli/heal-table.js';
import { objectRecord } from '../store/contract.js';
import { MemoryDataStore } from '../store/data/memory.js';
import { SqliteMetaStore } from '../store/meta/sqlite.js';
import { Store } from '../store/store.js';
import { ROOT_USER_ID } from '../store/types.js';
import { FakeErasure, round } from './fake-erasure.js';
import { healJob } from './heal.js';
import { healStatus } from './heal-status.js';
import { rebuildJob } from './rebuild.js';
import { scrubJob } from './scrub.js';

describe('heal status', () => {
  it('healStatus › drives (a healing one with progress), degraded objects, bytes healed, scrub position and last pass', async () => {
    const meta = SqliteMetaStore.open(':memory:');
    await meta.createBucket({ name: 'photos', region: 'r', createdAt: 0, versioning: '', owner: ROOT_USER_ID, objectLock: false });
    await meta.putObject(objectRecord('photos', 'cat.jpg', { data: [{ id: 'p8', size: 10 }] }));
    const store = new Store(meta, new MemoryDataStore());
    const fake = new FakeErasure(6);
    for (let i = 0; i < 9; i++) fake.add(`p${i}`, 100, [4]);
    fake.add('p8', 100, [0, 4]);
    const signal = new AbortController().signal;
    // A healed piece (the heal job's totals), two queued shards: p8 (an object's) and q (a part's or an orphan's).
    await store.healQueue.add([{ pieceId: 'p0', drive: 4, reason: 'missing', at: 1 }]);
    await round(healJob(store, fake, { now: () => 10 }));
    await store.healQueue.add([
      { pieceId: 'p8', drive: 0, reason: 'corrupt', at: 1_700_000_000_000 },
      { pieceId: 'q', drive: 5, reason: 'write-failed', at: 1_700_000_000_001 },
    ]);
    // A scrub pass in progress (one round), a rebuild of drive 4 in progress (count + one step).
    fake.drives.set(4, 'healing');
    await round(scrubJob(store, fake, { rate: 1000, now: () => 1_700_000_000_000 }));
    fake.drives.set(5, 'offline');
    const rb = rebuildJob(store, fake, { now: () => 1_700_000_000_000 });
    await rb.step(signal);
    await rb.step(signal);
    const metaCopies = () => ({
      epoch: 7,
      copies: [
        { path: '/drives/d1', state: 'primary' },
        { path: '/drives/d2', state: 'in-sync' },
        { path: '/drives/d3', state: 'out' },
      ],
    });
    const s = (await healStatus(store, fake, { scrubRate: 1000, metaCopies })) as unknown as HealStatusJson & { setId: string };
    assert.deepEqual(s.metadataCopies, metaCopies());
    assert.equal(s.drives[0]!.freeBytes, null, 'no such file system: no figure');
    assert.equal(s.setId, 'set-1');
    assert.deepEqual(
      s.drives.map((d) => [d.index, d.state, d.queuedShards]),
      [
        [0, 'online', 1],
        [1, 'online', 0],
        [2, 'online', 0],
        [3, 'online', 0],
        [4, 'healing', 0],
        [5, 'offline', 1],
      ],
    );
    assert.deepEqual(s.drives[4]!.rebuild, {
      phase: 'healing',
      piecesDone: 4,
      piecesTotal: 9,
      bytes: 300,
      failed: 0,
      startedAt: new Date(1_700_000_000_000).toISOString(),
    } as unknown);
    assert.equal(s.drives[0]!.path, '/drives/d1');
    assert.equal(s.drives[0]!.id, 'drive-0');
    assert.deepEqual([s.queue.shards, s.queue.pieces, s.queue.truncated], [2, 2, false]);
    assert.deepEqual(
      s.queue.degraded.map((d) => [d.pieceId, d.drives, d.reason, d.bucket, d.key, d.versionId]),
      [
        ['p8', [0], 'corrupt', 'photos', 'cat.jpg', 'null'],
        ['q', [5], 'write-failed', undefined, undefined, undefined],
      ],
    );
    assert.deepEqual([s.healed.bytes, s.healed.shards, s.healed.pieces], [100, 1, 1]);
    assert.equal(s.scrub.rateBytesPerSecond, 1000);
    assert.equal(s.scrub.position, 'p1', 'the last piece verified: 600 and 500 bytes (one shard on the healing drive) pass the 1000 B of a round');
    assert.equal(s.scrub.lastFullPass, null);
    // The table a person reads.
    const text = healStatusText(s);
    assert.match(text, /^DRIVE +STATE +QUEUED +FREE +PATH +ID\n/);
    assert.match(text, /\n4 +healing 44% \(4\/9 pieces, 300 B\) +0 +- +\/drives\/d5 +drive-4\n/);
    assert.match(text, /\n5 +offline +1 +- +\/drives\/d6 +drive-5\n/);
    assert.match(
      text,
      /\nMetadata copies \(epoch 7\): \/drives\/d1 primary, \/drives\/d2 in-sync, \/drives\/d3 out \(rebuilt when its drive is back, or at the next start\)\n/,
    );
    assert.match(text, /Degraded: 2 pieces \(2 shards\) queued for healing/);
    assert.match(text, /\nphotos\/cat\.jpg +0 +corrupt +0 /);
    assert.match(text, /\npiece q +5 +write-failed /);
    assert.match(text, /Healed: 100 B in 1 shards of 1 pieces/);
    assert.match(text, /Scrub: 1000 B\/s; pass in progress since .*: 2 pieces, 1\.1 KiB read, 0 with bad shards, at piece p1\nLast full pass: none yet\n/);
    await store.close();
  });

  it('admin route › GET heal/status is admin:Heal; a one-drive server answers 501 NotImplemented', async () => {
    const [route] = HEAL_ROUTES;
    assert.deepEqual([route!.method, route!.path, route!.action], ['GET', ['heal', 'status'], 'admin:Heal']);
    const ctx = { heal: undefined } as unknown as AdminContext;
    await assert.rejects(Promise.resolve(route!.run(ctx, { params: [], body: {} })), { code: 'NotImplemented', status: 501 });
    const answer = await route!.run({ heal: { status: async () => ({ drives: [] }) } } as unknown as AdminContext, { params: [], body: {} });
    assert.deepEqual(answer, { drives: [] });
  });

  it('humanBytes › binary units', () => {
    assert.deepEqual([humanBytes(0), humanBytes(1023), humanBytes(1536), humanBytes(8 * 1024 * 1024)], ['0 B', '1023 B', '1.5 KiB', '8.0 MiB']);
  });
});

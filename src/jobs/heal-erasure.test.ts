// Scrub, heal and drive rebuild against the real erasure store (ErasureDataStore at 4+2 over six
// temporary directories, its degraded reports into the heal queue through HealSink): shards
// corrupted, truncated or deleted on disk are found by the scrub and rebuilt by the heal job
// byte-exact, a degraded read queues its piece by itself, and an emptied drive is rebuilt whole.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readFile, readdir, rm, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ErasureDataStore } from '../store/data/erasure/store.js';
import { type TestDriveSet, testDriveSet } from '../store/data/erasure/test-drives.js';
import { HealSink } from '../store/heal-queue.js';
import { SqliteMetaStore } from '../store/meta/sqlite.js';
import { Store } from '../store/store.js';
import type { DataRef } from '../store/types.js';
import { round } from './fake-erasure.js';
import { HEAL_JOB, type HealTotals, healJob } from './heal.js';
import { rebuildJob } from './rebuild.js';
import { scrubJob } from './scrub.js';

const shardFile = (set: TestDriveSet, i: number, id: string) => join(set.drives[i]!.path, 'shards', id.slice(0, 2), id);

async function readAll(ec: ErasureDataStore, ref: DataRef): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of ec.read(ref)) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Every shard file of every drive, by drive/piece. */
async function shardFiles(set: TestDriveSet, ids: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const d of set.drives) for (const id of ids) out.set(`${d.index}/${id}`, await readFile(shardFile(set, d.index, id)));
  return out;
}

describe('scrub, heal and rebuild on the erasure store (4+2, six directories)', () => {
  let set: TestDriveSet;
  let store: Store;
  let ec: ErasureDataStore;
  let sink: HealSink;
  const bodies = new Map<string, Buffer>();
  let refs: DataRef[];

  beforeEach(async () => {
    set = await testDriveSet(6, 2);
    const meta = SqliteMetaStore.open(':memory:');
    sink = new HealSink(meta.healQueue);
    ec = await ErasureDataStore.open(set, { sink });
    store = new Store(meta, ec);
    // The pieces are written without objects: the scrub queues only referenced pieces.
    store.isPieceReferenced = async () => true;
    refs = [];
    bodies.clear();
    // Several blocks (1 MiB each), one block, a short last block.
    for (const size of [3 * 1024 * 1024 + 1000, 700 * 1024, 5000, 2 * 1024 * 1024]) {
      const body = randomBytes(size);
      const ref = await store.writeData(
        (async function* () {
          yield body;
        })(),
      );
      bodies.set(ref.id, body);
      refs.push(ref);
    }
  });
  afterEach(async () => {
    await sink.close();
    await store.close();
    await set.dispose();
  });

  it('corrupted, truncated and deleted shards → the scrub queues them → the heal job rebuilds them byte-exact', async () => {
    assert.ok(store.erasure === ec, 'the façade offers the erasure store to the jobs');
    const ids = refs.map((r) => r.id);
    const before = await shardFiles(set, ids);
    const [a, b, c] = ids as [string, string, string];
    // Flip a byte in the middle of a's shard on drive 1; truncate b's on drive 5; delete c's on drives 0 and 3.
    const fh = await open(shardFile(set, 1, a), 'r+');
    const mid = Math.floor(before.get(`1/${a}`)!.length / 2);
    await fh.write(Buffer.from([before.get(`1/${a}`)![mid]! ^ 0xff]), 0, 1, mid);
    await fh.close();
    await truncate(shardFile(set, 5, b), 100);
    await unlink(shardFile(set, 0, c));
    await unlink(shardFile(set, 3, c));
    const scrub = scrubJob(store, ec, { rate: 1024 ** 3 });
    await round(scrub);
    await sink.flush();
    assert.deepEqual(
      store.healQueue
        .degraded(10)
        .map((d) => [d.pieceId, d.drives, d.reason])
        .sort(),
      [
        [a, [1], 'scrub'],
        [b, [5], 'scrub'],
        [c, [0, 3], 'scrub'],
      ].sort(),
    );
    await round(healJob(store, ec));
    assert.equal(store.healQueue.counts().shards, 0, 'queue emptied');
    const after = await shardFiles(set, ids);
    for (const [k, bytes] of before) assert.ok(after.get(k)!.equals(bytes), `shard ${k} byte-exact after the heal`);
    const totals = JSON.parse((await store.getJobState(HEAL_JOB))!) as HealTotals;
    assert.equal(totals.shards, 4);
    assert.equal(totals.bytes, before.get(`1/${a}`)!.length + before.get(`5/${b}`)!.length + before.get(`0/${c}`)!.length + before.get(`3/${c}`)!.length);
    for (const r of refs) assert.ok((await readAll(ec, r)).equals(bodies.get(r.id)!));
    // The next pass finds nothing.
    await round(scrubJob(store, ec, { rate: 1024 ** 3, passGapMs: 0 }));
    await sink.flush();
    assert.equal(store.healQueue.counts().shards, 0);
  });

  it('a hot object with a missing shard: a hundred reads, one after another → one heal-queue write, then healed', async () => {
    const ref = refs[1]!;
    let adds = 0;
    const add = store.healQueue.add.bind(store.healQueue);
    // The sink holds the meta store's queue object: count its writes there.
    store.healQueue.add = (reports) => {
      adds++;
      return add(reports);
    };
    // Drive 1 holds a data shard: every read needs it (a parity shard is read only to rebuild).
    await unlink(shardFile(set, 1, ref.id));
    for (let i = 0; i < 100; i++) assert.ok((await readAll(ec, ref)).equals(bodies.get(ref.id)!));
    await new Promise((r) => setImmediate(r));
    // Each read ends in a later turn than the one before; reports of one shard are written at most once a second.
    assert.ok(adds >= 1 && adds <= 2, `${adds} writes for a hundred reads`);
    assert.deepEqual(
      store.healQueue.degraded(10).map((d) => [d.pieceId, d.drives]),
      [[ref.id, [1]]],
    );
    await round(healJob(store, ec));
    assert.equal(store.healQueue.counts().shards, 0);
    await readFile(shardFile(set, 1, ref.id));
  });

  it('a read that meets a missing shard serves the bytes and queues the piece by itself', async () => {
    const ref = refs[0]!;
    await unlink(shardFile(set, 2, ref.id));
    assert.ok((await readAll(ec, ref)).equals(bodies.get(ref.id)!), 'byte-exact, rebuilt on the fly');
    await sink.flush();
    const queued = store.healQueue.degraded(10);
    assert.deepEqual(
      queued.map((d) => [d.pieceId, d.drives]),
      [[ref.id, [2]]],
    );
    await round(healJob(store, ec));
    assert.equal(store.healQueue.counts().shards, 0);
    await readFile(shardFile(set, 2, ref.id));
  });

  it('pieceIds: every piece once, in ascending order; with `after`, only those after it (the jobs resume there)', async () => {
    const sorted = refs.map((r) => r.id).sort();
    const list = async (after?: string) => {
      const out: string[] = [];
      for await (const id of ec.pieceIds(undefined, after)) out.push(id);
      return out;
    };
    assert.deepEqual(await list(), sorted);
    assert.deepEqual(await list(sorted[1]), sorted.slice(2));
    assert.deepEqual(
      await list(`${sorted[1]!.slice(0, 2)}`),
      sorted.filter((id) => id > sorted[1]!.slice(0, 2)),
    );
    assert.deepEqual(await list(sorted.at(-1)), []);
  });

  it('an emptied drive in state healing → rebuilt whole by the rebuild job, byte-exact, then online', async () => {
    const ids = refs.map((r) => r.id);
    const before = await shardFiles(set, ids);
    const drive = set.drives[4]!;
    await rm(join(drive.path, 'shards'), { recursive: true, force: true });
    drive.state = 'healing';
    const healed: number[] = [];
    set.healed = async (index) => {
      healed.push(index);
      set.drives[index]!.state = 'online';
    };
    await round(rebuildJob(store, ec));
    assert.deepEqual(healed, [4]);
    assert.equal(drive.state, 'online');
    const after = await shardFiles(set, ids);
    for (const [k, bytes] of before) assert.ok(after.get(k)!.equals(bytes), `shard ${k} byte-exact after the rebuild`);
    assert.equal((await readdir(join(drive.path, 'shards'))).length > 0, true);
    for (const r of refs) assert.ok((await readAll(ec, r)).equals(bodies.get(r.id)!));
  });
});

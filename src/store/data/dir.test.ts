// DirDataStore: the shared contract, plus the on-disk layout and crash leftovers.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runDataStoreContract } from '../contract-data.js';
import { StoreError } from '../errors.js';
import { DirDataStore, mapWriteError } from './dir.js';

/** Number of files in tmp/ and in objects/<shard>/. */
async function countFiles(root: string): Promise<{ temp: number; committed: number }> {
  const temp = (await readdir(join(root, 'tmp'))).length;
  let committed = 0;
  for (const shard of await readdir(join(root, 'objects'))) committed += (await readdir(join(root, 'objects', shard))).length;
  return { temp, committed };
}

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x);
  return out;
}

runDataStoreContract(
  'dir',
  async () => {
    const root = await mkdtemp(join(tmpdir(), 'strata-data-'));
    let current = await DirDataStore.open(root);
    let planted = 0;
    return {
      store: current,
      reopen: async () => {
        await current.close();
        current = await DirDataStore.open(root);
        return current;
      },
      leftovers: () => countFiles(root),
      plantTemp: () => writeFile(join(root, 'tmp', `leftover-${planted++}`), 'partial'),
      dispose: () => rm(root, { recursive: true, force: true }),
    };
  },
  { persistent: true },
);

describe('DirDataStore', () => {
  let root: string;
  let store: DirDataStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'strata-data-'));
    store = await DirDataStore.open(root);
  });
  afterEach(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  it('Write › committed piece → objects/<first 2 hex>/<32 hex id>, tmp/ empty', async () => {
    const ref = await store.write(chunks('abc'));
    assert.match(ref.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(await readdir(join(root, 'objects', ref.id.slice(0, 2))), [ref.id]);
    assert.deepEqual(await countFiles(root), { temp: 0, committed: 1 });
  });

  it('Write › in progress → only a temp file, not listed', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let seen = false;
    async function* slow() {
      yield Buffer.from('part');
      seen = true;
      await gate;
      yield Buffer.from('rest');
    }
    const pending = store.write(slow());
    while (!seen) await new Promise((r) => setImmediate(r));
    assert.deepEqual(await countFiles(root), { temp: 1, committed: 0 });
    assert.deepEqual(await collect(store.listIds(Date.now() + 60_000)), []);
    release();
    const ref = await pending;
    assert.equal(ref.size, 8);
    assert.deepEqual(await countFiles(root), { temp: 0, committed: 1 });
  });

  it('ListIds › uses the file mtime and ignores stray files', async () => {
    const old = await store.write(chunks('old'));
    const fresh = await store.write(chunks('new'));
    const oldPath = join(root, 'objects', old.id.slice(0, 2), old.id);
    await utimes(oldPath, new Date(1_000_000), new Date(1_000_000));
    await writeFile(join(root, 'objects', 'README'), 'not a shard');
    await mkdir(join(root, 'objects', 'zz'), { recursive: true });
    await writeFile(join(root, 'objects', 'zz', 'zz' + '0'.repeat(30)), 'not hex');
    await writeFile(join(root, 'objects', fresh.id.slice(0, 2), 'notes.txt'), 'stray');
    assert.deepEqual(await collect(store.listIds(2_000_000)), [old.id]);
    assert.deepEqual((await collect(store.listIds(Date.now() + 60_000))).sort(), [old.id, fresh.id].sort());
  });

  it('Read / Remove › ids that are not 32 hex chars → rejected, never turned into paths', async () => {
    assert.throws(() => store.read({ id: '../../etc/passwd', size: 1 }), /invalid data id/);
    await assert.rejects(store.remove('../x'), /invalid data id/);
  });

  it('Read › a large piece streams in 1 MiB chunks (one thread-pool read per MiB)', async () => {
    const big = Buffer.alloc(2.5 * 1024 * 1024, 7);
    const ref = await store.write(
      (async function* () {
        yield big;
      })(),
    );
    const sizes: number[] = [];
    for await (const c of store.read(ref)) sizes.push((c as Buffer).length);
    assert.deepEqual(sizes, [1048576, 1048576, 524288]);
  });

  it('SweepTemp › also removes directories left in tmp/', async () => {
    await mkdir(join(root, 'tmp', 'odd', 'nested'), { recursive: true });
    assert.equal(await store.sweepTemp(), 1);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  it('Errors › ENOSPC / EDQUOT from the file system → StoreError NoSpace; others unchanged', () => {
    for (const code of ['ENOSPC', 'EDQUOT']) {
      const mapped = mapWriteError(Object.assign(new Error('full'), { code }));
      assert.ok(mapped instanceof StoreError && mapped.code === 'NoSpace');
    }
    const other = Object.assign(new Error('io'), { code: 'EIO' });
    assert.equal(mapWriteError(other), other);
  });

  it('Write › source error with an ENOSPC-like code → rethrown as is (only fs errors are mapped)', async () => {
    const err = Object.assign(new Error('upstream'), { code: 'ENOSPC' });
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('x');
      throw err;
    }
    await assert.rejects(store.write(failing()), (e) => e === err);
    assert.deepEqual(await countFiles(root), { temp: 0, committed: 0 });
  });
});

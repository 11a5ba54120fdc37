// Read pins (Store.getObject / openRead / releaseObject): a reader that read a record keeps its
// pieces on disk while a concurrent overwrite or delete frees them, and every way a read can end
// (stream end, error, destroy, metadata-only use, a forgotten record, an unread stream) releases
// the pin and performs the deferred removal. Runs over the real SQLite + directory stores.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DirDataStore } from './data/dir.js';
import { MemoryDataStore } from './data/memory.js';
import { memoryMetaStore } from './meta/memory.js';
import { SqliteMetaStore } from './meta/sqlite.js';
import { Store } from './store.js';
import { NULL_VERSION, type DataRef, type MetaStore, type ObjectRecord } from './types.js';

/**
 * The read lease of the stores in these tests: long, so that no pin lapses while a loaded machine
 * runs a test slowly; the two tests of the lapse itself reopen the store with SHORT_LEASE_MS.
 */
const LEASE_MS = 60_000;
const SHORT_LEASE_MS = 80;

function recordOf(key: string, data: DataRef[], etag: string): ObjectRecord {
  return {
    bucket: 'b',
    key,
    versionId: NULL_VERSION,
    isLatest: true,
    isDeleteMarker: false,
    size: data.reduce((n, d) => n + d.size, 0),
    etag,
    lastModified: Date.now(),
    storageClass: 'STANDARD',
    meta: { user: {} },
    data,
  };
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

/** PUTs `body` as `pieces` equal pieces (a multipart-like object when pieces > 1). */
async function put(store: Store, key: string, body: Buffer, pieces = 1): Promise<ObjectRecord> {
  const data: DataRef[] = [];
  const step = Math.ceil(body.length / pieces);
  for (let i = 0; i < pieces && body.length > 0; i++) data.push(await store.writeData(once(body.subarray(i * step, (i + 1) * step))));
  const rec = recordOf(key, data, `"${createHash('md5').update(body).digest('hex')}"`);
  await store.commitObject(rec);
  return rec;
}

async function readAll(s: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return Buffer.concat(out);
}

const closed = (s: Readable) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));

/** Waits (bounded) until `cond` holds: deferred removals run right after the last unpin. */
async function eventually(cond: () => boolean, what: string): Promise<void> {
  for (const until = Date.now() + 10_000; Date.now() < until && !cond(); ) await sleep(5);
  assert.ok(cond(), what);
}

const body = (n: number, seed: number) => Buffer.alloc(n, seed);

describe('Store read pins (SQLite + directory stores)', () => {
  let dir: string;
  let data: DirDataStore;
  let store: Store;
  const piecePath = (id: string) => join(dir, 'objects', id.slice(0, 2), id);
  const noPins = () => assert.deepEqual(store.pinStats(), { pinnedIds: 0, deferredFrees: 0, leases: 0 });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-pins-'));
    data = await DirDataStore.open(dir);
    store = new Store(SqliteMetaStore.open(join(dir, 'meta.db')), data, undefined, { readLeaseMs: LEASE_MS });
    await store.createBucket('b', 'us-east-1');
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a GET that read the record before an overwrite streams the old bytes; they are freed when it ends', async () => {
    const old = await put(store, 'k', body(600_000, 1));
    const rec = (await store.getObject('b', 'k'))!;
    assert.equal(store.pinStats().leases, 1);
    const neu = await put(store, 'k', body(1000, 2)); // commits and "frees" the old piece
    assert.ok(existsSync(piecePath(old.data[0]!.id)), 'the pinned piece is still on disk');
    assert.equal(store.pinStats().deferredFrees, 1);
    const s = store.openRead(rec);
    assert.ok((await readAll(s)).equals(body(600_000, 1)));
    await closed(s);
    await eventually(() => !existsSync(piecePath(old.data[0]!.id)), 'old piece removed after the last unpin');
    assert.ok(existsSync(piecePath(neu.data[0]!.id)));
    noPins();
  });

  it('the same for a delete, and for a multi-piece object', async () => {
    const old = await put(store, 'k', body(300_000, 3), 5);
    const rec = (await store.getObject('b', 'k'))!;
    assert.equal((await store.deleteObject('b', 'k')).removed, true);
    for (const d of old.data) assert.ok(existsSync(piecePath(d.id)));
    assert.ok((await readAll(store.openRead(rec, { start: 1, end: 299_998 }))).equals(body(299_998, 3)));
    await eventually(() => old.data.every((d) => !existsSync(piecePath(d.id))), 'all pieces removed');
    noPins();
  });

  it('two readers of the same pieces: removal waits for the last one', async () => {
    const old = await put(store, 'k', body(10_000, 4));
    const r1 = (await store.getObject('b', 'k'))!;
    const r2 = (await store.getObject('b', 'k'))!;
    await put(store, 'k', body(10, 5));
    await readAll(store.openRead(r1));
    await sleep(20);
    assert.ok(existsSync(piecePath(old.data[0]!.id)), 'r2 still holds it');
    assert.ok((await readAll(store.openRead(r2))).equals(body(10_000, 4)));
    await eventually(() => !existsSync(piecePath(old.data[0]!.id)), 'removed after the second reader');
    noPins();
  });

  it('released when the stream fails (piece missing)', async () => {
    const old = await put(store, 'k', body(10_000, 6));
    const rec = (await store.getObject('b', 'k'))!;
    await data.remove(old.data[0]!.id); // behind the store's back
    const s = store.openRead(rec);
    await assert.rejects(readAll(s), (e: NodeJS.ErrnoException) => e.code === 'DataCorrupt' && /ENOENT/.test(e.message));
    await closed(s);
    noPins();
  });

  it('released when the consumer goes away mid-stream (client abort), and the deferred free happens', async () => {
    const old = await put(store, 'k', body(4 * 1024 * 1024, 7), 4);
    const rec = (await store.getObject('b', 'k'))!;
    await put(store, 'k', body(1, 8));
    const s = store.openRead(rec);
    const first = await new Promise<Buffer>((resolve) => s.once('data', resolve));
    assert.ok(first.length > 0);
    s.on('error', () => {});
    s.destroy(new Error('client closed the connection'));
    await closed(s);
    await eventually(() => old.data.every((d) => !existsSync(piecePath(d.id))), 'pieces removed after the abort');
    noPins();
  });

  it('released by releaseObject (HEAD, failed conditionals): the overwrite frees at once', async () => {
    const old = await put(store, 'k', body(100, 9));
    const rec = (await store.getObject('b', 'k'))!;
    store.releaseObject(rec);
    store.releaseObject(rec); // idempotent
    noPins();
    await put(store, 'k', body(100, 10));
    assert.ok(!existsSync(piecePath(old.data[0]!.id)));
    noPins();
  });

  /** The same store reopened with a read lease of SHORT_LEASE_MS. */
  async function withShortLease(): Promise<void> {
    await store.close();
    store = new Store(SqliteMetaStore.open(join(dir, 'meta.db')), data, undefined, { readLeaseMs: SHORT_LEASE_MS });
  }

  it('a record nobody reads or releases lapses after the read lease', async () => {
    await withShortLease();
    const old = await put(store, 'k', body(100, 11));
    await store.getObject('b', 'k'); // forgotten
    await put(store, 'k', body(100, 12));
    assert.ok(existsSync(piecePath(old.data[0]!.id)));
    await eventually(() => !existsSync(piecePath(old.data[0]!.id)), 'removed after the lease');
    noPins();
  });

  it('a stream nobody starts reading is destroyed after the read lease', async () => {
    await withShortLease();
    await put(store, 'k', body(100, 13));
    const s = store.openRead((await store.getObject('b', 'k'))!);
    await eventually(() => s.destroyed, 'the unread stream destroyed after the lease');
    await closed(s);
    noPins();
  });

  it('empty objects pin nothing; a record from elsewhere is pinned by openRead itself', async () => {
    await put(store, 'empty', Buffer.alloc(0));
    assert.equal((await store.getObject('b', 'empty'))!.size, 0);
    noPins();
    const rec = await put(store, 'k', body(1000, 14));
    const s = store.openRead(rec);
    assert.equal(store.pinStats().pinnedIds, 1);
    await readAll(s);
    await closed(s);
    noPins();
  });

  it('openRead › a 300-piece object → each piece file is opened only after the previous one was closed; all closed at the end', async () => {
    const whole = Buffer.alloc(300 * 4096);
    for (let i = 0; i < whole.length; i++) whole[i] = (i * 31) & 0xff;
    const rec = await put(store, 'many', whole, 300);
    assert.equal(rec.data.length, 300);
    // Exact, from the data store's side: how many piece reads had not yet finished (their file
    // descriptor released: the data store's reader closes it before it ends) when each piece was opened.
    let stillOpen = 0;
    const openAtEachOpen: number[] = [];
    const read = data.read.bind(data);
    data.read = (ref, range) => {
      const inner = read(ref, range);
      return (async function* () {
        openAtEachOpen.push(stillOpen);
        stillOpen++;
        try {
          yield* inner;
        } finally {
          stillOpen--;
        }
      })();
    };
    // And from the kernel's side: the process's descriptors on piece files (/proc must be readable,
    // and the count must see the piece being read, or this part would check nothing).
    const objectsDir = realpathSync(join(dir, 'objects')) + '/';
    const openPieces = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(objectsDir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // closed meanwhile
          throw err;
        }
      }).length;
    let max = 0;
    const out: Buffer[] = [];
    for await (const c of store.openRead((await store.getObject('b', 'many'))!)) {
      out.push(c as Buffer);
      max = Math.max(max, openPieces());
    }
    assert.ok(Buffer.concat(out).equals(whole));
    assert.equal(openAtEachOpen.length, 300, 'every piece was opened once');
    assert.deepEqual(
      openAtEachOpen.filter((n) => n !== 0),
      [],
      'a piece was opened while another was still open',
    );
    assert.equal(max, 1, `piece files open at once (from /proc/self/fd): ${max}`);
    await eventually(() => stillOpen === 0, 'the last piece closed');
    assert.equal(openPieces(), 0);
    noPins();
  });
});

describe('Store read pins with an asynchronous meta store', () => {
  it('a free between the metadata read and the pin is detected: getObject re-reads and returns a readable version', async () => {
    const meta = memoryMetaStore();
    let gate: Promise<void> | undefined;
    // getObject reads at once but answers only after `gate`: an overwrite commits and frees meanwhile.
    const asyncMeta = new Proxy(meta, {
      get(target, prop, receiver) {
        if (prop === 'getObject') {
          return async (bucket: string, key: string) => {
            const r = target.getObject(bucket, key);
            if (gate) await gate;
            return r;
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as MetaStore;
    const data = new MemoryDataStore();
    const store = new Store(asyncMeta, data, undefined, { readLeaseMs: LEASE_MS });
    await store.createBucket('b', 'us-east-1');
    await put(store, 'k', body(1000, 1));

    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    const reading = store.getObject('b', 'k');
    await put(store, 'k', body(2000, 2)); // frees the old piece: not pinned yet
    gate = undefined;
    open();
    const rec = (await reading)!;
    assert.equal(rec.size, 2000, 'the re-read found the new version');
    assert.ok((await readAll(store.openRead(rec))).equals(body(2000, 2)));
    await sleep(5);
    assert.deepEqual(store.pinStats(), { pinnedIds: 0, deferredFrees: 0, leases: 0 });
    await store.close();
  });
});

// Two Store instances on one metadata file and one data directory, as two processes sharing them
// (--shared): a long read in one keeps its pieces through an overwrite in the other (pin rows
// renewed past the grace period), the upload lock serialises the two, and the orphan sweep in one
// leaves a write in progress in the other alone.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { DirDataStore } from './data/dir.js';
import { StoreError } from './errors.js';
import { SqliteMetaStore } from './meta/sqlite.js';
import { Store } from './store.js';
import { NULL_VERSION, type DataRef, type ObjectRecord } from './types.js';
import { SWEEP_MARGIN_MS } from './write-intents.js';

const GRACE_MS = 400;

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

function recordOf(key: string, data: DataRef[], etag: string): ObjectRecord {
  const size = data.reduce((n, d) => n + d.size, 0);
  return {
    bucket: 'b',
    key,
    versionId: NULL_VERSION,
    isLatest: true,
    isDeleteMarker: false,
    size,
    etag,
    lastModified: Date.now(),
    storageClass: 'STANDARD',
    meta: { user: {} },
    data,
  };
}

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (const end = Date.now() + 10_000; Date.now() < end; ) {
    if (await cond()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting: ${what}`);
}

describe('Two stores sharing one metadata file and data directory', () => {
  let dir: string;
  let a: Store;
  let b: Store;
  const piecePath = (id: string) => join(dir, 'objects', id.slice(0, 2), id);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-shared-'));
    const open = async () =>
      new Store(SqliteMetaStore.open(join(dir, 'meta.db')), await DirDataStore.open(dir), undefined, { freeGraceMs: GRACE_MS, inlineMax: 0 });
    a = await open();
    b = await open();
    await a.createBucket('b', 'us-east-1');
  });
  after(async () => {
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('Read pins › a read in A outlasting several grace periods keeps its pieces while B overwrites; freed after it ends', async () => {
    const pieces = [Buffer.alloc(200_000, 1), Buffer.alloc(200_000, 2), Buffer.alloc(200_000, 3)];
    const refs: DataRef[] = [];
    for (const p of pieces) refs.push(await a.writeData(once(p)));
    await a.commitObject(recordOf('k', refs, '"old"'));

    const rec = await a.getObject('b', 'k');
    const stream = a.openRead(rec!);
    const it = stream[Symbol.asyncIterator]();
    const got: Buffer[] = [Buffer.from((await it.next()).value as Buffer)];
    // B replaces the object; its free of the old pieces is recorded now.
    const newRef = await b.writeData(once(Buffer.from('new')));
    await b.commitObject(recordOf('k', [newRef], '"new"'));
    // Several grace periods pass with the reader paused mid-object; both reapers run meanwhile.
    await sleep(GRACE_MS * 4);
    await a.reapFrees();
    await b.reapFrees();
    for (const r of refs) assert.ok(existsSync(piecePath(r.id)), 'a piece of the object being read is still there');
    for (let n = await it.next(); !n.done; n = await it.next()) got.push(Buffer.from(n.value as Buffer));
    assert.ok(Buffer.concat(got).equals(Buffer.concat(pieces)), 'the reader got the old bytes, byte for byte');
    // The stream closed: its pin row goes, and the pieces are freed after the grace period.
    await until(async () => {
      await b.reapFrees();
      return refs.every((r) => !existsSync(piecePath(r.id)));
    }, 'the old pieces are freed once the read ended');
    assert.ok(existsSync(piecePath(newRef.id)));
  });

  it('Upload lock › a part committed in B while A completes the upload waits for A, then finds no upload', async () => {
    const u = { bucket: 'b', key: 'mp', uploadId: 'shared-u1', initiated: Date.now(), meta: { user: {} }, storageClass: 'STANDARD' };
    await a.createUpload(u);
    const p1 = await a.writeData(once(Buffer.from('one')));
    await a.commitPart('b', 'mp', u.uploadId, { partNumber: 1, size: 3, etag: '"1"', lastModified: Date.now(), data: p1 });
    let release!: () => void;
    const inBuild = new Promise<void>((r) => (release = r));
    let building!: () => void;
    const started = new Promise<void>((r) => (building = r));
    const completing = a.completeUpload('b', 'mp', u.uploadId, async (_up, parts) => {
      building();
      await inBuild;
      return {
        ...recordOf(
          'mp',
          parts.map((p) => p.data),
          '"mp-1"',
        ),
        parts: parts.map((p) => p.size),
      };
    });
    await started;
    const p2 = await b.writeData(once(Buffer.from('two')));
    let partDone = false;
    const part = b
      .commitPart('b', 'mp', u.uploadId, { partNumber: 2, size: 3, etag: '"2"', lastModified: Date.now(), data: p2 })
      .finally(() => (partDone = true));
    await sleep(200);
    assert.equal(partDone, false, 'B waits for the lock A holds');
    release();
    await completing;
    await assert.rejects(part, (e: unknown) => e instanceof StoreError && e.code === 'NoSuchUpload');
    assert.equal(existsSync(piecePath(p2.id)), false, "B's refused part piece is removed");
    const obj = await b.getObject('b', 'mp');
    assert.deepEqual(
      obj!.data.map((d) => d.id),
      [p1.id],
    );
    b.releaseObject(obj!);
  });

  it("Orphan sweep › in A while B writes (not yet committed): B's piece kept; a real orphan freed", async () => {
    // A real orphan: written, never committed, its intent gone (as after a crash).
    const orphan = await a.writeData(once(Buffer.from('orphan')));
    await a.takeOverAlone(); // drops every intent, like a restart (nothing else is writing now)
    await sleep(SWEEP_MARGIN_MS + 20);
    // B starts a write: its intent is recorded before its piece exists.
    const chunks: Array<Buffer | null> = [];
    let wake: (() => void) | undefined;
    const feed = (c: Buffer | null): void => {
      chunks.push(c);
      wake?.();
    };
    async function* slow(): AsyncGenerator<Buffer> {
      for (;;) {
        while (chunks.length === 0) await new Promise<void>((r) => (wake = r));
        const c = chunks.shift()!;
        if (c === null) return;
        yield c;
      }
    }
    const writing = b.writeData(slow());
    feed(Buffer.from('in progress'));
    await sleep(50);
    let found = 0;
    for await (const isOrphan of a.sweepOrphans()) if (isOrphan) found++;
    assert.equal(found, 1);
    feed(null);
    const ref = await writing;
    await a.sweepOrphans().next(); // a second sweep, after B's piece exists but before its commit
    for await (const _ of a.sweepOrphans());
    await b.commitObject(recordOf('in-progress', [ref], '"x"'));
    await until(async () => {
      await a.reapFrees();
      return !existsSync(piecePath(orphan.id));
    }, 'the orphan is freed after the grace period');
    assert.ok(existsSync(piecePath(ref.id)), "B's piece survived the sweeps");
    const rec = await a.getObject('b', 'in-progress');
    const out: Buffer[] = [];
    for await (const c of a.openRead(rec!)) out.push(c as Buffer);
    assert.equal(Buffer.concat(out).toString(), 'in progress');
  });
});

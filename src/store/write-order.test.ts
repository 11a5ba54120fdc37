// The order of the write protocol (docs/on-disk-format.md, "Durability contract"), as the real
// server runs it in this process over HTTP: fsync(temp) → rename → fsync(directory) → metadata
// commit → WAL fdatasync → reply. The data store's and the group commit's sync calls are recorded
// through their injection points, the reply when the server writes the status line; every event
// also notes whether the metadata commit is visible yet.
import { serveInProcess } from '../../test/helpers/in-process.js';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { DirDataStore, DURABILITY_CALLS, type DurabilityCalls } from './data/dir.js';
import { SqliteMetaStore } from './meta/sqlite.js';
import { WAL_SYNC_CALLS } from './meta/wal-sync.js';
import { Store } from './store.js';

const ACCESS_KEY = 'order-test';
const SECRET_KEY = 'order-test-secret';
const BUCKET = 'order';
const INLINE_MAX = 1024;

describe('Write order (fsync temp → rename → fsync dir → commit → WAL fdatasync → reply)', () => {
  let dir: string;
  let meta: SqliteMetaStore;
  let server: http.Server;
  let s3: S3Client;
  const events: string[] = [];
  /** Whether the commit the current request makes is visible in the metadata store. */
  let committed: () => boolean = () => false;
  const mark = () => (committed() ? 'committed' : 'not committed');
  /** Piece ids in order of appearance: named <id1>, <id2>, … in the events (the same piece, the same name). */
  const ids: string[] = [];
  const idName = (id: string) => {
    if (!ids.includes(id)) ids.push(id);
    return `<id${ids.indexOf(id) + 1}>`;
  };
  /** A path relative to the data directory, with the piece id and its shard made generic. */
  const rel = (p: string) =>
    relative(dir, p)
      .replace(/[0-9a-f]{32}/g, idName)
      .replace(/objects\/[0-9a-f]{2}/g, 'objects/<xx>');

  const recording: DurabilityCalls = {
    syncFile: async (fh, path) => {
      events.push(`fsync ${rel(path)} (${mark()})`);
      await DURABILITY_CALLS.syncFile(fh, path);
    },
    rename: async (from, to) => {
      events.push(`rename ${rel(from)} → ${rel(to)} (${mark()})`);
      await DURABILITY_CALLS.rename(from, to);
    },
    syncDir: async (path, why) => {
      events.push(`fsync dir ${rel(path) || '.'} (${mark()})`);
      await DURABILITY_CALLS.syncDir(path, why);
    },
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-order-'));
    meta = SqliteMetaStore.open(join(dir, 'meta.db'), {
      walCalls: {
        fdatasync: async (fd) => {
          events.push(`fdatasync WAL (${mark()})`);
          await WAL_SYNC_CALLS.fdatasync(fd);
          events.push('fdatasync WAL done');
        },
      },
    });
    const data = await DirDataStore.open(dir, recording);
    const store = new Store(meta, data, undefined, { inlineMax: INLINE_MAX });
    // The reply: the moment the server writes the response's status line.
    ({ server, s3 } = await serveInProcess(store, dir, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, (req, status) =>
      events.push(`reply ${req.method} ${status} (${mark()})`),
    ));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    s3?.destroy();
    await new Promise<void>((ok) => server?.close(() => ok()) ?? ok());
    await meta?.close();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    events.length = 0;
    ids.length = 0;
  });

  const objectExists = (key: string) => () => meta.getObject(BUCKET, key, undefined, false) !== undefined;

  it('PutObject › a new shard directory → fsync temp, fsync objects/, rename, fsync shard, commit + fdatasync, reply', async () => {
    committed = objectExists('first');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'first', Body: Buffer.alloc(4096, 1) }));
    assert.deepEqual(events, [
      'fsync tmp/<id1> (not committed)',
      'fsync dir objects (not committed)',
      'rename tmp/<id1> → objects/<xx>/<id1> (not committed)',
      'fsync dir objects/<xx> (not committed)',
      'fdatasync WAL (committed)',
      'fdatasync WAL done',
      'reply PUT 200 (committed)',
    ]);
  });

  it('PutObject › above --inline-max → fsync temp, rename, fsync shard dir, commit + fdatasync, reply', async () => {
    // Every shard exists (and is known to the store after a write into it): no objects/ fsync.
    for (let i = 0; i < 256; i++) await mkdir(join(dir, 'objects', i.toString(16).padStart(2, '0')), { recursive: true });
    for (const key of ['big-1', 'big-2', 'big-3']) {
      events.length = 0;
      ids.length = 0;
      committed = objectExists(key);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.alloc(64 * 1024, 2) }));
      const expected = [
        'fsync tmp/<id1> (not committed)',
        'rename tmp/<id1> → objects/<xx>/<id1> (not committed)',
        'fsync dir objects/<xx> (not committed)',
        'fdatasync WAL (committed)',
        'fdatasync WAL done',
        'reply PUT 200 (committed)',
      ];
      // A shard the store has not written into yet is mkdir'ed (it exists: no fsync of objects/).
      assert.deepEqual(events, expected, key);
    }
  });

  it('PutObject › inline (at most --inline-max) → no data file, commit + fdatasync, reply', async () => {
    committed = objectExists('small');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small', Body: 'tiny' }));
    assert.deepEqual(events, ['fdatasync WAL (committed)', 'fdatasync WAL done', 'reply PUT 200 (committed)']);
  });

  it('UploadPart, CompleteMultipartUpload › part: fsync temp, rename, fsync dir, commit + fdatasync, reply; completion: commit + fdatasync, reply', async () => {
    committed = () => false;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp' }));
    events.length = 0;
    ids.length = 0;
    committed = () => meta.listParts(BUCKET, 'mp', UploadId!, 0, 10).length === 1;
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp', UploadId, PartNumber: 1, Body: Buffer.alloc(8192, 3) }));
    assert.deepEqual(events, [
      'fsync tmp/<id1> (not committed)',
      'rename tmp/<id1> → objects/<xx>/<id1> (not committed)',
      'fsync dir objects/<xx> (not committed)',
      'fdatasync WAL (committed)',
      'fdatasync WAL done',
      'reply PUT 200 (committed)',
    ]);
    events.length = 0;
    committed = objectExists('mp');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] } }));
    assert.deepEqual(events, ['fdatasync WAL (committed)', 'fdatasync WAL done', 'reply POST 200 (committed)']);
  });
});

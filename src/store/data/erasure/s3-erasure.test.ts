// The erasure store behind the real S3 server in this process, over HTTP with the AWS SDK: PUT,
// multipart and ranged GET at 4+2 over six drives, the storage class choosing the parity, GETs
// byte-exact with two drives' shards gone (and the shards reported), 503 SlowDown with three gone,
// and the order of the durability calls on every drive before the metadata commit.
import { serveInProcess } from '../../../../test/helpers/in-process.js';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { readFile, rename } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { SqliteMetaStore } from '../../meta/sqlite.js';
import { Store } from '../../store.js';
import { DURABILITY_CALLS, type DurabilityCalls } from '../dir.js';
import { SHARD_HEADER_SIZE, parseShardHeader } from './shard-format.js';
import { ErasureDataStore } from './store.js';
import { RecordingSink, testDriveSet, type TestDriveSet, pattern } from './test-drives.js';

const ACCESS_KEY = 'ec-test';
const SECRET_KEY = 'ec-test-secret';
const BUCKET = 'erasure';

describe('Erasure store behind the S3 server (6 drives, STANDARD 4+2, REDUCED_REDUNDANCY 5+1)', () => {
  let set: TestDriveSet;
  let meta: SqliteMetaStore;
  let server: http.Server;
  let s3: S3Client;
  const sink = new RecordingSink();
  const events: string[] = [];
  const rel = (p: string) =>
    relative(set.root, p)
      .replace(/[0-9a-f]{32}/g, '<id>')
      .replace(/shards\/[0-9a-f]{2}/g, 'shards/<xx>');
  const recording: DurabilityCalls = {
    syncFile: async (fh, path) => {
      events.push(`fsync ${rel(path)}`);
      await DURABILITY_CALLS.syncFile(fh, path);
    },
    rename: async (from, to) => {
      events.push(`rename ${rel(from)} → ${rel(to)}`);
      await DURABILITY_CALLS.rename(from, to);
    },
    syncDir: async (path, why) => {
      events.push(`fsync dir ${rel(path)}`);
      await DURABILITY_CALLS.syncDir(path, why);
    },
  };

  before(async () => {
    set = await testDriveSet(6, 2, 1);
    meta = SqliteMetaStore.open(join(set.root, 'meta.db'));
    const data = await ErasureDataStore.open(set, { sink, calls: recording });
    const store = new Store(meta, data, undefined, { inlineMax: 1024 });
    // The reply: the moment the server writes the response's status line.
    ({ server, s3 } = await serveInProcess(store, set.root, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, (_req, status) =>
      events.push(`reply ${status}`),
    ));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    s3?.destroy();
    await new Promise<void>((ok) => server?.close(() => ok()) ?? ok());
    await meta?.close();
    await set?.dispose();
  });

  const pieceOf = (key: string) => meta.getObject(BUCKET, key, undefined, false)!.data;
  const shardFile = (i: number, id: string) => join(set.drives[i]!.path, 'shards', id.slice(0, 2), id);
  const header = async (i: number, id: string) => parseShardHeader((await readFile(shardFile(i, id))).subarray(0, SHARD_HEADER_SIZE));
  const get = async (key: string, range?: string) =>
    Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range }))).Body!.transformToByteArray());

  it('PutObject › every drive: fsync its temp shard, (fsync shards/), rename, fsync the shard directory; all before the reply', async () => {
    events.length = 0;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'order', Body: Buffer.alloc(100_000, 1) }));
    for (let i = 0; i < 6; i++) {
      const mine = events.filter((e) => e.includes(`d${i}/`));
      assert.deepEqual(
        mine,
        [`fsync d${i}/tmp/<id>`, `fsync dir d${i}/shards`, `rename d${i}/tmp/<id> → d${i}/shards/<xx>/<id>`, `fsync dir d${i}/shards/<xx>`],
        `drive ${i}`,
      );
    }
    assert.equal(events.length, 6 * 4 + 1);
    assert.equal(events.at(-1), 'reply 200');
  });

  it('PutObject, multipart › STANDARD pieces at 4+2, REDUCED_REDUNDANCY ones (object and parts) at 5+1', async () => {
    const body = pattern(3 * 1024 * 1024 + 333, 1);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'std', Body: body }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'rrs', Body: body, StorageClass: 'REDUCED_REDUNDANCY' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp', StorageClass: 'REDUCED_REDUNDANCY' }));
    const p1 = body; // one part, the last: any size
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp', UploadId, PartNumber: 1, Body: p1 }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] } }));
    for (const [key, k, m] of [
      ['std', 4, 2],
      ['rrs', 5, 1],
      ['mp', 5, 1],
    ] as const) {
      const h = await header(5, pieceOf(key)[0]!.id);
      assert.ok(!('error' in h));
      assert.deepEqual([h.k, h.m], [k, m], key);
    }
    for (const key of ['std', 'rrs', 'mp']) assert.ok((await get(key)).equals(body), key);
  });

  it('GetObject › two drives without their shards → byte-exact bodies and ranges, the data shard reported; a third → 503 SlowDown', async () => {
    const body = pattern(3 * 1024 * 1024 + 333, 1);
    const id = pieceOf('std')[0]!.id;
    sink.calls.length = 0;
    // Drives 1 and 5 lose their shards directory (as a disk swapped for an empty one would).
    for (const i of [1, 5]) await rename(join(set.drives[i]!.path, 'shards'), join(set.drives[i]!.path, 'shards-gone'));
    assert.ok((await get('std')).equals(body));
    assert.ok((await get('std', 'bytes=1048000-2097500')).equals(body.subarray(1048000, 2097501)));
    assert.ok((await get('std', 'bytes=-10')).equals(body.subarray(body.length - 10)));
    assert.ok(sink.calls.some((c) => c.pieceId === id && c.drives[0] === 1 && c.reason === 'missing'));
    await rename(join(set.drives[2]!.path, 'shards'), join(set.drives[2]!.path, 'shards-gone'));
    await assert.rejects(get('std'), (err: unknown) => {
      assert.ok(err instanceof S3ServiceException, String(err));
      assert.equal(err.name, 'SlowDown');
      assert.equal(err.$metadata.httpStatusCode, 503);
      return true;
    });
    // The drives come back: service resumes without a restart.
    for (const i of [1, 2, 5]) await rename(join(set.drives[i]!.path, 'shards-gone'), join(set.drives[i]!.path, 'shards'));
    assert.ok((await get('std')).equals(body));
  });
});

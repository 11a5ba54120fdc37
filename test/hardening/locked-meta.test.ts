// A metadata database locked by another process (python3's sqlite3 holding BEGIN IMMEDIATE on
// <data>/meta.db, as a backup tool or a shell session would): HEADs of existing objects keep being
// answered while the lock is held, a PUT either lands once the lock goes (within the retry window)
// or answers 503 SlowDown, and after the release everything works. Before, busy_timeout=5000 on the
// synchronous binding blocked the event loop: every request waited for the lock.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEBIAN_PYTHON } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const BUCKET = 'locked-meta';

/** Holds BEGIN IMMEDIATE on the database until told (a line on stdin), then rolls back. */
const HOLDER = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute('BEGIN IMMEDIATE')
print('locked', flush=True)
sys.stdin.readline()
db.execute('ROLLBACK')
print('released', flush=True)
`;

interface Holder {
  release: () => Promise<void>;
  released: () => boolean;
  proc: ChildProcessWithoutNullStreams;
}

async function holdLock(dbPath: string): Promise<Holder> {
  const proc = spawn(DEBIAN_PYTHON, ['-c', HOLDER, dbPath]);
  let out = '';
  let err = '';
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const seen = (word: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (out.includes(word)) resolve();
      };
      proc.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        check();
      });
      proc.once('exit', (code) => (out.includes(word) ? resolve() : reject(new Error(`lock holder exited (${code}) before "${word}": ${err}`))));
      check();
    });
  await seen('locked');
  const releasedP = seen('released');
  return {
    proc,
    released: () => out.includes('released'),
    release: async () => {
      proc.stdin.end('go\n');
      await releasedP;
    },
  };
}

describe('locked metadata database: readers keep being served, writers get SlowDown or land', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  let dbPath: string;

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    dbPath = join(server.dataDir, 'meta.db');
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (let i = 0; i < 5; i++) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `k${i}`, Body: `body ${i}` }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('HeadObject › database locked by another process, a PUT retrying meanwhile → HEADs answered while the lock is held and the PUT still waits', async () => {
    const holder = await holdLock(dbPath);
    try {
      // A write that finds the lock taken: it must wait off the event loop, not in SQLite's busy handler.
      const put = s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'writer', Body: 'w' }));
      let putSettled = false;
      put.then(
        () => (putSettled = true),
        () => (putSettled = true),
      );
      await sleep(200);
      for (let round = 0; round < 4; round++) {
        const heads = await Promise.all(Array.from({ length: 5 }, (_, i) => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `k${i}` }))));
        for (const h of heads) assert.equal(typeof h.ETag, 'string');
      }
      const get = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k1' }));
      assert.equal(await get.Body!.transformToString(), 'body 1');
      assert.equal(putSettled, false, 'the reads were answered only after the write gave up');
      assert.equal(holder.released(), false, 'the lock was released before the reads were answered');
      const err = await errorOf(put);
      assert.equal(err.name, 'SlowDown');
    } finally {
      await holder.release();
    }
  });

  it('PutObject › lock held past the retry window → 503 SlowDown while it is still held, nothing stored; after release → 200', async () => {
    const holder = await holdLock(dbPath);
    try {
      const err = await errorOf(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'while-locked', Body: 'x' })));
      assert.equal(err.name, 'SlowDown');
      assert.equal(err.$metadata.httpStatusCode, 503);
      assert.equal(holder.released(), false, 'the answer came only after the lock was released');
      // Reads still answered during the (now over) retry.
      await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'k0' }));
    } finally {
      await holder.release();
    }
    assert.equal((await errorOf(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'while-locked' })))).$metadata.httpStatusCode, 404);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after-release', Body: 'y' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'after-release' }));
    assert.equal(await got.Body!.transformToString(), 'y');
  });

  it('PutObject › lock released within the retry window → 200 and the object is there', async () => {
    const holder = await holdLock(dbPath);
    const put = s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'lands-later', Body: 'z' }));
    let putSettled = false;
    void put.then(
      () => (putSettled = true),
      () => (putSettled = true),
    );
    await sleep(300); // the PUT reaches its commit and finds the lock taken (3 s retry window)
    await holder.release();
    await put;
    assert.ok(putSettled);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'lands-later' }));
    assert.equal(await got.Body!.transformToString(), 'z');
  });
});

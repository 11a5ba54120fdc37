// Concurrency against a real Strata process, checked by what clients can observe:
// - 100 concurrent PutObjects of different sizes (0 .. ~1 MiB) and metadata to one key, with readers
//   GETting it in a loop meanwhile: every body a reader receives is exactly one writer's complete
//   body, with that body's MD5 as ETag and that writer's metadata; the final state is one writer's;
//   afterwards exactly one data piece is left on disk (every replaced piece was freed, none leaked).
// - Concurrent multipart uploads of one key whose completions race: readers only ever see one
//   upload's complete object (bytes, multipart ETag, metadata), the last completion wins whole.
// - PutObject, DeleteObjects and ListObjectsV2 racing over a set of keys: every key a listing shows
//   can then be read (a complete, self-consistent object) unless a DeleteObjects naming it had not
//   completed when the listing began; no other GET failure. At the end the data pieces on disk are
//   exactly those of the objects that exist.
// Before the read pins in Store (src/store/store.ts), a GET that read the old metadata could find
// its data file freed by a concurrent overwrite or delete (500 or a truncated body).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DEFAULT_INLINE_MAX } from '../../src/store/store.js';
import { testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Files under the data directory's objects/ (committed pieces) and tmp/. */
function pieceFiles(dataDir: string): { objects: number; tmp: number } {
  let objects = 0;
  for (const shard of readdirSync(join(dataDir, 'objects'))) objects += readdirSync(join(dataDir, 'objects', shard)).length;
  return { objects, tmp: readdirSync(join(dataDir, 'tmp')).length };
}

/** The server's open descriptors on object data files (in every worker). */
function dataFds(server: RunningServer): number {
  const objects = join(server.dataDir, 'objects');
  let n = 0;
  for (const pid of server.workerPids()) {
    n += readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(objects);
      } catch {
        return false;
      }
    }).length;
  }
  return n;
}

/** Waits (bounded) for the deferred frees of the last readers. */
async function settle(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await sleep(50);
}

/**
 * The data pieces the existing objects of all buckets own: one per single-PUT object larger than the
 * inline limit, one per part of a multipart object (ETag "<hex>-<parts>"; no empty parts in these tests).
 */
async function expectedPieces(s3: S3Client): Promise<number> {
  let n = 0;
  for (const b of (await s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: b.Name!, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const parts = /-(\d+)"$/.exec(o.ETag ?? '')?.[1];
        // Single-PUT objects up to the inline limit live in the metadata database: no piece.
        if (parts !== undefined) n += Number(parts);
        else if ((o.Size ?? 0) > DEFAULT_INLINE_MAX) n += 1;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return n;
}

/**
 * After the clients are done: once the last readers' deferred frees ran, the pieces on disk are
 * exactly those of the existing objects (nothing leaked, nothing lost), tmp/ is empty and the
 * server holds no data file open.
 */
async function assertDiskClean(server: RunningServer, s3: S3Client): Promise<void> {
  const want = await expectedPieces(s3);
  await settle(() => pieceFiles(server.dataDir).objects === want && dataFds(server) === 0);
  assert.deepEqual(pieceFiles(server.dataDir), { objects: want, tmp: 0 }, 'data pieces on disk vs objects');
  assert.equal(dataFds(server), 0, 'data files still open');
}

interface Got {
  body: Buffer;
  etag: string;
  meta: Record<string, string>;
  length: number;
}

async function getFull(s3: S3Client, bucket: string, key: string): Promise<Got> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = Buffer.from(await r.Body!.transformToByteArray());
  return { body, etag: r.ETag ?? '', meta: r.Metadata ?? {}, length: r.ContentLength ?? -1 };
}

/** Runs `n` reader loops while `busy()` holds, then `extra` more reads each; returns the number of reads. */
async function readersWhile(n: number, busy: () => boolean, read: () => Promise<void>, extra = 2): Promise<number> {
  let reads = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      let left = extra;
      while (busy() || left-- > 0) {
        await read();
        reads++;
      }
    }),
  );
  return reads;
}

describe('concurrent writers, readers, deleters and listers', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;

  before(async () => {
    // Workers (the default on a multi-core machine) free replaced pieces after --free-grace (60 s by
    // default): 5 s, so the end-of-test checks see them go. Not shorter: a GET that takes longer
    // than the grace between reading its record and opening the piece (a loaded machine) would
    // find the piece gone.
    server = await startServer({ args: ['--free-grace', '5'] });
    s3 = testClient(server.url);
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it("100 concurrent PUTs to one key: readers and the final GET see exactly one writer's body, ETag and metadata", async () => {
    const bucket = 'storm';
    const key = 'one/key';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const WRITERS = 100;
    // Writer i: i * 10.6 KiB of random bytes (0 .. ~1 MiB), its own metadata. "init" is there first,
    // so a reader never has a reason to see NoSuchKey.
    const bodies = new Map<string, Buffer>([['init', randomBytes(300_000)]]);
    for (let i = 0; i < WRITERS; i++) bodies.set(`w${i}`, randomBytes(i * 10_600));
    const byMd5 = new Map<string, string>([...bodies].map(([w, b]) => [md5(b), w]));
    assert.equal(byMd5.size, bodies.size);
    const put = (w: string) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodies.get(w)!, Metadata: { writer: w, check: `${w}-${md5(bodies.get(w)!)}` } }));
    await put('init');

    /** The one writer whose complete object `g` is, or a failed assertion. */
    const writerOf = (g: Got, what: string): string => {
      const w = byMd5.get(md5(g.body));
      assert.ok(w !== undefined, `${what}: ${g.body.length} bytes that are no writer's complete body`);
      assert.equal(g.length, g.body.length, `${what}: Content-Length`);
      assert.equal(g.etag, `"${md5(g.body)}"`, `${what}: ETag is not the MD5 of the body`);
      assert.deepEqual(g.meta, { writer: w, check: `${w}-${md5(g.body)}` }, `${what}: metadata of another writer`);
      return w;
    };

    let writing = true;
    const seen = new Set<string>();
    const t0 = Date.now();
    const writers = Promise.all(Array.from({ length: WRITERS }, (_, i) => put(`w${i}`))).finally(() => (writing = false));
    const reads = await readersWhile(
      8,
      () => writing,
      async () => {
        seen.add(writerOf(await getFull(s3, bucket, key), 'reader during the storm'));
      },
    );
    await writers;
    const final = writerOf(await getFull(s3, bucket, key), 'final GET');
    console.log(`# storm: ${WRITERS} PUTs and ${reads} GETs in ${Date.now() - t0} ms; readers saw ${seen.size} versions; final ${final}`);
    assert.notEqual(final, 'init');
    assert.ok(reads >= 40, `only ${reads} reads overlapped the storm`);
    assert.ok(seen.size >= 3, `readers saw only ${seen.size} versions: they did not race the writers`);

    // Every replaced piece was freed (those pinned by readers after their last reader): one piece
    // is left (the final body's, none if it is empty), no temp file, no open data file.
    assert.equal(await expectedPieces(s3), bodies.get(final)!.length > 0 ? 1 : 0);
    await assertDiskClean(server, s3);
  });

  it("concurrent multipart uploads of one key with racing completions: GETs in flight during every round's completions see one upload's whole object", async () => {
    const bucket = 'mpu-race';
    const key = 'big';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const init = randomBytes(100_000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: init, Metadata: { upload: 'init' } }));
    const expected = new Map<string, { etag: string; upload: string }>([[sha256(init), { etag: `"${md5(init)}"`, upload: 'init' }]]);

    const ROUNDS = 3;
    const UPLOADS = 5;
    /** [start, end] of each round's racing completions. */
    const windows: Array<[number, number]> = [];
    let racing = true;
    let reads = 0;
    const seen = new Set<string>();
    /** [start, end] of every GET (performance.now()), and how many are running now. */
    const readSpans: Array<[number, number]> = [];
    let inFlight = 0;
    const readers = readersWhile(
      6,
      () => racing,
      async () => {
        const start = performance.now();
        inFlight++;
        const g = await getFull(s3, bucket, key).finally(() => {
          inFlight--;
          readSpans.push([start, performance.now()]);
        });
        const e = expected.get(sha256(g.body));
        assert.ok(e, `a reader got ${g.body.length} bytes that are no upload's complete object`);
        assert.equal(g.etag, e.etag, 'ETag of another object');
        assert.deepEqual(g.meta, { upload: e.upload }, 'metadata of another upload');
        seen.add(e.upload);
        reads++;
      },
    );
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const uploads = await Promise.all(
          Array.from({ length: UPLOADS }, async (_, u) => {
            const name = `r${round}u${u}`;
            const parts = [randomBytes(5 * MiB), randomBytes(1000 * (u + 1) + round)];
            const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: { upload: name } }));
            const etags = await Promise.all(
              parts.map(async (p, i) => (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: p }))).ETag!),
            );
            const whole = Buffer.concat(parts);
            const mpEtag = `"${md5(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))}-2"`;
            expected.set(sha256(whole), { etag: mpEtag, upload: name });
            return { name, UploadId, etags, mpEtag };
          }),
        );
        // The race must have readers in it: wait (bounded) until a GET is running.
        for (const until = Date.now() + 30_000; inFlight === 0; await sleep(5)) {
          assert.ok(Date.now() < until, 'no GET running before the completions');
        }
        // All completions at once: each must succeed, the last commit wins whole.
        const raceStart = performance.now();
        const done = await Promise.all(
          uploads.map((u) =>
            s3.send(
              new CompleteMultipartUploadCommand({
                Bucket: bucket,
                Key: key,
                UploadId: u.UploadId,
                MultipartUpload: { Parts: u.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
              }),
            ),
          ),
        );
        for (const [i, d] of done.entries()) assert.equal(d.ETag, uploads[i]!.mpEtag);
        windows.push([raceStart, performance.now()]);
      }
    } finally {
      racing = false;
      await readers;
    }
    // Every round's completions ran while GETs were in flight (the readers really saw the race).
    for (const [i, [from, to]] of windows.entries()) {
      const overlapping = readSpans.filter(([s, e]) => s < to && e > from).length;
      assert.ok(overlapping > 0, `round ${i}: no GET overlapped the racing completions`);
    }
    const final = await getFull(s3, bucket, key);
    const e = expected.get(sha256(final.body));
    assert.ok(e && e.upload.startsWith(`r${ROUNDS - 1}`), 'the final object is one upload of the last round');
    assert.equal(final.etag, e.etag);
    assert.deepEqual(final.meta, { upload: e.upload });
    console.log(`# multipart race: ${reads} GETs, readers saw ${seen.size} objects, final ${e.upload}`);
    // The replaced objects' pieces are gone (the final object's 2 parts remain for this key).
    await assertDiskClean(server, s3);
  });

  it('PutObject, DeleteObjects and ListObjectsV2 racing: a listed key is readable unless a delete of it was pending when the listing began', async () => {
    const bucket = 'list-race';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const KEYS = Array.from({ length: 60 }, (_, i) => `k/${String(i).padStart(3, '0')}`);
    const pick = () => KEYS[Math.floor(Math.random() * KEYS.length)]!;
    /** A body that says which key and generation it belongs to, padded to 0..64 KiB. */
    let gen = 0;
    const bodyFor = (key: string, g: number) => {
      const head = Buffer.from(`${key}#${g}#`);
      return Buffer.concat([head, randomBytes(Math.floor(Math.random() * 64 * 1024))]);
    };
    // Per key: the DeleteObjects calls naming it, with their start and completion times.
    const deletes = new Map<string, Array<{ start: number; end?: number }>>();
    const now = () => performance.now();

    let running = true;
    const stats = { puts: 0, deleteCalls: 0, listings: 0, listed: 0, gets: 0, deletedMeanwhile: 0 };
    const writers = Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 120; i++) {
          const key = pick();
          const g = ++gen;
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodyFor(key, g), Metadata: { gen: String(g) } }));
          stats.puts++;
        }
      }),
    );
    const deleters = Promise.all(
      Array.from({ length: 2 }, async () => {
        while (running) {
          const keys = [...new Set(Array.from({ length: 8 }, pick))];
          const entries = keys.map((k) => {
            const e = { start: now() } as { start: number; end?: number };
            deletes.set(k, [...(deletes.get(k) ?? []), e]);
            return e;
          });
          const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
          assert.deepEqual(r.Errors ?? [], []);
          for (const e of entries) e.end = now();
          stats.deleteCalls++;
          await sleep(5);
        }
      }),
    );
    /** True if a DeleteObjects naming `key` had not completed before `since`. */
    const deletePending = (key: string, since: number) => (deletes.get(key) ?? []).some((d) => d.end === undefined || d.end > since);

    const listers = Promise.all(
      Array.from({ length: 3 }, async () => {
        while (running) {
          const began = now();
          const listed: string[] = [];
          let token: string | undefined;
          do {
            const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 17, ContinuationToken: token }));
            for (const o of page.Contents ?? []) listed.push(o.Key!);
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
          } while (token);
          stats.listings++;
          stats.listed += listed.length;
          assert.deepEqual([...listed].sort(), listed, 'listing out of order');
          assert.equal(new Set(listed).size, listed.length, 'a key listed twice');
          await Promise.all(
            listed.map(async (key) => {
              try {
                const g = await getFull(s3, bucket, key);
                stats.gets++;
                const m = /^([^#]+)#(\d+)#/.exec(g.body.subarray(0, 40).toString('latin1'));
                assert.ok(m && m[1] === key, `GET ${key}: a body that belongs to ${m?.[1]}`);
                assert.equal(g.meta.gen, m[2], `GET ${key}: metadata of another write`);
                assert.equal(g.etag, `"${md5(g.body)}"`, `GET ${key}: ETag is not the MD5 of the body`);
                assert.equal(g.length, g.body.length);
              } catch (err) {
                if (err instanceof S3ServiceException && err.name === 'NoSuchKey' && deletePending(key, began)) {
                  stats.deletedMeanwhile++;
                  return;
                }
                throw new Error(`listed key ${key} could not be read: ${String(err)}`, { cause: err });
              }
            }),
          );
        }
      }),
    );
    try {
      await writers;
    } finally {
      running = false;
      await Promise.all([deleters, listers]);
    }
    console.log(`# list race: ${JSON.stringify(stats)}`);
    assert.ok(stats.listings >= 10 && stats.gets >= 100 && stats.deleteCalls >= 10, `too little overlap: ${JSON.stringify(stats)}`);

    // Quiet now: every listed key reads, and the pieces on disk are exactly the existing objects'.
    const all = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
    for (const o of all) assert.equal((await getFull(s3, bucket, o.Key!)).length, o.Size);
    await assertDiskClean(server, s3);
  });
});

// Two real Strata processes on one data directory and metadata database (--shared yes), driven by
// aws-sdk-js: what must hold across processes (docs/ARCHITECTURE.md, "Several processes on one
// data directory") checked by what clients observe:
// - a GET streaming from one process while the other overwrites the object gets the old bytes,
//   byte for byte, although it pauses for several grace periods (its read pin row is renewed),
//   and the old pieces are freed once it ends;
// - a multipart upload created in one, continued in the other, completed in the first;
// - the orphan sweep running continuously in one (the jobs leaseholder) while the other uploads,
//   slowly: nothing is lost, and a planted orphan is removed (the sweep really runs); only the
//   jobs leaseholder runs jobs.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const GRACE_S = 2;
const BUCKET = 'shared';
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Committed piece files in the data directory. */
function pieceCount(dir: string): number {
  let n = 0;
  for (const shard of readdirSync(join(dir, 'objects'))) n += readdirSync(join(dir, 'objects', shard)).length;
  return n;
}

async function until(cond: () => boolean | Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  for (const end = Date.now() + limitMs; Date.now() < end; ) {
    if (await cond()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting: ${what}`);
}

describe('Two server processes on one data directory (--shared)', () => {
  let dir: string;
  let a: RunningServer;
  let b: RunningServer;
  let sa: S3Client;
  let sb: S3Client;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-two-'));
    const args = ['--shared', 'yes', '--free-grace', String(GRACE_S)];
    // A starts first and takes the jobs lease; its sweep runs every round of the runner.
    a = await startServer({ dataDir: dir, args, env: { STRATA_LOG_LEVEL: 'debug', STRATA_TEST_SWEEP_INTERVAL_MS: '100' } });
    b = await startServer({ dataDir: dir, args, env: { STRATA_TEST_SWEEP_INTERVAL_MS: '100' } });
    sa = testClient(a.url);
    sb = testClient(b.url);
    await sa.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    sa?.destroy();
    sb?.destroy();
    await Promise.all([a?.stop(), b?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('Start › a server without --shared on a directory shared servers use → refused with a message naming --shared', async () => {
    await assert.rejects(startServer({ dataDir: dir }), (e: Error) => /--shared/.test(e.message));
  });

  /** A multipart object of `n` 6 MiB parts: created in A, part 2 uploaded in B, completed in A. */
  async function multipartAcross(key: string, n = 3): Promise<Buffer> {
    const parts = Array.from({ length: n }, () => randomBytes(6 * MiB));
    const { UploadId } = await sa.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      const client = i === 1 ? sb : sa;
      const { ETag } = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: body }));
      etags.push(ETag!);
    }
    const listed = await sb.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId }));
    assert.deepEqual(
      listed.Parts?.map((p) => p.ETag),
      etags,
      'B lists the parts uploaded through A and B',
    );
    await sa.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    return Buffer.concat(parts);
  }

  it('Multipart › created in A, a part uploaded in B, completed in A → the object reads back whole from both', async () => {
    const body = await multipartAcross('mp');
    for (const client of [sa, sb]) {
      const got = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mp' }))).Body!.transformToByteArray());
      assert.equal(md5(got), md5(body));
    }
  });

  it('GetObject › B streams a 6-piece object, pausing for 3 grace periods while A overwrites it → the old bytes, byte for byte', async () => {
    // 36 MiB: more than the socket buffers hold, so the last pieces are opened only after the pause.
    const old = await multipartAcross('big', 6);
    const res = await sb.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big' }));
    const body = res.Body as Readable;
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => {
      body.once('data', (c: Buffer) => {
        chunks.push(c);
        body.pause();
        resolve();
      });
    });
    const piecesBefore = pieceCount(dir);
    const replacement = Buffer.from('the new version');
    await sa.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'big', Body: replacement }));
    const now = Buffer.from(await (await sa.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big' }))).Body!.transformToByteArray());
    assert.equal(now.toString(), replacement.toString());
    // The old pieces' free is recorded; A's reaper runs every half second meanwhile.
    await sleep(3 * GRACE_S * 1000);
    body.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve, reject) => {
      body.once('end', resolve);
      body.once('error', reject);
      body.resume();
    });
    const got = Buffer.concat(chunks);
    assert.equal(got.length, old.length, 'not cut');
    assert.equal(md5(got), md5(old), 'the old version, byte for byte');
    // Then the old version's six pieces are freed (the new version is inline: no piece).
    await until(() => pieceCount(dir) === piecesBefore - 6, `the old pieces freed (${pieceCount(dir)} of ${piecesBefore} left)`);
  });

  it('Orphan sweep › running in A while B uploads slowly and quickly → every upload intact; a planted orphan removed', async () => {
    // A planted orphan: a committed-looking piece no metadata references, an hour old.
    const orphanId = 'ab' + randomBytes(15).toString('hex');
    await mkdir(join(dir, 'objects', 'ab'), { recursive: true });
    const orphanPath = join(dir, 'objects', 'ab', orphanId);
    await writeFile(orphanPath, randomBytes(1000));
    const hourAgo = new Date(Date.now() - 3600_000);
    await utimes(orphanPath, hourAgo, hourAgo);
    const roundsBefore = a.logs().split('orphan sweep round done').length;

    // A slow PUT to B: 4 chunks 1.5 s apart (its temp file idles longer than the sweep's margin).
    const slowBody = randomBytes(1 * MiB);
    async function* trickle(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 4; i++) {
        if (i > 0) await sleep(1500);
        yield slowBody.subarray(i * (MiB / 4), (i + 1) * (MiB / 4));
      }
    }
    const slow = sb.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'slow', Body: Readable.from(trickle()), ContentLength: slowBody.length }));
    // Quick PUTs to B meanwhile (pieces, not inline: over 128 KiB).
    const quick = new Map<string, Buffer>();
    const quickDone = (async () => {
      for (let i = 0; i < 20; i++) {
        const body = randomBytes(200 * 1024 + i);
        quick.set(`q${i}`, body);
        await sb.send(new PutObjectCommand({ Bucket: BUCKET, Key: `q${i}`, Body: body }));
        await sleep(150);
      }
    })();
    await Promise.all([slow, quickDone]);
    const rounds = a.logs().split('orphan sweep round done').length - roundsBefore;
    assert.ok(rounds >= 2, `A swept while B uploaded (${rounds} rounds)`);
    // One jobs runner per directory: A holds the lease, B never ran a job.
    assert.match(a.logs(), /background jobs: this process runs them/);
    assert.doesNotMatch(b.logs(), /background jobs: this process runs them/);

    for (const [key, body] of [['slow', slowBody] as const, ...quick]) {
      const got = Buffer.from(await (await sa.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
      assert.equal(md5(got), md5(body), `${key} intact`);
    }
    await until(() => !existsSync(orphanPath), 'the planted orphan is removed (after the grace period)');
  });
});

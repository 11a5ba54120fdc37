// Power cut: what docs/on-disk-format.md promises for power loss, which a SIGKILL cannot show (the
// page cache survives it). The server's data directory lives on powercut_fs.py, a FUSE file system
// that keeps only what was fsynced; the server is SIGKILLed, the file system unmounted (the cut:
// every unsynced write, create, rename and unlink is lost) and mounted again, and every
// acknowledged write and delete is checked with a fresh server. Then the test proves it can fail:
// with each sync of the write protocol turned off (STRATA_TEST_SKIP_SYNC, a test-only switch),
// the same scenario must lose an acknowledged write.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { bodyOf, startOn, type ServerProc } from '../crash/harness.js';
import { ACCESS_KEY, REGION, SECRET_KEY } from '../helpers/server.js';
import { loopbackLookup } from '../helpers/s3.js';
import { mkdirDurable, mountPowerCutFs, powerCutFsProblem, type CutReport } from './powercut-fs.js';

const BUCKET = 'power-cut';
const INLINE_MAX = 16 * 1024;
const MiB = 1024 * 1024;
const SEED = 9;
/** The sync points of src/store/sync-switch.ts; each one alone must be needed. */
const SYNC_POINTS = ['data', 'dir', 'shard', 'wal'] as const;

const problem = powerCutFsProblem();

/** An S3 client whose every request gives up after `timeoutMs` (a short data file may leave a GET hanging). */
function client(url: string, timeoutMs = 10_000): S3Client {
  return new S3Client({
    endpoint: url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestHandler: new NodeHttpHandler({ requestTimeout: timeoutMs, httpAgent: new http.Agent({ keepAlive: false, lookup: loopbackLookup }) }),
    maxAttempts: 1,
  });
}

const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

/** What the server acknowledged: key → sha256 of the body it holds, or null for "deleted". */
type Acked = Map<string, string | null>;

async function put(s3: S3Client, acked: Acked, key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  acked.set(key, sha(body));
}

async function del(s3: S3Client, acked: Acked, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  acked.set(key, null);
}

async function multipart(s3: S3Client, acked: Acked, key: string, sizes: number[]): Promise<void> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  const parts = [];
  const bodies: Buffer[] = [];
  for (const [i, size] of sizes.entries()) {
    const body = bodyOf(SEED, `${key}/${i}`, size);
    bodies.push(body);
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: body }));
    parts.push({ ETag, PartNumber: i + 1 });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  acked.set(key, sha(Buffer.concat(bodies)));
}

/** An open upload whose acknowledged part must survive: its id and the part's ETag. */
interface OpenUpload {
  key: string;
  uploadId: string;
  etag: string;
}

/** Every way an acknowledged write or delete did not survive (empty: nothing lost). */
async function verify(url: string, acked: Acked, open: OpenUpload | undefined): Promise<string[]> {
  const s3 = client(url, 5_000);
  const lost: string[] = [];
  await Promise.all(
    [...acked].map(async ([key, want]) => {
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        const got = sha(await res.Body!.transformToByteArray());
        if (want === null) lost.push(`${key}: deleted, but GET answers 200`);
        else if (got !== want) lost.push(`${key}: bytes differ (sha256 ${got}, acknowledged ${want})`);
      } catch (err) {
        const name = (err as Error).name;
        if (!(want === null && name === 'NoSuchKey')) lost.push(`${key}: GET fails: ${name} ${(err as Error).message}`);
      }
    }),
  );
  try {
    const listed = new Set<string>();
    for (let token: string | undefined; ; ) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
      for (const o of page.Contents ?? []) listed.add(o.Key!);
      if (!page.IsTruncated) break;
      token = page.NextContinuationToken;
    }
    for (const [key, want] of acked) {
      if ((want !== null) !== listed.has(key)) lost.push(`${key}: ${want === null ? 'deleted but listed' : 'not listed'}`);
    }
  } catch (err) {
    lost.push(`ListObjectsV2 fails: ${(err as Error).name} ${(err as Error).message}`);
  }
  if (open) {
    try {
      const parts = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: open.key, UploadId: open.uploadId }));
      if (parts.Parts?.[0]?.ETag !== open.etag) lost.push(`upload ${open.key}: acknowledged part 1 missing (${JSON.stringify(parts.Parts)})`);
    } catch (err) {
      lost.push(`upload ${open.key}: ListParts fails: ${(err as Error).name}`);
    }
  }
  s3.destroy();
  return lost;
}

interface Outcome {
  lost: string[];
  cut: CutReport;
  /** The first server's stderr said the sync switch was on. */
  switchAnnounced: boolean;
}

/**
 * Phase A on a fresh file system: bucket and some objects, then a clean stop (SQLite checkpoints
 * and deletes its WAL). Phase B on a second start: PUTs above and below --inline-max, a multipart
 * upload, overwrites, deletes, an open upload with one part; then SIGKILL, power cut, remount,
 * restart and check. `skip` turns one sync off in both phases (never in the checking server).
 */
async function scenario(skip?: (typeof SYNC_POINTS)[number]): Promise<Outcome> {
  const work = await mkdtemp(join(tmpdir(), 'strata-powercut-'));
  const state = join(work, 'disk');
  const mnt = join(work, 'mnt');
  await mkdir(mnt);
  const acked: Acked = new Map();
  const env: Record<string, string> = skip ? { NODE_ENV: 'test', STRATA_TEST_SKIP_SYNC: skip } : {};
  const args = ['--inline-max', String(INLINE_MAX)];
  let fs = await mountPowerCutFs(state, mnt);
  let server: ServerProc | undefined;
  let switchAnnounced = false;
  try {
    // Created beforehand and synced, as docs/on-disk-format.md asks of a data directory that must
    // survive a power loss from its first start.
    const dataDir = await mkdirDurable(mnt, 'data');

    server = await startOn(dataDir, 15_000, { args, env });
    let s3 = client(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await put(s3, acked, 'a/large', bodyOf(SEED, 'a/large', 300 * 1024));
    await put(s3, acked, 'a/small', bodyOf(SEED, 'a/small', 1000));
    await put(s3, acked, 'a/to-delete', bodyOf(SEED, 'a/to-delete', 200 * 1024));
    await put(s3, acked, 'a/inline-to-delete', bodyOf(SEED, 'a/inline-to-delete', 10));
    await put(s3, acked, 'a/overwritten', bodyOf(SEED, 'a/overwritten/1', 100 * 1024));
    s3.destroy();
    switchAnnounced = server.problems.some((l) => l.includes('TEST BUILD SWITCH'));
    assert.equal(await server.stop(), 0, 'clean stop');
    server = undefined;

    server = await startOn(dataDir, 15_000, { args, env });
    s3 = client(server.url);
    await put(s3, acked, 'b/large', bodyOf(SEED, 'b/large', MiB + 17));
    await put(s3, acked, 'b/inline', bodyOf(SEED, 'b/inline', 5000));
    await put(s3, acked, 'b/empty', Buffer.alloc(0));
    await multipart(s3, acked, 'b/multipart', [5 * MiB, 123 * 1024]);
    await put(s3, acked, 'a/overwritten', bodyOf(SEED, 'a/overwritten/2', 150 * 1024));
    await put(s3, acked, 'a/small', bodyOf(SEED, 'a/small/2', 70 * 1024));
    await del(s3, acked, 'a/to-delete');
    await del(s3, acked, 'a/inline-to-delete');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'b/open' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'b/open', UploadId, PartNumber: 1, Body: bodyOf(SEED, 'b/open', 64 * 1024) }));
    await put(s3, acked, 'b/last', bodyOf(SEED, 'b/last', 40 * 1024));
    s3.destroy();
    await server.kill();
    server = undefined;

    const cut = await fs.powerCut();
    fs = await mountPowerCutFs(state, mnt);
    try {
      server = await startOn(dataDir, 30_000, { args });
    } catch (err) {
      return { lost: [`the server does not start after the power cut: ${(err as Error).message}`], cut, switchAnnounced };
    }
    const lost = await verify(server.url, acked, { key: 'b/open', uploadId: UploadId!, etag: part.ETag! });
    return { lost, cut, switchAnnounced };
  } finally {
    if (server) await server.kill();
    await fs.powerCut().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

describe('Power cut (FUSE file system that keeps only fsynced state)', { timeout: 240_000 }, () => {
  it('prerequisites › root, /dev/fuse and python3-fusepy are there (scripts/test.sh installs fuse3 + python3-fusepy)', () => {
    // Failing, not skipping: the README promises that nothing is skipped.
    assert.equal(problem, undefined, problem);
  });

  it('PutObject, multipart, overwrite, DeleteObject › power cut after SIGKILL → every acknowledged write survives byte for byte, every acknowledged delete stays deleted', async () => {
    assert.equal(problem, undefined, problem);
    const { lost, cut } = await scenario();
    assert.deepEqual(lost, []);
    // The cut really threw something away (unsynced frees of replaced pieces, the -shm file, …):
    // otherwise this test would not be testing a power cut at all.
    assert.ok(cut.unsyncedFiles + cut.unsyncedEntries > 0, `the power cut discarded nothing: ${JSON.stringify(cut)}`);
    assert.ok(cut.fsync > 0 && cut.fsyncdir > 0, JSON.stringify(cut));
  });

  for (const point of SYNC_POINTS) {
    it(`the test can fail › STRATA_TEST_SKIP_SYNC=${point} (that sync removed) → an acknowledged write is lost`, async (t) => {
      assert.equal(problem, undefined, problem);
      const { lost, switchAnnounced } = await scenario(point);
      t.diagnostic(`lost: ${lost.slice(0, 3).join('; ')}${lost.length > 3 ? `; … (${lost.length} in all)` : ''}`);
      assert.ok(switchAnnounced, 'the server announced the test switch (NODE_ENV=test honoured it)');
      assert.ok(lost.length > 0, `without the ${point} sync nothing acknowledged was lost: the power-cut test could not see that sync missing`);
    });
  }
});

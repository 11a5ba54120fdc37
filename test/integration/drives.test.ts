// A server on six drives (an erasure set, docs/drives.md) with real clients: the start line and
// `listening` name the drives and EC k+m, each drive gets its format file and lock, objects go
// through the erasure store (@aws-sdk/client-s3, boto3 newest and Debian's), and the restarts an
// operator can get wrong are refused with the drive named: another order, a foreign drive, a drive
// already used by a running server. The right order afterwards serves the same bytes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { waitFor } from '../hardening/raw-http.js';
import { BOTO3_PYTHONS, newBucketName, runPythonCheck } from '../helpers/clients.js';
import { testClient } from '../helpers/s3.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Shard files under a drive's shards/<xx>/. */
async function shardCount(drive: string): Promise<number> {
  let n = 0;
  for (const p of await readdir(join(drive, 'shards')).catch(() => [] as string[])) n += (await readdir(join(drive, 'shards', p))).length;
  return n;
}

describe('six drives (EC 3+3 by default)', () => {
  let root: string;
  let drives: string[];
  let server: RunningServer;
  const bucket = newBucketName('drives');
  const big = randomBytes(3 * 1024 * 1024 + 5);
  const part1 = randomBytes(5 * 1024 * 1024);
  const part2 = randomBytes(1024 * 1024 + 3);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'strata-drives-'));
    drives = Array.from({ length: 6 }, (_, i) => join(root, `disk${i + 1}`));
    server = await startServer({ data: drives });
  });
  after(async () => {
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('names the drives and EC 3+3 in the start line and the listening log; formats and locks every drive', async () => {
    // The start line follows the `listening` log line (written by the same process right after).
    await waitFor(() => server.stderr().includes('Strata is serving S3'), 5000, 'the start line');
    assert.match(server.stderr(), /data on 6 drives, EC 3\+3: .*disk1, .*disk6/);
    const listening = server
      .logs()
      .split('\n')
      .find((l) => l.includes('"msg":"listening"'));
    const rec = JSON.parse(listening!) as { drives: string[]; erasure: string; dataDir: string };
    assert.deepEqual(rec.drives, drives);
    assert.equal(rec.erasure, 'EC 3+3');
    // Six directories of one file system: said once, naming them all.
    const shared = server
      .logs()
      .split('\n')
      .filter((l) => l.includes('several drives share a file system'))
      .map((l) => JSON.parse(l) as { level: number | string; groups: string[][] });
    assert.equal(shared.length, 1, 'warned once, by the process that opened the set first');
    assert.deepEqual(shared[0]!.groups, [drives]);
    assert.equal(rec.dataDir, drives[0]);
    const ids = new Set<string>();
    for (const [i, d] of drives.entries()) {
      const f = JSON.parse(await readFile(join(d, 'strata-format.json'), 'utf8')) as { index: number; drive: string; parity: number };
      assert.equal(f.index, i);
      assert.equal(f.parity, 3);
      ids.add(f.drive);
      assert.ok(existsSync(join(d, 'strata.lock')), `${d} locked`);
    }
    assert.equal(ids.size, 6);
    // The metadata database on the first m+1 = 4 drives (the primary and three copies), not on the others.
    for (const [i, d] of drives.entries()) assert.equal(existsSync(join(d, 'meta.db')), i < 4, `${d}: a copy of the metadata database iff among the first 4`);
  });

  it('@aws-sdk/client-s3: PUT, GET (whole and a range), multipart, list; a shard on every drive', async () => {
    const s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: big }));
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }))).Body!.transformToByteArray());
    assert.equal(sha(got), sha(big));
    const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin', Range: 'bytes=1048000-2200000' }));
    assert.equal(sha(Buffer.from(await range.Body!.transformToByteArray())), sha(big.subarray(1048000, 2200001)));
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'parts.bin' }));
    const e1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'parts.bin', UploadId: up.UploadId, PartNumber: 1, Body: part1 }));
    const e2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'parts.bin', UploadId: up.UploadId, PartNumber: 2, Body: part2 }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'parts.bin',
        UploadId: up.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    );
    const parts = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'parts.bin' }))).Body!.transformToByteArray());
    assert.equal(sha(parts), sha(Buffer.concat([part1, part2])));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(
      listed.Contents?.map((o) => [o.Key, o.Size]),
      [
        ['big.bin', big.length],
        ['parts.bin', part1.length + part2.length],
      ],
    );
    // One piece for big.bin and one per part: a shard of each on every drive.
    for (const d of drives) assert.equal(await shardCount(d), 3, `shards on ${d}`);
    s3.destroy();
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › drives.py: erasure-coded objects, ranges, copy, multipart transfer, REDUCED_REDUNDANCY`, async (t: TestContext) => {
      const r = await runPythonCheck(python, 'drives.py', server, { bucket: newBucketName('drives-py'), timeoutMs: 180_000 });
      t.diagnostic(r.stdout.split('\n')[0] ?? '');
    });
  }

  it('a second server given one of the drives is refused, naming that drive', async () => {
    const other = await mkdtemp(join(tmpdir(), 'strata-drives-other-'));
    try {
      await assert.rejects(startServer({ data: [join(other, 'a'), drives[2]!, join(other, 'b'), join(other, 'c')] }), (err: Error) => {
        assert.match(err.message, new RegExp(`data directory ${drives[2]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is in use by another Strata process`));
        return true;
      });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('restarts: another order is refused, a foreign drive is refused, the right order serves the same bytes', async () => {
    await server.stop();
    const swapped = [drives[0]!, drives[1]!, drives[3]!, drives[2]!, drives[4]!, drives[5]!];
    await assert.rejects(startServer({ data: swapped }), (err: Error) => {
      assert.match(err.message, /disk4 is drive 4 of the set but is given as drive 3 .*disk3 is drive 3 of the set but is given as drive 4.*another order/);
      return true;
    });
    // A drive of another server's set in slot 5.
    const otherRoot = await mkdtemp(join(tmpdir(), 'strata-drives-foreign-'));
    const otherDrives = Array.from({ length: 4 }, (_, i) => join(otherRoot, `x${i + 1}`));
    try {
      const otherServer = await startServer({ data: otherDrives });
      await otherServer.stop();
      const mixed = [...drives.slice(0, 4), otherDrives[1]!, drives[5]!];
      await assert.rejects(startServer({ data: mixed }), (err: Error) => {
        assert.match(err.message, /x2 belongs to another set/);
        return true;
      });
    } finally {
      await rm(otherRoot, { recursive: true, force: true });
    }
    server = await startServer({ data: drives });
    const s3 = testClient(server.url);
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }))).Body!.transformToByteArray());
    assert.equal(sha(got), sha(big));
    s3.destroy();
    const ready = await fetch(`${server.url}/health/ready`);
    assert.equal(ready.status, 200);
  });

  it('the first drive (the primary copy of the metadata database) missing: the server starts from a copy on another drive and loses nothing; back, its stale copy is rebuilt', async () => {
    await server.stop();
    await rename(drives[0]!, `${drives[0]!}.away`);
    try {
      server = await startServer({ data: drives });
      const s3 = testClient(server.url);
      const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }))).Body!.transformToByteArray());
      assert.equal(sha(got), sha(big));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'while-first-away.bin', Body: big.subarray(0, 200_000) }));
      s3.destroy();
      await server.stop();
    } finally {
      await rename(`${drives[0]!}.away`, drives[0]!);
    }
    // The first drive back: its copy is older than the others' (it missed a write) and must not be chosen.
    server = await startServer({ data: drives });
    const s3 = testClient(server.url);
    const back = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'while-first-away.bin' }))).Body!.transformToByteArray());
    assert.equal(sha(back), sha(big.subarray(0, 200_000)));
    s3.destroy();
  });

  it('losing more drives than the parity is refused at start; so is a set whose every copy of the metadata database is gone while shards remain', async () => {
    await server.stop();
    // m+1 = 4 of 6 drives away: fewer than the write quorum.
    for (const d of drives.slice(0, 4)) await rename(d, `${d}.away`);
    try {
      await assert.rejects(startServer({ data: drives }), /disk1|quorum/);
    } finally {
      for (const d of drives.slice(0, 4)) await rename(`${d}.away`, d);
    }
    // The drives there, but the metadata files gone from the four that keep them (an operator's rm).
    const moved: Array<[string, string]> = [];
    for (const d of drives.slice(0, 4)) {
      for (const f of await readdir(d)) if (f.startsWith('meta')) moved.push([join(d, f), join(d, `${f}.away`)]);
    }
    for (const [from, to] of moved) await rename(from, to);
    try {
      await assert.rejects(startServer({ data: drives }), (err: Error) => {
        assert.match(err.message, /no copy of the metadata database is available \(it is kept on .*disk1.*disk4\)/);
        return true;
      });
    } finally {
      for (const [from, to] of moved) await rename(to, from);
    }
  });

  it('a drive missing at start: the server starts (write quorum is there) and reads rebuild; the drive back empty is adopted without a restart', async () => {
    await server.stop(); // stopped already by the test before: stop() is idempotent
    await rm(drives[5]!, { recursive: true });
    server = await startServer({ data: drives });
    assert.match(server.logs(), /"drive":"[^"]*disk6".*"msg":"drive offline at start"/);
    const s3 = testClient(server.url);
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }))).Body!.transformToByteArray());
    assert.equal(sha(got), sha(big));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'while-missing.bin', Body: big.subarray(0, 300_000) }));
    await mkdir(drives[5]!);
    await waitFor(() => server.logs().includes('"msg":"drive back, empty: adopted, healing"'), 15_000, 'the probe to adopt the empty drive');
    const f = JSON.parse(await readFile(join(drives[5]!, 'strata-format.json'), 'utf8')) as { index: number; healing?: boolean };
    assert.equal(f.index, 5);
    assert.equal(f.healing, true);
    const back = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'while-missing.bin' }))).Body!.transformToByteArray());
    assert.equal(sha(back), sha(big.subarray(0, 300_000)));
    s3.destroy();
    // The cluster primary locks the returning drive as it holds the others: a second server given
    // it (even --shared, which does not wait for lingering workers) is refused, naming it.
    await waitFor(() => server.logs().includes('"msg":"drive back: locked"'), 15_000, 'the primary to lock the returning drive');
    const named = new RegExp(`data directory ${drives[5]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is in use by a`);
    await assert.rejects(startServer({ data: [drives[5]!], args: ['--shared', 'yes', '--workers', '1'] }), (err: Error) => {
      assert.match(err.message, named);
      return true;
    });
  });
});

describe("four drives from MinIO's ellipsis (--data DIR/d{1...4}), --workers 1, --parity 1", () => {
  it('one process serves the set (EC 3+1): PUT and GET byte-exact, a shard on every drive', async () => {
    const root = await mkdtemp(join(tmpdir(), 'strata-drives-env-'));
    const server = await startServer({ data: [join(root, 'd{1...4}')], args: ['--workers', '1', '--parity', '1'] }).catch(async (err: unknown) => {
      await rm(root, { recursive: true, force: true });
      throw err;
    });
    try {
      const s3 = testClient(server.url);
      const bucket = newBucketName('drives-env');
      const body = randomBytes(700_000);
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body }));
      const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body!.transformToByteArray());
      assert.equal(sha(got), sha(body));
      s3.destroy();
      for (let i = 1; i <= 4; i++) assert.equal(await shardCount(join(root, `d${i}`)), 1);
      assert.match(server.logs(), /"erasure":"EC 3\+1"/);
    } finally {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    }
  });
});

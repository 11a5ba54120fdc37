// Real clients against a server on six drives (EC 3+3, the default workers): the AWS CLI (a large
// `aws s3 cp` in multipart, `aws s3 sync` of a tree, `s3api get-object --range`, `--storage-class
// REDUCED_REDUNDANCY`), s3cmd (put/get/ls/del), rclone (copy/check of a tree, `--s3-storage-class`)
// and curl with presigned GET and PUT; every download compared byte for byte. Then the shards of a
// few objects deleted on two drives: the same clients still read byte-exact (reads rebuild from
// parity). And what x-amz-storage-class S3 answers: HEAD/GET send it for every class but STANDARD,
// listings (ListObjectsV2, ListParts) name STANDARD too; an unknown class is InvalidStorageClass (400).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import Database from 'better-sqlite3';
import {
  AWS_CLI,
  CURL,
  RCLONE,
  S3CMD,
  awsCli,
  awsCliEnv,
  describeRun,
  newBucketName,
  rcloneRemoteEnv,
  run,
  type RunResult,
  writeS3cmdConfig,
} from '../helpers/clients.js';
import { waitFor } from '../hardening/raw-http.js';
import { adminCall } from '../helpers/admin.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, type RunningServer, SECRET_KEY, startServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A local tree for sync and rclone: nested directories, odd names, an empty file, a 12 MiB file. */
const TREE: Record<string, Buffer> = {
  'top.txt': Buffer.from('top level\n'),
  'a/one.bin': randomBytes(300_000),
  'a/b/two.bin': randomBytes(1 * MiB + 17),
  'with space/ünï+cödé.txt': Buffer.from('odd name ✓\n'),
  'empty.txt': Buffer.alloc(0),
  'big/twelve.bin': randomBytes(12 * MiB + 5),
};

async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p).split(sep).join('/'), sha(await readFile(p)));
    }
  };
  await walk(dir);
  return out;
}

const treeShas = () => new Map(Object.entries(TREE).map(([k, v]) => [k, sha(v)]));

describe('six drives (EC 3+3) with the AWS CLI, s3cmd, rclone and curl', () => {
  let root: string;
  let drives: string[];
  let server: RunningServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let cleanupEnv: () => Promise<void>;
  let s3: S3Client;
  const bucket = newBucketName('drives-clients');
  const large = randomBytes(20 * MiB + 3);
  const small = randomBytes(700_000);
  const { aws, s3api } = awsCli(() => ({ url: server.url, env, cwd: work, logs: () => server.logs(), timeoutMs: 180_000 }));

  async function client(cmd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
    const r = await run(cmd, args, { env: { ...env, ...extraEnv }, cwd: work, timeoutMs: 180_000 });
    assert.equal(r.code, 0, `${describeRun(`${cmd} ${args.join(' ')}`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
    return r;
  }
  const s3cmd = (args: string[]) => client(S3CMD, ['-c', join(work, 's3cfg'), ...args]);
  const rclone = (args: string[]) => client(RCLONE, args, rcloneRemoteEnv(server.url, join(work, 'rclone.conf')));
  const curl = (args: string[]) => client(CURL, ['-sS', '--fail-with-body', ...args]);

  /** The shard files of `key`'s pieces on `drive` (the piece ids from the metadata database, read-only). */
  function shardFilesOf(key: string, drive: string): string[] {
    const db = new Database(join(drives[0]!, 'meta.db'), { readonly: true, fileMustExist: true, timeout: 5000 });
    try {
      const ids = db.prepare('SELECT data_id FROM object_data WHERE bucket = ? AND key = ?').pluck().all(bucket, Buffer.from(key)) as string[];
      assert.ok(ids.length > 0, `${key} has pieces (not inline)`);
      return ids.map((id) => join(drive, 'shards', id.slice(0, 2), id));
    } finally {
      db.close();
    }
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'strata-drives-clients-'));
    drives = Array.from({ length: 6 }, (_, i) => join(root, `disk${i + 1}`));
    server = await startServer({ data: drives });
    ({ env, dir: work, cleanup: cleanupEnv } = await awsCliEnv());
    env = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('RCLONE_')));
    await writeS3cmdConfig(join(work, 's3cfg'), server);
    await writeFile(join(work, 'rclone.conf'), '');
    for (const [rel, content] of Object.entries(TREE)) {
      await mkdir(join(work, 'tree', rel, '..'), { recursive: true });
      await writeFile(join(work, 'tree', rel), content);
    }
    await writeFile(join(work, 'large.bin'), large);
    await writeFile(join(work, 'small.bin'), small);
    s3 = testClient(server.url);
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
    await cleanupEnv?.();
    await rm(root, { recursive: true, force: true });
  });

  it('aws s3 cp (20 MiB → multipart), aws s3 sync up and down, s3api get-object --range: byte-exact', async (t: TestContext) => {
    t.diagnostic((await run(AWS_CLI, ['--version'], { env })).stdout.trim());
    await aws(['s3', 'mb', `s3://${bucket}`]);
    const mark = server.logs().length;
    await aws(['s3', 'cp', 'large.bin', `s3://${bucket}/cli/large.bin`]);
    const parts = (await server.accessLog(mark)).filter((l) => l.op === 'UploadPart' && l.key === 'cli/large.bin');
    assert.equal(parts.length, 3, 'the CLI uploads 20 MiB in 8 MiB parts');
    await aws(['s3', 'cp', `s3://${bucket}/cli/large.bin`, 'large.back']);
    assert.equal(sha(await readFile(join(work, 'large.back'))), sha(large));
    await aws(['s3', 'sync', 'tree', `s3://${bucket}/sync`]);
    await aws(['s3', 'sync', `s3://${bucket}/sync`, 'sync.back']);
    assert.deepEqual(await readTree(join(work, 'sync.back')), treeShas());
    // A second sync finds nothing to do.
    const again = await aws(['s3', 'sync', 'tree', `s3://${bucket}/sync`]);
    assert.equal(again.stdout.trim(), '');
    const head = await s3api(['get-object', '--bucket', bucket, '--key', 'cli/large.bin', '--range', 'bytes=9000000-17000000', 'range.back']);
    assert.equal(head.ContentLength, 8_000_001);
    assert.equal(sha(await readFile(join(work, 'range.back'))), sha(large.subarray(9_000_000, 17_000_001)));
  });

  it('aws --storage-class REDUCED_REDUNDANCY: HEAD and GET name it, STANDARD objects have no header; listings name both', async () => {
    await aws(['s3', 'cp', 'small.bin', `s3://${bucket}/rrs/small.bin`, '--storage-class', 'REDUCED_REDUNDANCY']);
    await aws(['s3', 'cp', 'large.bin', `s3://${bucket}/rrs/large.bin`, '--storage-class', 'REDUCED_REDUNDANCY']);
    await aws(['s3', 'cp', 'small.bin', `s3://${bucket}/std/small.bin`]);
    const rrsHead = await s3api(['head-object', '--bucket', bucket, '--key', 'rrs/large.bin']);
    assert.equal(rrsHead.StorageClass, 'REDUCED_REDUNDANCY');
    const stdHead = await s3api(['head-object', '--bucket', bucket, '--key', 'std/small.bin']);
    assert.equal(stdHead.StorageClass, undefined, 'HEAD of a STANDARD object has no x-amz-storage-class');
    await aws(['s3', 'cp', `s3://${bucket}/rrs/large.bin`, 'rrs.back']);
    assert.equal(sha(await readFile(join(work, 'rrs.back'))), sha(large));
    const listed = await s3api(['list-objects-v2', '--bucket', bucket, '--prefix', 'rrs/']);
    assert.deepEqual(
      (listed.Contents as Array<{ Key: string; StorageClass: string }>).map((o) => [o.Key, o.StorageClass]),
      [
        ['rrs/large.bin', 'REDUCED_REDUNDANCY'],
        ['rrs/small.bin', 'REDUCED_REDUNDANCY'],
      ],
    );
    const std = await s3api(['list-objects-v2', '--bucket', bucket, '--prefix', 'std/']);
    assert.equal(std.Contents[0].StorageClass, 'STANDARD');
    // The same 20 MiB in 4 data shards (REDUCED_REDUNDANCY: EC 4+2) instead of 3 (STANDARD: EC 3+3).
    const shardBytes = async (key: string) => {
      let n = 0;
      for (const f of shardFilesOf(key, drives[0]!)) n += (await stat(f)).size; // one piece per part
      return n;
    };
    const [rrsShard, stdShard] = [await shardBytes('rrs/large.bin'), await shardBytes('cli/large.bin')];
    assert.ok(rrsShard > large.length / 4 && rrsShard < large.length / 4 + 256 * 1024, `REDUCED_REDUNDANCY shard ${rrsShard} B`);
    assert.ok(stdShard > large.length / 3 && stdShard < large.length / 3 + 256 * 1024, `STANDARD shard ${stdShard} B`);
    // Copies change the class: a server-side multipart copy (UploadPartCopy, the CLI above 8 MiB) and
    // a copy of an object onto itself with only the class changed (legal, as on S3); both re-coded.
    const mark = server.logs().length;
    await aws(['s3', 'cp', `s3://${bucket}/cli/large.bin`, `s3://${bucket}/copied/large.bin`, '--storage-class', 'REDUCED_REDUNDANCY']);
    assert.equal((await server.accessLog(mark)).filter((l) => l.op === 'UploadPartCopy' && l.status === 200).length, 3);
    await aws(['s3', 'cp', 'small.bin', `s3://${bucket}/copied/small.bin`]);
    await s3api([
      'copy-object',
      '--bucket',
      bucket,
      '--key',
      'copied/small.bin',
      '--copy-source',
      `${bucket}/copied/small.bin`,
      '--storage-class',
      'REDUCED_REDUNDANCY',
    ]);
    for (const [key, body] of [
      ['copied/large.bin', large],
      ['copied/small.bin', small],
    ] as const) {
      assert.equal((await s3api(['head-object', '--bucket', bucket, '--key', key])).StorageClass, 'REDUCED_REDUNDANCY', key);
      await s3api(['get-object', '--bucket', bucket, '--key', key, 'copied.back']);
      assert.equal(sha(await readFile(join(work, 'copied.back'))), sha(body), key);
    }
    const copiedShard = await shardBytes('copied/large.bin');
    assert.ok(copiedShard > large.length / 4 && copiedShard < large.length / 4 + 256 * 1024, `copied REDUCED_REDUNDANCY shard ${copiedShard} B`);
    // The raw headers, through presigned URLs: absent for STANDARD, present for REDUCED_REDUNDANCY.
    for (const [key, want] of [
      ['std/small.bin', null],
      ['rrs/small.bin', 'REDUCED_REDUNDANCY'],
    ] as const) {
      for (const Command of [GetObjectCommand, HeadObjectCommand]) {
        const url = await getSignedUrl(s3, new Command({ Bucket: bucket, Key: key }), { expiresIn: 600 });
        const r = await fetch(url, { method: Command === HeadObjectCommand ? 'HEAD' : 'GET' });
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('x-amz-storage-class'), want, `${Command.name} ${key}`);
        await r.arrayBuffer();
      }
    }
  });

  it('ListParts and ListMultipartUploads name the upload storage class (STANDARD too); an unknown class is InvalidStorageClass (400)', async () => {
    for (const sc of ['STANDARD', 'REDUCED_REDUNDANCY'] as const) {
      const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `mp-${sc}`, StorageClass: sc }));
      await s3.send(new UploadPartCommand({ Bucket: bucket, Key: `mp-${sc}`, UploadId: up.UploadId, PartNumber: 1, Body: small }));
      const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: `mp-${sc}`, UploadId: up.UploadId }));
      assert.equal(parts.StorageClass, sc);
      const cliParts = await s3api(['list-parts', '--bucket', bucket, '--key', `mp-${sc}`, '--upload-id', up.UploadId!]);
      assert.equal(cliParts.StorageClass, sc);
      assert.equal(cliParts.Parts[0].Size, small.length);
      const uploads = await s3api(['list-multipart-uploads', '--bucket', bucket, '--prefix', `mp-${sc}`]);
      assert.equal(uploads.Uploads[0].StorageClass, sc);
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: `mp-${sc}`, UploadId: up.UploadId }));
    }
    const e = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad-class', Body: small, StorageClass: 'NOT_A_CLASS' as 'STANDARD' })));
    assert.equal(e.name, 'InvalidStorageClass');
    assert.equal(e.$metadata.httpStatusCode, 400);
    // `aws s3 cp` checks the class itself; s3api sends what it is given.
    const cli = await aws(['s3api', 'put-object', '--bucket', bucket, '--key', 'bad-class', '--body', 'small.bin', '--storage-class', 'NOT_A_CLASS'], {
      expectFailure: true,
    });
    assert.match(cli.stderr, /\(InvalidStorageClass\) when calling the PutObject operation: The storage class you specified is not valid/);
    const e2 = await errorOf(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'bad-class', StorageClass: 'cold' as 'STANDARD' })));
    assert.equal(e2.name, 'InvalidStorageClass');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'bad-class' }));
    assert.equal(listed.KeyCount, 0, 'nothing stored by a refused write');
  });

  it('s3cmd put (multipart 5 MiB chunks and single), ls, get, del: byte-exact', async (t: TestContext) => {
    t.diagnostic((await run(S3CMD, ['--version'], { env })).stdout.trim());
    await s3cmd(['put', '--multipart-chunk-size-mb=5', 'large.bin', `s3://${bucket}/s3cmd/large.bin`]);
    await s3cmd(['put', 'small.bin', `s3://${bucket}/s3cmd/small.bin`]);
    const ls = await s3cmd(['ls', `s3://${bucket}/s3cmd/`]);
    assert.match(ls.stdout, new RegExp(`${large.length}\\s+s3://${bucket}/s3cmd/large.bin`));
    assert.match(ls.stdout, new RegExp(`${small.length}\\s+s3://${bucket}/s3cmd/small.bin`));
    await s3cmd(['get', '--force', `s3://${bucket}/s3cmd/large.bin`, 's3cmd-large.back']);
    assert.equal(sha(await readFile(join(work, 's3cmd-large.back'))), sha(large));
    await s3cmd(['get', '--force', `s3://${bucket}/s3cmd/small.bin`, 's3cmd-small.back']);
    assert.equal(sha(await readFile(join(work, 's3cmd-small.back'))), sha(small));
    await s3cmd(['del', `s3://${bucket}/s3cmd/small.bin`]);
    const after = await s3cmd(['ls', `s3://${bucket}/s3cmd/`]);
    assert.doesNotMatch(after.stdout, /small\.bin/);
  });

  it('rclone copy and check of a tree (5 MiB chunks), copy back byte-exact; --s3-storage-class REDUCED_REDUNDANCY', async (t: TestContext) => {
    t.diagnostic((await run(RCLONE, ['version'], { env })).stdout.split('\n')[0]!);
    await rclone(['copy', 'tree', `strata:${bucket}/rclone`, '--s3-chunk-size', '5M', '--s3-upload-cutoff', '5M']);
    await rclone(['check', 'tree', `strata:${bucket}/rclone`]);
    await rclone(['copy', `strata:${bucket}/rclone`, 'rclone.back']);
    assert.deepEqual(await readTree(join(work, 'rclone.back')), treeShas());
    await rclone(['copyto', 'large.bin', `strata:${bucket}/rclone-rrs/large.bin`, '--s3-storage-class', 'REDUCED_REDUNDANCY', '--s3-chunk-size', '5M']);
    await rclone(['copyto', 'small.bin', `strata:${bucket}/rclone-rrs/small.bin`, '--s3-storage-class', 'REDUCED_REDUNDANCY']);
    for (const key of ['rclone-rrs/large.bin', 'rclone-rrs/small.bin']) {
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).StorageClass, 'REDUCED_REDUNDANCY', key);
    }
    await rclone(['copyto', `strata:${bucket}/rclone-rrs/large.bin`, 'rclone-rrs.back']);
    assert.equal(sha(await readFile(join(work, 'rclone-rrs.back'))), sha(large));
  });

  it('curl with a presigned PUT and GET: byte-exact', async (t: TestContext) => {
    t.diagnostic((await run(CURL, ['--version'], { env })).stdout.split('\n')[0]!);
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'curl/large.bin' }), { expiresIn: 600 });
    await curl(['-X', 'PUT', '-T', 'large.bin', '-H', 'Expect:', putUrl]);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'curl/large.bin' }), { expiresIn: 600 });
    await curl(['-o', 'curl.back', getUrl]);
    assert.equal(sha(await readFile(join(work, 'curl.back'))), sha(large));
    await curl(['-o', 'curl-range.back', '-r', '5000000-5999999', getUrl]);
    assert.equal(sha(await readFile(join(work, 'curl-range.back'))), sha(large.subarray(5_000_000, 6_000_000)));
  });

  it('shards of a few objects deleted on two drives: the AWS CLI, s3cmd, rclone and curl still read byte-exact', async () => {
    // Two drives of six lose the shards of multipart, single, REDUCED_REDUNDANCY (m = 2: the most it
    // survives) and tree objects; reads rebuild the missing shards from the other four.
    const keys = ['cli/large.bin', 's3cmd/large.bin', 'rrs/large.bin', 'rrs/small.bin', 'curl/large.bin', 'rclone/big/twelve.bin', 'rclone/a/b/two.bin'];
    const removed: string[] = [];
    for (const key of keys) {
      for (const drive of [drives[1]!, drives[4]!]) {
        for (const f of shardFilesOf(key, drive)) {
          await unlink(f);
          removed.push(f);
        }
      }
    }
    assert.ok(removed.length >= keys.length * 2, `removed ${removed.length} shard files`);
    await aws(['s3', 'cp', `s3://${bucket}/cli/large.bin`, 'deg-cli.back']);
    assert.equal(sha(await readFile(join(work, 'deg-cli.back'))), sha(large));
    await aws(['s3', 'cp', `s3://${bucket}/rrs/large.bin`, 'deg-rrs.back']);
    assert.equal(sha(await readFile(join(work, 'deg-rrs.back'))), sha(large));
    await s3api(['get-object', '--bucket', bucket, '--key', 'rrs/small.bin', '--range', 'bytes=100-599999', 'deg-range.back']);
    assert.equal(sha(await readFile(join(work, 'deg-range.back'))), sha(small.subarray(100, 600_000)));
    await s3cmd(['get', '--force', `s3://${bucket}/s3cmd/large.bin`, 'deg-s3cmd.back']);
    assert.equal(sha(await readFile(join(work, 'deg-s3cmd.back'))), sha(large));
    await rclone(['check', 'tree', `strata:${bucket}/rclone`, '--download']);
    await rclone(['copy', `strata:${bucket}/rclone`, 'deg-rclone.back']);
    assert.deepEqual(await readTree(join(work, 'deg-rclone.back')), treeShas());
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'curl/large.bin' }), { expiresIn: 600 });
    await curl(['-o', 'deg-curl.back', getUrl]);
    assert.equal(sha(await readFile(join(work, 'deg-curl.back'))), sha(large));
    // The reads reported the missing shards; the heal job (every second) writes them back.
    await waitFor(() => removed.every((f) => existsSync(f)), 30_000, `the heal of the ${removed.length} removed shard files`);
    // The heal job counts a piece once all of its shards are written back: a shard file can be
    // there a moment before it is counted, so the status is read until it has caught up.
    let healed: unknown;
    await waitFor(
      async () => {
        healed = (await adminCall(server.url, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, 'GET', 'heal/status')).body.healed;
        return (healed as { shards: number }).shards >= removed.length;
      },
      30_000,
      `heal status counting the ${removed.length} healed shards`,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; it last said ${JSON.stringify(healed)}`);
    });
  });
});

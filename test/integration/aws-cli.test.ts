// Real-client tests with Debian's AWS CLI v2 (/usr/bin/aws, 2.9: an "old client" without the
// 2025 checksum defaults): the high-level `aws s3` commands and `aws s3api` with JSON output.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCli, newBucketName, awsCliEnv } from '../helpers/clients.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** Every file under dir → its bytes, keyed by path relative to dir (with `/`). */
async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p).split('\\').join('/'), await readFile(p));
    }
  };
  await walk(dir);
  return out;
}

describe('aws cli (/usr/bin/aws)', () => {
  let server: RunningServer;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let cleanupEnv: () => Promise<void>;
  const bucket = newBucketName('awscli');
  const apiBucket = newBucketName('awscli-api');

  const { aws, s3api } = awsCli(() => ({ url: server.url, env, cwd: work, logs: server.logs, timeoutMs: 180_000 }));

  before(async () => {
    server = await startServer();
    const isolated = await awsCliEnv();
    env = isolated.env;
    work = isolated.dir;
    cleanupEnv = isolated.cleanup;
  });

  after(async () => {
    await server?.stop();
    await cleanupEnv?.();
  });

  const small = Buffer.from('hello from the aws cli\n');
  // 20 MiB: above the CLI's 8 MiB multipart_threshold, so `aws s3 cp` uses multipart upload
  // (3 parts of 8 MiB) and ranged multi-threaded GETs to download. If the server does not
  // implement multipart uploads yet, these cases fail — that is correct, not a test bug.
  const big = randomBytes(20 * 1024 * 1024);

  it('aws s3 mb › new bucket → make_bucket', async () => {
    const r = await aws(['s3', 'mb', `s3://${bucket}`]);
    assert.match(r.stdout, new RegExp(`make_bucket: ${bucket}`));
  });

  it('aws s3 cp › small file up → stored with md5 ETag', async () => {
    await writeFile(join(work, 'small.txt'), small);
    await aws(['s3', 'cp', join(work, 'small.txt'), `s3://${bucket}/small.txt`]);
    const head = await s3api(['head-object', '--bucket', bucket, '--key', 'small.txt']);
    assert.equal(head.ContentLength, small.length);
    assert.equal(head.ETag, `"${md5(small)}"`);
  });

  // MULTIPART: needs CreateMultipartUpload/UploadPart/CompleteMultipartUpload on the server.
  it('aws s3 cp › 20 MiB file up (multipart) → stored, multipart ETag', { timeout: 240_000 }, async () => {
    await writeFile(join(work, 'big.bin'), big);
    await aws(['s3', 'cp', join(work, 'big.bin'), `s3://${bucket}/big.bin`]);
    const head = await s3api(['head-object', '--bucket', bucket, '--key', 'big.bin']);
    assert.equal(head.ContentLength, big.length);
    // 3 parts of 8 MiB, 8 MiB, 4 MiB: ETag = md5(concat(md5(part))) + "-3".
    const partMd5s = [0, 1, 2].map((i) =>
      createHash('md5')
        .update(big.subarray((i * 8) << 20, ((i + 1) * 8) << 20))
        .digest(),
    );
    assert.equal(head.ETag, `"${md5(Buffer.concat(partMd5s))}-3"`);
  });

  it('aws s3 ls › buckets and objects → listed with sizes', async () => {
    const buckets = await aws(['s3', 'ls']);
    assert.match(buckets.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${bucket}$`, 'm'));
    await writeFile(join(work, 'nested.txt'), 'nested');
    await aws(['s3', 'cp', join(work, 'nested.txt'), `s3://${bucket}/dir/sub/nested.txt`]);
    const top = await aws(['s3', 'ls', `s3://${bucket}`]);
    assert.match(top.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +${small.length} small\\.txt$`, 'm'));
    assert.match(top.stdout, /^ +PRE dir\/$/m);
    assert.doesNotMatch(top.stdout, /nested\.txt/);
    const recursive = await aws(['s3', 'ls', '--recursive', `s3://${bucket}`]);
    assert.match(recursive.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +6 dir\/sub\/nested\.txt$/m);
    assert.match(recursive.stdout, new RegExp(` ${small.length} small\\.txt$`, 'm'));
  });

  it('aws s3 cp › download small file → identical bytes', async () => {
    await aws(['s3', 'cp', `s3://${bucket}/small.txt`, join(work, 'small-down.txt')]);
    assert.deepEqual(await readFile(join(work, 'small-down.txt')), small);
  });

  // MULTIPART: depends on the 20 MiB upload above.
  it('aws s3 cp › download 20 MiB file (ranged, parallel) → identical bytes', { timeout: 240_000 }, async () => {
    await aws(['s3', 'cp', `s3://${bucket}/big.bin`, join(work, 'big-down.bin')]);
    const got = await readFile(join(work, 'big-down.bin'));
    assert.equal(got.length, big.length);
    assert.equal(md5(got), md5(big));
  });

  it('aws s3 sync › nested directory up and back down → same tree; re-sync uploads nothing', async () => {
    const src = join(work, 'tree');
    const files: Record<string, string | Buffer> = {
      'top.txt': 'top level',
      'a/one.txt': 'one',
      'a/b/two.txt': 'two',
      'a/b/c/three.bin': randomBytes(100_000),
      'with space/file name.txt': 'spaces',
      'ünïcode/ğüşiöç.txt': 'unicode',
      'plus+sign/a+b.txt': 'plus',
      'empty.txt': '',
    };
    // Local mtimes an hour in the past: `aws s3 sync` re-uploads when the local file is newer
    // than the object's LastModified, which has whole-second precision in S3.
    const past = new Date(Date.now() - 3_600_000);
    for (const [rel, content] of Object.entries(files)) {
      await mkdir(join(src, rel, '..'), { recursive: true });
      await writeFile(join(src, rel), content);
      await utimes(join(src, rel), past, past);
    }
    const up = await aws(['s3', 'sync', src, `s3://${bucket}/tree/`]);
    assert.equal(up.stdout.match(/^upload: /gm)?.length, Object.keys(files).length, up.stdout);

    const again = await aws(['s3', 'sync', src, `s3://${bucket}/tree/`]);
    assert.equal(again.stdout.trim(), '', `second sync should upload nothing:\n${again.stdout}`);

    const dst = join(work, 'tree-down');
    await aws(['s3', 'sync', `s3://${bucket}/tree/`, dst]);
    const [want, got] = await Promise.all([readTree(src), readTree(dst)]);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [rel, bytes] of want) assert.deepEqual(got.get(rel), bytes, `content of ${rel}`);
  });

  it('aws s3 rm --recursive › prefix → all keys under it gone, others kept', async () => {
    const r = await aws(['s3', 'rm', '--recursive', `s3://${bucket}/tree/`]);
    assert.equal(r.stdout.match(/^delete: /gm)?.length, 8, r.stdout);
    // --no-paginate: the CLI's merged pages drop KeyCount.
    const left = await s3api(['list-objects-v2', '--no-paginate', '--bucket', bucket, '--prefix', 'tree/']);
    assert.equal(left.KeyCount, 0);
    assert.equal(left.Contents, undefined);
    const rest = await s3api(['list-objects-v2', '--bucket', bucket]);
    assert.ok(
      rest.Contents.some((o: { Key: string }) => o.Key === 'small.txt'),
      JSON.stringify(rest),
    );
  });

  it('aws s3 rb › non-empty bucket → fails; emptied bucket → removed', async () => {
    const nonEmpty = await aws(['s3', 'rb', `s3://${bucket}`], { expectFailure: true });
    assert.match(nonEmpty.stderr, /BucketNotEmpty/);
    await aws(['s3', 'rm', '--recursive', `s3://${bucket}`]);
    const r = await aws(['s3', 'rb', `s3://${bucket}`]);
    assert.match(r.stdout, new RegExp(`remove_bucket: ${bucket}`));
    const buckets = await aws(['s3', 'ls']);
    assert.doesNotMatch(buckets.stdout, new RegExp(` ${bucket}$`, 'm'));
  });

  it('aws s3api create-bucket / head-bucket / get-bucket-location → JSON as S3', async () => {
    const created = await s3api(['create-bucket', '--bucket', apiBucket]);
    assert.equal(created.Location, `/${apiBucket}`);
    await aws(['s3api', 'head-bucket', '--bucket', apiBucket]);
    const loc = await s3api(['get-bucket-location', '--bucket', apiBucket]);
    assert.equal(loc.LocationConstraint ?? null, null, JSON.stringify(loc));
    const missing = await aws(['s3api', 'head-bucket', '--bucket', `${apiBucket}-none`], { expectFailure: true });
    assert.match(missing.stderr, /404|Not Found/);
  });

  it('aws s3api put-object / head-object / get-object / list-objects-v2 / delete-object → JSON as S3', async () => {
    const body = Buffer.from('s3api body ✓\n');
    await writeFile(join(work, 'api.txt'), body);
    const put = await s3api([
      'put-object',
      '--bucket',
      apiBucket,
      '--key',
      'docs/api file.txt',
      '--body',
      join(work, 'api.txt'),
      '--content-type',
      'text/plain',
      '--metadata',
      'owner=strata,purpose=test',
      '--cache-control',
      'no-store',
    ]);
    assert.equal(put.ETag, `"${md5(body)}"`);

    const head = await s3api(['head-object', '--bucket', apiBucket, '--key', 'docs/api file.txt']);
    assert.equal(head.ContentLength, body.length);
    assert.equal(head.ETag, `"${md5(body)}"`);
    assert.equal(head.ContentType, 'text/plain');
    assert.equal(head.CacheControl, 'no-store');
    assert.deepEqual(head.Metadata, { owner: 'strata', purpose: 'test' });
    assert.ok(head.LastModified, 'LastModified');

    const out = join(work, 'api-down.txt');
    const get = await s3api(['get-object', '--bucket', apiBucket, '--key', 'docs/api file.txt', out]);
    assert.equal(get.ContentLength, body.length);
    assert.equal(get.ETag, `"${md5(body)}"`);
    assert.deepEqual(get.Metadata, { owner: 'strata', purpose: 'test' });
    assert.deepEqual(await readFile(out), body);

    const ranged = await s3api(['get-object', '--bucket', apiBucket, '--key', 'docs/api file.txt', '--range', 'bytes=0-3', out]);
    assert.equal(ranged.ContentRange, `bytes 0-3/${body.length}`);
    assert.deepEqual(await readFile(out), body.subarray(0, 4));

    const list = await s3api(['list-objects-v2', '--no-paginate', '--bucket', apiBucket]);
    assert.equal(list.KeyCount, 1);
    assert.deepEqual(
      list.Contents.map((o: { Key: string; Size: number; ETag: string }) => [o.Key, o.Size, o.ETag]),
      [['docs/api file.txt', body.length, `"${md5(body)}"`]],
    );
    const delimited = await s3api(['list-objects-v2', '--bucket', apiBucket, '--delimiter', '/']);
    assert.deepEqual(delimited.CommonPrefixes, [{ Prefix: 'docs/' }]);

    await aws(['s3api', 'delete-object', '--bucket', apiBucket, '--key', 'docs/api file.txt']);
    const gone = await aws(['s3api', 'head-object', '--bucket', apiBucket, '--key', 'docs/api file.txt'], { expectFailure: true });
    assert.match(gone.stderr, /404|Not Found/);
    const missing = await aws(['s3api', 'get-object', '--bucket', apiBucket, '--key', 'nope', out], { expectFailure: true });
    assert.match(missing.stderr, /NoSuchKey/);

    await aws(['s3api', 'delete-bucket', '--bucket', apiBucket]);
  });
});

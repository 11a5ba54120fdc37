// Debian's AWS CLI (/usr/bin/aws 2.9) with large objects: a 100 MiB `aws s3 cp` both ways
// (multipart upload in 8 MiB parts, 8 MiB ranged GETs down), the multipart API step by step with
// `aws s3api`, `aws s3 mv` of 20 MiB (server-side UploadPartCopy) and an `aws s3 presign` URL
// fetched with curl. The server's access log shows which operations the CLI really used.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CURL, awsCli, describeRun, newBucketName, run, awsCliEnv } from '../helpers/clients.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const multipartEtag = (parts: Buffer[]) =>
  `"${createHash('md5')
    .update(Buffer.concat(parts.map(md5)))
    .digest('hex')}-${parts.length}"`;

/** Writes `size` bytes of a random, non-repeating-per-MiB pattern; resolves with its SHA-256 (hex). */
async function writeLargeFile(path: string, size: number): Promise<string> {
  const pattern = randomBytes(MiB + 4093); // not a divisor of any part size: no two parts alike
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size; ) {
    const chunk = pattern.subarray(0, Math.min(pattern.length, size - written));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    written += chunk.length;
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return hash.digest('hex');
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('aws cli large objects (/usr/bin/aws)', () => {
  let server: RunningServer;
  let env: NodeJS.ProcessEnv;
  let cleanupEnv: () => Promise<void>;
  let work: string;
  const bucket = newBucketName('cli-large');

  /** The server's access log lines since `from` (an offset into server.logs()). */
  const { aws, s3api } = awsCli(() => ({ url: server.url, env, cwd: work, logs: server.logs, timeoutMs: 240_000 }));

  before(async () => {
    server = await startServer();
    work = await mkdtemp(join(tmpdir(), 'strata-cli-large-'));
    const isolated = await awsCliEnv();
    env = isolated.env;
    cleanupEnv = isolated.cleanup;
    await aws(['s3', 'mb', `s3://${bucket}`]);
  });

  after(async () => {
    await server?.stop();
    await cleanupEnv?.();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('aws s3 cp › 100 MiB up (multipart, 13 parts of 8 MiB) and down (8 MiB ranged GETs) → same SHA-256, multipart ETag', { timeout: 300_000 }, async () => {
    const src = join(work, 'big100.bin');
    const dst = join(work, 'big100-down.bin');
    const size = 100 * MiB;
    const sha = await writeLargeFile(src, size);
    try {
      let mark = server.logs().length;
      await aws(['s3', 'cp', src, `s3://${bucket}/big/100mib.bin`]);
      const up = (await server.accessLog(mark)).filter((l) => l.key === 'big/100mib.bin');
      assert.equal(up.filter((l) => l.op === 'UploadPart' && l.status === 200).length, 13, JSON.stringify(up));
      assert.equal(up.filter((l) => l.op === 'CompleteMultipartUpload' && l.status === 200).length, 1);
      assert.equal(up.filter((l) => l.status >= 300).length, 0, JSON.stringify(up));

      const head = await s3api(['head-object', '--bucket', bucket, '--key', 'big/100mib.bin']);
      assert.equal(head.ContentLength, size);
      assert.match(head.ETag, /^"[0-9a-f]{32}-13"$/);

      mark = server.logs().length;
      await aws(['s3', 'cp', `s3://${bucket}/big/100mib.bin`, dst]);
      const down = (await server.accessLog(mark)).filter((l) => l.key === 'big/100mib.bin' && l.op === 'GetObject');
      assert.equal(down.filter((l) => l.status === 206).length, 13, JSON.stringify(down));
      assert.equal(await sha256File(dst), sha);
    } finally {
      await rm(src, { force: true });
      await rm(dst, { force: true });
    }
  });

  it('aws s3api › create-multipart-upload, upload-part ×2 (5 MiB + rest), list-parts, list-multipart-uploads, complete (file://parts.json) → object byte-equal, ETag md5(md5s)-2', {
    timeout: 180_000,
  }, async () => {
    const key = 'api/two parts.bin';
    const parts = [randomBytes(5 * MiB), randomBytes(3 * MiB + 1234)];
    const created = await s3api(['create-multipart-upload', '--bucket', bucket, '--key', key, '--content-type', 'application/x-test']);
    assert.equal(created.Bucket, bucket);
    assert.equal(created.Key, key);
    const uploadId = created.UploadId as string;
    assert.ok(uploadId);

    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const file = join(work, `part${i + 1}.bin`);
      await writeFile(file, part);
      const r = await s3api(['upload-part', '--bucket', bucket, '--key', key, '--upload-id', uploadId, '--part-number', String(i + 1), '--body', file]);
      assert.equal(r.ETag, `"${md5(part).toString('hex')}"`);
      etags.push(r.ETag);
      await rm(file);
    }

    const listed = await s3api(['list-parts', '--bucket', bucket, '--key', key, '--upload-id', uploadId]);
    assert.deepEqual(
      listed.Parts.map((p: { PartNumber: number; Size: number; ETag: string }) => [p.PartNumber, p.Size, p.ETag]),
      [
        [1, parts[0]!.length, etags[0]],
        [2, parts[1]!.length, etags[1]],
      ],
    );
    const uploads = await s3api(['list-multipart-uploads', '--bucket', bucket]);
    assert.ok(
      uploads.Uploads?.some((u: { Key: string; UploadId: string }) => u.Key === key && u.UploadId === uploadId),
      JSON.stringify(uploads),
    );

    const partsJson = join(work, 'parts.json');
    await writeFile(partsJson, JSON.stringify({ Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) }));
    const done = await s3api([
      'complete-multipart-upload',
      '--bucket',
      bucket,
      '--key',
      key,
      '--upload-id',
      uploadId,
      '--multipart-upload',
      `file://${partsJson}`,
    ]);
    assert.equal(done.ETag, multipartEtag(parts));
    assert.equal(done.Key, key);

    const out = join(work, 'two-parts-down.bin');
    const got = await s3api(['get-object', '--bucket', bucket, '--key', key, out]);
    assert.equal(got.ContentLength, parts[0]!.length + parts[1]!.length);
    assert.equal(got.ContentType, 'application/x-test');
    assert.equal(got.ETag, multipartEtag(parts));
    assert.ok((await readFile(out)).equals(Buffer.concat(parts)), 'downloaded bytes differ');
    await rm(out);

    const remaining = await s3api(['list-multipart-uploads', '--bucket', bucket]);
    assert.ok(!remaining.Uploads?.some((u: { UploadId: string }) => u.UploadId === uploadId), JSON.stringify(remaining));
  });

  it('aws s3api › abort-multipart-upload → no longer listed; list-parts and complete → NoSuchUpload; no object', { timeout: 120_000 }, async () => {
    const key = 'api/aborted.bin';
    const { UploadId: uploadId } = await s3api(['create-multipart-upload', '--bucket', bucket, '--key', key]);
    const file = join(work, 'abort-part.bin');
    await writeFile(file, randomBytes(5 * MiB));
    const part = await s3api(['upload-part', '--bucket', bucket, '--key', key, '--upload-id', uploadId, '--part-number', '1', '--body', file]);
    await rm(file);

    const r = await aws(['s3api', 'abort-multipart-upload', '--bucket', bucket, '--key', key, '--upload-id', uploadId]);
    assert.equal(r.stdout.trim(), '');
    const uploads = await s3api(['list-multipart-uploads', '--bucket', bucket]);
    assert.ok(!uploads.Uploads?.some((u: { UploadId: string }) => u.UploadId === uploadId), JSON.stringify(uploads));

    const parts = await aws(['s3api', 'list-parts', '--bucket', bucket, '--key', key, '--upload-id', uploadId], { expectFailure: true });
    assert.match(parts.stderr, /NoSuchUpload/);
    const partsJson = join(work, 'aborted-parts.json');
    await writeFile(partsJson, JSON.stringify({ Parts: [{ ETag: part.ETag, PartNumber: 1 }] }));
    const complete = await aws(
      ['s3api', 'complete-multipart-upload', '--bucket', bucket, '--key', key, '--upload-id', uploadId, '--multipart-upload', `file://${partsJson}`],
      { expectFailure: true },
    );
    assert.match(complete.stderr, /NoSuchUpload/);
    const head = await aws(['s3api', 'head-object', '--bucket', bucket, '--key', key], { expectFailure: true });
    assert.match(head.stderr, /404|Not Found/);
  });

  it('aws s3 mv › 20 MiB object to another key → server-side UploadPartCopy (3 parts), source gone, destination byte-equal', { timeout: 180_000 }, async () => {
    const src = join(work, 'mv20.bin');
    const dst = join(work, 'mv20-down.bin');
    const sha = await writeLargeFile(src, 20 * MiB);
    try {
      await aws(['s3', 'cp', src, `s3://${bucket}/mv/source 20mib.bin`]);
      const mark = server.logs().length;
      const r = await aws(['s3', 'mv', `s3://${bucket}/mv/source 20mib.bin`, `s3://${bucket}/mv/moved+20mib.bin`]);
      assert.match(r.stdout, /^move: s3:\/\/.+ to s3:\/\/.+moved\+20mib\.bin/m);
      const log = await server.accessLog(mark);
      // The bytes never passed through the client: no PutObject or UploadPart, only copies.
      assert.equal(log.filter((l) => l.op === 'UploadPartCopy' && l.key === 'mv/moved+20mib.bin' && l.status === 200).length, 3, JSON.stringify(log));
      assert.equal(log.filter((l) => l.op === 'UploadPart' || l.op === 'PutObject').length, 0, JSON.stringify(log));
      assert.ok(
        log.some((l) => l.op === 'DeleteObject' && l.key === 'mv/source 20mib.bin' && l.status === 204),
        JSON.stringify(log),
      );
      // The CLI reads the source's tags first (--copy-props default): an empty tag set, not 501.
      assert.ok(
        log.some((l) => l.op === 'GetObjectTagging' && l.key === 'mv/source 20mib.bin' && l.status === 200),
        JSON.stringify(log),
      );

      const gone = await aws(['s3api', 'head-object', '--bucket', bucket, '--key', 'mv/source 20mib.bin'], { expectFailure: true });
      assert.match(gone.stderr, /404|Not Found/);
      const head = await s3api(['head-object', '--bucket', bucket, '--key', 'mv/moved+20mib.bin']);
      assert.equal(head.ContentLength, 20 * MiB);
      assert.match(head.ETag, /^"[0-9a-f]{32}-3"$/);
      await aws(['s3', 'cp', `s3://${bucket}/mv/moved+20mib.bin`, dst]);
      assert.equal(await sha256File(dst), sha);
    } finally {
      await rm(src, { force: true });
      await rm(dst, { force: true });
    }
  });

  it('aws s3 presign › URL for an object, fetched with curl → 200 and the bytes; tampered URL → 403', { timeout: 60_000 }, async () => {
    const body = Buffer.from('presigned by the aws cli, fetched by curl\n');
    await writeFile(join(work, 'presign.txt'), body);
    await aws(['s3', 'cp', join(work, 'presign.txt'), `s3://${bucket}/presign/file.txt`]);
    const r = await aws(['s3', 'presign', `s3://${bucket}/presign/file.txt`, '--expires-in', '300']);
    const url = r.stdout.trim();
    assert.ok(url.startsWith(`${server.url}/${bucket}/presign/file.txt?`), url);

    const out = join(work, 'presign-down.txt');
    const got = await run(CURL, ['-sS', '-o', out, '-w', '%{http_code}', url], { timeoutMs: 30_000 });
    assert.equal(got.code, 0, describeRun('curl', got));
    assert.equal(got.stdout, '200');
    assert.deepEqual(await readFile(out), body);

    const tampered = url.replace('presign/file.txt', 'presign/other.txt');
    const bad = await run(CURL, ['-sS', '-o', out, '-w', '%{http_code}', tampered], { timeoutMs: 30_000 });
    assert.equal(bad.stdout, '403', describeRun('curl (tampered)', bad));
    assert.match(await readFile(out, 'utf8'), /<Code>(SignatureDoesNotMatch|AccessDenied)<\/Code>/);
  });
});

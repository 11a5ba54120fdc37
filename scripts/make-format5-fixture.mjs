#!/usr/bin/env node
// Writes test/fixtures/format5-datadir.tar.gz: a data directory made by the previous release
// (metadata format 5, before issue 11) through real S3 requests, plus manifest.json (what is in it:
// every object's SHA-256, the upload in progress and its parts). test/integration/format5-upgrade.test.ts
// opens it with the current server. Run once, with a build of the previous release:
//   git worktree add /tmp/prev edb2e74 && ln -s "$PWD/node_modules" /tmp/prev/node_modules && (cd /tmp/prev && npm run build)
//   node scripts/make-format5-fixture.mjs /tmp/prev/dist/src/main.js
// Bodies repeat a 4 KiB block (so multipart parts of 5 MiB compress to a few kB), all else is real.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

const mainJs = process.argv[2];
if (!mainJs) throw new Error('usage: node scripts/make-format5-fixture.mjs <previous release>/dist/src/main.js');
const out = fileURLToPath(new URL('../test/fixtures/format5-datadir.tar.gz', import.meta.url));
const KiB = 1024;
const MiB = 1024 * KiB;

/** `size` bytes: a 4 KiB block derived from `tag`, repeated. */
function body(tag, size) {
  const block = Buffer.alloc(4 * KiB);
  for (let i = 0; i < 4 * KiB; i += 32) createHash('sha256').update(`${tag}/${i}`).digest().copy(block, i);
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += block.length) block.copy(b, i);
  return b;
}
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

const root = mkdtempSync(join(tmpdir(), 'strata-format5-'));
const dataDir = join(root, 'data');
const child = spawn(process.execPath, [mainJs, '--address', '127.0.0.1:0', '--data', dataDir], {
  env: { ...process.env, STRATA_LOG_LEVEL: 'info' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const stop = () => child.exitCode === null && child.kill('SIGTERM');
process.on('exit', stop);
const port = await new Promise((resolve, reject) => {
  let buf = '';
  const t = setTimeout(() => reject(new Error('the previous release did not start within 30 s')), 30_000);
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s) => {
    buf += s;
    for (const line of buf.split('\n')) {
      if (!line.includes('"msg":"listening"')) continue;
      clearTimeout(t);
      resolve(JSON.parse(line).port);
    }
  });
  child.once('exit', () => reject(new Error(`the previous release exited:\n${buf}`)));
});
const s3 = new S3Client({
  endpoint: `http://127.0.0.1:${port}`,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'rustfsadmin', secretAccessKey: 'rustfssecret' },
});
const manifest = { madeBy: 'edb2e74 (the last release before issue 11), metadata format 5', objects: [], uploads: [], cors: undefined, buckets: [] };

try {
  for (const b of ['photos', 'backups', 'empty-bucket']) {
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    manifest.buckets.push(b);
  }
  const put = async (bucket, key, size, extra = {}) => {
    const b = body(`${bucket}/${key}`, size);
    const r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: b, ...extra }));
    manifest.objects.push({ bucket, key, size, sha256: sha256(b), etag: r.ETag, contentType: extra.ContentType, metadata: extra.Metadata });
  };
  // Small objects (inline in meta.db), unusual keys among them.
  await put('photos', 'empty', 0);
  await put('photos', 'a.txt', 11, { ContentType: 'text/plain', Metadata: { colour: 'blue' } });
  await put('photos', 'ünïcødé/çà et là 🎉.txt', 300);
  await put('photos', 'spaces and+plus&amp=eq?.bin', 1000);
  await put('photos', 'percent%20not-decoded', 64);
  await put('photos', 'deep/a/b/c/d/e/f.json', 2 * KiB, { ContentType: 'application/json' });
  await put('photos', 'dots/../x', 5);
  await put('photos', 'tab\tand\u00a0nbsp', 7);
  // Larger ones (data piece files).
  await put('photos', 'big/300k.bin', 300 * KiB);
  await put('backups', 'big/2m.bin', 2 * MiB, { ContentType: 'application/octet-stream', Metadata: { 'backup-id': '42' } });
  // A completed multipart object.
  {
    const key = 'mp/done.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'backups', Key: key, ContentType: 'application/x-done' }));
    const parts = [body('mp-done/1', 5 * MiB), body('mp-done/2', 100 * KiB)];
    const etags = [];
    for (let i = 0; i < parts.length; i++)
      etags.push((await s3.send(new UploadPartCommand({ Bucket: 'backups', Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }))).ETag);
    const r = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'backups',
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const all = Buffer.concat(parts);
    manifest.objects.push({ bucket: 'backups', key, size: all.length, sha256: sha256(all), etag: r.ETag, contentType: 'application/x-done' });
  }
  // An upload in progress with two parts (the test completes it).
  {
    const key = 'mp/in-progress.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'backups', Key: key, Metadata: { state: 'open' } }));
    const parts = [body('mp-open/1', 5 * MiB), body('mp-open/2', 3 * KiB)];
    const listed = [];
    for (let i = 0; i < parts.length; i++) {
      const r = await s3.send(new UploadPartCommand({ Bucket: 'backups', Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }));
      listed.push({ partNumber: i + 1, etag: r.ETag, size: parts[i].length, sha256: sha256(parts[i]) });
    }
    manifest.uploads.push({
      bucket: 'backups',
      key,
      uploadId: UploadId,
      parts: listed,
      sha256OfAll: sha256(Buffer.concat(parts)),
      metadata: { state: 'open' },
    });
  }
  const cors = {
    CORSRules: [
      { AllowedMethods: ['GET', 'PUT'], AllowedOrigins: ['https://example.com'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 },
    ],
  };
  await s3.send(new PutBucketCorsCommand({ Bucket: 'photos', CORSConfiguration: cors }));
  manifest.cors = { bucket: 'photos', ...cors };
} finally {
  s3.destroy();
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
}
writeFileSync(join(root, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
const tar = spawnSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', out, '-C', root, 'data', 'manifest.json'], {
  stdio: 'inherit',
});
if (tar.status !== 0) throw new Error('tar failed');
rmSync(root, { recursive: true, force: true });
console.log(`wrote ${out}`);

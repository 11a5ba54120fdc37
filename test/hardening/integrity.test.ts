// Damaged data files under a real Strata process (issue 9, data integrity): a piece file truncated,
// extended, with one flipped byte, or deleted, for a single-PUT object above --inline-max and for a
// multipart object. GET answers InternalError (damage seen before the headers) or cuts the
// connection (seen after), never wrong bytes and never a hang; HEAD and listings still show the
// object; the server keeps serving on the same and on new connections; a log line names the
// object; CopyObject and UploadPartCopy from the damaged source fail and store nothing; a range
// that does not touch a damaged block is served. A legacy piece (no block checksums) still reads.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, open, readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import Database from 'better-sqlite3';
import { HEADER_SIZE } from '../../src/store/data/piece-format.js';
import { pieceFiles } from '../helpers/data-dir.js';
import { VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';
import { buildRequest, signRequest } from './raw-http.js';

const MiB = 1024 * 1024;
/** Every client call is bounded: a hang fails the test instead of stalling it. */
const CLIENT_TIMEOUT_MS = 20_000;

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 17 + (i >> 13)) & 0xff;
  return b;
}
const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');

function countPieces(server: RunningServer): number {
  const objects = join(server.dataDir, 'objects');
  let n = 0;
  for (const shard of existsSync(objects) ? readdirSync(objects) : []) n += readdirSync(join(objects, shard)).length;
  return n;
}

async function flipByte(file: string, position: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, position);
    b[0]! ^= 0x40;
    await fh.write(b, 0, 1, position);
  } finally {
    await fh.close();
  }
}

type Outcome =
  | { kind: 'error'; code: string; status: number }
  | { kind: 'cut'; received: number; prefixOk: boolean }
  | { kind: 'ok'; status: number; body: Buffer };

/** A GET through aws-sdk-js, classified: an S3 error, a body cut short, or a complete answer. */
async function getOutcome(
  s3: S3Client,
  bucket: string,
  key: string,
  expected: Buffer,
  opts: { range?: [number, number]; partNumber?: number } = {},
): Promise<Outcome> {
  const range = opts.range ? `bytes=${opts.range[0]}-${opts.range[1]}` : undefined;
  const offset = opts.range?.[0] ?? 0;
  let res;
  try {
    res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range, PartNumber: opts.partNumber }));
  } catch (err) {
    assert.ok(err instanceof S3ServiceException, `GET failed without an S3 error: ${String(err)}`);
    return { kind: 'error', code: err.name, status: err.$metadata.httpStatusCode ?? 0 };
  }
  const chunks: Buffer[] = [];
  try {
    for await (const c of res.Body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  } catch {
    const got = Buffer.concat(chunks);
    return { kind: 'cut', received: got.length, prefixOk: got.equals(expected.subarray(offset, offset + got.length)) };
  }
  return { kind: 'ok', status: res.$metadata.httpStatusCode ?? 0, body: Buffer.concat(chunks) };
}

/** One keep-alive connection with SigV4-signed GETs, reading each answer by its Content-Length. */
class KeptAlive {
  private readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(private readonly port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (c: Buffer) => ((this.buf = Buffer.concat([this.buf, c])), this.wake?.()));
    this.sock.on('close', () => ((this.closed = true), this.wake?.()));
    this.sock.on('error', () => undefined);
  }

  /** The next answer, or 'closed' if the server closed the connection before a complete one. */
  async get(path: string): Promise<{ status: number; body: Buffer } | 'closed'> {
    const { target, headers } = await signRequest({ method: 'GET', port: this.port, path });
    this.sock.write(buildRequest({ method: 'GET', target, headers: [...headers, ['connection', 'keep-alive']] }));
    const deadline = Date.now() + CLIENT_TIMEOUT_MS;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.buf.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (this.buf.length >= end + 4 + length) {
          const body = this.buf.subarray(end + 4, end + 4 + length);
          this.buf = this.buf.subarray(end + 4 + length);
          return { status: Number(head.slice(9, 12)), body };
        }
      }
      if (this.closed) return 'closed';
      assert.ok(Date.now() < deadline, `no complete answer and no close within ${CLIENT_TIMEOUT_MS} ms (a hang)`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}

interface Damage {
  name: string;
  /** Which piece of the object, and what to do to its file. */
  piece: number;
  apply: (file: string) => Promise<void>;
  /** Expected GET of the whole object: an InternalError before the headers, or a cut after them. */
  whole: 'InternalError' | 'cut';
}

const SINGLE_SIZE = 3 * MiB + 5; // 4 blocks of one piece
const PART1 = 5 * MiB; // multipart: 5 MiB + 1 MiB + 7 bytes, two pieces
const PART2 = MiB + 7;

const SINGLE: Damage[] = [
  { name: 'truncated to half', piece: 0, apply: async (f) => truncate(f, Math.floor(SINGLE_SIZE / 2)), whole: 'InternalError' },
  { name: 'extended by 100 bytes', piece: 0, apply: async (f) => appendFile(f, Buffer.alloc(100, 1)), whole: 'InternalError' },
  { name: 'one byte flipped in block 0', piece: 0, apply: async (f) => flipByte(f, HEADER_SIZE + 1000), whole: 'InternalError' },
  { name: 'one byte flipped in block 2', piece: 0, apply: async (f) => flipByte(f, HEADER_SIZE + 2 * MiB + 100), whole: 'cut' },
  { name: 'deleted', piece: 0, apply: async (f) => unlink(f), whole: 'InternalError' },
];
const MULTI: Damage[] = [
  { name: 'part 2 truncated', piece: 1, apply: async (f) => truncate(f, 1000), whole: 'cut' },
  { name: 'part 1 extended', piece: 0, apply: async (f) => appendFile(f, 'x'), whole: 'InternalError' },
  { name: 'one byte flipped in part 2', piece: 1, apply: async (f) => flipByte(f, HEADER_SIZE + 10), whole: 'cut' },
  { name: 'part 2 deleted', piece: 1, apply: async (f) => unlink(f), whole: 'cut' },
];

describe('Data integrity: damaged data files under a real server', () => {
  let server: RunningServer;
  let s3: S3Client;
  let bucket: string;
  const intact = pattern(200 * 1024, 99);

  before(async () => {
    server = await startServer();
    s3 = new S3Client({
      endpoint: server.url,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      requestHandler: new NodeHttpHandler({
        httpAgent: new http.Agent({ keepAlive: true, maxSockets: 4 }),
        requestTimeout: CLIENT_TIMEOUT_MS,
        connectionTimeout: 5000,
      }),
      maxAttempts: 1,
    });
    bucket = newBucketName('integrity');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'intact', Body: intact }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  async function putSingle(key: string): Promise<Buffer> {
    const body = pattern(SINGLE_SIZE, key.length);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    return body;
  }

  async function putMultipart(key: string): Promise<Buffer> {
    const parts = [pattern(PART1, 1), pattern(PART2, 2)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const done = [];
    for (const [i, p] of parts.entries()) {
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: p }));
      done.push({ ETag, PartNumber: i + 1 });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }));
    return Buffer.concat(parts);
  }

  /** What holds for every damage: GET as expected, HEAD/list unaffected, copies refused, server healthy, logged. */
  async function checkDamaged(key: string, body: Buffer, d: Damage): Promise<void> {
    const logFrom = server.logs().length;
    const outcome = await getOutcome(s3, bucket, key, body);
    if (d.whole === 'InternalError') assert.deepEqual(outcome, { kind: 'error', code: 'InternalError', status: 500 }, `GET ${key}`);
    else {
      assert.equal(outcome.kind, 'cut', `GET ${key}: ${JSON.stringify(outcome).slice(0, 200)}`);
      assert.ok(outcome.kind === 'cut' && outcome.prefixOk && outcome.received < body.length, 'a cut body holds only correct bytes, and not all of them');
    }

    // HEAD and the listing never read data: unaffected.
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ContentLength, body.length);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
    assert.deepEqual(
      listed.Contents?.map((o) => [o.Key, o.Size]),
      [[key, body.length]],
    );

    // The server keeps serving, on the kept-alive client (same pool) and on a new connection.
    const again = await getOutcome(s3, bucket, 'intact', intact);
    assert.ok(again.kind === 'ok' && again.body.equals(intact), 'intact object after the damaged GET');
    const fresh = new KeptAlive(server.port);
    try {
      const r = await fresh.get(`/${bucket}/intact`);
      assert.ok(r !== 'closed' && r.status === 200 && r.body.equals(intact));
    } finally {
      fresh.close();
    }

    // Copies from the damaged source fail and store nothing.
    const pieces = countPieces(server);
    const copyErr = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: `${key}.copy`, CopySource: `${bucket}/${key}` })).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(copyErr instanceof S3ServiceException && copyErr.name === 'InternalError', `CopyObject: ${String(copyErr)}`);
    const copyHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${key}.copy` })).then(
      () => 'exists',
      (e: S3ServiceException) => e.name,
    );
    assert.equal(copyHead, 'NotFound', 'CopyObject stored nothing');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${key}.mpu` }));
    const partErr = await s3
      .send(new UploadPartCopyCommand({ Bucket: bucket, Key: `${key}.mpu`, UploadId, PartNumber: 1, CopySource: `${bucket}/${key}` }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(partErr instanceof S3ServiceException && partErr.name === 'InternalError', `UploadPartCopy: ${String(partErr)}`);
    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: `${key}.mpu`, UploadId }));
    assert.equal(parts.Parts?.length ?? 0, 0, 'UploadPartCopy stored no part');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: `${key}.mpu`, UploadId }));
    assert.equal(countPieces(server), pieces, 'no new piece on disk');

    // The operator learns which object and which file.
    const logs = server.logs().slice(logFrom);
    const line = logs
      .split('\n')
      .find((l) => l.includes('"msg":"object data damaged: not served"') && l.includes(`"bucket":"${bucket}"`) && l.includes(`"key":"${key}"`));
    assert.ok(line, `no log line naming ${bucket}/${key}:\n${logs.slice(-2000)}`);
    assert.match(line, /"level":50/);
    assert.ok(line.includes(pieceFileName(key, d)), 'the log line names the piece file');
  }

  const damagedFiles = new Map<string, string>();
  const pieceFileName = (key: string, _d: Damage) => damagedFiles.get(key)!;

  for (const d of SINGLE) {
    it(`GetObject › single-PUT object, data file ${d.name} → ${d.whole === 'cut' ? 'connection cut' : 'InternalError'}; HEAD, list, copies, other requests as expected`, async () => {
      const key = `single/${d.name.replace(/ /g, '-')}`;
      const body = await putSingle(key);
      const file = pieceFiles(server, bucket, key)[d.piece]!;
      damagedFiles.set(key, file);
      await d.apply(file);
      await checkDamaged(key, body, d);
    });
  }

  for (const d of MULTI) {
    it(`GetObject › multipart object, ${d.name} → ${d.whole === 'cut' ? 'connection cut' : 'InternalError'}; HEAD, list, copies, other requests as expected`, async () => {
      const key = `multi/${d.name.replace(/ /g, '-')}`;
      const body = await putMultipart(key);
      const file = pieceFiles(server, bucket, key)[d.piece]!;
      damagedFiles.set(key, file);
      await d.apply(file);
      await checkDamaged(key, body, d);
      // GET ?partNumber: the intact part is served, the damaged one refused before its headers.
      const good = await getOutcome(s3, bucket, key, body, { partNumber: d.piece === 0 ? 2 : 1 });
      const goodRange = d.piece === 0 ? body.subarray(PART1) : body.subarray(0, PART1);
      assert.ok(good.kind === 'ok' && good.status === 206 && good.body.equals(goodRange), `intact part: ${good.kind}`);
      const bad = await getOutcome(s3, bucket, key, body, { partNumber: d.piece + 1 });
      assert.deepEqual(bad, { kind: 'error', code: 'InternalError', status: 500 });
    });
  }

  it('GetObject › ranges: one that does not touch the damaged block is served, one that starts in it → InternalError, one that runs into it → cut; UploadPartCopy likewise', async () => {
    const key = 'ranges';
    const body = await putSingle(key);
    await flipByte(pieceFiles(server, bucket, key)[0]!, HEADER_SIZE + 2 * MiB + 5); // block 2
    for (const range of [
      [0, MiB - 1],
      [MiB + 10, 2 * MiB - 1],
      [3 * MiB, SINGLE_SIZE - 1],
    ] as Array<[number, number]>) {
      const r = await getOutcome(s3, bucket, key, body, { range });
      assert.ok(r.kind === 'ok' && r.status === 206 && r.body.equals(body.subarray(range[0], range[1] + 1)), `range ${range}: ${r.kind}`);
    }
    for (const range of [
      [2 * MiB, 2 * MiB],
      [2 * MiB + 1000, 2 * MiB + 1000],
      [2 * MiB + 10, SINGLE_SIZE - 1],
    ] as Array<[number, number]>) {
      assert.deepEqual(await getOutcome(s3, bucket, key, body, { range }), { kind: 'error', code: 'InternalError', status: 500 }, `range ${range}`);
    }
    // A range that starts in an intact block and runs into the damaged one: the intact byte is
    // sent with the headers, then the connection is cut (the damaged block is never sent).
    assert.deepEqual(await getOutcome(s3, bucket, key, body, { range: [2 * MiB - 1, 2 * MiB] }), { kind: 'cut', received: 1, prefixOk: true });
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ranges.mpu' }));
    const ok = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'ranges.mpu',
        UploadId,
        PartNumber: 1,
        CopySource: `${bucket}/${key}`,
        CopySourceRange: `bytes=0-${2 * MiB - 1}`,
      }),
    );
    assert.equal(ok.CopyPartResult?.ETag, `"${md5hex(body.subarray(0, 2 * MiB))}"`);
    const bad = await s3
      .send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'ranges.mpu',
          UploadId,
          PartNumber: 2,
          CopySource: `${bucket}/${key}`,
          CopySourceRange: `bytes=${2 * MiB}-${3 * MiB}`,
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(bad instanceof S3ServiceException && bad.name === 'InternalError');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'ranges.mpu', UploadId }));
  });

  it('GetObject › keep-alive connection: an InternalError keeps the connection usable; a cut closes it, never a short body followed by the next answer', async () => {
    const early = 'keepalive/early';
    await putSingle(early);
    await flipByte(pieceFiles(server, bucket, early)[0]!, HEADER_SIZE + 7); // block 0: seen before the headers
    const late = 'keepalive/late';
    await putSingle(late);
    await flipByte(pieceFiles(server, bucket, late)[0]!, HEADER_SIZE + 3 * MiB); // block 3: after the headers
    const conn = new KeptAlive(server.port);
    try {
      const r1 = await conn.get(`/${bucket}/${early}`);
      assert.ok(r1 !== 'closed' && r1.status === 500 && r1.body.toString().includes('<Code>InternalError</Code>'));
      const r2 = await conn.get(`/${bucket}/intact`);
      assert.ok(r2 !== 'closed' && r2.status === 200 && r2.body.equals(intact), 'the same connection serves the next request');
      const r3 = await conn.get(`/${bucket}/${late}`);
      assert.equal(r3, 'closed', 'the server closed the connection mid-body');
    } finally {
      conn.close();
    }
  });

  it('GetObject › legacy piece (written before block checksums: raw bytes) → served byte for byte, whole and ranged', async () => {
    const key = 'legacy';
    const body = await putSingle(key);
    const file = pieceFiles(server, bucket, key)[0]!;
    // Rewrite the piece as the previous format stored it: the object bytes alone.
    const raw = await readFile(file);
    await writeFile(file, raw.subarray(HEADER_SIZE, HEADER_SIZE + body.length));
    const whole = await getOutcome(s3, bucket, key, body);
    assert.ok(whole.kind === 'ok' && whole.body.equals(body));
    const part = await getOutcome(s3, bucket, key, body, { range: [MiB - 3, 2 * MiB + 3] });
    assert.ok(part.kind === 'ok' && part.body.equals(body.subarray(MiB - 3, 2 * MiB + 4)));
    const copy = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'legacy.copy', CopySource: `${bucket}/${key}` }));
    assert.equal(copy.CopyObjectResult?.ETag, `"${md5hex(body)}"`);
    await truncate(file, body.length - 1);
    assert.deepEqual(await getOutcome(s3, bucket, key, body), { kind: 'error', code: 'InternalError', status: 500 });
  });

  it('CopyObject / UploadPartCopy › inline source (in SQLite) whose bytes were damaged → InternalError, nothing stored', async () => {
    const key = 'inline-src';
    const small = pattern(1000, 5);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: small }));
    const db = new Database(join(server.dataDir, 'meta.db'), { fileMustExist: true, timeout: 5000 });
    try {
      const damaged = Buffer.from(small);
      damaged[500]! ^= 0x10;
      const changed = db.prepare('UPDATE object_inline SET bytes = ? WHERE bucket = ? AND key = ?').run(damaged, bucket, Buffer.from(key)).changes;
      assert.equal(changed, 1, 'the object is stored inline');
    } finally {
      db.close();
    }
    const copyErr = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: `${key}.copy`, CopySource: `${bucket}/${key}` })).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(copyErr instanceof S3ServiceException && copyErr.name === 'InternalError', `CopyObject: ${String(copyErr)}`);
    assert.equal(
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${key}.copy` })).then(
        () => 'exists',
        (e: S3ServiceException) => e.name,
      ),
      'NotFound',
    );
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${key}.mpu` }));
    const partErr = await s3
      .send(new UploadPartCopyCommand({ Bucket: bucket, Key: `${key}.mpu`, UploadId, PartNumber: 1, CopySource: `${bucket}/${key}` }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(partErr instanceof S3ServiceException && partErr.name === 'InternalError', `UploadPartCopy: ${String(partErr)}`);
    assert.equal((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: `${key}.mpu`, UploadId }))).Parts?.length ?? 0, 0);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: `${key}.mpu`, UploadId }));
    const logged = server
      .logs()
      .split('\n')
      .some((l) => l.includes('"msg":"object data damaged: not served"') && l.includes(`"key":"${key}"`) && l.includes('"inline":true'));
    assert.ok(logged, 'a log line names the inline object');
  });

  it('GetObject (boto3 newest) › flipped byte in block 0 → InternalError; damaged second part → a read error, never a hang or a short body', async () => {
    await putSingle('boto/flip');
    await flipByte(pieceFiles(server, bucket, 'boto/flip')[0]!, HEADER_SIZE + 1);
    const multi = await putMultipart('boto/multi');
    await truncate(pieceFiles(server, bucket, 'boto/multi')[1]!, 10);
    const script = `
import sys, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='${REGION}', aws_access_key_id='${ACCESS_KEY}', aws_secret_access_key='${SECRET_KEY}',
                  config=Config(s3={'addressing_style': 'path'}, retries={'total_max_attempts': 1}, read_timeout=20, connect_timeout=5))
try:
    s3.get_object(Bucket=sys.argv[2], Key='boto/flip')['Body'].read()
    print('flip: served')
except ClientError as e:
    print('flip:', e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'])
try:
    body = s3.get_object(Bucket=sys.argv[2], Key='boto/multi')['Body'].read()
    print('multi: served', len(body))
except ClientError as e:
    print('multi: error', e.response['Error']['Code'])
except Exception as e:
    print('multi: read failed', type(e).__name__)
print('intact:', len(s3.get_object(Bucket=sys.argv[2], Key='intact')['Body'].read()))
`;
    const { env, cleanup } = await isolatedClientEnv();
    try {
      const r = await run(VENV_PYTHON, ['-c', script, server.url, bucket], { env, timeoutMs: 90_000 });
      assert.equal(r.code, 0, describeRun('boto3', r));
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines[0], 'flip: InternalError 500', r.stdout);
      assert.match(lines[1]!, /^multi: read failed \w+$/, `${r.stdout} (object of ${multi.length} bytes)`);
      assert.equal(lines[2], `intact: ${intact.length}`);
    } finally {
      await cleanup();
    }
  });
});

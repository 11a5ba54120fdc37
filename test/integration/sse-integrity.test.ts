// Sealed (SSE-C) objects damaged on disk under a real server: the tampering the sealed-piece format
// (src/store/sealed.ts) must catch, over HTTP with aws-sdk-js. A large object's data file is changed
// the way an attacker with write access to the disk would (the piece file rebuilt with fresh block
// checksums, so only the sealed format can tell) and the naive way (the data store's block checksums
// tell first): a byte flipped in package 0, in a middle package, in the last tag, in the header; the
// piece cut short; two packages swapped; two objects' files swapped. A small object's sealed bytes
// in its SQLite row: a byte flipped, the row cut. Every GET and range GET covering the damage is an
// error (500 InternalError before the headers, or a connection cut after correct bytes), never a
// wrong byte; a range elsewhere reads right; the log names the object with the damage line. A wrong
// key is 403 and a missing one 400 even on intact data. And the data directory (data files, the
// SQLite database and its WAL) holds no plaintext of an encrypted object, while it does hold an
// unencrypted one's (the control: the search can fail).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { BLOCK_SIZE, HEADER_SIZE, encodeFooter, parseHeader } from '../../src/store/data/piece-format.js';
import { SEALED_HEADER_BYTES, SEALED_TAG_BYTES, sealedSize } from '../../src/store/sealed.js';
import { DAMAGED } from '../../src/store/verified-read.js';
import { newBucketName } from '../helpers/clients.js';
import { pieceFiles } from '../helpers/data-dir.js';
import { errorOf, sseCustomer, testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const KiB = 1024;
const PKG = 64 * KiB;
const STRIDE = PKG + SEALED_TAG_BYTES;
/** Six packages: five full, the last of 100 bytes; above the 128 KiB inline limit: a data file. */
const BIG = 5 * PKG + 100;
const SMALL = 3000;

const KEY = sseCustomer(0x5a);
const OTHER_KEY = sseCustomer(0x21);

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 17 + (i >> 9)) & 0xff;
  return b;
}

/** Where a sealed package starts in the sealed bytes. */
const packageAt = (i: number) => SEALED_HEADER_BYTES + i * STRIDE;

type Outcome = { kind: 'error'; code: string; status: number } | { kind: 'cut'; received: number; prefixOk: boolean } | { kind: 'ok'; body: Buffer };

/** A GET with the customer's key, classified: an S3 error, a body cut short, or a complete answer. */
async function getOutcome(s3: S3Client, bucket: string, key: string, expected: Buffer, range?: [number, number]): Promise<Outcome> {
  let res;
  try {
    res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range && `bytes=${range[0]}-${range[1]}`, ...KEY }));
  } catch (err) {
    assert.ok(err instanceof S3ServiceException, `GET failed without an S3 error: ${String(err)}`);
    return { kind: 'error', code: err.name, status: err.$metadata.httpStatusCode ?? 0 };
  }
  const chunks: Buffer[] = [];
  const offset = range?.[0] ?? 0;
  try {
    for await (const c of res.Body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  } catch {
    const got = Buffer.concat(chunks);
    return { kind: 'cut', received: got.length, prefixOk: got.equals(expected.subarray(offset, offset + got.length)) };
  }
  return { kind: 'ok', body: Buffer.concat(chunks) };
}

/** The data file of an object stored as one piece. */
function pieceFile(server: RunningServer, bucket: string, key: string): string {
  const files = pieceFiles(server, bucket, key);
  assert.equal(files.length, 1, 'one piece');
  return files[0]!;
}

/**
 * Rewrites a data file's sealed bytes with `change` and fresh block checksums (a consistent piece
 * file of the data store's format): only the sealed format can tell the change.
 */
async function rewriteSealed(file: string, plain: number, change: (sealed: Buffer) => Buffer): Promise<void> {
  const raw = await readFile(file);
  const header = raw.subarray(0, HEADER_SIZE);
  const sealed = change(Buffer.from(raw.subarray(HEADER_SIZE, HEADER_SIZE + sealedSize(plain))));
  const parsed = parseHeader(header);
  if ('error' in parsed) throw new Error(`${file}: ${parsed.error}`);
  const digests: Buffer[] = [];
  for (let at = 0; at < sealed.length; at += BLOCK_SIZE) digests.push(parsed.hash.digest(sealed.subarray(at, at + BLOCK_SIZE)));
  await writeFile(file, Buffer.concat([header, sealed, encodeFooter(header, digests, sealed.length)]));
}

const flip =
  (at: number) =>
  (b: Buffer): Buffer => {
    b[at]! ^= 0x40;
    return b;
  };

interface Damage {
  name: string;
  change: (sealed: Buffer) => Buffer;
  /** The plaintext bytes whose packages no longer open, [from, to] (the header: all of them). */
  from: number;
  to: number;
}

const DAMAGES: Damage[] = [
  { name: 'a byte flipped in package 0', change: flip(packageAt(0) + 10), from: 0, to: PKG - 1 },
  { name: 'a byte flipped in a middle package (2)', change: flip(packageAt(2) + 1000), from: 2 * PKG, to: 3 * PKG - 1 },
  { name: 'a byte flipped in the last tag', change: (b) => flip(b.length - 3)(b), from: 5 * PKG, to: BIG - 1 },
  { name: 'a byte flipped in the header salt', change: flip(20), from: 0, to: BIG - 1 },
  {
    name: 'packages 1 and 3 swapped',
    change: (b) => {
      const one = Buffer.from(b.subarray(packageAt(1), packageAt(2)));
      b.copy(b, packageAt(1), packageAt(3), packageAt(4));
      one.copy(b, packageAt(3));
      return b;
    },
    from: PKG,
    to: 4 * PKG - 1,
  },
];

describe('SSE-C objects damaged on disk: an error, never wrong bytes', { timeout: 300_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('sse-integ');

  before(async () => {
    server = await startServer({ args: ['--sse-c-over-http', 'yes'] });
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  const put = async (key: string, body: Buffer, sse = KEY) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...sse }));
  const damageLogged = (key: string, from: number) =>
    server
      .logs()
      .slice(from)
      .split('\n')
      .some((l) => l.includes(`"msg":"${DAMAGED}"`) && l.includes(`"key":"${key}"`));

  /** What every damage must give: reads covering it fail, reads elsewhere are right, HEAD works, a log line. */
  async function checkDamaged(key: string, body: Buffer, { from, to }: Damage): Promise<void> {
    const logFrom = server.logs().length;
    const whole = await getOutcome(s3, bucket, key, body);
    if (from === 0) assert.deepEqual(whole, { kind: 'error', code: 'InternalError', status: 500 });
    else {
      assert.ok(whole.kind !== 'ok', 'the whole object is not served');
      if (whole.kind === 'cut') assert.ok(whole.prefixOk && whole.received <= from, `cut after ${whole.received} bytes (damage from ${from})`);
      else assert.deepEqual(whole, { kind: 'error', code: 'InternalError', status: 500 });
    }
    // A range starting in the damaged package: refused before the headers.
    const pkgEnd = Math.min(body.length - 1, from + PKG - 1);
    for (const range of [
      [from, from],
      [pkgEnd, pkgEnd],
      [from + 7, body.length - 1],
    ] as Array<[number, number]>) {
      assert.deepEqual(await getOutcome(s3, bucket, key, body, range), { kind: 'error', code: 'InternalError', status: 500 }, `range ${range}`);
    }
    // A range running into it from an intact package: intact bytes, then the cut.
    if (from > 0) {
      const into = await getOutcome(s3, bucket, key, body, [from - 5, from + 5]);
      assert.ok(
        into.kind === 'cut' ? into.prefixOk && into.received <= 5 : into.kind === 'error' && into.status === 500,
        `range into the damage: ${into.kind}`,
      );
    }
    // Ranges that do not touch the damaged packages read right (a header damage spoils all).
    const intactRanges: Array<[number, number]> = [];
    if (from > 0) intactRanges.push([0, from - 1], [from - PKG + 3, from - 1]);
    if (to < body.length - 1) intactRanges.push([to + 1, body.length - 1], [to + 1, to + 1]);
    for (const range of intactRanges) {
      const r = await getOutcome(s3, bucket, key, body, range);
      assert.ok(r.kind === 'ok' && r.body.equals(body.subarray(range[0], range[1] + 1)), `intact range ${range}: ${r.kind}`);
    }
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...KEY }));
    assert.equal(head.ContentLength, body.length, 'HEAD reads no data: still answered');
    assert.ok(damageLogged(key, logFrom), `a "${DAMAGED}" log line names ${key}`);
  }

  for (const [i, d] of DAMAGES.entries()) {
    it(`data file › ${d.name}, checksums rebuilt (only the sealed format can tell) → error for every read covering it`, async () => {
      const key = `big/rebuilt-${i}`;
      const body = pattern(BIG, i + 1);
      await put(key, body);
      await rewriteSealed(pieceFile(server, bucket, key), BIG, d.change);
      await checkDamaged(key, body, d);
    });
  }

  it('data file › a byte flipped in a middle package, block checksums left as they were → error (the data store tells first)', async () => {
    const key = 'big/naive-flip';
    const body = pattern(BIG, 40);
    await put(key, body);
    const file = pieceFile(server, bucket, key);
    const raw = await readFile(file);
    raw[HEADER_SIZE + packageAt(3) + 77]! ^= 1;
    await writeFile(file, raw);
    // The data store checks 1 MiB blocks: the whole piece is one block, so every read of it fails.
    assert.deepEqual(await getOutcome(s3, bucket, key, body), { kind: 'error', code: 'InternalError', status: 500 });
    assert.deepEqual(await getOutcome(s3, bucket, key, body, [3 * PKG, 3 * PKG + 10]), { kind: 'error', code: 'InternalError', status: 500 });
  });

  it('data file › cut after package 3 (checksums rebuilt), and truncated to half → InternalError', async () => {
    const body = pattern(BIG, 41);
    await put('big/cut', body);
    await rewriteSealed(pieceFile(server, bucket, 'big/cut'), BIG, (b) => b.subarray(0, packageAt(4)));
    assert.deepEqual(await getOutcome(s3, bucket, 'big/cut', body), { kind: 'error', code: 'InternalError', status: 500 });
    assert.deepEqual(await getOutcome(s3, bucket, 'big/cut', body, [0, 10]), { kind: 'error', code: 'InternalError', status: 500 });
    await put('big/half', body);
    const file = pieceFile(server, bucket, 'big/half');
    await truncate(file, Math.floor(statSync(file).size / 2));
    assert.deepEqual(await getOutcome(s3, bucket, 'big/half', body), { kind: 'error', code: 'InternalError', status: 500 });
  });

  it("data file › two objects' files swapped (same size, same customer key) → InternalError for both; the log names them", async () => {
    const a = pattern(BIG, 50);
    const b = pattern(BIG, 51);
    await put('swap/a', a);
    await put('swap/b', b);
    const fa = pieceFile(server, bucket, 'swap/a');
    const fb = pieceFile(server, bucket, 'swap/b');
    const logFrom = server.logs().length;
    await rename(fa, `${fa}.tmp`);
    await rename(fb, fa);
    await rename(`${fa}.tmp`, fb);
    assert.deepEqual(await getOutcome(s3, bucket, 'swap/a', a), { kind: 'error', code: 'InternalError', status: 500 });
    assert.deepEqual(await getOutcome(s3, bucket, 'swap/b', b, [PKG, 2 * PKG]), { kind: 'error', code: 'InternalError', status: 500 });
    assert.ok(damageLogged('swap/a', logFrom) && damageLogged('swap/b', logFrom));
  });

  /** Replaces the sealed bytes of an inline object's SQLite row with `change` of them. */
  function changeInline(key: string, change: (b: Buffer) => Buffer): void {
    const db = new Database(join(server.dataDir, 'meta.db'), { fileMustExist: true, timeout: 5000 });
    try {
      const row = db.prepare('SELECT bytes FROM object_inline WHERE bucket = ? AND key = ?').get(bucket, Buffer.from(key)) as { bytes: Buffer } | undefined;
      assert.ok(row, 'the object is stored inline');
      assert.equal(row.bytes.length, sealedSize(SMALL), 'the row holds the sealed piece');
      db.prepare('UPDATE object_inline SET bytes = ? WHERE bucket = ? AND key = ?').run(change(Buffer.from(row.bytes)), bucket, Buffer.from(key));
    } finally {
      db.close();
    }
  }

  // The metadata store refuses a row of the wrong length itself (an internal error naming the object).
  const WRONG_SIZE = 'are missing or of the wrong size';
  for (const [name, change, logged] of [
    ['a byte flipped in the ciphertext', flip(SEALED_HEADER_BYTES + 1500), DAMAGED],
    ['a byte flipped in the tag', (b: Buffer) => flip(b.length - 1)(b), DAMAGED],
    ['a byte flipped in the header', flip(5), DAMAGED],
    ['the row cut by one byte', (b: Buffer) => b.subarray(0, b.length - 1), WRONG_SIZE],
  ] as Array<[string, (b: Buffer) => Buffer, string]>) {
    it(`inline row › ${name} → InternalError for GET and every range; HEAD answered; logged`, async () => {
      const key = `small/${name.replace(/\W+/g, '-')}`;
      const body = pattern(SMALL, key.length);
      await put(key, body);
      changeInline(key, change);
      const logFrom = server.logs().length;
      assert.deepEqual(await getOutcome(s3, bucket, key, body), { kind: 'error', code: 'InternalError', status: 500 });
      assert.deepEqual(await getOutcome(s3, bucket, key, body, [0, 0]), { kind: 'error', code: 'InternalError', status: 500 });
      assert.deepEqual(await getOutcome(s3, bucket, key, body, [2000, 2999]), { kind: 'error', code: 'InternalError', status: 500 });
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...KEY }))).ContentLength, SMALL);
      assert.ok(
        server
          .logs()
          .slice(logFrom)
          .split('\n')
          .some((l) => l.includes(logged) && l.includes(key) && l.includes('"level":50')),
        `an error line "${logged}" names the inline object`,
      );
    });
  }

  it('intact data › a wrong key → 403 AccessDenied (GET, HEAD, range); no key → 400 InvalidRequest; the right key reads byte for byte', async () => {
    for (const [key, size] of [
      ['keys/big', BIG],
      ['keys/small', SMALL],
    ] as Array<[string, number]>) {
      const body = pattern(size, 60);
      await put(key, body);
      const wrong = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...OTHER_KEY })));
      assert.equal(wrong.$metadata.httpStatusCode, 403);
      assert.equal(wrong.name, 'AccessDenied');
      const wrongRange = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=0-0', ...OTHER_KEY })));
      assert.equal(wrongRange.$metadata.httpStatusCode, 403);
      const wrongHead = await errorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...OTHER_KEY })));
      assert.equal(wrongHead.$metadata.httpStatusCode, 403);
      const none = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
      assert.equal(none.$metadata.httpStatusCode, 400);
      assert.equal(none.name, 'InvalidRequest');
      assert.match(none.message, /correct parameters must be provided/);
      const noneHead = await errorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
      assert.equal(noneHead.$metadata.httpStatusCode, 400);
      const ok = await getOutcome(s3, bucket, key, body);
      assert.ok(ok.kind === 'ok' && ok.body.equals(body));
    }
  });

  it('the data directory holds no plaintext of encrypted objects (data files, SQLite database and WAL); an unencrypted control is found', async () => {
    const canary = (tag: string, n: number) => {
      const unit = Buffer.from(`<<strata plaintext canary ${tag}>>`);
      return Buffer.concat(Array.from({ length: Math.ceil(n / unit.length) }, () => unit)).subarray(0, n);
    };
    await put('canary/big', canary('sealed-big', BIG));
    await put('canary/small', canary('sealed-small', SMALL));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'canary/plain-big', Body: canary('plain-big', BIG) }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'canary/plain-small', Body: canary('plain-small', SMALL) }));
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.isFile()) files.push(join(dir, e.name));
      }
    };
    walk(server.dataDir);
    assert.ok(files.some((f) => f.endsWith('meta.db')));
    const found = (needle: string) => {
      const bytes = Buffer.from(`<<strata plaintext canary ${needle}>>`);
      return files.filter((f) => {
        try {
          return readFileSync(f).includes(bytes);
        } catch {
          return false;
        }
      });
    };
    assert.deepEqual(found('sealed-big'), [], 'no plaintext of the large SSE-C object');
    assert.deepEqual(found('sealed-small'), [], 'no plaintext of the inline SSE-C object');
    assert.ok(found('plain-big').length > 0, 'control: the unencrypted large object is found in a data file');
    assert.ok(found('plain-small').length > 0, 'control: the unencrypted inline object is found in the database or its WAL');
  });
});

// objectBody for bodies of 1 MiB and more, whose MD5 and signed SHA-256 a worker thread computes
// (store/hash-offload.ts): the same digests and the same verdicts as in place — Content-MD5,
// x-amz-content-sha256, length — and a failed body leaves no hash stream open.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { offloadStats, openOffloadStreams, setHashOffload } from '../store/hash-offload.js';
import { objectBody } from './body.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';

const MiB = 1024 * 1024;

function* inChunks(data: Buffer, size: number): Generator<Buffer> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

function ctxOf(body: Buffer, headers: Record<string, string>, payloadHash = 'UNSIGNED-PAYLOAD', declared = body.length): RequestContext {
  const req = Readable.from(inChunks(body, 65536), { objectMode: false }) as Readable & { complete: boolean };
  req.complete = true;
  return {
    req,
    headers: { 'content-length': String(declared), ...headers },
    auth: { accessKey: 'rustfsadmin', payloadHash, signingKey: Buffer.alloc(0), signature: '', scope: '', amzDate: '', presigned: false },
    op: 'PutObject',
    bodyPolicy: 'stream',
  } as unknown as RequestContext;
}

async function consume(ctx: RequestContext): Promise<{ data: Buffer; md5: string; size: number }> {
  const body = objectBody(ctx);
  const parts: Buffer[] = [];
  for await (const b of body.source) parts.push(b);
  const d = body.digest();
  return { data: Buffer.concat(parts), md5: d.md5, size: d.size };
}

async function codeOf(ctx: RequestContext): Promise<string> {
  try {
    await consume(ctx);
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
  return 'no error';
}

async function noStreamLeft(): Promise<void> {
  for (let i = 0; i < 100 && openOffloadStreams() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(openOffloadStreams(), 0);
}

describe('objectBody, large bodies (hashed off the event loop)', () => {
  // The offload is off until serve.ts turns it on (offloadWorthIt); these cases need it on.
  let streamsBefore = 0;
  before(() => {
    setHashOffload(true);
    streamsBefore = offloadStats.streams;
  });
  after(() => {
    setHashOffload(false);
    assert.ok(offloadStats.streams > streamsBefore, 'the bodies went to the hash worker');
  });
  const body = randomBytes(3 * MiB + 17);
  const md5 = createHash('md5').update(body);
  const md5Hex = md5.copy().digest('hex');
  const md5B64 = md5.digest('base64');
  const sha256 = createHash('sha256').update(body).digest('hex');

  it('the bytes pass unchanged; the MD5 is that of the bytes; right Content-MD5 and signed SHA-256 are accepted', async () => {
    const r = await consume(ctxOf(body, { 'content-md5': md5B64 }, sha256));
    assert.ok(r.data.equals(body));
    assert.equal(r.md5, md5Hex);
    assert.equal(r.size, body.length);
    await noStreamLeft();
  });

  it('a wrong Content-MD5 → BadDigest; a wrong signed SHA-256 → XAmzContentSHA256Mismatch', async () => {
    const wrongMd5 = createHash('md5').update('other').digest('base64');
    assert.equal(await codeOf(ctxOf(body, { 'content-md5': wrongMd5 })), 'BadDigest');
    assert.equal(await codeOf(ctxOf(body, {}, createHash('sha256').update('other').digest('hex'))), 'XAmzContentSHA256Mismatch');
    await noStreamLeft();
  });

  it('a body shorter than its Content-Length → IncompleteBody; no hash stream left open', async () => {
    assert.equal(await codeOf(ctxOf(body, {}, 'UNSIGNED-PAYLOAD', body.length + 1)), 'IncompleteBody');
    await noStreamLeft();
  });

  it('a consumer that stops after 2 MiB (the data store failed) → the hash stream is dropped', async () => {
    const b = objectBody(ctxOf(body, {}));
    let seen = 0;
    for await (const chunk of b.source) {
      seen += chunk.length;
      if (seen >= 2 * MiB) break;
    }
    await noStreamLeft();
  });
});

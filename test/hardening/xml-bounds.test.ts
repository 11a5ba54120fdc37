// XML request bodies are bounded per operation before they are parsed (issue 9): a DeleteObjects
// listing more than 1000 keys is refused as soon as the 1001st <Object> arrives, a declared length
// over the operation's bound before a body byte is read, and the server keeps answering other
// requests while many large bodies are in flight. Each refusal here arrives although the client
// sent only part of its body (the rest is never sent): the server cannot have read it all.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../helpers/server.js';
import { assertS3Error, buildRequest, rawExchange, signRequest, type RawResponse } from './raw-http.js';

const BUCKET = 'xml-bounds';
const MiB = 1024 * 1024;

describe('XML bodies: bounded before parsing, refused early', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let uploadId: string;

  /** Headers of a signed request whose body is UNSIGNED-PAYLOAD (so it can be cut short), with `extra` headers. */
  async function head(method: string, path: string, query: Record<string, string>, extra: Record<string, string>): Promise<Buffer> {
    const s = await signRequest({ method, port: server.port, path, query, payloadHash: 'UNSIGNED-PAYLOAD', headers: extra });
    return buildRequest({ method, target: s.target, headers: s.headers, contentLength: false });
  }
  function expectError(res: RawResponse, status: number, code: string, what: string): void {
    const err = assertS3Error(res, what);
    assert.equal(res.status, status, `${what}: ${res.body.toString()}`);
    assert.equal(err.code, code, `${what}: ${res.body.toString()}`);
  }
  async function put(key: string): Promise<void> {
    const s = await signRequest({ method: 'PUT', port: server.port, path: `/${BUCKET}/${key}`, body: 'x' });
    assert.equal((await rawExchange(server.port, buildRequest({ method: 'PUT', target: s.target, headers: s.headers, body: 'x' }))).status, 200);
  }
  async function status(method: string, path: string): Promise<number> {
    const s = await signRequest({ method, port: server.port, path });
    return (await rawExchange(server.port, buildRequest({ method, target: s.target, headers: s.headers }), { head: method === 'HEAD' })).status;
  }

  before(async () => {
    server = await startServer();
    assert.equal(await status('PUT', `/${BUCKET}`), 200);
    await put('keep');
    const init = await signRequest({ method: 'POST', port: server.port, path: `/${BUCKET}/mp`, query: { uploads: '' } });
    const created = await rawExchange(server.port, buildRequest({ method: 'POST', target: init.target, headers: init.headers }));
    uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())![1]!;
  });
  after(async () => {
    await server?.stop();
  });

  const manyKeys = (n: number) => `<Delete>${'<Object><Key>keep</Key></Object>'}${'<Object><Key>k</Key></Object>'.repeat(n - 1)}</Delete>`;

  it('DeleteObjects › 2 MB body of 70,000 keys, only its first 256 KiB sent → 400 MalformedXML, nothing deleted', async () => {
    const body = Buffer.from(manyKeys(70_000));
    assert.ok(body.length > 2_000_000);
    const h = await head('POST', `/${BUCKET}`, { delete: '' }, { 'content-length': String(body.length) });
    const res = await rawExchange(server.port, Buffer.concat([h, body.subarray(0, 256 * 1024)]));
    expectError(res, 400, 'MalformedXML', 'declared 2 MB, partly sent');
    assert.match(res.body.toString(), /1000 Object/);
    assert.equal(await status('HEAD', `/${BUCKET}/keep`), 200);
  });

  it('DeleteObjects › chunked body of 70,000 keys, only its first 256 KiB sent → 400 MalformedXML', async () => {
    const part = Buffer.from(manyKeys(70_000)).subarray(0, 256 * 1024);
    const h = await head('POST', `/${BUCKET}`, { delete: '' }, { 'transfer-encoding': 'chunked' });
    const res = await rawExchange(server.port, Buffer.concat([h, Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]));
    expectError(res, 400, 'MalformedXML', 'chunked, partly sent');
  });

  it('DeleteObjects, CompleteMultipartUpload, PutBucketCors, CreateBucket › declared length over the bound, no body byte sent → 400 MalformedXML', async () => {
    const cases: Array<[string, string, Record<string, string>, number]> = [
      ['POST', `/${BUCKET}`, { delete: '' }, 4 * MiB + 1],
      ['POST', `/${BUCKET}/mp`, { uploadId }, 4 * MiB + 1],
      ['PUT', `/${BUCKET}`, { cors: '' }, 64 * 1024 + 1],
      ['PUT', '/xml-bounds-new', {}, 64 * 1024 + 1],
    ];
    for (const [method, path, query, length] of cases) {
      const h = await head(method, path, query, { 'content-length': String(length) });
      const res = await rawExchange(server.port, h);
      expectError(res, 400, 'MalformedXML', `${method} ${path} ${length}`);
    }
    assert.equal(await status('HEAD', '/xml-bounds-new'), 404);
  });

  it('CompleteMultipartUpload › 10,001 <Part>s, body partly sent → 400 MalformedXML', async () => {
    const body = Buffer.from(`<CompleteMultipartUpload>${'<Part><PartNumber>1</PartNumber><ETag>"e"</ETag></Part>'.repeat(12_000)}</CompleteMultipartUpload>`);
    const h = await head('POST', `/${BUCKET}/mp`, { uploadId }, { 'content-length': String(body.length) });
    const res = await rawExchange(server.port, Buffer.concat([h, body.subarray(0, Math.floor(body.length * 0.9))]));
    expectError(res, 400, 'MalformedXML', '10,001 parts');
    assert.match(res.body.toString(), /10000 Part/);
  });

  it('DeleteObjects › 16 near-limit bodies (1000 keys of 1 KiB) in flight at once → a HEAD is answered meanwhile; sent whole, each is answered 200', async () => {
    const keys = (i: number) => Array.from({ length: 1000 }, (_, n) => `${String(i).padStart(2, '0')}-${String(n).padStart(4, '0')}-${'k'.repeat(1010)}`);
    const bodies = Array.from({ length: 16 }, (_, i) =>
      Buffer.from(
        `<Delete><Quiet>true</Quiet>${keys(i)
          .map((k) => `<Object><Key>${k}</Key></Object>`)
          .join('')}</Delete>`,
      ),
    );
    const heads = await Promise.all(bodies.map((b) => head('POST', `/${BUCKET}`, { delete: '' }, { 'content-length': String(b.length) })));
    // Send all but the last bytes of each: 16 large bodies held open in the server.
    const inFlight = await Promise.all(
      bodies.map(async (b, i) => {
        const sock = net.connect({ host: '127.0.0.1', port: server.port });
        sock.on('error', () => undefined);
        await new Promise<void>((r) => sock.write(Buffer.concat([heads[i]!, b.subarray(0, b.length - 10)]), () => r()));
        return sock;
      }),
    );
    try {
      assert.equal(await status('HEAD', `/${BUCKET}/keep`), 200, 'HEAD answered while 16 large bodies are in flight');
    } finally {
      for (const s of inFlight) s.destroy();
    }
    // The same bodies, sent whole and at once: each is parsed and answered 200, and a HEAD still is.
    const whole = bodies.map((b, i) => rawExchange(server.port, Buffer.concat([heads[i]!, b]), { timeoutMs: 60_000 }));
    assert.equal(await status('HEAD', `/${BUCKET}/keep`), 200);
    for (const res of await Promise.all(whole)) assert.equal(res.status, 200, res.body.toString());
  });
});

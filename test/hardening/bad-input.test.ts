// Bad input against a real Strata process, over raw sockets: each gets the S3 error a client expects
// (status, Code, well-formed XML), nothing is stored, and the server keeps serving. Keys that look
// like paths (../../x, /, .., .) are plain keys: nothing outside the data directory is touched.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startServer, type RunningServer } from '../helpers/server.js';
import {
  answerBeforeBody,
  assertS3Error,
  buildRequest,
  encodeKey,
  leakIn,
  parseResponse,
  parseXmlBody,
  rawExchange,
  signRequest,
  waitFor,
  type RawResponse,
} from './raw-http.js';

const BUCKET = 'bad-input';

interface SendOptions {
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Sign with SigV4 (default true). */
  signed?: boolean;
  /** Replace the signer's target (e.g. a raw, unnormalised path). */
  target?: string;
  /** Extra raw header lines added after signing (unsigned). */
  rawHeaders?: Array<[string, string]>;
  /** Omit the automatic Content-Length. */
  noContentLength?: boolean;
}

describe('bad input: the S3 error a client expects, nothing stored, the server keeps serving', { timeout: 90_000 }, () => {
  let server: RunningServer;
  let outer: string;
  let dataDir: string;
  const errorBodies: string[] = [];

  async function send(method: string, path: string, o: SendOptions = {}): Promise<RawResponse> {
    let target = o.target ?? path;
    let headers: Array<[string, string]> = Object.entries(o.headers ?? {});
    if (o.signed !== false) {
      const s = await signRequest({ method, port: server.port, path, query: o.query, headers: o.headers, body: o.body });
      headers = s.headers;
      target = o.target ?? s.target;
    } else if (o.query) {
      const qs = new URLSearchParams(o.query as Record<string, string>).toString();
      if (qs) target = `${target}?${qs}`;
    }
    headers.push(...(o.rawHeaders ?? []));
    const res = await rawExchange(server.port, buildRequest({ method, target, headers, body: o.body, contentLength: !o.noContentLength }), {
      head: method === 'HEAD',
    });
    if (res.status >= 300 && method !== 'HEAD') errorBodies.push(res.body.toString('utf8'));
    return res;
  }

  /** Asserts status and Code of an error answer (XML shape checked by assertS3Error). */
  function expectError(res: RawResponse, status: number, code: string, what: string): ReturnType<typeof assertS3Error> {
    const err = assertS3Error(res, what);
    assert.equal(res.status, status, `${what}: ${res.status} ${res.body.toString()}`);
    assert.equal(err.code, code, `${what}: ${res.body.toString()}`);
    return err;
  }

  async function exists(key: string): Promise<boolean> {
    const res = await send('HEAD', `/${BUCKET}/${encodeKey(key)}`);
    assert.ok(res.status === 200 || res.status === 404, `HEAD ${key} → ${res.status}`);
    return res.status === 200;
  }

  async function tmpFiles(): Promise<string[]> {
    return readdir(join(dataDir, 'tmp'));
  }

  async function stillServing(): Promise<void> {
    const res = await send('GET', '/');
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(parseXmlBody(res.body).root, 'ListAllMyBucketsResult');
  }

  before(async () => {
    // The data directory sits one level below a directory of our own, holding a sentinel file: a key
    // that reached a path would show up there.
    outer = await mkdtemp(join(tmpdir(), 'strata-bad-input-'));
    dataDir = join(outer, 'data');
    await writeFile(join(outer, 'sentinel'), 'sentinel');
    server = await startServer({ args: ['--data', dataDir] });
    assert.equal((await send('PUT', `/${BUCKET}`)).status, 200);
  });

  after(async () => {
    await server?.stop();
    if (outer) await rm(outer, { recursive: true, force: true });
  });

  it('XML bodies › malformed, truncated, wrong root, empty, invalid UTF-8 → 400 MalformedXML; nothing deleted or configured', async () => {
    assert.equal((await send('PUT', `/${BUCKET}/keep`, { body: 'keep' })).status, 200);
    const bad = [
      '<Delete><Object><Key>keep</Key></Delete>', // malformed
      '<Delete><Object><Key>keep</Key></Object', // truncated
      '<Delete><Object><Key>kee', // truncated mid-text
      '<NotDelete><Object><Key>keep</Key></Object></NotDelete>', // wrong root
      '', // empty
      'keep', // not XML
      '<Delete><Object><Key>keep</Key></Object></Delete><Delete/>', // two roots
      Buffer.concat([Buffer.from('<Delete><Object><Key>'), Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('</Key></Object></Delete>')]),
    ];
    for (const body of bad) {
      const res = await send('POST', `/${BUCKET}`, { query: { delete: '' }, body });
      expectError(res, 400, 'MalformedXML', `DeleteObjects ${JSON.stringify(body.toString())}`);
    }
    assert.ok(await exists('keep'), 'a refused DeleteObjects deleted the object');
    for (const body of ['<CORSConfiguration><CORSRule>', '<CORSConfiguration></CORSConfig>', '<x/>']) {
      expectError(await send('PUT', `/${BUCKET}`, { query: { cors: '' }, body }), 400, 'MalformedXML', `PutBucketCors ${body}`);
    }
    expectError(await send('GET', `/${BUCKET}`, { query: { cors: '' } }), 404, 'NoSuchCORSConfiguration', 'no CORS stored');
    expectError(await send('PUT', '/bad-xml-bucket', { body: '<CreateBucketConfiguration><LocationConstraint>' }), 400, 'MalformedXML', 'CreateBucket');
    assert.equal((await send('HEAD', '/bad-xml-bucket')).status, 404, 'bucket not created');
    await stillServing();
  });

  it('XML bodies › DeleteObjects declared over its 4 MiB bound, or chunked past 1000 Objects → 400 MalformedXML, answered without reading it all', async () => {
    const huge = Buffer.from(`<Delete>${'<Object><Key>k</Key></Object>'.repeat(160_000)}</Delete>`); // ~4.3 MiB
    assert.ok(huge.length > 4 * 1024 * 1024);
    // Declared: the head and the first KiB are sent, the rest is held back; the answer must come
    // anyway (answerBeforeBody fails if the server waits for the rest).
    const declared = await signRequest({ method: 'POST', port: server.port, path: `/${BUCKET}`, query: { delete: '' }, payloadHash: 'UNSIGNED-PAYLOAD' });
    const declaredHead = buildRequest({
      method: 'POST',
      target: declared.target,
      headers: [...declared.headers, ['content-length', String(huge.length)]],
      contentLength: false,
    });
    expectError(
      await answerBeforeBody(server.port, Buffer.concat([declaredHead, huge.subarray(0, 1024)])),
      400,
      'MalformedXML',
      'declared 4.3 MiB, 1 KiB sent',
    );
    // Chunked: no length up front, the bounds apply while reading: 64 KiB (about 2,300 Objects) of
    // the 4.3 MiB chunk are sent, never its rest nor the last chunk.
    const s = await signRequest({ method: 'POST', port: server.port, path: `/${BUCKET}`, query: { delete: '' }, payloadHash: 'UNSIGNED-PAYLOAD' });
    const chunkedHead = buildRequest({ method: 'POST', target: s.target, headers: [...s.headers, ['transfer-encoding', 'chunked']], contentLength: false });
    const sent = Buffer.concat([chunkedHead, Buffer.from(`${huge.length.toString(16)}\r\n`), huge.subarray(0, 64 * 1024)]);
    expectError(await answerBeforeBody(server.port, sent), 400, 'MalformedXML', 'chunked 4.3 MiB, 64 KiB sent');
    // Chunked past the byte bound with few elements (one enormous key): refused at 4 MiB.
    const fat = Buffer.from(`<Delete><Object><Key>${'k'.repeat(4 * 1024 * 1024 + 1024)}</Key></Object></Delete>`);
    const s2 = await signRequest({ method: 'POST', port: server.port, path: `/${BUCKET}`, query: { delete: '' }, payloadHash: 'UNSIGNED-PAYLOAD' });
    const fatHead = buildRequest({ method: 'POST', target: s2.target, headers: [...s2.headers, ['transfer-encoding', 'chunked']], contentLength: false });
    const fatSent = Buffer.concat([fatHead, Buffer.from(`${fat.length.toString(16)}\r\n`), fat.subarray(0, 4 * 1024 * 1024 + 512)]);
    expectError(await answerBeforeBody(server.port, fatSent), 400, 'MalformedXML', 'chunked, one 4 MiB key, 4 MiB + 512 sent');
    await stillServing();
  });

  it('XML bodies › DOCTYPE / ENTITY (billion laughs, external entity) → 400 MalformedXML, nothing expanded', async () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
      Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
      ']><Delete><Object><Key>&lol9;</Key></Object></Delete>';
    const external = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&xxe;</Key></Object></Delete>';
    const paramEntity = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x"> %p;]><Delete><Object><Key>k</Key></Object></Delete>';
    for (const body of [laughs, external, paramEntity]) {
      const res = await send('POST', `/${BUCKET}`, { query: { delete: '' }, body });
      expectError(res, 400, 'MalformedXML', 'entity-laden DeleteObjects');
      assert.doesNotMatch(res.body.toString(), /lollol|root:/);
      expectError(
        await send('PUT', `/${BUCKET}`, { query: { cors: '' }, body: body.replace(/Delete/g, 'CORSConfiguration') }),
        400,
        'MalformedXML',
        'entity-laden CORS',
      );
    }
    await stillServing();
  });

  it('DeleteObjects › 1001 keys → 400 MalformedXML, nothing deleted; 1000 keys → 200', async () => {
    assert.equal((await send('PUT', `/${BUCKET}/keep-1001`, { body: 'x' })).status, 200);
    const objects = (n: number) =>
      `<Delete><Quiet>true</Quiet>${'<Object><Key>keep-1001</Key></Object>'}${Array.from({ length: n - 1 }, (_, i) => `<Object><Key>nope-${i}</Key></Object>`).join('')}</Delete>`;
    expectError(await send('POST', `/${BUCKET}`, { query: { delete: '' }, body: objects(1001) }), 400, 'MalformedXML', '1001 keys');
    assert.ok(await exists('keep-1001'));
    const ok = await send('POST', `/${BUCKET}`, { query: { delete: '' }, body: objects(1000) });
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal(parseXmlBody(ok.body).root, 'DeleteResult');
    assert.equal(await exists('keep-1001'), false);
  });

  it('CreateBucket › invalid names → 400 InvalidBucketName; nothing created', async () => {
    const before = (await send('GET', '/')).body.toString();
    const names = [
      'ab',
      'a'.repeat(64),
      'UPPER',
      'under_score',
      '-dash',
      'dash-',
      '192.168.5.4',
      'a..b',
      'xn--abc',
      'sthree-x',
      'b-s3alias',
      '.',
      '..',
      'a%00b',
      'a%2Fb',
      '%F0%9F%98%80bucket',
      'sp%20ace',
    ];
    for (const name of names) {
      expectError(await send('PUT', `/${name}`, { target: `/${name}` }), 400, 'InvalidBucketName', `CreateBucket ${name}`);
    }
    const afterList = (await send('GET', '/')).body.toString();
    assert.deepEqual(afterList.match(/<Name>[^<]*<\/Name>/g), before.match(/<Name>[^<]*<\/Name>/g));
  });

  it('Keys › over 1024 bytes → 400 KeyTooLongError for every operation; exactly 1024 bytes works', async () => {
    const long = 'k'.repeat(1025);
    const longUtf8 = '\u00e9'.repeat(513); // 1026 bytes, 513 characters
    for (const key of [long, longUtf8]) {
      const path = `/${BUCKET}/${encodeKey(key)}`;
      expectError(await send('PUT', path, { body: 'x' }), 400, 'KeyTooLongError', 'PutObject');
      expectError(await send('GET', path), 400, 'KeyTooLongError', 'GetObject');
      expectError(await send('DELETE', path), 400, 'KeyTooLongError', 'DeleteObject');
      expectError(await send('POST', path, { query: { uploads: '' } }), 400, 'KeyTooLongError', 'CreateMultipartUpload');
      expectError(await send('PUT', path, { headers: { 'x-amz-copy-source': `/${BUCKET}/keep` } }), 400, 'KeyTooLongError', 'CopyObject');
      assert.equal((await send('HEAD', path)).status, 400);
    }
    // The source of a copy too.
    const copy = await send('PUT', `/${BUCKET}/copy-target`, { headers: { 'x-amz-copy-source': `/${BUCKET}/${encodeKey(long)}` } });
    assert.equal(copy.status >= 400 && copy.status < 500, true, copy.body.toString());
    for (const key of ['k'.repeat(1024), '\u00e9'.repeat(512)]) {
      const path = `/${BUCKET}/${encodeKey(key)}`;
      assert.equal((await send('PUT', path, { body: 'max' })).status, 200);
      assert.equal((await send('GET', path)).body.toString(), 'max');
    }
    assert.deepEqual(await tmpFiles(), []);
  });

  it('Keys › NUL and control characters are stored and read back; listings carry them (encoding-type=url) and stay well-formed', async () => {
    const keys = ['nul\u0000key', 'ctl\u0001\u001f\u007f', 'crlf\r\nkey', 'tab\tkey', 'bell\u0007'];
    for (const key of keys) {
      const path = `/ctl-${BUCKET}/${encodeKey(key)}`;
      if (key === keys[0]) assert.equal((await send('PUT', `/ctl-${BUCKET}`)).status, 200);
      const put = await send('PUT', path, { body: `v:${key}` });
      assert.equal(put.status, 200, `PUT ${JSON.stringify(key)}: ${put.body}`);
      const get = await send('GET', path);
      assert.equal(get.status, 200);
      assert.equal(get.body.toString(), `v:${key}`);
    }
    const listed = await send('GET', `/ctl-${BUCKET}`, { query: { 'list-type': '2', 'encoding-type': 'url' } });
    assert.equal(listed.status, 200);
    const found = [...listed.body.toString().matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => decodeURIComponent(m[1]!.replace(/\+/g, ' ')));
    assert.deepEqual(found.sort(), [...keys].sort());
    // Without encoding-type the XML carries character references (as S3 does); it must still parse.
    const raw = await send('GET', `/ctl-${BUCKET}`, { query: { 'list-type': '2' } });
    assert.equal(raw.status, 200);
    assert.equal(parseXmlBody(raw.body).root, 'ListBucketResult');
    // Invalid UTF-8 in a key is refused or stored, never a crash.
    const invalid = await send('PUT', `/ctl-${BUCKET}/x`, { target: `/ctl-${BUCKET}/bad%FF%FEutf8`, body: 'x' });
    assert.ok(invalid.status === 200 || invalid.status === 400 || invalid.status === 403, `${invalid.status}`);
    await stillServing();
  });

  it('Keys › ../../etc/passwd, /, //, .., ., a/../../b are plain keys: stored and read back exactly, no path outside the data directory', async () => {
    const keys = ['../../etc/passwd', '../sentinel', '../../sentinel', '/', '//', '..', '.', 'a/../../b', './x', 'x/./y', '..\\..\\win'];
    // Before any PUT: a GET that resolved a path would read /etc/passwd or the sentinel.
    for (const key of keys) {
      const res = await send('GET', `/${BUCKET}/${key}`, { target: `/${BUCKET}/${key}` });
      expectError(res, 404, 'NoSuchKey', `GET raw ${key}`);
      assert.doesNotMatch(res.body.toString(), /root:|>sentinel</);
    }
    for (const key of keys) {
      // Sent unencoded (exactly what a path-normalising proxy must not touch) and signed over it.
      const put = await send('PUT', `/${BUCKET}/${key}`, { body: `content of ${key}` });
      assert.equal(put.status, 200, `PUT ${key}: ${put.body}`);
    }
    for (const key of keys) {
      const get = await send('GET', `/${BUCKET}/${key}`);
      assert.equal(get.status, 200, `GET ${key}`);
      assert.equal(get.body.toString(), `content of ${key}`);
    }
    const listed = await send('GET', `/${BUCKET}`, { query: { 'list-type': '2', 'encoding-type': 'url' } });
    const found = new Set([...listed.body.toString().matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => decodeURIComponent(m[1]!.replace(/\+/g, ' '))));
    for (const key of keys) assert.ok(found.has(key), `listing lacks ${key}`);
    // Nothing appeared next to the data directory, the sentinel is untouched, the data directory
    // holds only the store's own entries, and data files are named by ids.
    assert.deepEqual((await readdir(outer)).sort(), ['data', 'sentinel']);
    assert.equal(await readFile(join(outer, 'sentinel'), 'utf8'), 'sentinel');
    for (const name of await readdir(dataDir))
      assert.match(name, /^(meta\.db(-wal|-shm|-journal)?|tmp|objects|[\w.-]+\.lock)$/, `unexpected ${name} in the data directory`);
    for (const shard of await readdir(join(dataDir, 'objects'))) {
      assert.match(shard, /^[0-9a-f]{2}$/);
      for (const f of await readdir(join(dataDir, 'objects', shard))) assert.match(f, /^[0-9a-f]{32}$/);
    }
    assert.ok((await stat(join(outer, 'sentinel'))).isFile());
    // Bucket names that look like paths are invalid names, not directories.
    expectError(await send('PUT', '/..%2F..%2Fevil', { target: '/..%2F..%2Fevil' }), 400, 'InvalidBucketName', 'bucket ../../evil');
  });

  it('Headers › over 16 KiB (one big header or many) → 400 RequestHeaderSectionTooLarge XML, connection closed', async () => {
    for (const headers of [
      [['x-amz-meta-big', 'v'.repeat(20 * 1024)]] as Array<[string, string]>,
      Array.from({ length: 400 }, (_, i) => [`x-pad-${i}`, 'p'.repeat(40)] as [string, string]),
    ]) {
      const res = await rawExchange(server.port, buildRequest({ method: 'PUT', target: `/${BUCKET}/big-headers`, headers, body: 'x' }));
      const err = expectError(res, 400, 'RequestHeaderSectionTooLarge', 'big headers');
      assert.equal(err.fields['MaxSizeAllowed'], '16384');
      assert.equal(res.headers['connection'], 'close');
    }
    assert.equal(await exists('big-headers'), false);
    await stillServing();
  });

  it('User metadata › 2 KiB in total is accepted; 2049 bytes → 400 MetadataTooLarge (PUT, CreateMultipartUpload, copy), nothing stored', async () => {
    // Size = names without x-amz-meta- plus values, in UTF-8 bytes.
    assert.equal((await send('PUT', `/${BUCKET}/meta-ok`, { headers: { 'x-amz-meta-a': 'v'.repeat(2047) }, body: 'x' })).status, 200);
    const tooBig = [
      { 'x-amz-meta-a': 'v'.repeat(2048) },
      Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`x-amz-meta-k${String(i).padStart(2, '0')}`, 'v'.repeat(47)])), // 41 × (3 + 47)
    ];
    for (const headers of tooBig) {
      const err = expectError(await send('PUT', `/${BUCKET}/meta-big`, { headers, body: 'x' }), 400, 'MetadataTooLarge', 'PutObject');
      assert.equal(err.fields['MaxSizeAllowed'], '2048');
      expectError(await send('POST', `/${BUCKET}/meta-big`, { query: { uploads: '' }, headers }), 400, 'MetadataTooLarge', 'CreateMultipartUpload');
      expectError(
        await send('PUT', `/${BUCKET}/meta-big`, { headers: { ...headers, 'x-amz-copy-source': `/${BUCKET}/meta-ok`, 'x-amz-metadata-directive': 'REPLACE' } }),
        400,
        'MetadataTooLarge',
        'CopyObject REPLACE',
      );
    }
    assert.equal(await exists('meta-big'), false);
    const uploads = await send('GET', `/${BUCKET}`, { query: { uploads: '' } });
    assert.doesNotMatch(uploads.body.toString(), /meta-big/);
  });

  it('Content-Length › negative, non-numeric, conflicting, both with Transfer-Encoding → 400 XML; nothing stored', async () => {
    const cases: Array<Array<[string, string]>> = [
      [['content-length', '-1']],
      [['content-length', 'abc']],
      [['content-length', '1e3']],
      [['content-length', '0x10']],
      [
        ['content-length', '5'],
        ['content-length', '7'],
      ],
      [
        ['content-length', '5'],
        ['transfer-encoding', 'chunked'],
      ],
    ];
    for (const headers of cases) {
      const s = await signRequest({ method: 'PUT', port: server.port, path: `/${BUCKET}/bad-length`, body: 'hello', payloadHash: 'UNSIGNED-PAYLOAD' });
      const req = buildRequest({ method: 'PUT', target: s.target, headers: [...s.headers, ...headers], body: 'hello', contentLength: false });
      const res = await rawExchange(server.port, req);
      const err = assertS3Error(res, JSON.stringify(headers));
      assert.equal(res.status, 400, JSON.stringify(headers));
      assert.ok(['BadRequest', 'InvalidArgument'].includes(err.code), err.code);
    }
    // PUT without any length and without chunking: S3's 411.
    const s = await signRequest({ method: 'PUT', port: server.port, path: `/${BUCKET}/bad-length`, payloadHash: 'UNSIGNED-PAYLOAD' });
    expectError(
      await rawExchange(server.port, buildRequest({ method: 'PUT', target: s.target, headers: s.headers, contentLength: false })),
      411,
      'MissingContentLength',
      'no length',
    );
    assert.equal(await exists('bad-length'), false);
    await stillServing();
  });

  it('Content-Length › over 5 GiB → 400 EntityTooLarge at once, before any byte is read; connection closed', async () => {
    const s = await signRequest({ method: 'PUT', port: server.port, path: `/${BUCKET}/huge`, payloadHash: 'UNSIGNED-PAYLOAD' });
    const head = buildRequest({
      method: 'PUT',
      target: s.target,
      headers: [...s.headers, ['content-length', String(5 * 1024 ** 3 + 1)]],
      contentLength: false,
    });
    // Only the head is sent: the answer must come without a single body byte.
    const res = await answerBeforeBody(server.port, head);
    expectError(res, 400, 'EntityTooLarge', '5 GiB + 1');
    assert.equal(res.headers['connection'], 'close');
    assert.equal(await exists('huge'), false);
  });

  it('Content-Length › body shorter than declared, client stops sending → 400 IncompleteBody (object and XML bodies), nothing stored, no temp file', async () => {
    /** Sends the head and 10 bytes of a body declared 100000 long, then half-closes. */
    const halfClose = async (method: string, path: string, query?: Record<string, string>): Promise<RawResponse | undefined> => {
      const s = await signRequest({ method, port: server.port, path, query, payloadHash: 'UNSIGNED-PAYLOAD' });
      const head = buildRequest({ method, target: s.target, headers: [...s.headers, ['content-length', '100000']], contentLength: false });
      return new Promise<RawResponse | undefined>((resolve) => {
        const sock = net.connect({ host: '127.0.0.1', port: server.port });
        const chunks: Buffer[] = [];
        // A server that never answers must fail this test, not hang it until its idle timeout.
        const timer = setTimeout(() => sock.destroy(), 10_000);
        sock.on('data', (c: Buffer) => chunks.push(c));
        sock.on('error', () => undefined);
        sock.on('close', () => {
          clearTimeout(timer);
          const raw = Buffer.concat(chunks);
          resolve(raw.length > 0 ? parseResponse(raw, false) : undefined);
        });
        sock.write(Buffer.concat([head, Buffer.from('<Delete><O')]), () => sock.end());
      });
    };
    // The client only half-closed: the answer still reaches it.
    const put = await halfClose('PUT', `/${BUCKET}/short-body`);
    assert.ok(put, 'no answer to the short object body');
    expectError(put, 400, 'IncompleteBody', 'short object body');
    const del = await halfClose('POST', `/${BUCKET}`, { delete: '' });
    assert.ok(del, 'no answer to the short XML body');
    expectError(del, 400, 'IncompleteBody', 'short XML body');
    await waitFor(async () => (await tmpFiles()).length === 0, 15_000, 'the temp file of the short body to go');
    assert.equal(await exists('short-body'), false);
    await stillServing();
  });

  it('Content-Length › body longer than declared: exactly Content-Length bytes are the object, the rest is a refused request', async () => {
    const s = await signRequest({ method: 'PUT', port: server.port, path: `/${BUCKET}/long-body`, body: 'hello' });
    // Keep-alive: the extra bytes are read as the next request on the same connection.
    const req = buildRequest({ method: 'PUT', target: s.target, headers: [...s.headers, ['connection', 'keep-alive']], body: 'hello' });
    const res = await rawExchange(server.port, Buffer.concat([req, Buffer.from(' EXTRA GARBAGE\r\n\r\n')]));
    assert.equal(res.status, 200);
    const second = parseResponse(res.trailing, false);
    expectError(second, 400, 'BadRequest', 'the garbage after the body');
    assert.equal((await send('GET', `/${BUCKET}/long-body`)).body.toString(), 'hello');
  });

  it('Ranges › unsatisfiable → 416 InvalidRange with Content-Range bytes */size; malformed or multiple → 200 whole object (as S3)', async () => {
    assert.equal((await send('PUT', `/${BUCKET}/ten`, { body: '0123456789' })).status, 200);
    assert.equal((await send('PUT', `/${BUCKET}/zero`, { body: '' })).status, 200);
    for (const [key, range] of [
      ['ten', 'bytes=10-'],
      ['ten', 'bytes=20-30'],
      ['ten', 'bytes=-0'],
      ['zero', 'bytes=0-0'],
      ['zero', 'bytes=-5'],
      ['ten', 'bytes=99999999999999999999-'],
    ] as const) {
      const res = await send('GET', `/${BUCKET}/${key}`, { headers: { range } });
      const err = expectError(res, 416, 'InvalidRange', `${key} ${range}`);
      assert.equal(res.headers['content-range'], `bytes */${key === 'ten' ? 10 : 0}`);
      assert.equal(err.fields['RangeRequested'], range);
    }
    for (const range of ['bytes=abc', 'bytes=5-2', 'bytes=0-1,3-4', 'items=0-1', 'bytes=', 'bytes=--1', 'bytes=1-2-3']) {
      const res = await send('GET', `/${BUCKET}/ten`, { headers: { range } });
      assert.equal(res.status, 200, `${range}: ${res.status}`);
      assert.equal(res.body.toString(), '0123456789');
    }
    const ok = await send('GET', `/${BUCKET}/ten`, { headers: { range: 'bytes=8-100' } });
    assert.equal(ok.status, 206);
    assert.equal(ok.body.toString(), '89');
  });

  it('Multipart › invalid part numbers → 400 InvalidArgument; unknown or garbage upload ids → 404 NoSuchUpload; nothing stored', async () => {
    const init = await send('POST', `/${BUCKET}/mpu`, { query: { uploads: '' } });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.body.toString())![1]!;
    for (const partNumber of ['0', '10001', '-1', 'abc', '1.5', '', ' 1', '99999999999999999999']) {
      const res = await send('PUT', `/${BUCKET}/mpu`, { query: { partNumber, uploadId }, body: 'part' });
      const err = expectError(res, 400, 'InvalidArgument', `partNumber=${JSON.stringify(partNumber)}`);
      assert.equal(err.fields['ArgumentName'], 'partNumber');
    }
    expectError(await send('PUT', `/${BUCKET}/mpu`, { query: { partNumber: '1' }, body: 'part' }), 400, 'InvalidArgument', 'partNumber without uploadId');
    for (const id of ['nope', '', '../../x', 'A'.repeat(2000), '\u0000', `${uploadId}x`, uploadId.toUpperCase()]) {
      expectError(
        await send('PUT', `/${BUCKET}/mpu`, { query: { partNumber: '1', uploadId: id }, body: 'part' }),
        404,
        'NoSuchUpload',
        `UploadPart ${id.slice(0, 20)}`,
      );
      expectError(await send('GET', `/${BUCKET}/mpu`, { query: { uploadId: id } }), 404, 'NoSuchUpload', 'ListParts');
      expectError(
        await send('POST', `/${BUCKET}/mpu`, {
          query: { uploadId: id },
          body: '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>',
        }),
        404,
        'NoSuchUpload',
        'CompleteMultipartUpload',
      );
      expectError(await send('DELETE', `/${BUCKET}/mpu`, { query: { uploadId: id } }), 404, 'NoSuchUpload', 'AbortMultipartUpload');
    }
    // The upload id of another key is no upload of this key.
    expectError(await send('PUT', `/${BUCKET}/other`, { query: { partNumber: '1', uploadId }, body: 'part' }), 404, 'NoSuchUpload', 'other key');
    const parts = await send('GET', `/${BUCKET}/mpu`, { query: { uploadId } });
    assert.equal(parts.status, 200);
    assert.doesNotMatch(parts.body.toString(), /<Part>/);
    // GET ?partNumber: invalid → InvalidArgument, beyond the object's parts → 416 InvalidPartNumber.
    expectError(await send('GET', `/${BUCKET}/ten`, { query: { partNumber: '0' } }), 400, 'InvalidArgument', 'GET partNumber=0');
    expectError(await send('GET', `/${BUCKET}/ten`, { query: { partNumber: '2' } }), 416, 'InvalidPartNumber', 'GET partNumber=2');
    assert.equal(await exists('other'), false);
    assert.deepEqual(await tmpFiles(), []);
  });

  it('Query › unknown parameters are ignored (as S3); sub-resources are never reinterpreted; repeated operation parameters on writes → 400 InvalidArgument', async () => {
    // Unknown: ignored, like S3 (presigned URLs carry extra parameters, SDKs add x-id).
    assert.equal((await send('PUT', `/${BUCKET}/q`, { query: { foo: 'bar', 'x-id': 'PutObject' }, body: 'q' })).status, 200);
    // A sub-resource is its own operation, never the plain object one: DELETE ?tagging removes the
    // tags (204) and keeps the object; one the server does not implement is 501.
    assert.equal((await send('DELETE', `/${BUCKET}/q`, { query: { tagging: '' } })).status, 204, 'DELETE ?tagging');
    expectError(await send('POST', `/${BUCKET}/q`, { query: { restore: '' }, body: '<RestoreRequest/>' }), 501, 'NotImplemented', 'POST ?restore');
    // PUT ?acl is PutObjectAcl: a policy without AccessControlList is refused, the object stays.
    expectError(await send('PUT', `/${BUCKET}/q`, { query: { acl: '' }, body: '<AccessControlPolicy/>' }), 400, 'MalformedACLError', 'PUT ?acl');
    assert.equal((await send('GET', `/${BUCKET}/q`)).body.toString(), 'q');
    // Repeated: which value would count is ambiguous (parameter pollution) → refused on writes.
    const init = await send('POST', `/${BUCKET}/q`, { query: { uploads: '' } });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.body.toString())![1]!;
    const repeated: Array<[string, Record<string, string | string[]>]> = [
      ['PUT', { partNumber: ['1', '2'], uploadId }],
      ['PUT', { partNumber: '1', uploadId: [uploadId, 'other'] }],
      ['DELETE', { versionId: ['null', 'x'] }],
      ['DELETE', { uploadId: [uploadId, uploadId] }],
    ];
    for (const [method, query] of repeated) {
      const res = await send(method, `/${BUCKET}/q`, { query, body: method === 'PUT' ? 'p' : undefined });
      const err = expectError(res, 400, 'InvalidArgument', `${method} ${JSON.stringify(query)}`);
      assert.ok(['partNumber', 'uploadId', 'versionId'].includes(String(err.fields['ArgumentName'])));
    }
    expectError(
      await send('POST', `/${BUCKET}`, { query: { delete: ['', ''] }, body: '<Delete><Object><Key>q</Key></Object></Delete>' }),
      400,
      'InvalidArgument',
      'delete twice',
    );
    assert.equal((await send('GET', `/${BUCKET}/q`)).body.toString(), 'q');
    // Reads tolerate repeats of harmless parameters (first value counts), writes of unknown ones too.
    assert.equal((await send('PUT', `/${BUCKET}/q2`, { query: { foo: ['1', '2'] }, body: 'q2' })).status, 200);
  });

  it('afterwards › no temp files, no internal errors logged, no error body leaked a path or stack', async () => {
    assert.deepEqual(await tmpFiles(), []);
    const logs = server.logs();
    assert.doesNotMatch(logs, /"level":(50|60)/, 'error-level log lines');
    assert.doesNotMatch(logs, /internal error|unhandled error/);
    assert.ok(errorBodies.length > 50, `${errorBodies.length} error bodies`);
    for (const body of errorBodies) {
      const leak = leakIn(body, [dataDir, outer, REPO_ROOT.replace(/\/$/, '')]);
      assert.equal(leak, undefined, `error body leaks ${leak}: ${body.slice(0, 300)}`);
    }
  });
});

// Property-based fuzzing of a real Strata process: a seeded PRNG throws random methods, paths,
// query strings, headers and bodies at it, signed (the AWS SDK's SigV4 signer) and unsigned, over raw
// sockets. For every answer: a valid status; no 5xx but 501 NotImplemented (a 500 is a bug: the
// reproducer is printed); an XML Error body with Code/Message/RequestId, or a success; Content-Length
// equal to the bytes received; no internals leaked. At the end the server still serves and its log
// has no 'internal error' line. FUZZ_SEED / FUZZ_COUNT override the defaults (a failing run prints
// its seed).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startServer, type RunningServer } from '../helpers/server.js';
import { assertS3Error, buildRequest, EMPTY_SHA256, encodeKey, leakIn, parseXmlBody, rawExchange, signRequest, type RawResponse } from './raw-http.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const COUNT = Number(process.env.FUZZ_COUNT ?? 5000);
/** Stop generating after this long, whatever COUNT says (the file must stay well under 60 s). */
const TIME_BUDGET_MS = 40_000;
const PARALLEL = 6;

/** mulberry32: small, fast, good enough for choosing inputs; the seed reproduces a run exactly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, chance, bytes };
}
type Rng = ReturnType<typeof prng>;

const BUCKET = 'fuzz-bucket';
const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'HEAD', 'PUT', 'PUT', 'PUT', 'POST', 'POST', 'DELETE', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECTX', 'get'];
const BUCKETS = [
  BUCKET,
  BUCKET,
  BUCKET,
  BUCKET,
  BUCKET,
  BUCKET,
  BUCKET,
  BUCKET,
  'no-such-bucket-here',
  'Invalid_Bucket',
  'ab',
  '..',
  '.',
  '%00',
  'a'.repeat(70),
  '192.168.0.1',
  'xn--abc',
  '%2e%2e',
];
const KEYS = [
  'k1',
  'k1',
  'dir/k2',
  'empty',
  '../../etc/passwd',
  '..',
  '.',
  '/',
  '//',
  'a/../../b',
  '%2e%2e%2f%2e%2e%2fetc',
  '%00',
  'a%00b',
  '%01%1f%7f',
  '%ff%fe',
  '%c3%28',
  'a%',
  '%zz',
  '%E2%82%AC',
  '%F0%9F%98%80',
  'x'.repeat(1025),
  '%C3%A9'.repeat(513),
  'y'.repeat(1024),
  'k1?',
  'a+b c',
  "~!*()'",
];
const PARAM_NAMES = [
  'uploads',
  'uploadId',
  'partNumber',
  'versionId',
  'delete',
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'max-uploads',
  'max-parts',
  'continuation-token',
  'start-after',
  'encoding-type',
  'marker',
  'key-marker',
  'upload-id-marker',
  'part-number-marker',
  'fetch-owner',
  'versions',
  'location',
  'versioning',
  'cors',
  'acl',
  'tagging',
  'policy',
  'lifecycle',
  'attributes',
  'restore',
  'select',
  'torrent',
  'response-content-type',
  'response-content-disposition',
  'response-expires',
  'response-cache-control',
  'x-id',
  'foo',
];
/** Query-string authentication parameters: mixed in now and then (they turn a request into a presigned one). */
const AUTH_PARAM_NAMES = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'AWSAccessKeyId',
  'Signature',
  'Expires',
];
const HEADER_NAMES = [
  'range',
  'content-md5',
  'x-amz-checksum-crc32',
  'x-amz-checksum-sha256',
  'x-amz-sdk-checksum-algorithm',
  'x-amz-copy-source',
  'x-amz-copy-source-range',
  'x-amz-meta-a',
  'x-amz-meta-b',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'content-type',
  'content-encoding',
  'x-amz-decoded-content-length',
  'x-amz-trailer',
  'origin',
  'access-control-request-method',
  'access-control-request-headers',
  'x-amz-storage-class',
  'x-amz-tagging',
  'x-amz-checksum-mode',
  'x-amz-object-attributes',
  'x-amz-metadata-directive',
  'x-amz-date',
  'date',
  'expect',
  'x-amz-checksum-algorithm',
  'x-amz-mp-object-size',
  'cache-control',
];

/** A value likely to be interesting for any parameter or header. */
function fuzzValue(r: Rng, uploadId: string): string {
  switch (r.int(14)) {
    case 0:
      return '';
    case 1:
      return String(r.int(20000) - 10);
    case 2:
      return r.pick(['-1', '0', '1', '10000', '10001', '99999999999999999999', '1.5', '1e3', 'NaN', '0x10', ' 7 ']);
    case 3:
      return r.pick(['true', 'false', 'url', 'URL', 'ENABLED', 'COPY', 'REPLACE', 'STANDARD', 'GLACIER', 'bogus', 'CRC32', 'sha1']);
    case 4:
      return r.pick(['bytes=0-0', 'bytes=-1', 'bytes=5-', 'bytes=9-2', 'bytes=0-1,3-4', 'bytes=abc', 'bytes=-0', 'bytes=99999999999999999999-', 'items=0-1']);
    case 5:
      return r.pick(['*', '"abc"', 'W/"x"', '"d41d8cd98f00b204e9800998ecf8427e"', 'Tue, 01 Jan 1980 00:00:00 GMT', 'not a date', '20990101T000000Z']);
    case 6:
      return uploadId;
    case 7:
      return r.pick([`/${BUCKET}/k1`, `${BUCKET}/k1`, '/no-such/x', '/', '', `/${BUCKET}/k1?versionId=null`, `/${BUCKET}/../../etc/passwd`, '%']);
    case 8:
      return r.pick([
        'AAAAAAAAAAAAAAAAAAAAAA==',
        '1B2M2Y8AsgTpgAmY7PhCfg==',
        'zzzz',
        'AAAAAA==',
        EMPTY_SHA256,
        'UNSIGNED-PAYLOAD',
        'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      ]);
    case 9:
      return r.pick(['http://example.com', 'null', 'GET', 'PUT', 'x-amz-meta-a, content-type', 'aws-chunked', 'gzip,aws-chunked']);
    case 10:
      return 'v'.repeat(r.int(3000));
    case 11:
      return r.pick(['a\u00e9b', '\u00ff\u00fe', 'tab\there', 'k=v&x=y', '<x>&amp;</x>', 'a%00b', '%ff']);
    // Raw bytes; control characters (which Node's parser refuses in headers) only now and then.
    case 12:
      return r
        .bytes(r.int(12))
        .toString('latin1')
        .replace(/[\r\n\0]/g, 'x')
        .replace(/[\x01-\x08\x0a-\x1f\x7f]/g, (c) => (r.chance(0.1) ? c : 'x'));
    default:
      return r.pick(['a', 'b', 'dir/', '/', '%2F', 'k']);
  }
}

/** Values an S3 client would send for each parameter or header: they get past validation. */
function plausible(name: string, uploadId: string): readonly string[] {
  switch (name) {
    case 'uploadId':
      return [uploadId];
    case 'partNumber':
      return ['1', '2', '3'];
    case 'versionId':
      return ['null'];
    case 'list-type':
      return ['2'];
    case 'encoding-type':
      return ['url'];
    case 'max-keys':
    case 'max-uploads':
    case 'max-parts':
      return ['0', '1', '2', '1000'];
    case 'prefix':
      return ['', 'd', 'dir/', 'k'];
    case 'delimiter':
      return ['/', 'k', '%'];
    case 'start-after':
    case 'marker':
    case 'key-marker':
      return ['a', 'dir/', 'k1'];
    case 'fetch-owner':
      return ['true'];
    case 'response-content-type':
      return ['text/plain', 'application/json'];
    case 'response-content-disposition':
      return ['attachment; filename="r\u00e9sum\u00e9.txt"', 'inline'];
    case 'range':
      return ['bytes=0-3', 'bytes=2-', 'bytes=-4', 'bytes=100-200'];
    case 'if-match':
    case 'if-none-match':
      return ['*', '"5a105e8b9d40e1329780d62ea2265d8a"'];
    case 'x-amz-copy-source':
      return [`/${BUCKET}/k1`, `${BUCKET}/dir/k2`, `/${BUCKET}/empty`];
    case 'x-amz-copy-source-range':
      return ['bytes=0-3'];
    case 'x-amz-metadata-directive':
      return ['COPY', 'REPLACE'];
    case 'x-amz-checksum-mode':
      return ['ENABLED'];
    case 'x-amz-sdk-checksum-algorithm':
    case 'x-amz-checksum-algorithm':
      return ['CRC32', 'SHA256', 'CRC64NVME'];
    case 'x-amz-storage-class':
      return ['STANDARD', 'STANDARD_IA'];
    case 'x-amz-object-attributes':
      return ['ETag,ObjectSize', 'Checksum,ObjectParts'];
    case 'origin':
      return ['http://example.com'];
    case 'access-control-request-method':
      return ['GET', 'PUT'];
    case 'content-type':
      return ['text/plain', 'application/xml'];
    case 'x-amz-meta-a':
    case 'x-amz-meta-b':
      return ['v', 'caf\u00e9'];
    default:
      return [];
  }
}

/** A value safe to put in a query string after our own encoding (any code point). */
function queryValue(r: Rng, uploadId: string): string {
  if (r.chance(0.1)) return String.fromCharCode(...Array.from({ length: r.int(6) }, () => r.pick([0, 1, 10, 13, 0x7f, 0xe9, 0x20ac, 0xd83d, 0xfffd])));
  return fuzzValue(r, uploadId);
}

function encodeQueryPart(r: Rng, s: string): string {
  // Mostly clean RFC 3986 encoding; sometimes raw, half-encoded or double-encoded.
  const clean = encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));
  if (r.chance(0.1)) return s.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c.replace(/[\ud800-\udfff]/g, '?')));
  if (r.chance(0.05)) return clean.replace(/%/g, '%25');
  return clean;
}

function fuzzBody(r: Rng): Buffer | undefined {
  switch (r.int(9)) {
    case 0:
    case 1:
    case 2:
      return undefined;
    case 3:
      return r.bytes(r.int(2048));
    case 4:
      return Buffer.from(
        `<Delete><Object><Key>${r.pick(['k1', 'dir/k2', 'nope', '', 'x'.repeat(1100)])}</Key></Object>${r.chance(0.5) ? '<Quiet>true</Quiet>' : ''}</Delete>`,
      );
    case 5:
      return Buffer.from(
        r.pick([
          '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>',
          '<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>',
          '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>',
          '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Delete><Object><Key>&b;</Key></Object></Delete>',
          '<Delete><Object><Key>a</Key></Delete>',
          '<Delete><Object><Key>&#0;</Key></Object></Delete>',
          '<Delete>',
          '<>',
          '\u0000\u0001',
        ]),
      );
    case 6:
      return Buffer.alloc(r.int(70_000), 0x61);
    case 7:
      return Buffer.from('hello world');
    default:
      return Buffer.from(`<Delete>${'<Object><Key>k</Key></Object>'.repeat(r.pick([1, 1000, 1001]))}</Delete>`);
  }
}

interface Case {
  n: number;
  request: Buffer;
  method: string;
  target: string;
  signed: boolean;
}

async function generate(r: Rng, n: number, port: number, uploadId: string): Promise<Case> {
  const method = r.pick(METHODS);
  // Path: '/', a bucket, or a bucket and a key (sometimes raw garbage).
  let path: string;
  const shape = r.int(10);
  if (shape === 0) path = '/';
  else if (shape <= 2) path = `/${r.pick(BUCKETS)}${r.chance(0.2) ? '/' : ''}`;
  else if (shape === 3)
    path = r.pick(['*', '//', '/%', '/..', '/./', `/${BUCKET}//`, `/${BUCKET}/./`, `/${BUCKET}/%2F`, 'http://example.com/x', `/${BUCKET}/k1#frag`]);
  else {
    const k = r.pick(KEYS);
    const key = /%|x{1025}|y{1024}/.test(k) ? k : encodeKey(k);
    path = `/${r.pick(BUCKETS)}/${key}`;
  }
  const query: Array<[string, string]> = [];
  const valueFor = (name: string, random: () => string) => {
    const good = plausible(name, uploadId);
    return good.length > 0 && r.chance(0.5) ? r.pick(good) : random();
  };
  for (let i = r.int(4); i > 0; i--) {
    const name = r.chance(0.04) ? r.pick(AUTH_PARAM_NAMES) : r.pick(PARAM_NAMES);
    query.push([name, r.chance(0.15) ? '' : valueFor(name, () => queryValue(r, uploadId))]);
  }
  if (r.chance(0.1) && query.length > 0) query.push(query[0]!); // a repeated parameter
  const headers: Record<string, string> = {};
  for (let i = r.int(5); i > 0; i--) {
    const name = r.pick(HEADER_NAMES);
    headers[name] = valueFor(name, () => fuzzValue(r, uploadId)).replace(/[\r\n\0]/g, '');
  }
  for (const [k, v] of Object.entries(headers)) if (v !== v.trim() || v === '') delete headers[k];
  let body = fuzzBody(r);
  if ((method === 'GET' || method === 'HEAD') && r.chance(0.8)) body = undefined;

  const chunked = body !== undefined && r.chance(0.1);
  const signed = r.chance(0.7);
  const rawQuery = query.map(([k, v]) => `${encodeQueryPart(r, k)}${v === '' && r.chance(0.5) ? '' : `=${encodeQueryPart(r, v)}`}`).join('&');
  let target = rawQuery ? `${path}?${rawQuery}` : path;
  let wireHeaders: Array<[string, string]> = Object.entries(headers);
  if (signed && path.startsWith('/')) {
    // Sign the parameters as the server will decode them; the target keeps our (maybe odd) encoding.
    const q: Record<string, string[]> = {};
    for (const [k, v] of query) (q[k] ??= []).push(v);
    try {
      const s = await signRequest({
        method,
        port,
        path,
        query: q,
        headers,
        body,
        payloadHash: r.chance(0.3) ? 'UNSIGNED-PAYLOAD' : undefined,
      });
      wireHeaders = s.headers.filter(([h]) => h.toLowerCase() !== 'host');
      if (r.chance(0.5)) target = s.target; // the signer's own encoding: the signature matches
      if (r.chance(0.05)) wireHeaders = wireHeaders.map(([h, v]) => [h, h === 'authorization' ? v.replace(/Signature=\w/, 'Signature=0') : v]);
    } catch {
      // The SDK refuses some inputs (e.g. lone surrogates): send it unsigned.
    }
  }
  wireHeaders.unshift(['host', `127.0.0.1:${port}`]);
  if (chunked) wireHeaders.push(['transfer-encoding', 'chunked']);
  let wireBody: Buffer | undefined = body;
  if (chunked && body) wireBody = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
  const request = buildRequest({
    method,
    target,
    headers: wireHeaders,
    body: wireBody,
    contentLength: !chunked && (body !== undefined || method === 'PUT' || r.chance(0.2)),
  });
  return { n, request, method, target, signed };
}

const VALID_STATUS = new Set([200, 204, 206, 304, 400, 403, 404, 405, 409, 411, 412, 416, 501]);

/** The property every single answer must have; returns a problem description or undefined. */
function check(c: Case, res: RawResponse, paths: string[]): string | undefined {
  const head = c.method === 'HEAD';
  if (!VALID_STATUS.has(res.status)) return `unexpected status ${res.status}`;
  if (res.trailing.length > 0 && !head) return `${res.trailing.length} bytes after the response`;
  if (res.status >= 500) {
    // 501 is what S3 answers for operations or features it (or this server) does not implement.
    if (res.status !== 501) return `server error ${res.status}`;
  }
  const noBody = head || res.status === 204 || res.status === 304;
  if (noBody) {
    if (res.body.length !== 0) return 'body on HEAD/204/304';
  } else {
    if (res.headers['content-length'] === undefined && !res.headers['transfer-encoding']) return 'neither Content-Length nor chunked';
  }
  if (res.status >= 300) {
    let err;
    try {
      err = assertS3Error(res, `#${c.n}`, head);
    } catch (e) {
      return (e as Error).message;
    }
    if (res.status === 501 && err.code !== '' && err.code !== 'NotImplemented') return `501 with code ${err.code}`;
    const leak = leakIn(res.body.toString('utf8'), paths);
    if (leak) return `error body leaks ${leak}`;
    return undefined;
  }
  // Success: object bytes (GET of an object) or an XML document.
  if (!noBody && res.headers['content-length'] !== undefined && Number(res.headers['content-length']) !== res.body.length) {
    return `Content-Length ${res.headers['content-length']} but ${res.body.length} bytes`;
  }
  const isObject = res.headers['etag'] !== undefined && res.headers['last-modified'] !== undefined;
  if (!noBody && !isObject && res.body.length > 0) {
    try {
      parseXmlBody(res.body);
    } catch (e) {
      return `success body is not XML: ${(e as Error).message}`;
    }
  }
  return undefined;
}

function reproducer(c: Case): string {
  return `seed=${SEED} case #${c.n} (${c.signed ? 'signed' : 'unsigned'}): ${JSON.stringify(c.request.subarray(0, 700).toString('latin1'))}`;
}

describe('fuzz (seeded, bounded): random requests never crash the server or get a malformed answer', { timeout: 90_000 }, () => {
  let server: RunningServer;
  let uploadId = 'none';

  before(async () => {
    server = await startServer({ args: ['--idle-timeout', '5'] });
    const send = async (method: string, path: string, body?: string, query?: Record<string, string>) => {
      const s = await signRequest({ method, port: server.port, path, body, query });
      return rawExchange(server.port, buildRequest({ method, target: s.target, headers: s.headers, body }));
    };
    assert.equal((await send('PUT', `/${BUCKET}`)).status, 200);
    for (const [k, v] of [
      ['k1', 'hello fuzz'],
      ['dir/k2', 'second'],
      ['empty', ''],
    ] as const) {
      assert.equal((await send('PUT', `/${BUCKET}/${k}`, v)).status, 200);
    }
    const mpu = await send('POST', `/${BUCKET}/k1`, undefined, { uploads: '' });
    uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(mpu.body.toString())?.[1] ?? 'none';
  });

  after(async () => {
    await server?.stop();
  });

  it(`${COUNT} random requests (seed ${SEED}) → every answer well-formed, no 5xx but 501, no leaks; the server survives`, async () => {
    const r = prng(SEED);
    const started = Date.now();
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const codes = new Map<string, number>();
    let sent = 0;
    let nextN = 0;
    // Generation is sequential (the PRNG stream, and so the cases, depend only on the seed);
    // sending is parallel.
    const cases: Case[] = [];
    for (let i = 0; i < COUNT; i++) cases.push(await generate(r, i, server.port, uploadId));
    const paths = [server.dataDir, REPO_ROOT.replace(/\/$/, '')];
    const worker = async () => {
      while (nextN < cases.length && Date.now() - started < TIME_BUDGET_MS && failures.length < 10) {
        const c = cases[nextN++]!;
        let res: RawResponse;
        try {
          res = await rawExchange(server.port, c.request, { head: c.method === 'HEAD', timeoutMs: 10_000 });
        } catch (e) {
          failures.push(`${(e as Error).message}\n  ${reproducer(c)}`);
          continue;
        }
        sent++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (process.env.FUZZ_VERBOSE) {
          const code = /<Code>([^<]*)<\/Code>/.exec(res.body.toString('utf8'))?.[1] ?? '';
          const msg = process.env.FUZZ_VERBOSE === '2' ? (/<Message>([^<]*)/.exec(res.body.toString('utf8'))?.[1] ?? '') : '';
          const k = `${c.signed ? 'S' : 'U'} ${res.status} ${code} ${msg}`;
          codes.set(k, (codes.get(k) ?? 0) + 1);
        }
        const problem = check(c, res, paths);
        if (problem)
          failures.push(
            `${problem}\n  answer: ${res.status} ${JSON.stringify(res.headers)} ${JSON.stringify(res.body.subarray(0, 400).toString('utf8'))}\n  ${reproducer(c)}`,
          );
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const summary = `${sent} requests in ${Date.now() - started} ms, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`;
    console.log(`fuzz: ${summary}`);
    if (process.env.FUZZ_VERBOSE)
      console.log(
        [...codes]
          .sort()
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n'),
      );
    if (failures.length > 0) assert.fail(`${failures.length} fuzz failure(s) (${summary}):\n${failures.join('\n')}`);
    assert.ok(sent >= Math.min(COUNT, 500), `only ${sent} requests were sent in the time budget`);
    // Enough requests got past authentication to exercise the handlers.
    assert.ok((statuses.get(200) ?? 0) > 20, summary);

    // Still serving, and nothing internal went wrong on the way.
    const put = await signRequest({ method: 'PUT', port: server.port, path: '/fuzz-final/check', body: 'still here' });
    const mk = await signRequest({ method: 'PUT', port: server.port, path: '/fuzz-final' });
    assert.equal((await rawExchange(server.port, buildRequest({ method: 'PUT', target: mk.target, headers: mk.headers }))).status, 200);
    assert.equal((await rawExchange(server.port, buildRequest({ method: 'PUT', target: put.target, headers: put.headers, body: 'still here' }))).status, 200);
    const s = await signRequest({ method: 'GET', port: server.port, path: '/fuzz-final/check' });
    const res = await rawExchange(server.port, buildRequest({ method: 'GET', target: s.target, headers: s.headers }));
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'still here');
    const bad = server
      .logs()
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l) || /internal error|unhandled error/.test(l));
    if (bad.length > 0)
      assert.fail(
        `the server logged ${bad.length} error(s), e.g.:\n${bad
          .slice(0, 5)
          .map((l) => l.slice(0, 800))
          .join('\n')}`,
      );
  });
});

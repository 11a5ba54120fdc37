// XML request bodies are read byte for byte (issue 9): keys that start or end with spaces, tabs and
// newlines, or hold '&', '<', '>', through DeleteObjects, CompleteMultipartUpload and CORS, with
// aws-sdk-js, boto3 (newest and Debian's) and raw requests for what SDKs do not send (entities
// decoded exactly once, character references, CDATA, CR LF, whitespace around numbers/booleans).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DEBIAN_PYTHON, PYTHON_TEST_DIR, VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';
import { buildRequest, encodeKey, rawExchange, signRequest, type RawResponse } from '../hardening/raw-http.js';

const ODD_KEYS = [
  ' a',
  'a ',
  ' ',
  '  ',
  '\t',
  'tab\t',
  '\ttab',
  '\nnl',
  'nl\n',
  ' both ',
  ' \t\n mixed \n\t ',
  '&',
  'a&b',
  '<lt',
  'gt>',
  '&amp;',
  '&lt;x&gt;',
  ' & ',
];
const DECOYS = ['a', 'tab', 'nl', 'both', 'mixed', 'lt', 'gt', 'x'];

describe('XML request bodies, byte for byte', { timeout: 300_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('xmltext');

  const exists = async (key: string): Promise<boolean> => {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (e) {
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw e;
    }
  };
  const put = (key: string, body = key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  /** A signed raw request with exactly this body. */
  const raw = async (method: string, path: string, query: Record<string, string>, body: string): Promise<RawResponse> => {
    const s = await signRequest({ method, port: server.port, path, query, body });
    return rawExchange(server.port, buildRequest({ method, target: s.target, headers: s.headers, body }));
  };
  const deleteRaw = (inner: string) => raw('POST', `/${bucket}`, { delete: '' }, `<?xml version="1.0" encoding="UTF-8"?><Delete>${inner}</Delete>`);

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('DeleteObjects (aws-sdk-js) › keys with leading/trailing spaces, tabs, newlines, & < > → exactly those deleted, trimmed decoys kept', async () => {
    for (const k of [...ODD_KEYS, ...DECOYS]) await put(k);
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: ODD_KEYS.map((Key) => ({ Key })) } }));
    assert.deepEqual(r.Errors ?? [], []);
    assert.deepEqual((r.Deleted ?? []).map((d) => d.Key).sort(), [...ODD_KEYS].sort());
    for (const k of ODD_KEYS) assert.equal(await exists(k), false, `${JSON.stringify(k)} deleted`);
    for (const k of DECOYS) assert.equal(await exists(k), true, `decoy ${JSON.stringify(k)} kept`);
  });

  it('DeleteObjects (aws-sdk-js) › a key of one space → deleted (was refused)', async () => {
    await put(' ');
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: ' ' }] } }));
    assert.deepEqual(r.Errors ?? [], []);
    assert.deepEqual(
      (r.Deleted ?? []).map((d) => d.Key),
      [' '],
    );
    assert.equal(await exists(' '), false);
  });

  it('CompleteMultipartUpload (aws-sdk-js) › key " mp " and an ETag wrapped in whitespace → 200, the key kept exactly', async () => {
    const key = ' mp ';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'only part' }));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: ` \n${ETag!}\t ` }] } }),
    );
    assert.equal(done.Key, key);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(await got.Body!.transformToString(), 'only part');
    assert.equal(await exists('mp'), false);
  });

  it('ListObjectsV2, DeleteObjects (aws-sdk-js) › keys with CR ("cr\\rkey", "cr\\r\\nkey") → listed and deleted exactly (CR written as &#xd;, never as a literal CR that reads as LF)', async () => {
    const keys = ['cr\rkey', 'cr\r\nkey', 'cr\nkey'];
    for (const k of keys) await put(k);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'cr' }));
    assert.deepEqual(
      (listed.Contents ?? []).map((o) => o.Key),
      [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(0, 2).map((Key) => ({ Key })) } }));
    assert.deepEqual(r.Errors ?? [], []);
    assert.deepEqual((r.Deleted ?? []).map((d) => d.Key).sort(), keys.slice(0, 2).sort());
    assert.equal(await exists('cr\rkey'), false);
    assert.equal(await exists('cr\r\nkey'), false);
    assert.equal(await exists('cr\nkey'), true);
  });

  it('PutBucketCors (aws-sdk-js) › rule ID with spaces and a tab → returned exactly; an origin with a leading space → 400 InvalidRequest', async () => {
    const ID = '  my\trule  ';
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: { CORSRules: [{ ID, AllowedMethods: ['GET'], AllowedOrigins: ['https://a.example'], MaxAgeSeconds: 5 }] },
      }),
    );
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    assert.equal(got.CORSRules?.[0]?.ID, ID);
    const err = await errorOf(
      s3.send(
        new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: [' https://a.example'] }] } }),
      ),
    );
    assert.equal(err.name, 'InvalidRequest');
  });

  it('DeleteObjects (raw) › &amp;lt; names "&lt;" (decoded once), &#x20; names " ", CDATA is literal, &#13; is a CR, a literal CR LF reads as LF', async () => {
    for (const k of ['<', '&lt;', ' ', '<b>&amp;', 'c\r\nr', 'l\nf', 'l\r\nf']) await put(k);
    const res = await deleteRaw(
      '<Object><Key>&amp;lt;</Key></Object><Object><Key>&#x20;</Key></Object><Object><Key><![CDATA[<b>&amp;]]></Key></Object><Object><Key>c&#13;&#10;r</Key></Object><Object><Key>l\r\nf</Key></Object>',
    );
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(await exists('&lt;'), false);
    assert.equal(await exists('<'), true, 'entity decoded twice');
    assert.equal(await exists(' '), false);
    assert.equal(await exists('<b>&amp;'), false);
    assert.equal(await exists('c\r\nr'), false);
    assert.equal(await exists('l\nf'), false, 'CR LF in the document is LF (XML end-of-line handling, as AWS parses it)');
    assert.equal(await exists('l\r\nf'), true);
  });

  it('DeleteObjects (raw) › <Quiet> true </Quiet> is a boolean (whitespace ignored) → quiet answer', async () => {
    await put('q');
    const res = await deleteRaw('<Quiet>\n  true\n</Quiet><Object><Key>q</Key></Object>');
    assert.equal(res.status, 200, res.body.toString());
    assert.doesNotMatch(res.body.toString(), /<Deleted>/);
    assert.equal(await exists('q'), false);
  });

  it('DeleteObjects (raw) › undeclared entity (&nbsp;), bare &, reference to U+0000 → 400 MalformedXML, nothing deleted', async () => {
    await put('keep');
    for (const inner of ['<Object><Key>keep&nbsp;</Key></Object>', '<Object><Key>keep & x</Key></Object>', '<Object><Key>keep&#0;</Key></Object>']) {
      const res = await deleteRaw(inner);
      assert.equal(res.status, 400, res.body.toString());
      assert.match(res.body.toString(), /<Code>MalformedXML<\/Code>/);
    }
    assert.equal(await exists('keep'), true);
  });

  it('CompleteMultipartUpload (raw) › <PartNumber> 1 </PartNumber> is a number (whitespace ignored) → 200', async () => {
    const key = 'pn';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'p' }));
    const body = `<CompleteMultipartUpload><Part><PartNumber>\n 1 \t</PartNumber><ETag>${ETag!.replace(/"/g, '&quot;')}</ETag></Part></CompleteMultipartUpload>`;
    const res = await raw('POST', `/${bucket}/${encodeKey(key)}`, { uploadId: UploadId! }, body);
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(await exists(key), true);
  });

  it('CreateBucket (raw) › <LocationConstraint> with a leading space → 400 InvalidLocationConstraint; exact value → 200', async () => {
    const conf = (v: string) => `<CreateBucketConfiguration><LocationConstraint>${v}</LocationConstraint></CreateBucketConfiguration>`;
    const spaced = await raw('PUT', '/xmltext-loc', {}, conf(' us-east-1'));
    assert.equal(spaced.status, 400, spaced.body.toString());
    assert.match(spaced.body.toString(), /<Code>InvalidLocationConstraint<\/Code>/);
    const exact = await raw('PUT', '/xmltext-loc', {}, conf('us-east-1'));
    assert.equal(exact.status, 200, exact.body.toString());
  });

  for (const { label, python } of [
    { label: 'boto3 newest (.venv)', python: VENV_PYTHON },
    { label: 'boto3 Debian 1.26 (/usr/bin/python3)', python: DEBIAN_PYTHON },
  ]) {
    it(`${label} › xml_text.py: DeleteObjects odd keys and one space, whitespace-wrapped ETag, CORS rule ID → byte for byte`, async (t: TestContext) => {
      const { env, cleanup } = await isolatedClientEnv({
        S3_ENDPOINT: server.url,
        S3_ACCESS_KEY: ACCESS_KEY,
        S3_SECRET_KEY: SECRET_KEY,
        S3_BUCKET: newBucketName('xmlpy'),
      });
      try {
        const r = await run(python, [join(PYTHON_TEST_DIR, 'xml_text.py')], { env, timeoutMs: 120_000 });
        t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
        assert.equal(r.code, 0, describeRun(`${python} xml_text.py`, r));
      } finally {
        await cleanup();
      }
    });
  }
});

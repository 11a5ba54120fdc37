// PostObject (browser form upload) against a real server: forms made by boto3's
// generate_presigned_post — default config (SigV2 form, botocore's default in us-east-1) and
// signature_version='s3v4' — submitted from Node with FormData/fetch as a browser would, plus
// hand-built multipart bodies for what FormData will not send.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { CURL, DEBIAN_PYTHON, VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const unescapeXml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
const xmlText = (xml: string, name: string) => {
  const m = xml.match(new RegExp(`<${name}>([^<]*)</${name}>`));
  return m ? unescapeXml(m[1]!) : undefined;
};

interface Post {
  url: string;
  fields: Record<string, string>;
}

interface Forms {
  boto3: string;
  posts: Record<string, Post>;
  gets: Record<string, string>;
}

/**
 * Every form and presigned GET the tests need, made in one Python run. Env: S3_ENDPOINT, S3_BUCKET.
 * A form spec: [name, sigv4?, key, fields, conditions, expires_in].
 */
const FORMS_PY = String.raw`
import json, os, sys, boto3
from botocore.config import Config
kw = dict(endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id=os.environ['S3_ACCESS_KEY'],
          aws_secret_access_key=os.environ['S3_SECRET_KEY'], region_name='us-east-1')
default = boto3.client('s3', **kw)
v4 = boto3.client('s3', config=Config(signature_version='s3v4'), **kw)
bucket = os.environ['S3_BUCKET']
if os.environ.get('CREATE') == '1':
    v4.create_bucket(Bucket=bucket)
specs = json.loads(sys.stdin.read())
posts, gets = {}, {}
for name, sigv4, key, fields, conditions, expires in specs['posts']:
    c = v4 if sigv4 else default
    posts[name] = c.generate_presigned_post(bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires)
for key in specs['gets']:
    gets[key] = default.generate_presigned_url('get_object', Params={'Bucket': bucket, 'Key': key})
print(json.dumps({'boto3': boto3.__version__, 'posts': posts, 'gets': gets}))
`;

type Spec = [name: string, sigv4: boolean, key: string, fields: Record<string, string>, conditions: unknown[], expiresIn: number];

const SPECS: Spec[] = [
  [
    'v2',
    false,
    'v2.txt',
    { 'Content-Type': 'text/plain', 'x-amz-meta-color': 'blue' },
    [{ 'Content-Type': 'text/plain' }, { 'x-amz-meta-color': 'blue' }],
    600,
  ],
  ['v4', true, 'v4.txt', { 'Cache-Control': 'max-age=60' }, [['starts-with', '$Cache-Control', 'max-age=']], 600],
  ['status201', false, 's201.txt', { success_action_status: '201' }, [{ success_action_status: '201' }], 600],
  ['status200', true, 's200.txt', { success_action_status: '200' }, [{ success_action_status: '200' }], 600],
  [
    'redirect',
    false,
    'redir.txt',
    { success_action_redirect: 'http://example.com/done?x=1' },
    [['starts-with', '$success_action_redirect', 'http://example.com/']],
    600,
  ],
  ['range', true, 'range.txt', {}, [['content-length-range', 1, 10]], 600],
  ['expired', false, 'expired.txt', {}, [], -60],
  ['tamper', true, 'tamper.txt', {}, [], 600],
  ['extra', false, 'extra.txt', {}, [], 600],
  ['filename', false, 'up/${filename}', {}, [], 600],
  ['after', true, 'after.txt', {}, [], 600],
  ['nofile', false, 'nofile.txt', {}, [], 600],
  ['parts', false, 'parts.txt', { 'Content-Type': 'text/csv' }, [{ 'Content-Type': 'text/csv' }], 600],
  ['big', true, 'big.bin', {}, [['content-length-range', 0, 8 * 1024 * 1024]], 600],
  ['cond', false, 'cond.txt', {}, [], 600],
];
const GET_KEYS = [
  'v2.txt',
  'v4.txt',
  's201.txt',
  's200.txt',
  'redir.txt',
  'range.txt',
  'expired.txt',
  'tamper.txt',
  'extra.txt',
  'up/photo 1+€.txt',
  'after.txt',
  'parts.txt',
  'big.bin',
  'cond.txt',
  'debian.txt',
];

async function makeForms(python: string, server: RunningServer, bucket: string, specs: Spec[], getKeys: string[], create: boolean): Promise<Forms> {
  const { env, cleanup } = await isolatedClientEnv({
    S3_ENDPOINT: server.url,
    S3_ACCESS_KEY: ACCESS_KEY,
    S3_SECRET_KEY: SECRET_KEY,
    S3_BUCKET: bucket,
    CREATE: create ? '1' : '0',
  });
  try {
    const r = await run(python, ['-c', FORMS_PY], { env, input: JSON.stringify({ posts: specs, gets: getKeys }) });
    assert.equal(r.code, 0, describeRun(`${python} (generate_presigned_post)`, r));
    return JSON.parse(r.stdout) as Forms;
  } finally {
    await cleanup();
  }
}

/** Submits a form as a browser does (fields in order, then file). */
async function submit(
  post: Post,
  file: Buffer | string,
  opts: { filename?: string; extra?: Record<string, string>; after?: Record<string, string>; drop?: string[] } = {},
): Promise<Response> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(post.fields)) if (!opts.drop?.includes(k)) fd.append(k, v);
  for (const [k, v] of Object.entries(opts.extra ?? {})) fd.append(k, v);
  fd.append('file', new Blob([typeof file === 'string' ? file : new Uint8Array(file)]), opts.filename ?? 'upload.bin');
  for (const [k, v] of Object.entries(opts.after ?? {})) fd.append(k, v);
  return fetch(post.url, { method: 'POST', body: fd, redirect: 'manual' });
}

async function errorCode(res: Response): Promise<{ code?: string; message?: string; body: string }> {
  const body = await res.text();
  return { code: xmlText(body, 'Code'), message: xmlText(body, 'Message'), body };
}

describe('PostObject (browser form upload)', () => {
  let server: RunningServer;
  let forms: Forms;
  const bucket = newBucketName('post');

  before(async () => {
    server = await startServer();
    forms = await makeForms(VENV_PYTHON, server, bucket, SPECS, GET_KEYS, true);
  });

  after(async () => {
    await server?.stop();
  });

  const fetchObject = (key: string) => fetch(forms.gets[key]!);

  it('PostObject › boto3 default form (SigV2: AWSAccessKeyId/signature) → 204, ETag, object readable with its Content-Type and metadata', async (t) => {
    t.diagnostic(`boto3 ${forms.boto3}`);
    const post = forms.posts.v2!;
    assert.ok('AWSAccessKeyId' in post.fields && 'signature' in post.fields, JSON.stringify(post.fields));
    const res = await submit(post, 'hello sigv2 form');
    assert.equal(res.status, 204, await res.text());
    assert.equal(res.headers.get('etag'), `"${md5('hello sigv2 form')}"`);
    const obj = await fetchObject('v2.txt');
    assert.equal(obj.status, 200);
    assert.equal(await obj.text(), 'hello sigv2 form');
    assert.equal(obj.headers.get('content-type'), 'text/plain');
    assert.equal(obj.headers.get('x-amz-meta-color'), 'blue');
  });

  it('PostObject › boto3 s3v4 form (x-amz-credential/x-amz-signature) → 204, object readable with Cache-Control', async () => {
    const post = forms.posts.v4!;
    assert.ok('x-amz-signature' in post.fields && 'x-amz-credential' in post.fields);
    const res = await submit(post, 'hello sigv4 form');
    assert.equal(res.status, 204, await res.text());
    const obj = await fetchObject('v4.txt');
    assert.equal(await obj.text(), 'hello sigv4 form');
    assert.equal(obj.headers.get('cache-control'), 'max-age=60');
  });

  it('PostObject › success_action_status=201 → 201 PostResponse XML with Location, Bucket, Key, ETag', async () => {
    const res = await submit(forms.posts.status201!, 'created');
    const body = await res.text();
    assert.equal(res.status, 201, body);
    assert.match(body, /^<\?xml[^>]*>\s*<PostResponse>/);
    assert.equal(xmlText(body, 'Bucket'), bucket);
    assert.equal(xmlText(body, 'Key'), 's201.txt');
    assert.equal(xmlText(body, 'ETag'), `"${md5('created')}"`);
    assert.equal(xmlText(body, 'Location'), `${server.url}/${bucket}/s201.txt`);
    assert.equal(res.headers.get('etag'), `"${md5('created')}"`);
  });

  it('PostObject › success_action_status=200 → 200 with an empty body', async () => {
    const res = await submit(forms.posts.status200!, 'ok');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
    assert.equal((await fetchObject('s200.txt')).status, 200);
  });

  it('PostObject › success_action_redirect → 303 to the URL with bucket, key and etag appended', async () => {
    const res = await submit(forms.posts.redirect!, 'redirected');
    assert.equal(res.status, 303, await res.text());
    assert.equal(res.headers.get('location'), `http://example.com/done?x=1&bucket=${bucket}&key=redir.txt&etag=%22${md5('redirected')}%22`);
    assert.equal(await (await fetchObject('redir.txt')).text(), 'redirected');
  });

  it('PostObject › file over content-length-range max → 400 EntityTooLarge, nothing stored', async () => {
    const res = await submit(forms.posts.range!, '12345678901');
    const err = await errorCode(res);
    assert.equal(res.status, 400, err.body);
    assert.equal(err.code, 'EntityTooLarge');
    assert.equal((await fetchObject('range.txt')).status, 404);
  });

  it('PostObject › empty file under content-length-range min → 400 EntityTooSmall, nothing stored', async () => {
    const res = await submit(forms.posts.range!, '');
    const err = await errorCode(res);
    assert.equal(res.status, 400, err.body);
    assert.equal(err.code, 'EntityTooSmall');
    assert.equal((await fetchObject('range.txt')).status, 404);
  });

  it('PostObject › expired policy → 403 AccessDenied "Invalid according to Policy: Policy expired."', async () => {
    const res = await submit(forms.posts.expired!, 'late');
    const err = await errorCode(res);
    assert.equal(res.status, 403, err.body);
    assert.equal(err.code, 'AccessDenied');
    assert.equal(err.message, 'Invalid according to Policy: Policy expired.');
    assert.equal((await fetchObject('expired.txt')).status, 404);
  });

  it('PostObject › tampered x-amz-signature → 403 SignatureDoesNotMatch, nothing stored', async () => {
    const post = forms.posts.tamper!;
    const sig = post.fields['x-amz-signature']!;
    const res = await submit({ ...post, fields: { ...post.fields, 'x-amz-signature': sig.replace(/.$/, (c) => (c === '0' ? '1' : '0')) } }, 'x');
    const err = await errorCode(res);
    assert.equal(res.status, 403, err.body);
    assert.equal(err.code, 'SignatureDoesNotMatch');
    assert.equal((await fetchObject('tamper.txt')).status, 404);
  });

  it('PostObject › tampered policy (SigV2 form) → 403 SignatureDoesNotMatch', async () => {
    const post = forms.posts.extra!;
    const doc = JSON.parse(Buffer.from(post.fields.policy!, 'base64').toString()) as { conditions: unknown[] };
    doc.conditions.push(['starts-with', '$x-amz-meta-anything', '']);
    const policy = Buffer.from(JSON.stringify(doc)).toString('base64');
    const res = await submit({ ...post, fields: { ...post.fields, policy } }, 'x', { extra: { 'x-amz-meta-anything': '1' } });
    assert.equal(res.status, 403);
    assert.equal((await errorCode(res)).code, 'SignatureDoesNotMatch');
  });

  it('PostObject › a field no condition covers → 403 "Invalid according to Policy: Extra input fields: x-amz-meta-extra"', async () => {
    const res = await submit(forms.posts.extra!, 'x', { extra: { 'x-amz-meta-extra': 'sneaky' } });
    const err = await errorCode(res);
    assert.equal(res.status, 403, err.body);
    assert.equal(err.code, 'AccessDenied');
    assert.equal(err.message, 'Invalid according to Policy: Extra input fields: x-amz-meta-extra');
    assert.equal((await fetchObject('extra.txt')).status, 404);
  });

  it('PostObject › key changed to break its condition → 403 "Policy Condition failed"', async () => {
    const post = forms.posts.cond!;
    const res = await submit({ ...post, fields: { ...post.fields, key: 'elsewhere.txt' } }, 'x');
    const err = await errorCode(res);
    assert.equal(res.status, 403, err.body);
    assert.equal(err.message, 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "cond.txt"]');
  });

  it('PostObject › key with ${filename} → the uploaded file name (UTF-8, spaces) is substituted', async () => {
    const res = await submit(forms.posts.filename!, 'named', { filename: 'photo 1+€.txt' });
    assert.equal(res.status, 204, await res.text());
    const obj = await fetchObject('up/photo 1+€.txt');
    assert.equal(obj.status, 200);
    assert.equal(await obj.text(), 'named');
  });

  it('PostObject › fields after the file are ignored (not "extra input fields", not applied)', async () => {
    const res = await submit(forms.posts.after!, 'after', { after: { 'x-amz-meta-late': 'ignored', key: 'other.txt' } });
    assert.equal(res.status, 204, await res.text());
    const obj = await fetchObject('after.txt');
    assert.equal(await obj.text(), 'after');
    assert.equal(obj.headers.get('x-amz-meta-late'), null);
  });

  it('PostObject › no file field → 400 InvalidArgument "POST requires exactly one file upload per request."', async () => {
    const fd = new FormData();
    for (const [k, v] of Object.entries(forms.posts.nofile!.fields)) fd.append(k, v);
    const res = await fetch(forms.posts.nofile!.url, { method: 'POST', body: fd });
    const err = await errorCode(res);
    assert.equal(res.status, 400, err.body);
    assert.equal(err.code, 'InvalidArgument');
    assert.equal(err.message, 'POST requires exactly one file upload per request.');
  });

  it('PostObject › a field given twice (names compared case-insensitively) → 400 InvalidArgument, nothing stored', async () => {
    const res = await submit(forms.posts.cond!, 'twice', { extra: { KEY: 'cond.txt' } });
    const err = await errorCode(res);
    assert.equal(res.status, 400, err.body);
    assert.equal(err.code, 'InvalidArgument');
    assert.equal((await fetchObject('cond.txt')).status, 404);
  });

  it('PostObject › form without policy or signature (anonymous) → 403 AccessDenied, nothing stored', async () => {
    const fd = new FormData();
    fd.append('key', 'anon.txt');
    fd.append('file', new Blob(['anon']), 'a.txt');
    const res = await fetch(`${server.url}/${bucket}`, { method: 'POST', body: fd });
    assert.equal(res.status, 403);
    assert.equal((await errorCode(res)).code, 'AccessDenied');
  });

  it('PostObject › every field sent as a file part with mixed-case names (python-requests style, hand-built body) → 204', async () => {
    const post = forms.posts.parts!;
    const boundary = `----strata${randomBytes(8).toString('hex')}`;
    const parts: Buffer[] = [];
    const part = (name: string, value: string | Buffer, filename: string) => {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n\r\n`));
      parts.push(Buffer.isBuffer(value) ? value : Buffer.from(value));
      parts.push(Buffer.from('\r\n'));
    };
    for (const [k, v] of Object.entries(post.fields)) part(k === 'key' ? 'KEY' : k === 'policy' ? 'Policy' : k, v, k);
    part('file', 'a,b\n1,2\n', 'data.csv');
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    const res = await fetch(post.url, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Buffer.concat(parts),
    });
    assert.equal(res.status, 204, await res.text());
    const obj = await fetchObject('parts.txt');
    assert.equal(await obj.text(), 'a,b\n1,2\n');
    assert.equal(obj.headers.get('content-type'), 'text/csv');
  });

  it('PostObject › truncated multipart body (no closing boundary) → 400 MalformedPOSTRequest, nothing stored', async () => {
    const post = forms.posts.tamper!; // any valid form; this one never succeeds elsewhere
    const boundary = 'xxBOUNDARYxx';
    let body = '';
    for (const [k, v] of Object.entries(post.fields)) body += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
    body += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\npartial data`;
    const res = await fetch(post.url, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    const err = await errorCode(res);
    assert.equal(res.status, 400, err.body);
    assert.equal(err.code, 'MalformedPOSTRequest');
    assert.equal((await fetchObject('tamper.txt')).status, 404);
  });

  it('PostObject › refused form on a kept-alive connection → the next request on the same socket is answered normally', async () => {
    const post = forms.posts.extra!;
    const boundary = 'kaBOUNDARYka';
    let body = '';
    for (const [k, v] of Object.entries({ ...post.fields, 'x-amz-meta-extra': 'refused' })) {
      body += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
    }
    body += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n${'z'.repeat(900_000)}\r\n--${boundary}--\r\n`;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, headers: Record<string, string>, payload?: string) =>
      new Promise<{ status: number; body: string; reused: boolean }>((resolve, reject) => {
        const req = httpRequest({ host: server.host, port: server.port, method, path, headers, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, reused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end(payload);
      });
    try {
      const first = await send(
        'POST',
        `/${bucket}`,
        { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(Buffer.byteLength(body)) },
        body,
      );
      assert.equal(first.status, 403, first.body);
      const second = await send('GET', new URL(forms.gets['v4.txt']!).pathname + new URL(forms.gets['v4.txt']!).search, {});
      assert.equal(second.reused, true, 'the connection was kept alive');
      assert.equal(second.status, 200, second.body);
      assert.equal(second.body, 'hello sigv4 form');
    } finally {
      agent.destroy();
    }
  });

  it('PostObject › 5 MiB file streamed → 204, ETag is its MD5, bytes read back intact', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 123);
    const res = await submit(forms.posts.big!, data);
    assert.equal(res.status, 204, await res.text());
    assert.equal(res.headers.get('etag'), `"${md5(data)}"`);
    const back = Buffer.from(await (await fetchObject('big.bin')).arrayBuffer());
    assert.equal(md5(back), md5(data));
  });

  it('PostObject › POST /bucket signed with a SigV4 header but not a form → 412 PreconditionFailed', async () => {
    const r = await run(CURL, [
      '-s',
      '-o',
      '-',
      '-w',
      '\n%{http_code}',
      '-X',
      'POST',
      '--data-binary',
      'x=1',
      '--aws-sigv4',
      `aws:amz:${REGION}:s3`,
      '--user',
      `${ACCESS_KEY}:${SECRET_KEY}`,
      '-H',
      'x-amz-content-sha256: UNSIGNED-PAYLOAD',
      `${server.url}/${bucket}`,
    ]);
    assert.equal(r.code, 0, describeRun('curl', r));
    const status = r.stdout.trim().split('\n').pop();
    assert.equal(status, '412', r.stdout);
    assert.match(r.stdout, /<Code>PreconditionFailed<\/Code>/);
  });

  it('PostObject › Debian boto3 1.26 default form (SigV2) → 204, object readable', async () => {
    const old = await makeForms(DEBIAN_PYTHON, server, bucket, [['debian', false, 'debian.txt', {}, [], 600]], [], false);
    const res = await submit(old.posts.debian!, 'from an old boto3');
    assert.equal(res.status, 204, await res.text());
    assert.equal(await (await fetchObject('debian.txt')).text(), 'from an old boto3');
  });
});

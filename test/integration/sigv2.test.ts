// Signature Version 2 against a real server: boto3's default presigned URLs in us-east-1 (SigV2 query
// auth) fetched with curl, boto3 with signature_version='s3' (SigV2 header auth), and s3cmd with
// signature_v2 = True — plus s3cmd with SigV4 as the control.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CURL,
  DEBIAN_PYTHON,
  S3CMD,
  VENV_PYTHON,
  describeRun,
  isolatedClientEnv,
  newBucketName,
  run,
  type RunResult,
  writeS3cmdConfig,
} from '../helpers/clients.js';
import { ACCESS_KEY, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const xmlText = (xml: string, name: string) => xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];

/** Presigned URLs from a boto3 client with no signature_version (SigV2 in us-east-1). Env: S3_*. */
const PRESIGN_PY = String.raw`
import json, os, sys, boto3
from botocore.config import Config
kw = dict(endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id=os.environ['S3_ACCESS_KEY'],
          aws_secret_access_key=os.environ['S3_SECRET_KEY'], region_name='us-east-1')
c = boto3.client('s3', **kw)
b = os.environ['S3_BUCKET']
if os.environ.get('CREATE') == '1':
    boto3.client('s3', config=Config(signature_version='s3v4'), **kw).create_bucket(Bucket=b)
specs = json.loads(sys.stdin.read())
out = {'boto3': boto3.__version__}
for name, method, key, expires, extra in specs:
    params = dict({'Bucket': b, 'Key': key}, **extra)
    out[name] = c.generate_presigned_url(method, Params=params, ExpiresIn=expires)
print(json.dumps(out))
`;

/** boto3 with signature_version='s3' signs every request with SigV2 header auth (HmacV1Auth). */
const HEADER_AUTH_PY = String.raw`
import os, hashlib, boto3
from botocore.config import Config
c = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id=os.environ['S3_ACCESS_KEY'],
                 aws_secret_access_key=os.environ['S3_SECRET_KEY'], region_name='us-east-1',
                 config=Config(signature_version='s3', s3={'addressing_style': 'path'}))
b = os.environ['S3_BUCKET'] + '-hdr'
seen = []
def check(ok, what=''):
    # Not assert: PYTHONOPTIMIZE (python -O) strips asserts, and then nothing would be checked.
    if not ok:
        raise SystemExit('check failed: ' + repr(what))
c.meta.events.register('before-send.s3', lambda request, **kw: seen.append(request.headers.get('Authorization', b'')))
c.create_bucket(Bucket=b)
data = os.urandom(70000)
key = 'dir/sp ace+plus~é.bin'
r = c.put_object(Bucket=b, Key=key, Body=data, ContentType='application/x-test', Metadata={'color': 'blue'})
got = c.get_object(Bucket=b, Key=key)
check(got['Body'].read() == data, 'get_object body differs')
check(got['ContentType'] == 'application/x-test', got['ContentType'])
check(got['Metadata'] == {'color': 'blue'}, got['Metadata'])
check(r['ETag'] == '"%s"' % hashlib.md5(data).hexdigest(), r['ETag'])
ranged = c.get_object(Bucket=b, Key=key, Range='bytes=10-19')['Body'].read()
check(ranged == data[10:20], ranged)
# ListObjects V1 and DeleteObject: old botocore (1.29) signs path-style bucket requests that carry a
# query in their operation path as '/bucket?list-type=2' or '/bucket?delete?delete', which S3 refuses
# too (https://github.com/boto/boto3/issues/4433).
names = [o['Key'] for o in c.list_objects(Bucket=b, Prefix='dir/')['Contents']]
check(names == [key], names)
c.delete_object(Bucket=b, Key=key)
check(c.list_objects(Bucket=b).get('Contents') is None, 'the deleted key is still listed')
c.delete_bucket(Bucket=b)
auth = [a.decode() if isinstance(a, bytes) else a for a in seen]
check(auth and all(a.startswith('AWS ' + os.environ['S3_ACCESS_KEY'] + ':') for a in auth), auth)
print('ok', boto3.__version__, len(auth), 'requests signed with SigV2')
`;

type Spec = [name: string, method: string, key: string, expires: number, extra: Record<string, string>];

interface CurlResult {
  status: number;
  body: Buffer;
  run: RunResult;
}

describe('SigV2 (query and header auth)', () => {
  let server: RunningServer;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let cleanupEnv: () => Promise<void>;
  const bucket = newBucketName('sigv2');
  const content = randomBytes(40_000);

  async function presign(python: string, specs: Spec[], create = false): Promise<Record<string, string>> {
    const r = await run(python, ['-c', PRESIGN_PY], { env: { ...env, CREATE: create ? '1' : '0' }, input: JSON.stringify(specs) });
    assert.equal(r.code, 0, describeRun(`${python} presign`, r));
    return JSON.parse(r.stdout) as Record<string, string>;
  }

  let n = 0;
  async function curl(url: string, args: string[] = []): Promise<CurlResult> {
    n += 1;
    const out = join(work, `curl-${n}.out`);
    const r = await run(CURL, ['-s', '-o', out, '-w', '%{http_code}', ...args, url], { env });
    assert.equal(r.code, 0, describeRun('curl', r));
    return { status: Number(r.stdout.trim()), body: await readFile(out), run: r };
  }

  before(async () => {
    server = await startServer();
    ({
      env,
      dir: work,
      cleanup: cleanupEnv,
    } = await isolatedClientEnv({
      S3_ENDPOINT: server.url,
      S3_ACCESS_KEY: ACCESS_KEY,
      S3_SECRET_KEY: SECRET_KEY,
      S3_BUCKET: bucket,
    }));
    await writeFile(join(work, 'content.bin'), content);
    // Create the bucket and store the object through a SigV2 presigned PUT (tested below too).
    const urls = await presign(VENV_PYTHON, [['put', 'put_object', 'seed.bin', 600, {}]], true);
    const put = await curl(urls.put!, ['-T', join(work, 'content.bin')]);
    assert.equal(put.status, 200, put.body.toString());
  });

  after(async () => {
    await server?.stop();
    await cleanupEnv?.();
  });

  it('SigV2 query auth › boto3 default presigned get_object (AWSAccessKeyId=) fetched with curl → 200 and the bytes', async (t) => {
    const urls = await presign(VENV_PYTHON, [['get', 'get_object', 'seed.bin', 600, {}]]);
    t.diagnostic(`boto3 ${urls.boto3}`);
    assert.match(urls.get!, /[?&]AWSAccessKeyId=/);
    assert.doesNotMatch(urls.get!, /X-Amz-Algorithm/);
    const r = await curl(urls.get!);
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(md5(r.body), md5(content));
  });

  it('SigV2 query auth › boto3 default presigned put_object with curl -T → 200, object stored byte for byte', async () => {
    const urls = await presign(VENV_PYTHON, [
      ['put', 'put_object', 'dir/put me.bin', 600, {}],
      ['get', 'get_object', 'dir/put me.bin', 600, {}],
    ]);
    assert.match(urls.put!, /[?&]AWSAccessKeyId=/);
    const data = randomBytes(12345);
    await writeFile(join(work, 'put.bin'), data);
    const put = await curl(urls.put!, ['-T', join(work, 'put.bin')]);
    assert.equal(put.status, 200, put.body.toString());
    const get = await curl(urls.get!);
    assert.equal(get.status, 200);
    assert.equal(md5(get.body), md5(data));
  });

  it('SigV2 query auth › response-content-disposition is signed and applied', async () => {
    const urls = await presign(VENV_PYTHON, [['get', 'get_object', 'seed.bin', 600, { ResponseContentDisposition: 'attachment; filename="a b.txt"' }]]);
    const head = await run(CURL, ['-s', '-D', '-', '-o', '/dev/null', urls.get!], { env });
    assert.match(head.stdout, /^HTTP\/1\.1 200/);
    assert.match(head.stdout, /content-disposition: attachment; filename="a b.txt"/i);
  });

  it('SigV2 query auth › expired URL (ExpiresIn=-60) → 403 AccessDenied "Request has expired"', async () => {
    const urls = await presign(VENV_PYTHON, [['get', 'get_object', 'seed.bin', -60, {}]]);
    const r = await curl(urls.get!);
    assert.equal(r.status, 403);
    assert.equal(xmlText(r.body.toString(), 'Code'), 'AccessDenied');
    assert.equal(xmlText(r.body.toString(), 'Message'), 'Request has expired');
  });

  it('SigV2 query auth › Signature tampered or key changed in the path → 403 SignatureDoesNotMatch', async () => {
    const urls = await presign(VENV_PYTHON, [['get', 'get_object', 'seed.bin', 600, {}]]);
    const tampered = urls.get!.replace(/Signature=([^&])/, (_m, c: string) => `Signature=${c === 'A' ? 'B' : 'A'}`);
    const r1 = await curl(tampered);
    assert.equal(r1.status, 403);
    assert.equal(xmlText(r1.body.toString(), 'Code'), 'SignatureDoesNotMatch');
    const r2 = await curl(urls.get!.replace('/seed.bin?', '/dir/put%20me.bin?'));
    assert.equal(r2.status, 403);
    assert.equal(xmlText(r2.body.toString(), 'Code'), 'SignatureDoesNotMatch');
  });

  it('SigV2 query auth › presigned URL plus an Authorization header → 400 InvalidArgument "Only one auth mechanism allowed"', async () => {
    const urls = await presign(VENV_PYTHON, [['get', 'get_object', 'seed.bin', 600, {}]]);
    const r = await curl(urls.get!, ['-H', `Authorization: AWS ${ACCESS_KEY}:abc`]);
    assert.equal(r.status, 400);
    assert.equal(xmlText(r.body.toString(), 'Code'), 'InvalidArgument');
    assert.match(xmlText(r.body.toString(), 'Message') ?? '', /^Only one auth mechanism allowed/);
  });

  it('SigV2 query auth › Debian boto3 1.26 default presigned get_object → 200 and the bytes', async () => {
    const urls = await presign(DEBIAN_PYTHON, [['get', 'get_object', 'seed.bin', 600, {}]]);
    assert.match(urls.get!, /[?&]AWSAccessKeyId=/);
    const r = await curl(urls.get!);
    assert.equal(r.status, 200);
    assert.equal(md5(r.body), md5(content));
  });

  for (const [label, python] of [
    ['newest', VENV_PYTHON],
    ['Debian 1.26', DEBIAN_PYTHON],
  ] as const) {
    it(`SigV2 header auth › boto3 ${label} with signature_version='s3': create, put (odd key, metadata), get, range, list, delete → all succeed, every request signed 'AWS AK:sig'`, async (t) => {
      const r = await run(python, ['-c', HEADER_AUTH_PY], { env: { ...env, S3_BUCKET: `${bucket.slice(0, 40)}-${label === 'newest' ? 'n' : 'd'}` } });
      assert.equal(r.code, 0, `${describeRun(`${python} header auth`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
      t.diagnostic(r.stdout.trim());
      assert.match(r.stdout, /^ok /);
    });
  }

  for (const v2 of [true, false]) {
    it(`s3cmd (signature_v2 = ${v2 ? 'True' : 'False'}) › mb, put, ls, get (md5 equal), del, rb → all succeed${v2 ? ' with SigV2 headers' : ' with SigV4'}`, async () => {
      const cfg = join(work, `s3cmd-${v2 ? 'v2' : 'v4'}.cfg`);
      await writeS3cmdConfig(cfg, { hostPort: `${server.host}:${server.port}`, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, sigV2: v2 });
      const b = newBucketName(`s3cmd-${v2 ? 'v2' : 'v4'}`);
      const s3cmd = async (...args: string[]) => {
        const r = await run(S3CMD, ['-c', cfg, ...args], { env });
        assert.equal(r.code, 0, `${describeRun(`s3cmd ${args.join(' ')}`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
        return r;
      };
      const key = 'dir/f 1+b~c.bin';
      await s3cmd('mb', `s3://${b}`);
      await s3cmd('put', join(work, 'content.bin'), `s3://${b}/${key}`);
      // -d shows how s3cmd signed: "SignHeaders" is its SigV2 string to sign, "Canonical Request" SigV4.
      const ls = await s3cmd('-d', 'ls', `s3://${b}/dir/`);
      assert.match(ls.stdout, /40000\s+s3:\/\/.*\/dir\/f 1\+b~c\.bin/);
      if (v2) {
        assert.match(ls.stderr, /SignHeaders/);
        assert.doesNotMatch(ls.stderr, /Canonical Request/);
      } else {
        assert.match(ls.stderr, /Canonical Request/);
      }
      const out = join(work, `s3cmd-get-${v2 ? 'v2' : 'v4'}.bin`);
      await s3cmd('get', '--force', `s3://${b}/${key}`, out);
      assert.equal(md5(await readFile(out)), md5(content));
      await s3cmd('del', `s3://${b}/${key}`);
      const empty = await s3cmd('ls', `s3://${b}/`);
      assert.equal(empty.stdout.trim(), '');
      await s3cmd('rb', `s3://${b}`);
      const buckets = await s3cmd('ls');
      assert.doesNotMatch(buckets.stdout, new RegExp(`s3://${b}\\b`));
    });
  }
});

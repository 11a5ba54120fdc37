// Object and bucket tagging over HTTP: aws-sdk-js for every operation and write path (PUT, copy
// with x-amz-tagging-directive, multipart, UploadPartCopy), hand-signed requests for headers the
// SDKs will not send (11 tags, long keys, aws:, duplicates, bad URL encoding), the POST form's
// tagging document (boto3's presigned POST + curl), boto3 newest and Debian's (tagging.py), and
// the AWS CLI's s3api.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type Tag,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { CURL, VENV_PYTHON, awsCli, describeRun, isolatedClientEnv, newBucketName, run, BOTO3_PYTHONS, runPythonCheck } from '../helpers/clients.js';
import { errorOf, signedHeaders, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const xmlText = (xml: string, name: string): string | undefined => xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];
const tagSet = (pairs: Array<[string, string]>): Tag[] => pairs.map(([Key, Value]) => ({ Key, Value }));

describe('tagging (unversioned buckets)', { timeout: 300_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('tags');

  const tagsOf = async (Key: string, VersionId?: string): Promise<Tag[]> =>
    (await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key, VersionId }))).TagSet ?? [];
  const countOf = async (Key: string): Promise<[number | undefined, number | undefined]> => {
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    await get.Body?.transformToByteArray();
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key }));
    // HeadObjectOutput has no TagCount in the SDK's model: read the raw header through GetObject only,
    // and HEAD's through a raw request.
    const raw = await signed('HEAD', `/${bucket}/${Key}`, {});
    assert.equal(head.$metadata.httpStatusCode, 200);
    const h = raw.headers['x-amz-tagging-count'];
    return [get.TagCount, h === undefined ? undefined : Number(h)];
  };

  /** A SigV4-signed request built by hand (for values the SDKs will not send). */
  async function signed(method: string, path: string, query: Record<string, string>, headers: Record<string, string> = {}, payload = ''): Promise<RawAnswer> {
    const sig = {
      headers: await signedHeaders(
        server,
        method,
        path,
        { 'x-amz-content-sha256': createHash('sha256').update(payload).digest('hex'), 'content-length': String(Buffer.byteLength(payload)), ...headers },
        query,
      ),
    };
    const qs = new URLSearchParams(query).toString();
    return new Promise<RawAnswer>((resolve, reject) => {
      const req = http.request(
        { host: server.host, port: server.port, method, path: qs ? `${path}?${qs}` : path, headers: sig.headers as Record<string, string>, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  const exists = async (key: string): Promise<boolean> => (await signed('HEAD', `/${bucket}/${key}`, {})).status === 200;

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('Put/Get/DeleteObjectTagging (aws-sdk-js) › tags byte for byte, x-amz-tagging-count on GET/HEAD only with tags; delete → 204, empty TagSet', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'p' }));
    assert.deepEqual(await tagsOf('plain'), []);
    assert.deepEqual(await countOf('plain'), [undefined, undefined]);
    const tags = tagSet([
      ['  spaced key ', ' value with  spaces '],
      ['ünïcode 文字', 'é/=+-@_.:'],
      ['empty', ''],
      ['k'.repeat(128), 'v'.repeat(256)],
    ]);
    const put = await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'plain', Tagging: { TagSet: tags } }));
    assert.equal(put.$metadata.httpStatusCode, 200);
    assert.equal(put.VersionId, undefined, 'no x-amz-version-id in an unversioned bucket');
    assert.deepEqual(await tagsOf('plain'), tags);
    assert.deepEqual(await countOf('plain'), [4, 4]);
    // A new set replaces the old one.
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'plain', Tagging: { TagSet: tagSet([['only', 'one']]) } }));
    assert.deepEqual(await tagsOf('plain'), tagSet([['only', 'one']]));
    const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'plain' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.deepEqual(await tagsOf('plain'), []);
    assert.deepEqual(await countOf('plain'), [undefined, undefined]);
    assert.ok(await exists('plain'), 'DeleteObjectTagging keeps the object');
    // An empty TagSet removes the tags too.
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'plain', Tagging: { TagSet: tagSet([['a', '1']]) } }));
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'plain', Tagging: { TagSet: [] } }));
    assert.deepEqual(await tagsOf('plain'), []);
  });

  it('PutObjectTagging (aws-sdk-js) › 11 tags → 400 BadRequest; duplicate key, 129-char key, 257-char value, aws: key, bad character → 400 InvalidTag; tags unchanged', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'guarded', Body: 'g', Tagging: 'keep=me' }));
    const refused = async (what: string, TagSet: Tag[], code: string, message?: string) => {
      const err = await errorOf(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'guarded', Tagging: { TagSet } })));
      assert.equal(err.$metadata.httpStatusCode, 400, what);
      assert.equal(err.name, code, `${what}: ${err.message}`);
      if (message !== undefined) assert.equal(err.message, message, what);
    };
    const n = (count: number) => tagSet(Array.from({ length: count }, (_, i): [string, string] => [`k${i}`, 'v']));
    await refused('11 tags', n(11), 'BadRequest', 'Object tags cannot be greater than 10');
    await refused(
      'duplicate',
      tagSet([
        ['a', '1'],
        ['a', '2'],
      ]),
      'InvalidTag',
      'Cannot provide multiple Tags with the same key',
    );
    await refused('129-char key', tagSet([['k'.repeat(129), 'v']]), 'InvalidTag', 'The TagKey you have provided is invalid');
    await refused('257-char value', tagSet([['k', 'v'.repeat(257)]]), 'InvalidTag', 'The TagValue you have provided is invalid');
    await refused('aws: key', tagSet([['aws:cost', 'v']]), 'InvalidTag', 'Your TagKey cannot be prefixed with aws:');
    await refused('bad character', tagSet([['a,b', 'v']]), 'InvalidTag');
    assert.deepEqual(await tagsOf('guarded'), tagSet([['keep', 'me']]));
    // 10 tags are fine.
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'guarded', Tagging: { TagSet: n(10) } }));
    assert.equal((await tagsOf('guarded')).length, 10);
  });

  it('Put/Get/DeleteObjectTagging (aws-sdk-js) › missing key → 404 NoSuchKey; missing bucket → 404 NoSuchBucket', async () => {
    for (const call of [
      () => s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'missing' })),
      () => s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'missing', Tagging: { TagSet: tagSet([['a', '1']]) } })),
      () => s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'missing' })),
    ]) {
      const err = await errorOf(call());
      assert.equal(err.name, 'NoSuchKey');
      assert.equal(err.$metadata.httpStatusCode, 404);
    }
    assert.equal((await errorOf(s3.send(new GetObjectTaggingCommand({ Bucket: 'no-such-bucket-tags', Key: 'k' })))).name, 'NoSuchBucket');
    assert.equal(await exists('missing'), false, 'PutObjectTagging never creates an object');
  });

  it('PutObject / CreateMultipartUpload (aws-sdk-js) › x-amz-tagging → the object (the completed upload) carries the tags', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put', Body: 'x', Tagging: 'a=1&b%20c=d%2Be&flag' }));
    assert.deepEqual(
      await tagsOf('put'),
      tagSet([
        ['a', '1'],
        ['b c', 'd+e'],
        ['flag', ''],
      ]),
    );
    assert.deepEqual(await countOf('put'), [3, 3]);

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', Tagging: 'project=strata&tier=cold' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'part-src', Body: 'part bytes', Tagging: 'source=tag' }));
    // UploadPartCopy ignores the source's tags: the object gets the upload's.
    const part = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, CopySource: `${bucket}/part-src` }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag }] },
      }),
    );
    assert.deepEqual(
      await tagsOf('mp'),
      tagSet([
        ['project', 'strata'],
        ['tier', 'cold'],
      ]),
    );
    assert.deepEqual(await countOf('mp'), [2, 2]);
  });

  it('CopyObject (aws-sdk-js) › x-amz-tagging-directive COPY (default) → the source tags; REPLACE → the header tags (none without it); bad directive → 400 InvalidArgument', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'source', Tagging: 'from=source&n=1' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-default', CopySource: `${bucket}/src`, Tagging: 'ignored=yes' }));
    assert.deepEqual(
      await tagsOf('copy-default'),
      tagSet([
        ['from', 'source'],
        ['n', '1'],
      ]),
    );
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-copy', CopySource: `${bucket}/src`, TaggingDirective: 'COPY' }));
    assert.deepEqual(
      await tagsOf('copy-copy'),
      tagSet([
        ['from', 'source'],
        ['n', '1'],
      ]),
    );
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-replace', CopySource: `${bucket}/src`, TaggingDirective: 'REPLACE', Tagging: 'new=tag' }));
    assert.deepEqual(await tagsOf('copy-replace'), tagSet([['new', 'tag']]));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-none', CopySource: `${bucket}/src`, TaggingDirective: 'REPLACE' }));
    assert.deepEqual(await tagsOf('copy-none'), []);
    assert.deepEqual(await countOf('copy-none'), [undefined, undefined]);
    const err = await errorOf(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-bad', CopySource: `${bucket}/src`, TaggingDirective: 'MERGE' as 'COPY' })),
    );
    assert.equal(err.name, 'InvalidArgument');
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.equal(await exists('copy-bad'), false);
  });

  it('PutObject x-amz-tagging (raw HTTP) › 11 tags → BadRequest; 129-char key / aws: / bad character → InvalidTag with TagKey; duplicate key, empty key, bad %-escape, not UTF-8 → InvalidArgument; nothing stored', async () => {
    const cases: Array<[string, number, string, Record<string, string>]> = [
      [Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&'), 400, 'BadRequest', { Message: 'Object tags cannot be greater than 10' }],
      [`${'k'.repeat(129)}=v`, 400, 'InvalidTag', { Message: 'The TagKey you have provided is invalid', TagKey: 'k'.repeat(129) }],
      [`k=${'v'.repeat(257)}`, 400, 'InvalidTag', { Message: 'The TagValue you have provided is invalid', TagKey: 'k' }],
      ['aws:cost=1', 400, 'InvalidTag', { Message: 'Your TagKey cannot be prefixed with aws:', TagKey: 'aws:cost' }],
      ['a%2Cb=1', 400, 'InvalidTag', { TagKey: 'a,b' }],
      ['a=1&a=2', 400, 'InvalidArgument', { ArgumentName: 'x-amz-tagging', ArgumentValue: 'a=1&amp;a=2' }],
      ['=1', 400, 'InvalidArgument', { ArgumentName: 'x-amz-tagging' }],
      ['a=%zz', 400, 'InvalidArgument', { ArgumentName: 'x-amz-tagging' }],
      ['a=%FF', 400, 'InvalidArgument', { ArgumentName: 'x-amz-tagging' }],
    ];
    for (const [value, status, code, fields] of cases) {
      const res = await signed('PUT', `/${bucket}/refused`, {}, { 'x-amz-tagging': value }, 'body');
      assert.equal(res.status, status, `${value}: ${res.body}`);
      assert.equal(xmlText(res.body, 'Code'), code, `${value}: ${res.body}`);
      for (const [name, text] of Object.entries(fields)) assert.equal(xmlText(res.body, name), text, `${value} ${name}: ${res.body}`);
      assert.equal(await exists('refused'), false, `${value}: nothing stored`);
    }
    // The same checks on CreateMultipartUpload: no upload is started.
    const mp = await signed('POST', `/${bucket}/refused-mp`, { uploads: '' }, { 'x-amz-tagging': 'a=1&a=2' });
    assert.equal(mp.status, 400, mp.body);
    assert.equal(xmlText(mp.body, 'Code'), 'InvalidArgument');
    const uploads = await signed('GET', `/${bucket}`, { uploads: '' });
    assert.doesNotMatch(uploads.body, /refused-mp/);
  });

  it('PutObjectTagging (raw HTTP) › not well-formed, no TagSet, a Tag without Value, another root → 400 MalformedXML', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'xml', Body: 'x' }));
    for (const doc of [
      '<Tagging><TagSet>',
      '<Tagging></Tagging>',
      '<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>',
      '<Tags><TagSet></TagSet></Tags>',
    ]) {
      const res = await signed('PUT', `/${bucket}/xml`, { tagging: '' }, {}, doc);
      assert.equal(res.status, 400, `${doc}: ${res.body}`);
      assert.equal(xmlText(res.body, 'Code'), 'MalformedXML', `${doc}: ${res.body}`);
    }
    assert.deepEqual(await tagsOf('xml'), []);
    // Entities and whitespace arrive as written.
    const ok = await signed(
      'PUT',
      `/${bucket}/xml`,
      { tagging: '' },
      {},
      '<Tagging><TagSet><Tag><Key> a&#x42; </Key><Value>\t</Value></Tag></TagSet></Tagging>',
    );
    assert.equal(ok.status, 400, 'a tab is outside the tag alphabet');
    const spaced = await signed(
      'PUT',
      `/${bucket}/xml`,
      { tagging: '' },
      {},
      '<Tagging><TagSet><Tag><Key> a&#x42; </Key><Value> </Value></Tag></TagSet></Tagging>',
    );
    assert.equal(spaced.status, 200, spaced.body);
    assert.deepEqual(await tagsOf('xml'), tagSet([[' aB ', ' ']]));
  });

  it('Put/Get/DeleteBucketTagging (aws-sdk-js) › none → 404 NoSuchTagSet; put → 204, get → the set; delete → 204, NoSuchTagSet again; 51 tags → BadRequest; aws: → InvalidTag', async () => {
    const b = newBucketName('btags');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const none = await errorOf(s3.send(new GetBucketTaggingCommand({ Bucket: b })));
    assert.equal(none.name, 'NoSuchTagSet');
    assert.equal(none.$metadata.httpStatusCode, 404);
    assert.equal(none.message, 'The TagSet does not exist');
    const fifty = tagSet(Array.from({ length: 50 }, (_, i): [string, string] => [`key ${i}`, `value ${i}`]));
    const put = await s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: fifty } }));
    assert.equal(put.$metadata.httpStatusCode, 204);
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet, fifty);
    const over = await errorOf(s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [...fifty, { Key: 'one', Value: 'more' }] } })));
    assert.equal(over.name, 'BadRequest');
    assert.equal(over.message, 'Bucket tag count cannot be greater than 50');
    const aws = await errorOf(s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: tagSet([['aws:x', '1']]) } })));
    assert.equal(aws.name, 'InvalidTag');
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet, fifty, 'refused puts change nothing');
    const del = await s3.send(new DeleteBucketTaggingCommand({ Bucket: b }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.equal((await errorOf(s3.send(new GetBucketTaggingCommand({ Bucket: b })))).name, 'NoSuchTagSet');
    assert.equal((await s3.send(new DeleteBucketTaggingCommand({ Bucket: b }))).$metadata.httpStatusCode, 204, 'deleting nothing is 204 too');
    assert.equal((await errorOf(s3.send(new GetBucketTaggingCommand({ Bucket: 'no-such-bucket-tags' })))).name, 'NoSuchBucket');
  });

  it('PostObject (boto3 presigned POST + curl) › tagging field (a Tagging document) → the object carries the tags; a bad document → 400, nothing stored', async () => {
    const { env, dir, cleanup } = await isolatedClientEnv({ S3_ENDPOINT: server.url, S3_ACCESS_KEY: ACCESS_KEY, S3_SECRET_KEY: SECRET_KEY, S3_BUCKET: bucket });
    try {
      const post = async (key: string, tagging: string): Promise<string> => {
        const py = String.raw`
import json, os, sys, boto3
from botocore.config import Config
c = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id=os.environ['S3_ACCESS_KEY'],
                 aws_secret_access_key=os.environ['S3_SECRET_KEY'], region_name='us-east-1', config=Config(signature_version='s3v4'))
print(json.dumps(c.generate_presigned_post(os.environ['S3_BUCKET'], sys.argv[1], Fields={'tagging': sys.argv[2]}, Conditions=[{'tagging': sys.argv[2]}])))`;
        const gen = await run(VENV_PYTHON, ['-c', py, key, tagging], { env });
        assert.equal(gen.code, 0, describeRun('generate_presigned_post', gen));
        const form = JSON.parse(gen.stdout) as { url: string; fields: Record<string, string> };
        const file = join(dir, 'form.txt');
        await writeFile(file, 'form bytes');
        const args = ['-s', '-o', '-', '-w', '\n%{http_code}'];
        for (const [k, v] of Object.entries(form.fields)) args.push('--form-string', `${k}=${v}`);
        args.push('-F', `file=@${file}`, form.url);
        const r = await run(CURL, args, { env });
        assert.equal(r.code, 0, describeRun('curl', r));
        return r.stdout;
      };
      const good = await post('form-tagged', '<Tagging><TagSet><Tag><Key>via</Key><Value>form post</Value></Tag></TagSet></Tagging>');
      assert.equal(good.trim().split('\n').pop(), '204', good);
      assert.deepEqual(await tagsOf('form-tagged'), tagSet([['via', 'form post']]));
      const bad = await post('form-bad', '<Tagging><TagSet><Tag><Key>aws:x</Key><Value>1</Value></Tag></TagSet></Tagging>');
      assert.equal(bad.trim().split('\n').pop(), '400', bad);
      assert.match(bad, /<Code>InvalidTag<\/Code>/);
      const malformed = await post('form-bad', 'a=1');
      assert.equal(malformed.trim().split('\n').pop(), '400', malformed);
      assert.match(malformed, /<Code>MalformedXML<\/Code>/);
      assert.equal(await exists('form-bad'), false);
    } finally {
      await cleanup();
    }
  });

  it('AWS CLI s3api › put-object-tagging / get-object-tagging / delete-object-tagging, put-bucket-tagging / get-bucket-tagging → JSON as S3', async () => {
    const { env, dir, cleanup } = await isolatedClientEnv({
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_DEFAULT_REGION: 'us-east-1',
    });
    try {
      const { aws, s3api } = awsCli(() => ({ url: server.url, env, cwd: dir, logs: server.logs, timeoutMs: 120_000 }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cli', Body: 'c' }));
      await s3api(['put-object-tagging', '--bucket', bucket, '--key', 'cli', '--tagging', 'TagSet=[{Key=team,Value=storage},{Key=env,Value=test run}]']);
      const got = await s3api(['get-object-tagging', '--bucket', bucket, '--key', 'cli']);
      assert.deepEqual(
        got.TagSet,
        tagSet([
          ['team', 'storage'],
          ['env', 'test run'],
        ]),
      );
      await s3api(['delete-object-tagging', '--bucket', bucket, '--key', 'cli']);
      assert.deepEqual((await s3api(['get-object-tagging', '--bucket', bucket, '--key', 'cli'])).TagSet, []);
      await writeFile(join(dir, 'cli-put.txt'), 'cli');
      await s3api(['put-object', '--bucket', bucket, '--key', 'cli-put', '--body', join(dir, 'cli-put.txt'), '--tagging', 'a=1&b=2']);
      assert.deepEqual(
        (await s3api(['get-object-tagging', '--bucket', bucket, '--key', 'cli-put'])).TagSet,
        tagSet([
          ['a', '1'],
          ['b', '2'],
        ]),
      );
      await s3api(['put-bucket-tagging', '--bucket', bucket, '--tagging', 'TagSet=[{Key=cost-center,Value=42}]']);
      assert.deepEqual((await s3api(['get-bucket-tagging', '--bucket', bucket])).TagSet, tagSet([['cost-center', '42']]));
      const none = await aws(['s3api', 'get-bucket-tagging', '--bucket', newBucketName('none')], { expectFailure: true });
      assert.match(none.stderr, /NoSuchBucket/);
      await s3api(['delete-bucket-tagging', '--bucket', bucket]);
      const gone = await aws(['s3api', 'get-bucket-tagging', '--bucket', bucket], { expectFailure: true });
      assert.match(gone.stderr, /NoSuchTagSet/);

      // `aws s3 cp` between S3 locations above the multipart threshold (--copy-props default): the
      // CLI reads the source's tags and gives them to the copy (CreateMultipartUpload's x-amz-tagging).
      await writeFile(env.AWS_CONFIG_FILE!, '[default]\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cli-big', Body: Buffer.alloc(6 * 1024 * 1024, 7), Tagging: 'copied=by cli&n=2' }));
      const mark = server.logs().length;
      await aws(['s3', 'cp', `s3://${bucket}/cli-big`, `s3://${bucket}/cli-big-copy`]);
      const log = await server.accessLog(mark);
      assert.ok(
        log.some((l) => l.op === 'UploadPartCopy' && l.key === 'cli-big-copy'),
        'a multipart copy',
      );
      assert.deepEqual(
        await tagsOf('cli-big-copy'),
        tagSet([
          ['copied', 'by cli'],
          ['n', '2'],
        ]),
      );
    } finally {
      await cleanup();
    }
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › tagging.py: object and bucket tagging, x-amz-tagging on put/copy/multipart, TagCount, the errors`, async (t: TestContext) => {
      const r = await runPythonCheck(python, 'tagging.py', server, { bucket: newBucketName('tagpy') });
      t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
    });
  }
});

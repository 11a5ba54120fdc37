// Tagging in versioned buckets over HTTP (aws-sdk-js, plus hand-signed requests for the headers of
// error answers): tags per version, `versionId` on Put/Get/DeleteObjectTagging with
// x-amz-version-id, delete markers (NoSuchKey / MethodNotAllowed), unknown and malformed version
// ids, a copy of an older version with its tags, and a suspended bucket's 'null' version.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { newBucketName } from '../helpers/clients.js';
import { errorOf, signedHeaders, testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const tagSet = (pairs: Array<[string, string]>): Tag[] => pairs.map(([Key, Value]) => ({ Key, Value }));
const xmlText = (xml: string, name: string): string | undefined => xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];

describe('tagging (versioned buckets)', { timeout: 300_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('vtags');

  const tagging = (Key: string, VersionId?: string) => s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key, VersionId }));
  const tagCount = async (Key: string, VersionId?: string): Promise<number | undefined> => {
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key, VersionId }));
    await get.Body?.transformToByteArray();
    return get.TagCount;
  };

  async function signed(
    method: string,
    path: string,
    query: Record<string, string>,
    payload = '',
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    const sig = {
      headers: await signedHeaders(
        server,
        method,
        path,
        { 'x-amz-content-sha256': createHash('sha256').update(payload).digest('hex'), 'content-length': String(Buffer.byteLength(payload)) },
        query,
      ),
    };
    const qs = new URLSearchParams(query).toString();
    return new Promise((resolve, reject) => {
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

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('Put/Get/DeleteObjectTagging with versionId (aws-sdk-js) › each version keeps its own tags; x-amz-version-id names the version changed or read', async () => {
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'one', Tagging: 'rev=1' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'two', Tagging: 'rev=2&latest=yes' }))).VersionId!;
    assert.ok(v1 && v2 && v1 !== v2);

    const latest = await tagging('doc');
    assert.equal(latest.VersionId, v2);
    assert.deepEqual(
      latest.TagSet,
      tagSet([
        ['rev', '2'],
        ['latest', 'yes'],
      ]),
    );
    const old = await tagging('doc', v1);
    assert.equal(old.VersionId, v1);
    assert.deepEqual(old.TagSet, tagSet([['rev', '1']]));
    assert.equal(await tagCount('doc'), 2);
    assert.equal(await tagCount('doc', v1), 1);

    const put = await s3.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: 'doc',
        VersionId: v1,
        Tagging: {
          TagSet: tagSet([
            ['rev', 'one'],
            ['archived', 'true'],
          ]),
        },
      }),
    );
    assert.equal(put.VersionId, v1);
    assert.deepEqual(
      (await tagging('doc', v1)).TagSet,
      tagSet([
        ['rev', 'one'],
        ['archived', 'true'],
      ]),
    );
    assert.deepEqual(
      (await tagging('doc')).TagSet,
      tagSet([
        ['rev', '2'],
        ['latest', 'yes'],
      ]),
      'the latest version is untouched',
    );

    // Without versionId: the latest version, and the answer names it.
    const putLatest = await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'doc', Tagging: { TagSet: tagSet([['rev', 'two']]) } }));
    assert.equal(putLatest.VersionId, v2);

    const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'doc', VersionId: v1 }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.equal(del.VersionId, v1);
    assert.deepEqual((await tagging('doc', v1)).TagSet, []);
    assert.equal(await tagCount('doc', v1), undefined);
    assert.deepEqual((await tagging('doc')).TagSet, tagSet([['rev', 'two']]));
    // The bytes of each version are unchanged.
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: v1 }))).Body?.transformToString(), 'one');
  });

  it('object tagging on a delete marker › latest marker → 404 NoSuchKey with x-amz-delete-marker; the marker by id → 405 MethodNotAllowed; older versions still tagged', async () => {
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: 'g', Tagging: 'keep=1' }))).VersionId!;
    const marker = (await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }))).VersionId!;
    assert.ok(marker);
    for (const [method, query, payload] of [
      ['GET', {}, ''],
      ['PUT', {}, '<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>'],
      ['DELETE', {}, ''],
    ] as const) {
      const res = await signed(method, `/${bucket}/gone`, { tagging: '', ...query }, payload);
      assert.equal(res.status, 404, `${method}: ${res.body}`);
      assert.equal(xmlText(res.body, 'Code'), 'NoSuchKey', `${method}: ${res.body}`);
      assert.equal(res.headers['x-amz-delete-marker'], 'true', method);
      assert.equal(res.headers['x-amz-version-id'], marker, method);

      const byId = await signed(method, `/${bucket}/gone`, { tagging: '', versionId: marker }, payload);
      assert.equal(byId.status, 405, `${method} versionId=marker: ${byId.body}`);
      assert.equal(xmlText(byId.body, 'Code'), 'MethodNotAllowed', byId.body);
      assert.equal(xmlText(byId.body, 'ResourceType'), 'DeleteMarker', byId.body);
      assert.equal(byId.headers['x-amz-delete-marker'], 'true');
      assert.equal(byId.headers['x-amz-version-id'], marker);
    }
    const sdk = await errorOf(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'gone', VersionId: marker })));
    assert.equal(sdk.$metadata.httpStatusCode, 405);
    assert.deepEqual((await tagging('gone', v1)).TagSet, tagSet([['keep', '1']]));
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'gone', VersionId: v1, Tagging: { TagSet: tagSet([['kept', 'yes']]) } }));
    assert.deepEqual((await tagging('gone', v1)).TagSet, tagSet([['kept', 'yes']]));
  });

  it('object tagging with an unknown or malformed versionId › 404 NoSuchVersion / 400 InvalidArgument; nothing changed', async () => {
    const v = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'known', Body: 'k', Tagging: 'a=1' }))).VersionId!;
    const unknown = 'A'.repeat(32);
    for (const call of [
      () => s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'known', VersionId: unknown })),
      () => s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'known', VersionId: unknown, Tagging: { TagSet: [] } })),
      () => s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'known', VersionId: unknown })),
    ]) {
      const err = await errorOf(call());
      assert.equal(err.name, 'NoSuchVersion');
      assert.equal(err.$metadata.httpStatusCode, 404);
    }
    for (const call of [
      () => s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'known', VersionId: 'not-a-version' })),
      () => s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'known', VersionId: 'not-a-version' })),
    ]) {
      const err = await errorOf(call());
      assert.equal(err.name, 'InvalidArgument');
      assert.equal(err.$metadata.httpStatusCode, 400);
    }
    assert.deepEqual((await tagging('known', v)).TagSet, tagSet([['a', '1']]));
  });

  it('CopyObject of an older version (aws-sdk-js) › COPY → that version’s tags, REPLACE → the header’s', async () => {
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 's1', Tagging: 'gen=1' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 's2', Tagging: 'gen=2' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-v1', CopySource: `${bucket}/src?versionId=${v1}` }));
    assert.deepEqual((await tagging('copy-v1')).TagSet, tagSet([['gen', '1']]));
    await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'copy-v1r', CopySource: `${bucket}/src?versionId=${v1}`, TaggingDirective: 'REPLACE', Tagging: 'gen=new' }),
    );
    assert.deepEqual((await tagging('copy-v1r')).TagSet, tagSet([['gen', 'new']]));
  });

  it('suspended bucket › the null version is tagged like any other; no x-amz-version-id for it; older versions keep theirs', async () => {
    const b = newBucketName('stags');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: '1', Tagging: 'v=1' }))).VersionId!;
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'null', Tagging: 'v=null' }));
    const got = await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k' }));
    assert.deepEqual(got.TagSet, tagSet([['v', 'null']]));
    assert.equal(got.VersionId, undefined);
    await s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'k', VersionId: 'null', Tagging: { TagSet: tagSet([['v', 'null2']]) } }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k', VersionId: 'null' }))).TagSet, tagSet([['v', 'null2']]));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k', VersionId: v1 }))).TagSet, tagSet([['v', '1']]));
  });
});

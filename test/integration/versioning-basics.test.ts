// Versioning through aws-sdk-js v3 against a real Strata process: PutBucketVersioning and its
// refusals, version ids on writes, delete markers (DeleteObject and DeleteObjects), GET/HEAD of a
// marker (404 as the latest, 405 by version id), removing a marker restores the previous version,
// malformed version ids, a suspended bucket's null version, and BucketNotEmpty until every version
// and marker is gone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { newBucketName } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

describe('versioning basics (aws-sdk-js)', () => {
  let server: RunningServer;
  let s3: S3Client;

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  const newBucket = async (status?: 'Enabled' | 'Suspended') => {
    const b = newBucketName('ver');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    if (status) await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: status } }));
    return b;
  };
  const body = async (b: string, k: string, v?: string) => (await s3.send(new GetObjectCommand({ Bucket: b, Key: k, VersionId: v }))).Body!.transformToString();

  it('PutBucketVersioning › Enabled then Suspended; GetBucketVersioning reports it; no Status, a bad Status or MfaDelete Enabled is refused as S3 refuses them', async () => {
    const b = await newBucket();
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, undefined);
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Suspended');
    const bad = await errorOf(s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'On' as 'Enabled' } })));
    assert.deepEqual([bad.name, bad.$metadata.httpStatusCode], ['MalformedXML', 400]);
    const none = await errorOf(s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: {} })));
    assert.deepEqual(
      [none.name, none.$metadata.httpStatusCode, none.message],
      ['IllegalVersioningConfigurationException', 400, 'The Versioning element must be specified'],
    );
    const mfa = await errorOf(s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' } })));
    assert.deepEqual([mfa.name, mfa.$metadata.httpStatusCode, mfa.message], ['AccessDenied', 403, 'Mfa Authentication must be used for this request']);
    const withMfa = await errorOf(
      s3.send(
        new PutBucketVersioningCommand({
          Bucket: b,
          MFA: 'arn:aws:iam::123456789012:mfa/root 123456',
          VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' },
        }),
      ),
    );
    assert.deepEqual([withMfa.name, withMfa.$metadata.httpStatusCode], ['AccessDenied', 403]);
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Suspended', 'a refused request changes nothing');
  });

  it('DeleteObject › Enabled: a marker hides the key (GET 404 with marker headers, by id 405); deleting the marker restores it', async () => {
    const b = await newBucket('Enabled');
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'two' }))).VersionId!;
    assert.match(v1, /^[0-9A-Za-z]{32}$/);
    assert.notEqual(v1, v2);
    assert.equal(await body(b, 'k'), 'two');
    assert.equal(await body(b, 'k', v1), 'one');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.match(del.VersionId ?? '', /^[0-9A-Za-z]{32}$/);
    const gone = await errorOf(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })));
    assert.deepEqual([gone.name, gone.$metadata.httpStatusCode], ['NoSuchKey', 404]);
    assert.equal(gone.$response?.headers?.['x-amz-delete-marker'], 'true');
    assert.equal(gone.$response?.headers?.['x-amz-version-id'], del.VersionId);
    const head = await errorOf(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: del.VersionId })));
    assert.equal(head.$metadata.httpStatusCode, 405);
    assert.equal(head.$response?.headers?.['x-amz-delete-marker'], 'true');
    const removed = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: del.VersionId }));
    assert.deepEqual([removed.DeleteMarker, removed.VersionId], [true, del.VersionId]);
    assert.equal(await body(b, 'k'), 'two', 'the previous version is the latest again');
    const one = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v1 }));
    assert.deepEqual([one.DeleteMarker, one.VersionId], [undefined, v1]);
    const missing = await errorOf(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: v1 })));
    assert.equal(missing.name, 'NoSuchVersion');
    const malformed = await errorOf(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: 'not-a-version' })));
    assert.deepEqual([malformed.name, malformed.$metadata.httpStatusCode, malformed.message], ['InvalidArgument', 400, 'Invalid version id specified']);
    const empty = await errorOf(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: '' })));
    assert.deepEqual([empty.name, empty.$metadata.httpStatusCode, empty.message], ['InvalidArgument', 400, 'Version id cannot be the empty string']);
  });

  it('DeleteObjects › markers and versions: DeleteMarker / DeleteMarkerVersionId per key; the bucket empties only when nothing remains', async () => {
    const b = await newBucket('Enabled');
    const va = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'a' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'b', Body: 'b' }));
    const first = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }] } }));
    assert.equal(first.Errors, undefined);
    for (const d of first.Deleted ?? []) {
      assert.equal(d.DeleteMarker, true, d.Key);
      assert.match(d.DeleteMarkerVersionId ?? '', /^[0-9A-Za-z]{32}$/, d.Key);
    }
    const notEmpty = await errorOf(s3.send(new DeleteBucketCommand({ Bucket: b })));
    assert.equal(notEmpty.name, 'BucketNotEmpty');
    // The emptying path of tools: list every version and marker, delete them by id in one batch.
    const all = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    const ids = [...(all.Versions ?? []), ...(all.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId! }));
    assert.equal(ids.length, 4);
    assert.ok(ids.some((i) => i.VersionId === va));
    const second = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [...ids, { Key: 'c', VersionId: 'bad!' }] } }));
    assert.equal(second.Deleted?.length, 4);
    assert.equal(second.Deleted?.filter((d) => d.DeleteMarker === true).length, 2, 'the two markers are reported as markers');
    assert.deepEqual(
      second.Errors?.map((e) => e.Code),
      ['InvalidArgument'],
    );
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
  });

  it('Suspended › writes replace the null version, older versions stay; a delete leaves a null marker', async () => {
    const b = await newBucket('Enabled');
    const kept = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'kept' }))).VersionId!;
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'n1' }));
    assert.equal(put.VersionId, undefined, "the 'null' version is not announced");
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'n2' }));
    assert.equal(await body(b, 'k', 'null'), 'n2');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    assert.deepEqual([del.DeleteMarker, del.VersionId], [true, 'null']);
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(
      list.Versions?.map((v) => [v.VersionId, v.IsLatest]),
      [[kept, false]],
    );
    assert.deepEqual(
      list.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest]),
      [['null', true]],
    );
  });
});

// Object lock refusals over HTTP (issue 11): every path that deletes or overwrites a protected
// version — DeleteObject and DeleteObjects with a version id (GOVERNANCE without and with
// x-amz-bypass-governance-retention, COMPLIANCE, legal hold), writes and multipart completions onto
// a locked key (a new version; the locked one stays), suspending versioning on a lock bucket. The
// store refuses replacing a protected 'null' version (unreachable over HTTP: a lock bucket cannot
// be suspended) in src/store/data-protection.test.ts. Retention changes: object-lock.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { newBucketName } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const HOUR = 3_600_000;
const fromNow = (ms: number): Date => new Date(Math.floor((Date.now() + ms) / 1000) * 1000);
const LOCKED_MESSAGE = 'Access Denied because object protected by object lock.';

describe('Object lock refusals', { timeout: 300_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('lockref');

  /** The versions of a key, newest first: [versionId, isDeleteMarker]. */
  const versionsOf = async (key: string): Promise<Array<[string, boolean]>> => {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    const all = [
      ...(r.Versions ?? []).map((v) => ({ key: v.Key, id: v.VersionId!, at: v.LastModified!, marker: false, latest: v.IsLatest })),
      ...(r.DeleteMarkers ?? []).map((v) => ({ key: v.Key, id: v.VersionId!, at: v.LastModified!, marker: true, latest: v.IsLatest })),
    ].filter((v) => v.key === key);
    // Newest first: the latest, then the rest as listed (ListObjectVersions lists newest first).
    all.sort((a, b) => Number(b.latest) - Number(a.latest));
    return all.map((v) => [v.id, v.marker]);
  };
  /** Writes `key` with the given lock and returns its version id. */
  const putLocked = async (key: string, lock: { mode?: 'GOVERNANCE' | 'COMPLIANCE'; hold?: boolean }, body = key): Promise<string> => {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ObjectLockMode: lock.mode,
        ObjectLockRetainUntilDate: lock.mode === undefined ? undefined : fromNow(HOUR),
        ObjectLockLegalHoldStatus: lock.hold === undefined ? undefined : lock.hold ? 'ON' : 'OFF',
      }),
    );
    return (await versionsOf(key))[0]![0];
  };
  const bodyOf = async (key: string, versionId?: string): Promise<string> =>
    (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).Body!.transformToString();
  const deleteVersion = (key: string, versionId: string, bypass?: boolean) =>
    s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, BypassGovernanceRetention: bypass }));
  const refused = async (p: Promise<unknown>, what: string): Promise<void> => {
    const e = await errorOf(p);
    assert.deepEqual([e.name, e.$metadata.httpStatusCode, e.message], ['AccessDenied', 403, LOCKED_MESSAGE], what);
  };

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('PutBucketVersioning › Suspended on a bucket with object lock → 409 InvalidBucketState, versioning stays Enabled', async () => {
    const e = await errorOf(s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } })));
    assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['InvalidBucketState', 409]);
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
  });

  it('DeleteObject › versionId of a GOVERNANCE version → 403 without the bypass; removed with x-amz-bypass-governance-retention', async () => {
    const v = await putLocked('gov', { mode: 'GOVERNANCE' });
    await refused(deleteVersion('gov', v), 'no bypass');
    assert.equal(await bodyOf('gov', v), 'gov', 'the version is still there');
    await deleteVersion('gov', v, true);
    assert.deepEqual(await versionsOf('gov'), []);
  });

  it('DeleteObject › versionId of a COMPLIANCE version → 403 even with the bypass', async () => {
    const v = await putLocked('comp', { mode: 'COMPLIANCE' });
    await refused(deleteVersion('comp', v, true), 'bypass does not lift COMPLIANCE');
    await refused(deleteVersion('comp', v), 'no bypass');
    assert.equal(await bodyOf('comp', v), 'comp');
  });

  it('DeleteObject › versionId of a version under legal hold → 403 even with the bypass; removed once the hold is OFF', async () => {
    const v = await putLocked('held', { hold: true });
    await refused(deleteVersion('held', v, true), 'legal hold');
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'held', VersionId: v, LegalHold: { Status: 'OFF' } }));
    await deleteVersion('held', v);
    assert.deepEqual(await versionsOf('held'), []);
  });

  it('DeleteObject › without versionId on a locked key → a delete marker; the locked version stays', async () => {
    const v = await putLocked('marker', { mode: 'COMPLIANCE' });
    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'marker' }));
    assert.equal(del.DeleteMarker, true);
    const versions = await versionsOf('marker');
    assert.deepEqual(
      versions.map(([, m]) => m),
      [true, false],
      'a marker over the locked version',
    );
    assert.equal(versions[1]![0], v);
    assert.equal(await bodyOf('marker', v), 'marker');
  });

  it('DeleteObjects › versionIds of locked versions → per-key AccessDenied, the unlocked one deleted; the bypass lifts GOVERNANCE only', async () => {
    const gov = await putLocked('m-gov', { mode: 'GOVERNANCE' });
    const comp = await putLocked('m-comp', { mode: 'COMPLIANCE' });
    const held = await putLocked('m-held', { hold: true });
    const free = await putLocked('m-free', {});
    const objects = [
      { Key: 'm-gov', VersionId: gov },
      { Key: 'm-comp', VersionId: comp },
      { Key: 'm-held', VersionId: held },
      { Key: 'm-free', VersionId: free },
    ];
    const first = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
    assert.deepEqual(
      (first.Deleted ?? []).map((d) => [d.Key, d.VersionId]),
      [['m-free', free]],
    );
    assert.deepEqual((first.Errors ?? []).map((e) => [e.Key, e.VersionId, e.Code, e.Message]).sort(), [
      ['m-comp', comp, 'AccessDenied', LOCKED_MESSAGE],
      ['m-gov', gov, 'AccessDenied', LOCKED_MESSAGE],
      ['m-held', held, 'AccessDenied', LOCKED_MESSAGE],
    ]);
    const second = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, BypassGovernanceRetention: true, Delete: { Objects: objects.slice(0, 3) } }));
    assert.deepEqual(
      (second.Deleted ?? []).map((d) => [d.Key, d.VersionId]),
      [['m-gov', gov]],
    );
    assert.deepEqual((second.Errors ?? []).map((e) => e.Key).sort(), ['m-comp', 'm-held']);
    assert.equal(await bodyOf('m-comp', comp), 'm-comp');
    assert.equal(await bodyOf('m-held', held), 'm-held');
  });

  it('PutObject and CopyObject › onto a locked key → a new version; the locked version stays readable by its id', async () => {
    const v = await putLocked('over', { mode: 'COMPLIANCE', hold: true }, 'locked bytes');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'over', Body: 'new bytes' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'copied bytes' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'over', CopySource: `${bucket}/src` }));
    const versions = await versionsOf('over');
    assert.equal(versions.length, 3);
    assert.equal(versions[2]![0], v, 'the locked version is the oldest');
    assert.equal(await bodyOf('over'), 'copied bytes');
    assert.equal(await bodyOf('over', v), 'locked bytes');
  });

  it('CompleteMultipartUpload › onto a key whose version is locked → succeeds as a new version; the locked one remains', async () => {
    const v = await putLocked('mpu', { mode: 'COMPLIANCE' }, 'locked');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId, PartNumber: 1, Body: 'completed' }));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mpu',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 }] },
      }),
    );
    assert.ok(done.ETag);
    const versions = await versionsOf('mpu');
    assert.deepEqual(
      versions.map(([, m]) => m),
      [false, false],
    );
    assert.equal(versions[1]![0], v, 'the locked version remains, no longer the latest');
    assert.notEqual(versions[0]![0], v);
    assert.equal(await bodyOf('mpu'), 'completed');
    assert.equal(await bodyOf('mpu', v), 'locked');
  });
});

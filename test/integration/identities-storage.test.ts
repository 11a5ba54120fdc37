// Users' secrets at rest and across processes: sealed in the database (no plaintext in any file of
// the data directory, none in the logs), a restart with another root secret and no master key fails
// loudly while the former secret as --master-key reads them, and two --shared processes see each
// other's disables, group and policy changes on the next request (docs/admin-api.md, "Secrets at
// rest"; docs/iam.md, "Cost": principals are cached per identity generation).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateBucketCommand, ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { adminCall, type Keys } from '../helpers/admin.js';
import { REGION, startServer, type RunningServer } from '../helpers/server.js';

const OLD_SECRET = 'first-root-secret-123';
const ROOT_OLD: Keys = { accessKey: 'rootkey', secretKey: OLD_SECRET };

function clientFor(url: string, keys: Keys): S3Client {
  return new S3Client({
    endpoint: url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: keys.accessKey, secretAccessKey: keys.secretKey },
    maxAttempts: 1,
  });
}

/** `send` with a client for `keys`: 'OK' or the error's name. */
async function outcome(url: string, keys: Keys, send: (c: S3Client) => Promise<unknown>): Promise<string> {
  const c = clientFor(url, keys);
  try {
    await send(c);
    return 'OK';
  } catch (e) {
    return (e as { name: string }).name;
  } finally {
    c.destroy();
  }
}

const listBucketsAs = (url: string, keys: Keys): Promise<string> => outcome(url, keys, (c) => c.send(new ListBucketsCommand({})));

/** ListObjectsV2 on `bucket` as `keys` ('OK' or the error's name); `create`: CreateBucket first. */
const listObjectsAs = (url: string, keys: Keys, bucket: string, create = false): Promise<string> =>
  outcome(url, keys, async (c) => {
    if (create) await c.send(new CreateBucketCommand({ Bucket: bucket }));
    await c.send(new ListObjectsV2Command({ Bucket: bucket }));
  });

/** Every file under `dir`, as bytes. */
async function allFiles(dir: string): Promise<Array<[string, Buffer]>> {
  const out: Array<[string, Buffer]> = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    out.push([p, await readFile(p)]);
  }
  return out;
}

describe('identities: secrets at rest and across processes', () => {
  const dirs: string[] = [];
  const servers: RunningServer[] = [];
  const newDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'strata-idstore-'));
    dirs.push(d);
    return d;
  };
  const start = async (...a: Parameters<typeof startServer>) => {
    const s = await startServer(...a);
    servers.push(s);
    return s;
  };
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('secrets › no plaintext secret in any file of the data directory nor in the logs; another root secret without --master-key → the start fails naming --master-key; the former secret as --master-key → the keys work', async () => {
    const dataDir = await newDir();
    const rootArgs = (secret: string) => ['--access-key', 'rootkey', '--secret-key', secret];
    const a = await start({ dataDir, args: rootArgs(OLD_SECRET), users: ['generated'] });
    const chosen = 'chosen-secret-XYZ-0123456789';
    const made = await adminCall(a.url, ROOT_OLD, 'POST', 'users', { name: 'chosen', accessKey: 'AKIACHOSEN0000000001', secretKey: chosen });
    assert.equal(made.status, 200);
    const keys = [{ accessKey: 'AKIACHOSEN0000000001', secretKey: chosen }, a.users[0]!];
    for (const k of keys) assert.equal(await listBucketsAs(a.url, k), 'AccessDenied');
    await a.stop();
    for (const [path, bytes] of await allFiles(dataDir)) {
      for (const k of keys) assert.equal(bytes.includes(Buffer.from(k.secretKey)), false, `${k.secretKey} in plain text in ${path}`);
    }
    for (const k of keys) assert.equal(a.logs().includes(k.secretKey), false, 'a secret in the log');

    // Another root secret, no master key: the start fails, loudly, with the way out.
    await assert.rejects(start({ dataDir, args: rootArgs('second-root-secret-456') }), (e: Error) => /sealed with key .*--master-key/s.test(e.message));
    // The former root secret as the master key: the stored keys authenticate again.
    const b = await start({ dataDir, args: [...rootArgs('second-root-secret-456'), '--master-key', OLD_SECRET] });
    for (const k of keys) assert.equal(await listBucketsAs(b.url, k), 'AccessDenied');
    assert.equal(await listBucketsAs(b.url, { accessKey: 'rootkey', secretKey: 'second-root-secret-456' }), 'OK');
  });

  it('--shared › a user made and disabled through one process → the next request through the other is InvalidAccessKeyId; enabled there → authenticated here', async () => {
    const dataDir = await newDir();
    const args = ['--shared', 'yes', '--access-key', 'rootkey', '--secret-key', OLD_SECRET];
    const a = await start({ dataDir, args, users: ['shared-user'] });
    const b = await start({ dataDir, args });
    const user = a.users[0]!;
    assert.equal(await listBucketsAs(b.url, user), 'AccessDenied');
    assert.equal((await adminCall(a.url, ROOT_OLD, 'POST', 'users/shared-user/disable')).status, 200);
    assert.equal(await listBucketsAs(b.url, user), 'InvalidAccessKeyId');
    assert.equal((await adminCall(b.url, ROOT_OLD, 'POST', 'users/shared-user/enable')).status, 200);
    assert.equal(await listBucketsAs(a.url, user), 'AccessDenied');
    assert.equal((await adminCall(b.url, ROOT_OLD, 'DELETE', `keys/${user.accessKey}`)).status, 200);
    assert.equal(await listBucketsAs(a.url, user), 'InvalidAccessKeyId');
  });

  it('--shared › on a bucket (the principal cached, confirmed by the bucket read): changes made through one process decide the next request through the other', async () => {
    const dataDir = await newDir();
    const args = ['--shared', 'yes', '--access-key', 'rootkey', '--secret-key', OLD_SECRET];
    const a = await start({ dataDir, args, users: ['bucket-user'] });
    const b = await start({ dataDir, args });
    const user = a.users[0]!;
    const admin = async (method: 'POST' | 'DELETE', path: string, body?: object) =>
      assert.equal((await adminCall(a.url, ROOT_OLD, method, path, body)).status, 200, path);
    const lister = (action: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: 'arn:aws:s3:::shared-bkt' }] });
    assert.equal(await listObjectsAs(a.url, ROOT_OLD, 'shared-bkt', true), 'OK');
    assert.equal(await listObjectsAs(b.url, user, 'shared-bkt'), 'AccessDenied');
    assert.equal(await listObjectsAs(b.url, user, 'shared-bkt'), 'AccessDenied');
    await admin('POST', 'policies', { name: 'bucket-lister', document: lister('s3:ListBucket') });
    await admin('POST', 'policies/bucket-lister/attach', { user: 'bucket-user' });
    assert.equal(await listObjectsAs(b.url, user, 'shared-bkt'), 'OK');
    assert.equal(await listObjectsAs(b.url, user, 'shared-bkt'), 'OK');
    await admin('POST', 'policies', { name: 'bucket-lister', document: lister('s3:GetObject') });
    assert.equal(await listObjectsAs(b.url, user, 'shared-bkt'), 'AccessDenied', 'the document replaced');
    await admin('POST', 'policies', { name: 'bucket-lister', document: lister('s3:ListBucket') });
    assert.equal(await listObjectsAs(b.url, user, 'shared-bkt'), 'OK');
    await admin('POST', 'users/bucket-user/disable');
    assert.equal(await listObjectsAs(b.url, user, 'shared-bkt'), 'InvalidAccessKeyId');
    assert.equal(await listObjectsAs(b.url, user, 'no-such-bkt'), 'InvalidAccessKeyId', 'refused before NoSuchBucket');
    await admin('POST', 'users/bucket-user/enable');
    assert.equal(await listObjectsAs(b.url, user, 'shared-bkt'), 'OK');
    assert.equal(await listObjectsAs(b.url, user, 'no-such-bkt'), 'AccessDenied', 'authenticated again, allowed nothing there');
    await admin('DELETE', `keys/${user.accessKey}`);
    assert.equal(await listObjectsAs(b.url, user, 'shared-bkt'), 'InvalidAccessKeyId');
  });

  it('--shared › group membership and policy changes made through one process decide the next request through the other, whose principal was cached', async () => {
    const dataDir = await newDir();
    const args = ['--shared', 'yes', '--access-key', 'rootkey', '--secret-key', OLD_SECRET];
    const a = await start({ dataDir, args, users: ['cached-user'] });
    const b = await start({ dataDir, args });
    const user = a.users[0]!;
    const admin = async (method: 'POST' | 'DELETE', path: string, body?: object) =>
      assert.equal((await adminCall(a.url, ROOT_OLD, method, path, body)).status, 200, path);
    const lister = (effect: string, action: string) => ({ Version: '2012-10-17', Statement: [{ Effect: effect, Action: action, Resource: '*' }] });
    // b resolves (and caches) the user's principal on each of these requests.
    assert.equal(await listBucketsAs(b.url, user), 'AccessDenied');
    assert.equal(await listBucketsAs(b.url, user), 'AccessDenied');
    await admin('POST', 'policies', { name: 'lister', document: lister('Allow', 's3:ListAllMyBuckets') });
    await admin('POST', 'groups', { name: 'listers' });
    await admin('POST', 'policies/lister/attach', { group: 'listers' });
    assert.equal(await listBucketsAs(b.url, user), 'AccessDenied', 'not a member yet');
    await admin('POST', 'groups/listers/members', { users: ['cached-user'] });
    assert.equal(await listBucketsAs(b.url, user), 'OK');
    assert.equal(await listBucketsAs(b.url, user), 'OK');
    await admin('POST', 'policies', { name: 'lister', document: lister('Allow', 's3:GetObject') });
    assert.equal(await listBucketsAs(b.url, user), 'AccessDenied', 'the document replaced');
    await admin('POST', 'policies', { name: 'lister', document: lister('Allow', 's3:ListAllMyBuckets') });
    assert.equal(await listBucketsAs(b.url, user), 'OK');
    await admin('POST', 'groups/listers/members/remove', { users: ['cached-user'] });
    assert.equal(await listBucketsAs(b.url, user), 'AccessDenied', 'removed from the group');
    await admin('POST', 'policies/lister/attach', { user: 'cached-user' });
    assert.equal(await listBucketsAs(b.url, user), 'OK', 'attached to the user');
    await admin('POST', 'policies/lister/detach', { user: 'cached-user' });
    assert.equal(await listBucketsAs(b.url, user), 'AccessDenied', 'detached');
  });

  it('--shared with different master keys › a secret the process cannot open → 500 InternalError and an error in its log naming --master-key (never a quiet InvalidAccessKeyId)', async () => {
    const dataDir = await newDir();
    const base = ['--shared', 'yes', '--access-key', 'rootkey', '--secret-key', OLD_SECRET];
    const a = await start({ dataDir, args: [...base, '--master-key', `one:${Buffer.alloc(32, 1).toString('base64')}`] });
    const b = await start({ dataDir, args: [...base, '--master-key', `two:${Buffer.alloc(32, 2).toString('base64')}`] });
    const made = await adminCall(a.url, ROOT_OLD, 'POST', 'users', { name: 'sealed-by-a', key: true });
    assert.equal(made.status, 200);
    const keys = { accessKey: String(made.body.accessKey), secretKey: String(made.body.secretKey) };
    assert.equal(await listBucketsAs(a.url, keys), 'AccessDenied');
    assert.equal(await listBucketsAs(b.url, keys), 'InternalError');
    assert.match(b.logs(), /sealed with key v1:[0-9a-f]{16} but this server's key is v1:[0-9a-f]{16}.*--master-key/);
    assert.equal(b.logs().includes(keys.secretKey), false);
  });
});

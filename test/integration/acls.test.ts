// ACLs and Object Ownership against a real Strata process (docs/iam.md, "ACLs and Object
// Ownership"): root, a second user (alice) and a third (carol), each allowed by policy only to find
// their canonical id (ListBuckets), so whatever else they may do comes from ACL grants; an
// anonymous caller (fetch and curl, no signature). aws-sdk-js for Get/Put bucket and object ACLs
// (canned, grant headers, XML, versionId), canned ACLs on PUT, copy and multipart, ownership
// controls, Block Public Access on ACLs; boto3 (both), s3cmd (-P, setacl) and the AWS CLI (put-object-acl) as the tools people use.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeletePublicAccessBlockCommand,
  DeleteBucketOwnershipControlsCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { TestUser } from '../helpers/admin.js';
import {
  AWS_CLI,
  BOTO3_PYTHONS,
  CURL,
  RCLONE,
  S3CMD,
  awsCliEnv,
  describeRun,
  isolatedClientEnv,
  newBucketName,
  run,
  runPythonCheck,
  writeS3cmdConfig,
} from '../helpers/clients.js';
import { errorOf, testClient, userClients } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

describe('ACLs and Object Ownership', () => {
  let server: RunningServer;
  let root: S3Client;
  let alice: TestUser;
  let carol: TestUser;
  let asAlice: S3Client;
  let asCarol: S3Client;
  const ids: Record<'root' | 'alice' | 'carol', string> = { root: '', alice: '', carol: '' };
  const users = userClients(() => server.url);
  const { as, admin } = users;
  const anonymous = (path: string) => fetch(`${server.url}/${path}`);
  const text = async (c: S3Client, Bucket: string, Key: string, VersionId?: string) =>
    (await c.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body!.transformToString();
  const bucketWith = async (prefix: string, extra: Partial<ConstructorParameters<typeof CreateBucketCommand>[0]> = {}) => {
    const Bucket = newBucketName(prefix);
    await root.send(new CreateBucketCommand({ Bucket, ...extra }));
    return Bucket;
  };
  const denied = async (p: Promise<unknown>, what: string) => {
    const e = await errorOf(p);
    assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['AccessDenied', 403], what);
  };

  before(async () => {
    server = await startServer({ users: ['alice', 'carol'] });
    [alice, carol] = server.users as [TestUser, TestUser];
    // Only ListAllMyBuckets: how a user learns its canonical id. Everything else comes from ACLs.
    const whoami = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }] };
    assert.equal((await admin('POST', 'policies', { name: 'whoami', document: whoami })).status, 200);
    for (const u of ['alice', 'carol']) assert.equal((await admin('POST', 'policies/whoami/attach', { user: u })).status, 200);
    root = testClient(server.url);
    asAlice = as(alice);
    asCarol = as(carol);
    ids.root = (await root.send(new ListBucketsCommand({}))).Owner!.ID!;
    ids.alice = (await asAlice.send(new ListBucketsCommand({}))).Owner!.ID!;
    ids.carol = (await asCarol.send(new ListBucketsCommand({}))).Owner!.ID!;
  });

  after(async () => {
    root?.destroy();
    users.destroy();
    await server?.stop();
  });

  it('canonical ids › one 64-hex id per identity; GetBucketAcl’s Owner is ListBuckets’ and the listing’s Owner', async () => {
    for (const id of Object.values(ids)) assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(new Set(Object.values(ids)).size, 3);
    const b = await bucketWith('acl-ids');
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'k' }));
    const acl = await root.send(new GetBucketAclCommand({ Bucket: b }));
    assert.equal(acl.Owner?.ID, ids.root);
    assert.deepEqual(acl.Grants, [{ Grantee: { Type: 'CanonicalUser', ID: ids.root, DisplayName: ACCESS_KEY }, Permission: 'FULL_CONTROL' }]);
    const listed = await root.send(new ListObjectsV2Command({ Bucket: b, FetchOwner: true }));
    assert.equal(listed.Contents?.[0]?.Owner?.ID, ids.root);
  });

  it('canned ACLs (aws-sdk-js) › public-read bucket lists to anonymous; public-read object reads, private refuses; PutObjectAcl switches', async () => {
    const b = await bucketWith('acl-canned', { ACL: 'public-read' });
    const grants = (await root.send(new GetBucketAclCommand({ Bucket: b }))).Grants!;
    assert.deepEqual(
      grants.map((g) => [g.Grantee?.URI ?? g.Grantee?.ID, g.Permission]),
      [
        [ids.root, 'FULL_CONTROL'],
        [ALL_USERS, 'READ'],
      ],
    );
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'pub.txt', Body: 'public', ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'priv.txt', Body: 'private' }));
    const list = await anonymous(b);
    assert.equal(list.status, 200);
    assert.match(await list.text(), /<Key>priv.txt<\/Key>/);
    const pub = await anonymous(`${b}/pub.txt`);
    assert.deepEqual([pub.status, await pub.text()], [200, 'public']);
    assert.equal((await anonymous(`${b}/priv.txt`)).status, 403);
    // A public-read bucket lets anonymous list, not write.
    assert.equal((await fetch(`${server.url}/${b}/new.txt`, { method: 'PUT', body: 'x' })).status, 403);
    // public-read-write: anonymous writes too; the object is the bucket owner's (docs/iam.md).
    await root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read-write' }));
    assert.equal((await fetch(`${server.url}/${b}/anon.txt`, { method: 'PUT', body: 'anon' })).status, 200);
    assert.equal((await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'anon.txt' }))).Owner?.ID, ids.root);
    assert.equal((await anonymous(`${b}/anon.txt`)).status, 403, 'written private');
    await root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }));
    assert.equal((await fetch(`${server.url}/${b}/anon2.txt`, { method: 'PUT', body: 'x' })).status, 403);
    await root.send(new PutObjectAclCommand({ Bucket: b, Key: 'pub.txt', ACL: 'private' }));
    assert.equal((await anonymous(`${b}/pub.txt`)).status, 403);
    await root.send(new PutObjectAclCommand({ Bucket: b, Key: 'priv.txt', ACL: 'public-read' }));
    assert.equal((await anonymous(`${b}/priv.txt`)).status, 200);
    // authenticated-read: any signed user, not anonymous.
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'auth.txt', Body: 'auth', ACL: 'authenticated-read' }));
    assert.equal(await text(asCarol, b, 'auth.txt'), 'auth');
    assert.equal((await anonymous(`${b}/auth.txt`)).status, 403);
    const bad = await errorOf(root.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x', ACL: 'everyone' as 'private' })));
    assert.deepEqual([bad.name, bad.$metadata.httpStatusCode], ['InvalidArgument', 400]);
  });

  it('grant headers › alice granted READ reads, carol and anonymous do not; WRITE on the bucket lets alice write, her object is hers', async () => {
    const b = await bucketWith('acl-grants');
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'shared', Body: 'shared', GrantRead: `id="${ids.alice}"`, GrantFullControl: `id="${ids.root}"` }));
    assert.equal(await text(asAlice, b, 'shared'), 'shared');
    await denied(asCarol.send(new GetObjectCommand({ Bucket: b, Key: 'shared' })), 'carol has no grant');
    assert.equal((await anonymous(`${b}/shared`)).status, 403);
    await denied(asAlice.send(new GetObjectAclCommand({ Bucket: b, Key: 'shared' })), 'READ is not READ_ACP');
    await denied(asAlice.send(new PutObjectCommand({ Bucket: b, Key: 'mine', Body: 'x' })), 'no WRITE on the bucket yet');
    await denied(asAlice.send(new ListObjectsV2Command({ Bucket: b })), 'no READ on the bucket');

    await root.send(new PutBucketAclCommand({ Bucket: b, GrantWrite: `id="${ids.alice}"`, GrantFullControl: `id="${ids.root}"` }));
    await asAlice.send(new PutObjectCommand({ Bucket: b, Key: 'mine', Body: 'alice wrote' }));
    await denied(asCarol.send(new PutObjectCommand({ Bucket: b, Key: 'carols', Body: 'x' })), 'carol has no WRITE');
    const mine = await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'mine' }));
    assert.equal(mine.Owner?.ID, ids.alice, 'ObjectWriter: the writer owns the object');
    assert.deepEqual(mine.Grants, [{ Grantee: { Type: 'CanonicalUser', ID: ids.alice, DisplayName: 'alice' }, Permission: 'FULL_CONTROL' }]);
    assert.equal(await text(asAlice, b, 'mine'), 'alice wrote', 'her FULL_CONTROL lets her read it');

    const bad = await errorOf(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'shared', GrantRead: 'id="nothex"' })));
    assert.deepEqual([bad.name, bad.$metadata.httpStatusCode], ['InvalidArgument', 400]);
    const email = await errorOf(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'shared', GrantRead: 'emailAddress="a@example.com"' })));
    assert.deepEqual([email.name, email.$metadata.httpStatusCode], ['UnresolvableGrantByEmailAddress', 400]);
    const both = await errorOf(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'shared', ACL: 'private', GrantRead: `id="${ids.carol}"` })));
    assert.deepEqual([both.name, both.$metadata.httpStatusCode], ['InvalidRequest', 400]);
  });

  it('XML body › PutBucketAcl granting carol READ lets her list (alice not); a bad document is MalformedACLError; the Owner cannot change', async () => {
    const b = await bucketWith('acl-xml');
    const owner = { ID: ids.root };
    await root.send(
      new PutBucketAclCommand({
        Bucket: b,
        AccessControlPolicy: {
          Owner: owner,
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: ids.root }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'CanonicalUser', ID: ids.carol }, Permission: 'READ' },
            { Grantee: { Type: 'CanonicalUser', ID: ids.carol }, Permission: 'READ_ACP' },
          ],
        },
      }),
    );
    assert.equal((await asCarol.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount, 0);
    assert.equal((await asCarol.send(new GetBucketAclCommand({ Bucket: b }))).Grants?.length, 3);
    await denied(asAlice.send(new ListObjectsV2Command({ Bucket: b })), 'alice has no READ');
    await denied(asCarol.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })), 'READ_ACP is not WRITE_ACP');
    const other = await errorOf(root.send(new PutBucketAclCommand({ Bucket: b, AccessControlPolicy: { Owner: { ID: ids.alice }, Grants: [] } })));
    assert.deepEqual([other.name, other.$metadata.httpStatusCode], ['AccessDenied', 403]);
    const raw = await fetch(`${server.url}/${b}?acl`, { method: 'PUT', body: '<AccessControlPolicy/>' });
    assert.equal(raw.status, 403, 'unsigned: refused before the body is looked at');
  });

  it('versionId › PutObjectAcl/GetObjectAcl on one version; anonymous reads only that version', async () => {
    const b = await bucketWith('acl-versions');
    await root.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await root.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one' }))).VersionId!;
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'two' }));
    await root.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', VersionId: v1, ACL: 'public-read' }));
    assert.equal((await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'k', VersionId: v1 }))).Grants?.length, 2);
    assert.equal((await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }))).Grants?.length, 1);
    const old = await anonymous(`${b}/k?versionId=${v1}`);
    assert.deepEqual([old.status, await old.text()], [200, 'one']);
    assert.equal((await anonymous(`${b}/k`)).status, 403);
  });

  it('copy and multipart › CopyObject takes the request’s ACL, never the source’s; CreateMultipartUpload’s ACL applies at completion', async () => {
    const b = await bucketWith('acl-copy');
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'src-public', Body: 'p', ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'src-private', Body: 's' }));
    await root.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-plain', CopySource: `${b}/src-public` }));
    await root.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-public', CopySource: `${b}/src-private`, ACL: 'public-read' }));
    assert.equal((await anonymous(`${b}/copy-plain`)).status, 403);
    assert.equal((await anonymous(`${b}/copy-public`)).status, 200);

    const { UploadId } = await root.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ACL: 'public-read' }));
    assert.equal((await anonymous(`${b}/mp`)).status, 403, 'nothing yet');
    const part = await root.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 1, Body: 'multi' }));
    await root.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    const mp = await anonymous(`${b}/mp`);
    assert.deepEqual([mp.status, await mp.text()], [200, 'multi']);
  });

  it('Block Public Access › IgnorePublicAcls makes public grants count for nothing (and back); BlockPublicAcls refuses public ACLs, private ones pass', async () => {
    const b = await bucketWith('acl-pab', { ACL: 'public-read' });
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'pub.txt', Body: 'public', ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'auth.txt', Body: 'auth', ACL: 'authenticated-read' }));
    assert.equal((await anonymous(`${b}/pub.txt`)).status, 200);
    assert.equal((await anonymous(b)).status, 200, 'the bucket lists to anonymous');
    const pab = (c: Partial<Record<'BlockPublicAcls' | 'IgnorePublicAcls' | 'BlockPublicPolicy' | 'RestrictPublicBuckets', boolean>>) =>
      root.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: c }));
    await pab({ IgnorePublicAcls: true });
    assert.equal((await anonymous(`${b}/pub.txt`)).status, 403);
    assert.equal((await anonymous(b)).status, 403);
    assert.equal((await errorOf(asCarol.send(new GetObjectCommand({ Bucket: b, Key: 'auth.txt' })))).name, 'AccessDenied', 'AuthenticatedUsers is public too');
    // The grants are kept, only ignored: GetObjectAcl still shows them, and they count again when the switch goes.
    const kept = (await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'pub.txt' }))).Grants!;
    assert.ok(kept.some((g) => g.Grantee?.URI === ALL_USERS && g.Permission === 'READ'));
    await root.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    assert.equal((await anonymous(`${b}/pub.txt`)).status, 200);
    assert.equal(await text(asCarol, b, 'auth.txt'), 'auth');
    await pab({ BlockPublicAcls: true });
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['PutObject public-read', () => root.send(new PutObjectCommand({ Bucket: b, Key: 'new.txt', Body: 'x', ACL: 'public-read' }))],
      ['PutObjectAcl public-read-write', () => root.send(new PutObjectAclCommand({ Bucket: b, Key: 'auth.txt', ACL: 'public-read-write' }))],
      ['PutBucketAcl grant AllUsers', () => root.send(new PutBucketAclCommand({ Bucket: b, GrantRead: `uri="${ALL_USERS}"` }))],
      [
        'CopyObject authenticated-read',
        () => root.send(new CopyObjectCommand({ Bucket: b, Key: 'copy.txt', CopySource: `${b}/pub.txt`, ACL: 'authenticated-read' })),
      ],
    ];
    for (const [label, attempt] of attempts) {
      const e = await errorOf(attempt());
      assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['AccessDenied', 403], label);
    }
    assert.equal((await errorOf(root.send(new HeadObjectCommand({ Bucket: b, Key: 'new.txt' })))).name, 'NotFound', 'nothing stored');
    // Private ACLs still pass, and existing public grants still count (BlockPublicAcls alone does not ignore them).
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'new.txt', Body: 'x', ACL: 'private' }));
    await root.send(new PutObjectAclCommand({ Bucket: b, Key: 'auth.txt', ACL: 'private' }));
    assert.equal((await anonymous(`${b}/pub.txt`)).status, 200);
  });

  it('ownership controls › none → OwnershipControlsNotFoundError; BucketOwnerEnforced disables ACLs (AccessControlListNotSupported, owner-only answers, grants ignored)', async () => {
    const b = await bucketWith('acl-own');
    const none = await errorOf(root.send(new GetBucketOwnershipControlsCommand({ Bucket: b })));
    assert.deepEqual([none.name, none.$metadata.httpStatusCode], ['OwnershipControlsNotFoundError', 404]);
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'was-public', Body: 'x', ACL: 'public-read' }));
    assert.equal((await anonymous(`${b}/was-public`)).status, 200);

    await root.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    const got = await root.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
    assert.deepEqual(got.OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    assert.equal((await anonymous(`${b}/was-public`)).status, 403, 'the stored grant counts for nothing now');
    for (const call of [
      () => root.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'public-read' })),
      () => root.send(new PutObjectAclCommand({ Bucket: b, Key: 'was-public', GrantRead: `id="${ids.alice}"` })),
      () => root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })),
    ]) {
      const e = await errorOf(call());
      assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['AccessControlListNotSupported', 400]);
    }
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'bucket-owner-full-control' }));
    await root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' }));
    const acl = await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'was-public' }));
    assert.deepEqual(
      acl.Grants?.map((g) => [g.Grantee?.ID, g.Permission]),
      [[ids.root, 'FULL_CONTROL']],
    );
    await root.send(new DeleteBucketOwnershipControlsCommand({ Bucket: b }));
    assert.equal((await errorOf(root.send(new GetBucketOwnershipControlsCommand({ Bucket: b })))).name, 'OwnershipControlsNotFoundError');
    assert.equal((await anonymous(`${b}/was-public`)).status, 200, 'ACLs enabled again: the version kept its ACL');

    const refused = await errorOf(
      root.send(new CreateBucketCommand({ Bucket: newBucketName('acl-enf'), ObjectOwnership: 'BucketOwnerEnforced', ACL: 'public-read' })),
    );
    assert.deepEqual([refused.name, refused.$metadata.httpStatusCode], ['InvalidBucketAclWithObjectOwnership', 400]);
    const enforced = newBucketName('acl-enf');
    await root.send(new CreateBucketCommand({ Bucket: enforced, ObjectOwnership: 'BucketOwnerEnforced' }));
    assert.equal(
      (await root.send(new GetBucketOwnershipControlsCommand({ Bucket: enforced }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership,
      'BucketOwnerEnforced',
    );
    const grantOnEnforced = await errorOf(root.send(new PutObjectCommand({ Bucket: enforced, Key: 'k', Body: 'x', GrantRead: `id="${ids.carol}"` })));
    assert.equal(grantOnEnforced.name, 'AccessControlListNotSupported');
  });

  it('BucketOwnerPreferred › a user writing with bucket-owner-full-control gives the object to the bucket owner; without, keeps it', async () => {
    const b = await bucketWith('acl-pref', { ObjectOwnership: 'BucketOwnerPreferred' });
    await root.send(new PutBucketAclCommand({ Bucket: b, GrantWrite: `id="${ids.alice}"`, GrantFullControl: `id="${ids.root}"` }));
    await asAlice.send(new PutObjectCommand({ Bucket: b, Key: 'given', Body: 'x', ACL: 'bucket-owner-full-control' }));
    await asAlice.send(new PutObjectCommand({ Bucket: b, Key: 'kept', Body: 'x' }));
    assert.equal((await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'given' }))).Owner?.ID, ids.root);
    assert.equal((await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'kept' }))).Owner?.ID, ids.alice);
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › acls.py: canned and granted ACLs, XML body, ownership controls`, async (t) => {
      const bucket = newBucketName('acl-py');
      const r = await runPythonCheck(python, 'acls.py', server, { bucket, env: { S3_GRANTEE_ID: ids.alice } });
      t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
      for (const check of ['put_public_read', 'grant_read', 'xml_body', 'version_acl', 'post_acl', 'ownership_enforced']) {
        assert.match(r.stdout, new RegExp(`^ok {3}${check}$`, 'm'));
      }
      // What the script set is what an anonymous caller and alice meet.
      assert.equal((await anonymous(`${bucket}/public.txt`)).status, 200);
      assert.equal((await anonymous(`${bucket}/posted.txt`)).status, 200, 'the POST form’s acl field');
      assert.equal(await text(asAlice, bucket, 'granted.txt'), 'granted');
      await denied(asCarol.send(new GetObjectCommand({ Bucket: bucket, Key: 'granted.txt' })), 'carol');
    });
  }

  it('s3cmd › put -P and setacl --acl-public make objects public to anonymous curl; setacl --acl-private makes them 403', async () => {
    const { env, dir, cleanup } = await isolatedClientEnv();
    try {
      const cfg = join(dir, 's3cmd.cfg');
      await writeS3cmdConfig(cfg, server);
      const file = join(dir, 'site.html');
      await writeFile(file, '<h1>hi</h1>');
      const s3cmd = async (...args: string[]) => {
        const r = await run(S3CMD, ['-c', cfg, ...args], { env });
        assert.equal(r.code, 0, `${describeRun(`s3cmd ${args.join(' ')}`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
        return r;
      };
      const curlStatus = async (path: string) => {
        const r = await run(CURL, ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${server.url}/${path}`], { env });
        return r.stdout.trim();
      };
      const b = newBucketName('acl-s3cmd');
      await s3cmd('mb', `s3://${b}`);
      await s3cmd('put', '-P', file, `s3://${b}/index.html`);
      await s3cmd('put', file, `s3://${b}/other.html`);
      assert.equal(await curlStatus(`${b}/index.html`), '200');
      assert.equal(await curlStatus(`${b}/other.html`), '403');
      await s3cmd('setacl', '--acl-public', `s3://${b}/other.html`);
      assert.equal(await curlStatus(`${b}/other.html`), '200');
      await s3cmd('setacl', '--acl-private', `s3://${b}/index.html`);
      assert.equal(await curlStatus(`${b}/index.html`), '403');
      const info = await s3cmd('info', `s3://${b}/other.html`);
      assert.match(info.stdout, /ACL:\s+\*anon\*: READ/);
    } finally {
      await cleanup();
    }
  });

  it('rclone › copyto --s3-acl public-read makes the object public to anonymous curl; without it, private', async () => {
    const b = await bucketWith('acl-rclone');
    const { env, dir, cleanup } = await isolatedClientEnv({
      RCLONE_CONFIG_STRATA_TYPE: 's3',
      RCLONE_CONFIG_STRATA_PROVIDER: 'Other',
      RCLONE_CONFIG_STRATA_ACCESS_KEY_ID: ACCESS_KEY,
      RCLONE_CONFIG_STRATA_SECRET_ACCESS_KEY: SECRET_KEY,
      RCLONE_CONFIG_STRATA_ENDPOINT: server.url,
      RCLONE_CONFIG_STRATA_REGION: REGION,
    });
    try {
      env.RCLONE_CONFIG = join(dir, 'rclone.conf');
      const file = join(dir, 'page.html');
      await writeFile(file, 'page');
      for (const [key, extra] of [
        ['public.html', ['--s3-acl', 'public-read']],
        ['private.html', []],
      ] as const) {
        const r = await run(RCLONE, ['copyto', ...extra, file, `strata:${b}/${key}`], { env, timeoutMs: 120_000 });
        assert.equal(r.code, 0, describeRun(`rclone copyto ${key}`, r));
      }
      const status = async (key: string) => (await run(CURL, ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${server.url}/${b}/${key}`], { env })).stdout;
      assert.equal(await status('public.html'), '200');
      assert.equal(await status('private.html'), '403');
    } finally {
      await cleanup();
    }
  });

  it('AWS CLI › s3api put-object-acl --acl public-read, get-object-acl shows AllUsers READ, anonymous curl reads', async () => {
    const b = await bucketWith('acl-cli');
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'cli.txt', Body: 'cli' }));
    const { env, cleanup } = await awsCliEnv();
    try {
      const put = await run(AWS_CLI, ['s3api', 'put-object-acl', '--bucket', b, '--key', 'cli.txt', '--acl', 'public-read', '--endpoint-url', server.url], {
        env,
      });
      assert.equal(put.code, 0, describeRun('put-object-acl', put));
      const get = await run(AWS_CLI, ['s3api', 'get-object-acl', '--bucket', b, '--key', 'cli.txt', '--endpoint-url', server.url, '--output', 'json'], { env });
      assert.equal(get.code, 0, describeRun('get-object-acl', get));
      const grants = (JSON.parse(get.stdout) as { Grants: { Grantee: { URI?: string }; Permission: string }[] }).Grants;
      assert.ok(grants.some((g) => g.Grantee.URI === ALL_USERS && g.Permission === 'READ'));
      const curl = await run(CURL, ['-s', `${server.url}/${b}/cli.txt`], { env });
      assert.equal(curl.stdout, 'cli');
    } finally {
      await cleanup();
    }
  });
});

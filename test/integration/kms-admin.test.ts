// The key service's administration over HTTP (docs/admin-api.md "Key service", docs/encryption.md):
// the kms/keys routes and `strata admin kms` (the CLI as a subprocess) for root; a second user allowed
// only what its policy grants (kms:ListKeys and kms:DescribeKey of app-* keys, not kms:CreateKey); an
// anonymous caller refused; 501 KMSNotConfigured without a root key; the root key from a file and
// from MinIO's environment variable; a malformed root key stops the start; keys survive a restart and
// another root key is reported at start, never its material.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Keys, type TestUser, adminCall } from '../helpers/admin.js';
import { run } from '../helpers/clients.js';
import { ACCESS_KEY, MAIN_JS, newKmsKey, type RunningServer, SECRET_KEY, startServer } from '../helpers/server.js';

const ROOT: Keys = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
type Method = 'GET' | 'POST' | 'DELETE';

describe('admin API: the key service', { timeout: 180_000 }, () => {
  let server: RunningServer;
  let keeper: TestUser;
  let chief: TestUser;
  const dirs: string[] = [];
  const call = (keys: Keys | undefined, method: Method, path: string, body?: object) => adminCall(server.url, keys, method, path, body);
  const status = async (keys: Keys | undefined, method: Method, path: string, body?: object) => {
    const r = await call(keys, method, path, body);
    return r.status === 200 ? 200 : `${r.status} ${String(r.body.Code)}`;
  };
  const strataAdmin = (url: string, keys: Keys, args: string[]) =>
    run(process.execPath, [MAIN_JS, 'admin', '--endpoint', url, ...args], {
      env: { PATH: process.env.PATH, STRATA_ACCESS_KEY: keys.accessKey, STRATA_SECRET_KEY: keys.secretKey },
      timeoutMs: 30_000,
    });
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'strata-kms-it-'));
    dirs.push(d);
    return d;
  };

  before(async () => {
    server = await startServer({ kms: true, users: ['keeper', { name: 'chief', policies: ['consoleAdmin'] }] });
    [keeper, chief] = server.users as [TestUser, TestUser];
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' },
        { Effect: 'Allow', Action: ['kms:DescribeKey', 'kms:EnableKey'], Resource: 'arn:aws:kms:*:*:key/app-*' },
      ],
    };
    assert.equal(await status(ROOT, 'POST', 'policies', { name: 'key-reader', document: policy }), 200);
    assert.equal(await status(ROOT, 'POST', 'policies/key-reader/attach', { user: 'keeper' }), 200);
  });

  after(async () => {
    await server?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('root › the default key (NAME of the root key) is listed; create, describe, rotate, disable, enable; AWS KMS error codes for a duplicate, a missing key, a bad id; the start log names the default key, never the material', async () => {
    const listed = await call(ROOT, 'GET', 'kms/keys');
    assert.equal(listed.status, 200);
    const keys = listed.body.keys as Array<Record<string, unknown>>;
    assert.deepEqual(
      keys.map((k) => [k.keyId, k.default, k.keyState, k.currentVersion, k.arn]),
      [['strata-test', true, 'Enabled', 1, 'arn:aws:kms:us-east-1:000000000000:key/strata-test']],
    );
    const made = await call(ROOT, 'POST', 'kms/keys', { keyId: 'app-key' });
    assert.equal(made.status, 200);
    assert.deepEqual((made.body.key as Record<string, unknown>).keyState, 'Enabled');
    const rotated = await call(ROOT, 'POST', 'kms/keys/app-key/rotate');
    assert.equal((rotated.body.key as Record<string, unknown>).currentVersion, 2);
    const disabled = await call(ROOT, 'POST', 'kms/keys/app-key/disable');
    assert.equal((disabled.body.key as Record<string, unknown>).keyState, 'Disabled');
    assert.equal(await status(ROOT, 'POST', 'kms/keys/app-key/rotate'), '409 DisabledException');
    const described = await call(ROOT, 'GET', 'kms/keys/app-key');
    assert.deepEqual([(described.body.key as Record<string, unknown>).enabled, (described.body.key as Record<string, unknown>).currentVersion], [false, 2]);
    assert.equal(await status(ROOT, 'POST', 'kms/keys/app-key/enable'), 200);
    assert.equal(await status(ROOT, 'POST', 'kms/keys', { keyId: 'app-key' }), '409 AlreadyExistsException');
    assert.equal(await status(ROOT, 'GET', 'kms/keys/no-such-key'), '404 NotFoundException');
    assert.equal(await status(ROOT, 'POST', 'kms/keys/no-such-key/disable'), '404 NotFoundException');
    assert.equal(await status(ROOT, 'POST', 'kms/keys', { keyId: 'bad/id' }), '400 ValidationException');
    assert.equal(await status(ROOT, 'POST', 'kms/keys', {}), '400 InvalidArgument');
    assert.equal(await status(ROOT, 'DELETE', 'kms/keys/app-key'), '405 MethodNotAllowed');
    const material = server.kmsKey!.split(':')[1]!;
    assert.ok(server.logs().includes('"defaultKeyId":"strata-test"'));
    assert.equal(server.logs().includes(material), false, 'the root key never reaches the log');
  });

  it('a second user › kms:ListKeys and kms:DescribeKey/EnableKey on key/app-* only: list and describe app-key; create, rotate, disable, describe of the default key → 403 AccessDenied, logged with the action', async () => {
    assert.equal(await status(ROOT, 'POST', 'kms/keys', { keyId: 'app-user' }), 200);
    const from = server.logs().length;
    assert.equal(await status(keeper, 'GET', 'kms/keys'), 200);
    assert.equal(await status(keeper, 'GET', 'kms/keys/app-user'), 200);
    assert.equal(await status(keeper, 'POST', 'kms/keys/app-user/enable'), 200);
    assert.equal(await status(keeper, 'POST', 'kms/keys', { keyId: 'app-mine' }), '403 AccessDenied');
    assert.equal(await status(keeper, 'GET', 'kms/keys/strata-test'), '403 AccessDenied');
    assert.equal(await status(keeper, 'POST', 'kms/keys/app-user/rotate'), '403 AccessDenied');
    assert.equal(await status(keeper, 'POST', 'kms/keys/app-user/disable'), '403 AccessDenied');
    assert.equal(await status(ROOT, 'GET', 'kms/keys/app-mine'), '404 NotFoundException', 'nothing was created');
    assert.equal(((await call(ROOT, 'GET', 'kms/keys/app-user')).body.key as Record<string, unknown>).enabled, true, 'not disabled');
    const lines = (await server.adminLog(from)).filter((l) => l.principal?.user === 'keeper');
    // Sorted: each worker writes its own log lines, so across workers their order is not the requests'.
    assert.deepEqual(
      lines.map((l) => `${l.op} ${l.status}`).sort(),
      [
        'kms:ListKeys 200',
        'kms:DescribeKey 200',
        'kms:EnableKey 200',
        'kms:CreateKey 403',
        'kms:DescribeKey 403',
        'kms:RotateKeyOnDemand 403',
        'kms:DisableKey 403',
      ].sort(),
    );
  });

  it('the canned consoleAdmin › kms:* on every key: create, describe, rotate, disable and enable any key, the default one included', async () => {
    assert.equal(await status(chief, 'POST', 'kms/keys', { keyId: 'chief-key' }), 200);
    for (const path of ['kms/keys/chief-key/rotate', 'kms/keys/strata-test/disable', 'kms/keys/strata-test/enable']) {
      assert.equal(await status(chief, 'POST', path), 200, path);
    }
    assert.equal(await status(chief, 'GET', 'kms/keys/strata-test'), 200);
    assert.equal(await status(chief, 'GET', 'kms/keys'), 200);
  });

  it('an anonymous caller › 403 AccessDenied on every kms route', async () => {
    assert.equal(await status(undefined, 'GET', 'kms/keys'), '403 AccessDenied');
    assert.equal(await status(undefined, 'POST', 'kms/keys', { keyId: 'anon' }), '403 AccessDenied');
    assert.equal(await status(undefined, 'POST', 'kms/keys/strata-test/disable'), '403 AccessDenied');
    assert.equal((await call(ROOT, 'GET', 'kms/keys/strata-test')).status, 200);
  });

  it('strata admin kms › list, create, describe, rotate, disable, enable (human and --json); a refused or failed call exits 1 with the code; a user gets what its policy allows', async () => {
    const created = await strataAdmin(server.url, ROOT, ['kms', 'create', 'app-cli']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created key app-cli\nARN: arn:aws:kms:us-east-1:000000000000:key\/app-cli/);
    const rotated = await strataAdmin(server.url, ROOT, ['kms', 'rotate', 'app-cli']);
    assert.match(rotated.stdout, /Rotated key app-cli: version 2/);
    assert.match((await strataAdmin(server.url, ROOT, ['kms', 'disable', 'app-cli'])).stdout, /Disabled key app-cli/);
    const described = await strataAdmin(server.url, ROOT, ['kms', 'describe', 'app-cli']);
    assert.match(described.stdout, /Key id: app-cli\n[\s\S]*State: Disabled\n[\s\S]*Version: 2\n/);
    assert.match((await strataAdmin(server.url, ROOT, ['kms', 'enable', 'app-cli'])).stdout, /Enabled key app-cli/);
    const list = await strataAdmin(server.url, ROOT, ['kms', 'list']);
    assert.match(list.stdout, /^strata-test\s+Enabled\s+v1\s+\S+ \(default\)$/m);
    assert.match(list.stdout, /^app-cli\s+Enabled\s+v2\s/m);
    const json = await strataAdmin(server.url, ROOT, ['--json', 'kms', 'describe', 'strata-test']);
    assert.equal((JSON.parse(json.stdout) as { key: { default: boolean } }).key.default, true);
    const missing = await strataAdmin(server.url, ROOT, ['kms', 'describe', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NotFoundException/);
    const usage = await strataAdmin(server.url, ROOT, ['kms', 'create']);
    assert.equal(usage.code, 2);
    const asUser = await strataAdmin(server.url, keeper, ['kms', 'list']);
    assert.equal(asUser.code, 0, asUser.stderr);
    assert.match(asUser.stdout, /app-cli/);
    const refused = await strataAdmin(server.url, keeper, ['kms', 'create', 'app-nope']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /AccessDenied/);
  });

  it('no root key › the kms routes answer 501 KMSNotConfigured (after authorization: anonymous still 403); the CLI says so', async () => {
    const plain = await startServer();
    try {
      const r = await adminCall(plain.url, ROOT, 'GET', 'kms/keys');
      assert.equal(r.status, 501);
      assert.equal(r.body.Code, 'KMSNotConfigured');
      assert.match(String(r.body.Message), /--kms-secret-key/);
      assert.equal((await adminCall(plain.url, undefined, 'GET', 'kms/keys')).status, 403);
      const cli = await strataAdmin(plain.url, ROOT, ['kms', 'list']);
      assert.equal(cli.code, 1);
      assert.match(cli.stderr, /KMSNotConfigured/);
    } finally {
      await plain.stop();
    }
  });

  it('root key forms › a malformed --kms-secret-key, both forms at once, an unreadable or malformed file stop the start (exit 2, the reason, never the text); a file and MINIO_KMS_SECRET_KEY work', async () => {
    const dir = await tempDir();
    const secretish = 'c2VjcmV0LW5vdC0zMi1ieXRlcw==';
    for (const [args, why] of [
      [['--kms-secret-key', `name:${secretish}`], /exactly 32 bytes/],
      [['--kms-secret-key', 'no-colon-here'], /NAME:BASE64/],
      [['--kms-secret-key', newKmsKey(), '--kms-secret-key-file', join(dir, 'k')], /not both/],
      [['--kms-secret-key-file', join(dir, 'missing')], /cannot read the KMS root key file/],
    ] as Array<[string[], RegExp]>) {
      const err = await startServer({ args }).then(
        (s) => (s.stop(), undefined),
        (e: Error) => e,
      );
      assert.ok(err, `${args.join(' ')} must not start`);
      assert.match(err.message, /exit code 2/);
      assert.match(err.message, why);
      assert.equal(err.message.includes(secretish), false);
    }
    const bad = join(dir, 'bad.key');
    await writeFile(bad, `file-key:${secretish}\n`);
    await assert.rejects(startServer({ args: ['--kms-secret-key-file', bad] }), /the KMS root key file .*exactly 32 bytes/s);

    const good = join(dir, 'good.key');
    await writeFile(good, `${newKmsKey('file-key')}\n`);
    const fromFile = await startServer({ args: ['--kms-secret-key-file', good] });
    try {
      const r = await adminCall(fromFile.url, ROOT, 'GET', 'kms/keys');
      assert.deepEqual(
        (r.body.keys as Array<{ keyId: string }>).map((k) => k.keyId),
        ['file-key'],
      );
    } finally {
      await fromFile.stop();
    }
    const fromEnv = await startServer({ env: { MINIO_KMS_SECRET_KEY: newKmsKey('minio-key') } });
    try {
      const r = await adminCall(fromEnv.url, ROOT, 'GET', 'kms/keys/minio-key');
      assert.equal(r.status, 200);
    } finally {
      await fromEnv.stop();
    }
  });

  it('restart › the same root key: keys, versions and states as left; another root key of the same name: the start logs which keys it cannot read, naming --kms-secret-key', async () => {
    const dataDir = await tempDir();
    const first = await startServer({ dataDir, kms: true });
    const key = first.kmsKey!;
    assert.equal(await adminCall(first.url, ROOT, 'POST', 'kms/keys', { keyId: 'kept' }).then((r) => r.status), 200);
    await adminCall(first.url, ROOT, 'POST', 'kms/keys/kept/rotate');
    await adminCall(first.url, ROOT, 'POST', 'kms/keys/kept/disable');
    await first.stop();
    const again = await startServer({ dataDir, kms: key });
    try {
      const r = await adminCall(again.url, ROOT, 'GET', 'kms/keys/kept');
      assert.deepEqual([(r.body.key as Record<string, unknown>).currentVersion, (r.body.key as Record<string, unknown>).enabled], [2, false]);
      assert.equal(again.logs().includes('cannot be read'), false);
    } finally {
      await again.stop();
    }
    const other = await startServer({ dataDir, kms: newKmsKey('strata-test') });
    try {
      assert.match(other.logs(), /"level":50[^\n]*KMS master key 'kept' version 2 cannot be read[^\n]*--kms-secret-key/);
      assert.match(other.logs(), /KMS master key 'strata-test' version 1 cannot be read/);
    } finally {
      await other.stop();
    }
  });

  it('--shared › two processes with the same root key: a key made, disabled and rotated through one is seen so by the other at its next call', async () => {
    const dataDir = await tempDir();
    const key = newKmsKey();
    const a = await startServer({ dataDir, kms: key, args: ['--shared', 'yes'] });
    const b = await startServer({ dataDir, kms: key, args: ['--shared', 'yes'] });
    try {
      const state = async (url: string) => {
        const r = await adminCall(url, ROOT, 'GET', 'kms/keys/both');
        const k = r.body.key as Record<string, unknown> | undefined;
        return r.status === 200 ? `${k?.keyState} v${k?.currentVersion}` : `${r.status} ${String(r.body.Code)}`;
      };
      assert.equal(await state(b.url), '404 NotFoundException');
      assert.equal((await adminCall(a.url, ROOT, 'POST', 'kms/keys', { keyId: 'both' })).status, 200);
      assert.equal(await state(b.url), 'Enabled v1');
      assert.equal((await adminCall(a.url, ROOT, 'POST', 'kms/keys/both/disable')).status, 200);
      assert.equal(await state(b.url), 'Disabled v1');
      assert.equal((await adminCall(b.url, ROOT, 'POST', 'kms/keys/both/rotate')).body.Code, 'DisabledException');
      assert.equal((await adminCall(b.url, ROOT, 'POST', 'kms/keys/both/enable')).status, 200);
      assert.equal((await adminCall(b.url, ROOT, 'POST', 'kms/keys/both/rotate')).status, 200);
      assert.equal(await state(a.url), 'Enabled v2');
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

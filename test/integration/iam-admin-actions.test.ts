// The admin API for users who are not root (src/admin/authorize.ts, docs/admin-api.md "Who may call
// it"): a user whose policy allows admin:CreateUser and admin:ListUsers creates users but may not
// delete them; the canned readonly user, a user with no policy and an anonymous caller are refused;
// consoleAdmin may do everything unless a Deny says otherwise; a key's inline policy narrows admin
// actions too and may not mint keys of its own user; `strata admin` works with a user's keys. Each
// call is in the access log with the acting user.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Keys, type TestUser, adminCall } from '../helpers/admin.js';
import { describeRun, run } from '../helpers/clients.js';
import { ACCESS_KEY, MAIN_JS, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const ROOT: Keys = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };

describe('admin API: admin actions in users’ policies', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let manager: TestUser;
  let reader: TestUser;
  let nobody: TestUser;
  let chief: TestUser;
  const call = (keys: Keys | undefined, method: 'GET' | 'POST' | 'DELETE', path: string, body?: object) => adminCall(server.url, keys, method, path, body);
  const status = async (keys: Keys | undefined, method: 'GET' | 'POST' | 'DELETE', path: string, body?: object) => {
    const r = await call(keys, method, path, body);
    return r.status === 200 ? 200 : `${r.status} ${String(r.body.Code)}`;
  };

  /** `strata admin ARGS` with `keys` in STRATA_ACCESS_KEY/STRATA_SECRET_KEY. */
  const strataAdmin = (keys: Keys, args: string[]) =>
    run(process.execPath, [MAIN_JS, 'admin', '--endpoint', server.url, ...args], {
      env: { PATH: process.env.PATH, STRATA_ACCESS_KEY: keys.accessKey, STRATA_SECRET_KEY: keys.secretKey },
      timeoutMs: 30_000,
    });

  before(async () => {
    server = await startServer({ users: [{ name: 'reader', policies: ['readonly'] }, { name: 'nobody' }, { name: 'chief', policies: ['consoleAdmin'] }] });
    [reader, nobody, chief] = server.users as [TestUser, TestUser, TestUser];
    const userManager = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'MakeUsers', Effect: 'Allow', Action: ['admin:CreateUser', 'admin:ListUsers'], Resource: '*' }],
    };
    assert.equal(await status(ROOT, 'POST', 'policies', { name: 'user-manager', document: userManager }), 200);
    const made = await call(ROOT, 'POST', 'users', { name: 'manager', key: true, policies: ['user-manager'] });
    assert.equal(made.status, 200);
    manager = { name: 'manager', accessKey: String(made.body.accessKey), secretKey: String(made.body.secretKey) };
  });

  after(async () => {
    await server?.stop();
  });

  it('admin:CreateUser + admin:ListUsers › the user creates and lists users; DeleteUser, GetUser, CreatePolicy → 403 AccessDenied, nothing changed', async () => {
    assert.equal(await status(manager, 'POST', 'users', { name: 'made-by-manager', key: true }), 200);
    const listed = await call(manager, 'GET', 'users');
    assert.equal(listed.status, 200);
    assert.ok((listed.body.users as Array<{ name: string }>).some((u) => u.name === 'made-by-manager'));
    assert.equal(await status(manager, 'DELETE', 'users/made-by-manager'), '403 AccessDenied');
    assert.equal(await status(manager, 'GET', 'users/made-by-manager'), '403 AccessDenied');
    assert.equal(await status(manager, 'POST', 'policies/consoleAdmin/attach', { user: 'manager' }), '403 AccessDenied', 'no escalation without the action');
    assert.equal(
      await status(manager, 'POST', 'policies', { name: 'mine', document: { Statement: [{ Effect: 'Allow', Action: 'admin:*', Resource: '*' }] } }),
      '403 AccessDenied',
    );
    assert.equal(await status(ROOT, 'GET', 'users/made-by-manager'), 200, 'the refused delete left the user');
    assert.equal(await status(ROOT, 'GET', 'policies/mine'), '404 NoSuchEntity');
  });

  it('readonly, no policy, anonymous › every admin call → 403 AccessDenied', async () => {
    for (const keys of [reader, nobody]) {
      assert.equal(await status(keys, 'GET', 'users'), '403 AccessDenied', keys.name);
      assert.equal(await status(keys, 'POST', 'users', { name: `by-${keys.name}` }), '403 AccessDenied', keys.name);
    }
    assert.equal(await status(undefined, 'GET', 'users'), '403 AccessDenied');
    assert.equal(await status(ROOT, 'GET', 'users/by-reader'), '404 NoSuchEntity');
  });

  it('consoleAdmin › everything, until a Deny of admin:DeleteUser on its group; the access log names the acting user and why it was refused', async () => {
    const from = server.logs().length;
    assert.equal(await status(chief, 'POST', 'users', { name: 'temp' }), 200);
    assert.equal(await status(chief, 'DELETE', 'users/temp'), 200);
    assert.equal(await status(chief, 'POST', 'users', { name: 'temp2' }), 200);
    const noDelete = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'admin:DeleteUser', Resource: '*' }] };
    assert.equal(await status(ROOT, 'POST', 'policies', { name: 'no-delete', document: noDelete }), 200);
    assert.equal(await status(ROOT, 'POST', 'groups', { name: 'careful', members: ['chief'] }), 200);
    assert.equal(await status(ROOT, 'POST', 'policies/no-delete/attach', { group: 'careful' }), 200);
    assert.equal(await status(chief, 'DELETE', 'users/temp2'), '403 AccessDenied', 'explicit deny wins over admin:*');
    assert.equal(await status(chief, 'POST', 'users/temp2/disable'), 200, 'other actions still allowed');
    const lines = await server.adminLog(from);
    // Sorted: each worker writes its own log lines, so across workers their order is not the requests'.
    const mine = lines.filter((l) => l.principal?.user === 'chief').map((l) => `${l.op} ${l.status}`);
    assert.deepEqual(
      mine.sort(),
      ['admin:CreateUser 200', 'admin:DeleteUser 200', 'admin:CreateUser 200', 'admin:DeleteUser 403', 'admin:DisableUser 200'].sort(),
    );
    const refusal = lines.find((l) => l.principal?.user === 'chief' && l.status === 403);
    assert.match(refusal?.denied ?? '', /explicit deny/);
    assert.equal(await status(ROOT, 'POST', 'groups/careful/members/remove', { users: ['chief'] }), 200);
    assert.equal(await status(chief, 'DELETE', 'users/temp2'), 200, 'leaving the group lifts the deny at once');
  });

  it("a key's inline policy › narrows admin actions; a narrowed key may not mint or re-enable keys of its own user, but may for another", async () => {
    const narrowing = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['admin:ListUsers', 'admin:CreateAccessKey', 'admin:EnableAccessKey'], Resource: '*' }],
    };
    const k = await call(ROOT, 'POST', 'users/chief/keys', { policy: narrowing });
    assert.equal(k.status, 200);
    const narrowed: Keys = { accessKey: String(k.body.accessKey), secretKey: String(k.body.secretKey) };
    assert.equal(await status(narrowed, 'GET', 'users'), 200);
    assert.equal(await status(narrowed, 'POST', 'users', { name: 'not-allowed' }), '403 AccessDenied', 'the key policy does not allow CreateUser');
    assert.equal(await status(narrowed, 'POST', 'users/chief/keys', {}), '403 AccessDenied', 'no unrestricted key for its own user');
    assert.equal(await status(ROOT, 'POST', `keys/${chief.accessKey}/disable`), 200);
    assert.equal(await status(narrowed, 'POST', `keys/${chief.accessKey}/enable`), '403 AccessDenied', "no re-enabling its own user's key");
    assert.equal(await status(ROOT, 'POST', `keys/${chief.accessKey}/enable`), 200);
    const forOther = await call(narrowed, 'POST', 'users/nobody/keys', {});
    assert.equal(forOther.status, 200, 'another user: the policy allows it');
    const chiefKeys = (await call(ROOT, 'GET', 'users/chief')).body.accessKeys as unknown[];
    assert.equal(chiefKeys.length, 2, 'no key was made for chief by the narrowed key');
  });

  it('strata admin with a user’s keys (STRATA_ACCESS_KEY) › user add works for the manager; user remove → exit 1 AccessDenied; the readonly user’s user add → AccessDenied', async () => {
    const add = await strataAdmin(manager, ['user', 'add', 'cli-made', '--access-key', 'CLIMADEKEY0001', '--secret-key', 'cli-made-secret-1']);
    assert.equal(add.code, 0, describeRun('strata admin user add', add));
    assert.match(add.stdout, /Added user cli-made/);
    assert.equal(await status(ROOT, 'GET', 'users/cli-made'), 200);
    const list = await strataAdmin(manager, ['--json', 'user', 'list']);
    assert.equal(list.code, 0, describeRun('strata admin user list', list));
    assert.match(list.stdout, /cli-made/);
    const remove = await strataAdmin(manager, ['user', 'remove', 'cli-made']);
    assert.equal(remove.code, 1, describeRun('strata admin user remove', remove));
    assert.match(remove.stderr, /AccessDenied/);
    assert.equal(await status(ROOT, 'GET', 'users/cli-made'), 200, 'still there');
    const byReader = await strataAdmin(reader, ['user', 'add', 'reader-made']);
    assert.equal(byReader.code, 1, describeRun('strata admin user add (reader)', byReader));
    assert.match(byReader.stderr, /AccessDenied/);
    assert.equal(await status(ROOT, 'GET', 'users/reader-made'), '404 NoSuchEntity');
  });
});

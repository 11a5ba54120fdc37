// Who may call an admin operation: root always; a user what its policies allow (admin:* wildcards,
// explicit Deny, the key's inline policy narrowing, global condition keys); a narrowed key never mints
// or re-enables keys of its own user.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import type { Principal } from '../iam/principal.js';
import { compilePolicy } from '../iam/policy.js';
import { ROOT_USER_ID } from '../store/types.js';
import { authorizeAdmin } from './authorize.js';

const req = (ip = '127.0.0.1') => ({ headers: { 'user-agent': 'test' }, socket: { remoteAddress: ip } }) as unknown as IncomingMessage;
const statement = (Effect: string, Action: string | string[], extra: object = {}) => ({ Effect, Action, Resource: '*', ...extra });
const compile = (...statements: object[]) => compilePolicy({ Version: '2012-10-17', Statement: statements }, { kind: 'identity' });
const user = (identity: object[][], key?: object[]): Principal => ({
  accessKeyId: 'AKUSER',
  userId: 'U1',
  kind: 'user',
  userName: 'alice',
  ...(key && { keyPolicy: '{}' }),
  policies: { identity: identity.map((s) => compile(...s)), ...(key && { key: compile(...key) }) },
});
const keys = {
  getAccessKey: (id: string) => (id === 'AKALICE2' ? ({ userName: 'alice' } as never) : id === 'AKBOB' ? ({ userName: 'bob' } as never) : undefined),
};
const may = (p: Principal, action: `admin:${string}`, params: string[] = [], r = req()) => authorizeAdmin(r, p, action, params, keys) === undefined;

describe('authorizeAdmin', () => {
  it('root › every action', () => {
    const root: Principal = { accessKeyId: 'AKROOT', userId: ROOT_USER_ID, kind: 'root' };
    for (const a of ['admin:CreateUser', 'admin:DeleteUser', 'admin:AttachUserOrGroupPolicy'] as const) assert.equal(may(root, a), true);
  });

  it('a user › the actions its policies allow (names any case, wildcards), not the others; no policy: nothing', () => {
    const manager = user([[statement('Allow', ['admin:CreateUser', 'ADMIN:listusers'])]]);
    assert.equal(may(manager, 'admin:CreateUser'), true);
    assert.equal(may(manager, 'admin:ListUsers'), true);
    assert.equal(may(manager, 'admin:DeleteUser'), false);
    assert.equal(may(user([[statement('Allow', 'admin:*')]]), 'admin:DeleteUser'), true);
    assert.equal(may(user([[statement('Allow', 'admin:Get*')]]), 'admin:GetUser'), true);
    assert.equal(may(user([[statement('Allow', 's3:*')]]), 'admin:ListUsers'), false, 's3:* is not admin');
    assert.equal(may(user([]), 'admin:ListUsers'), false);
  });

  it('a Deny wins; a Resource other than * still applies (admin actions are unscoped); aws:SourceIp conditions hold', () => {
    assert.equal(may(user([[statement('Allow', 'admin:*')], [statement('Deny', 'admin:DeleteUser')]]), 'admin:DeleteUser'), false);
    assert.equal(may(user([[{ Effect: 'Allow', Action: 'admin:*', Resource: 'arn:aws:s3:::*' }]]), 'admin:ListUsers'), true);
    const lan = user([[statement('Allow', 'admin:*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })]]);
    assert.equal(may(lan, 'admin:ListUsers', [], req('10.1.2.3')), true);
    assert.equal(may(lan, 'admin:ListUsers', [], req('192.168.1.1')), false);
  });

  it("a key's inline policy › narrows; such a key may not create or enable keys of its own user, but may for another", () => {
    const narrowed = user([[statement('Allow', 'admin:*')]], [statement('Allow', ['admin:ListUsers', 'admin:CreateAccessKey', 'admin:EnableAccessKey'])]);
    assert.equal(may(narrowed, 'admin:ListUsers'), true);
    assert.equal(may(narrowed, 'admin:DeleteUser'), false);
    assert.equal(may(narrowed, 'admin:CreateAccessKey', ['alice']), false);
    assert.equal(may(narrowed, 'admin:CreateAccessKey', ['bob']), true);
    assert.equal(may(narrowed, 'admin:EnableAccessKey', ['AKALICE2']), false);
    assert.equal(may(narrowed, 'admin:EnableAccessKey', ['AKBOB']), true);
    const full = user([[statement('Allow', 'admin:*')]]);
    assert.equal(may(full, 'admin:CreateAccessKey', ['alice']), true, 'an unnarrowed key may');
  });
});

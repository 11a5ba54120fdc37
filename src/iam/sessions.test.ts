// STS session tokens (sessions.ts) and who may assume a role (roles.ts): the sealed token's round
// trip, tampering, expiry, binding to its key; a deleted or re-made role; trust evaluation as AWS's
// same-account rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryMetaStore } from '../store/meta/memory.js';
import { authorize, requestPrincipalOf } from './authorize.js';
import { identityCredentials } from './credentials.js';
import { compilePolicy, principalArn, type RequestPrincipal, STRATA_ACCOUNT_ID } from './policy.js';
import type { Principal } from './principal.js';
import { assumedRoleArn, mayAssume, parseTrustPolicy, roleArn } from './roles.js';
import { SecretBox } from './secret-box.js';
import { newSessionKeys, type SessionClaims, sessionCredentials, SessionTokenError, SessionTokens } from './sessions.js';

const NOW = Date.UTC(2026, 11, 3, 4, 0, 0);
const box = new SecretBox({ rootSecret: 'root-secret-1' });
const claims: SessionClaims = {
  roleName: 'reader',
  roleId: 'AROAREADER00000000001',
  sessionName: 'job-1',
  expires: NOW + 900_000,
  secretKey: 'session-secret',
  policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
};
const code = (c: string) => (e: unknown) => e instanceof SessionTokenError && e.code === c;

describe('SessionTokens', () => {
  it('seal/open › round trip; the token holds no plaintext secret; opened by another instance on the same key', () => {
    const { accessKeyId } = newSessionKeys();
    assert.match(accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    const token = new SessionTokens(box).seal(accessKeyId, claims);
    assert.equal(Buffer.from(token, 'base64').includes(Buffer.from('session-secret')), false);
    assert.deepEqual(new SessionTokens(new SecretBox({ rootSecret: 'root-secret-1' })).open(accessKeyId, token, NOW), claims);
  });

  it('tamper › any altered byte, another access key, another server key, garbage → InvalidToken', () => {
    const tokens = new SessionTokens(box);
    const token = tokens.seal('ASIAAAAAAAAAAAAAAAAA', claims);
    const raw = Buffer.from(token, 'base64');
    for (const i of [0, 5, 20, raw.length - 1]) {
      const t = Buffer.from(raw);
      t[i]! ^= 1;
      assert.throws(() => tokens.open('ASIAAAAAAAAAAAAAAAAA', t.toString('base64'), NOW), code('InvalidToken'), `byte ${i}`);
    }
    assert.throws(() => tokens.open('ASIABBBBBBBBBBBBBBBB', token, NOW), code('InvalidToken'));
    assert.throws(() => new SessionTokens(new SecretBox({ rootSecret: 'other' })).open('ASIAAAAAAAAAAAAAAAAA', token, NOW), code('InvalidToken'));
    for (const bad of ['', 'not base64!', 'AAAA', 'x'.repeat(9000)]) assert.throws(() => tokens.open('ASIAAAAAAAAAAAAAAAAA', bad, NOW), code('InvalidToken'));
  });

  it('expiry › valid until the expiry, ExpiredToken from then on (a tampered expired token is InvalidToken)', () => {
    const tokens = new SessionTokens(box);
    const token = tokens.seal('ASIAAAAAAAAAAAAAAAAA', claims);
    assert.equal(tokens.open('ASIAAAAAAAAAAAAAAAAA', token, claims.expires - 1).sessionName, 'job-1');
    assert.throws(() => tokens.open('ASIAAAAAAAAAAAAAAAAA', token, claims.expires), code('ExpiredToken'));
    const t = Buffer.from(token, 'base64');
    t[30]! ^= 1;
    assert.throws(() => tokens.open('ASIAAAAAAAAAAAAAAAAA', t.toString('base64'), claims.expires + 1), code('InvalidToken'));
  });
});

describe('sessionCredentials', () => {
  it('principal › the role policies as identity, the session policy narrowing; the assumed-role ARN; a deleted or re-made role → InvalidToken', async () => {
    const meta = memoryMetaStore();
    const ids = meta.identities;
    await ids.createRole({ name: 'reader', roleId: claims.roleId, trustPolicy: '{}', maxSessionDuration: 3600, created: 1 });
    await ids.putPolicy('rw', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}', 1);
    await ids.attachPolicy('rw', { role: 'reader' });
    const tokens = new SessionTokens(box);
    const resolve = sessionCredentials({ identities: ids, tokens, now: () => NOW });
    const source = identityCredentials({ rootAccessKey: 'ROOT', rootSecretKey: 'rootsecret', identities: ids, box, sessions: resolve });
    const token = tokens.seal('ASIAAAAAAAAAAAAAAAAA', claims);
    const found = await source('ASIAAAAAAAAAAAAAAAAA', token);
    assert.equal(found?.secretKey, 'session-secret');
    const p = found!.principal;
    assert.equal(requestPrincipalOf(p).arn, assumedRoleArn('reader', 'job-1'));
    assert.equal(requestPrincipalOf(p).userId, `${claims.roleId}:job-1`);
    const obj = { kind: 'object', bucket: 'b', key: 'k' } as const;
    assert.equal(authorize(p, 's3:GetObject', obj).allowed, true);
    assert.equal(authorize(p, 's3:PutObject', obj).allowed, false, 'the session policy narrows the role');
    // No session token source configured, or a long-term key without its token: refused.
    await assert.rejects(identityCredentials({ rootAccessKey: 'ROOT', rootSecretKey: 'x', identities: ids, box })('ROOT', token), code('InvalidToken'));
    assert.equal(await source('ASIAAAAAAAAAAAAAAAAA'), undefined);
    await ids.deleteRole('reader');
    await assert.rejects(source('ASIAAAAAAAAAAAAAAAAA', token), code('InvalidToken'));
    await ids.createRole({ name: 'reader', roleId: 'AROAOTHER000000000001', trustPolicy: '{}', maxSessionDuration: 3600, created: 2 });
    await assert.rejects(source('ASIAAAAAAAAAAAAAAAAA', token), code('InvalidToken'));
    await meta.close?.();
  });
});

describe('mayAssume (trust policies, same account)', () => {
  const ROLE = roleArn('reader');
  const trust = (principal: unknown, effect = 'Allow') =>
    parseTrustPolicy({ Version: '2012-10-17', Statement: [{ Effect: effect, Principal: principal, Action: 'sts:AssumeRole' }] });
  const alice: RequestPrincipal = { kind: 'user', account: STRATA_ACCOUNT_ID, arn: principalArn('user', 'alice'), userId: 'U1', name: 'alice' };
  const root: RequestPrincipal = { kind: 'root', account: STRATA_ACCOUNT_ID, arn: principalArn('root', ''), userId: 'root' };
  const allowAssume = compilePolicy(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: ROLE }] },
    { kind: 'identity' },
  );
  const denyAssume = compilePolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'sts:*', Resource: '*' }] }, { kind: 'identity' });
  const facts = { now: NOW };
  const check = (who: RequestPrincipal, identity: (typeof allowAssume)[], isRoot: boolean, t: ReturnType<typeof trust>) => {
    assert.ok(t.ok);
    return mayAssume(who, { identity }, isRoot, t.policy, ROLE, facts).allowed;
  };

  it('table › who may assume, by trust policy and identity policy', () => {
    const rows: Array<[string, RequestPrincipal, (typeof allowAssume)[], boolean, ReturnType<typeof trust>, boolean]> = [
      ['trust names the user, no identity policy', alice, [], false, trust({ AWS: alice.arn }), true],
      ['trust names the user, identity denies', alice, [denyAssume], false, trust({ AWS: alice.arn }), false],
      ['trust names another user', alice, [allowAssume], false, trust({ AWS: principalArn('user', 'bob') }), false],
      ['trust names the account root, identity allows', alice, [allowAssume], false, trust({ AWS: principalArn('root', '') }), true],
      ['trust names the account id, identity allows', alice, [allowAssume], false, trust({ AWS: STRATA_ACCOUNT_ID }), true],
      ['trust names the account root, no identity policy', alice, [], false, trust({ AWS: principalArn('root', '') }), false],
      ['trust is *, no identity policy', alice, [], false, trust('*'), true],
      ['trust denies the user explicitly', alice, [allowAssume], false, trust({ AWS: alice.arn }, 'Deny'), false],
      ['root, trust names the account', root, [], true, trust({ AWS: STRATA_ACCOUNT_ID }), true],
      ['root, trust names only a user', root, [], true, trust({ AWS: alice.arn }), false],
    ];
    for (const [name, who, identity, isRoot, t, expected] of rows) assert.equal(check(who, identity, isRoot, t), expected, name);
  });

  it('conditions › sts:ExternalId in the trust policy: the right ExternalId admits, another or none refuses', () => {
    const t = parseTrustPolicy({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'ext-42' } } }],
    });
    assert.ok(t.ok);
    const with_ = (id: string | undefined) => mayAssume(alice, { identity: [] }, false, t.policy, ROLE, { now: NOW, values: { 'sts:ExternalId': id } }).allowed;
    assert.equal(with_('ext-42'), true);
    assert.equal(with_('ext-43'), false);
    assert.equal(with_(undefined), false);
  });

  it('trust policies › Principal required, no Resource, only sts: actions', () => {
    assert.equal(parseTrustPolicy({ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }).ok, false);
    const r = parseTrustPolicy({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Resource: '*' }] });
    assert.equal(r.ok === false && r.error.message, 'Has prohibited field Resource');
    assert.equal(parseTrustPolicy({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }] }).ok, false);
    assert.equal(parseTrustPolicy({ Statement: [{ Effect: 'Allow', Principal: { AWS: 'not-an-arn' }, Action: 'sts:AssumeRole' }] }).ok, false);
  });

  it('a session principal is matched by its role ARN in a trust policy (role chaining)', () => {
    const session: Principal = {
      accessKeyId: 'ASIA',
      userId: 'AROA1',
      kind: 'user',
      session: { roleName: 'ops', roleId: 'AROA1', sessionName: 's', expires: NOW + 1 },
    };
    assert.equal(check(requestPrincipalOf(session), [], false, trust({ AWS: roleArn('ops') })), true);
  });
});

// The console's sessions (session.ts): the sealed cookie's round trip, tampering, expiry, a key
// resolved again on every open (a changed secret or a key gone ends the session), the constant-time
// comparison's answers, the cookie's flags, and the login limiter's bound and window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CredentialSource, Principal, StoredCredentials } from '../iam/principal.js';
import { SecretBox } from '../iam/secret-box.js';
import { ConsoleError, ConsoleSessions, cookieValue, LoginLimiter, SESSION_MS, secretsEqual, sessionCookie } from './session.js';

const box = new SecretBox({ rootSecret: 'root-secret-1' });
const alice: Principal = { accessKeyId: 'AKIAALICE', userId: 'u-alice', kind: 'user', userName: 'alice' };

/** A credential source over a mutable table (a test changes or removes keys between calls). */
function source(table: Map<string, string>): CredentialSource {
  return (id) => {
    const secret = table.get(id);
    return Promise.resolve(secret === undefined ? undefined : ({ principal: { ...alice, accessKeyId: id }, secretKey: secret } satisfies StoredCredentials));
  };
}

describe('ConsoleSessions', () => {
  it('login › the right secret gives a session and a sealed cookie that holds no plaintext; open() gives it back', async () => {
    let now = 1_000_000;
    const sessions = new ConsoleSessions(box, source(new Map([['AKIAALICE', 'alice-secret']])), () => now);
    const { session, cookie } = await sessions.login('AKIAALICE', 'alice-secret', undefined);
    assert.equal(session.expires, now + SESSION_MS);
    assert.match(cookie, /^[A-Za-z0-9_-]+$/);
    assert.ok(!Buffer.from(cookie, 'base64url').includes(Buffer.from('alice-secret')));
    // Another process on the same secret box opens it.
    const other = new ConsoleSessions(new SecretBox({ rootSecret: 'root-secret-1' }), source(new Map([['AKIAALICE', 'alice-secret']])), () => now);
    assert.equal((await other.open(cookie))?.principal.userName, 'alice');
    now += SESSION_MS;
    assert.equal(await other.open(cookie), undefined, 'expired after 12 h');
  });

  it('login › wrong secret → SignatureDoesNotMatch, unknown key → InvalidAccessKeyId (403)', async () => {
    const sessions = new ConsoleSessions(box, source(new Map([['AKIAALICE', 'alice-secret']])));
    await assert.rejects(
      sessions.login('AKIAALICE', 'nope', undefined),
      (e) => e instanceof ConsoleError && e.status === 403 && e.code === 'SignatureDoesNotMatch',
    );
    await assert.rejects(sessions.login('AKIAOTHER', 'x', undefined), (e) => e instanceof ConsoleError && e.code === 'InvalidAccessKeyId');
  });

  it('open › a key removed or its secret changed ends the session; a tampered, foreign or garbage cookie opens nothing', async () => {
    const table = new Map([['AKIAALICE', 'alice-secret']]);
    const sessions = new ConsoleSessions(box, source(table));
    const { cookie } = await sessions.login('AKIAALICE', 'alice-secret', undefined);
    const raw = Buffer.from(cookie, 'base64url');
    for (const i of [0, 5, 20, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[i]! ^= 1;
      assert.equal(await sessions.open(bad.toString('base64url')), undefined, `byte ${i} altered`);
    }
    assert.equal(await new ConsoleSessions(new SecretBox({ rootSecret: 'another-root' }), source(table)).open(cookie), undefined);
    for (const junk of ['', 'x', '!!!', 'a'.repeat(20_000)]) assert.equal(await sessions.open(junk), undefined);
    assert.ok(await sessions.open(cookie));
    table.set('AKIAALICE', 'rotated');
    assert.equal(await sessions.open(cookie), undefined, 'secret changed');
    table.delete('AKIAALICE');
    assert.equal(await sessions.open(cookie), undefined, 'key gone');
  });

  it('login › an STS session is capped by its own expiry', async () => {
    const expires = Date.now() + 60_000;
    const sts: CredentialSource = (id, token) =>
      Promise.resolve(
        token === 'tok'
          ? {
              principal: { accessKeyId: id, userId: 'r', kind: 'user', session: { roleName: 'r', roleId: 'r', sessionName: 's', expires } },
              secretKey: 'sts-secret',
            }
          : undefined,
      );
    const { session, cookie } = await new ConsoleSessions(box, sts).login('ASIAX', 'sts-secret', 'tok');
    assert.equal(session.expires, expires);
    assert.equal(session.keys.sessionToken, 'tok');
    assert.equal((await new ConsoleSessions(box, sts).open(cookie))?.keys.sessionToken, 'tok');
    // A token too large for a browser cookie is refused with a reason, not set and lost.
    const big = 'T'.repeat(3000);
    const bigSts: CredentialSource = (id, token) => (token === big ? sts(id, 'tok') : Promise.resolve(undefined));
    await assert.rejects(new ConsoleSessions(box, bigSts).login('ASIAX', 'sts-secret', big), (e) => e instanceof ConsoleError && e.code === 'SessionTooLarge');
  });
});

describe('cookie and secret helpers', () => {
  it('secretsEqual compares whole secrets, any length', () => {
    assert.equal(secretsEqual('abc', 'abc'), true);
    assert.equal(secretsEqual('abc', 'abd'), false);
    assert.equal(secretsEqual('abc', 'abcd'), false);
    assert.equal(secretsEqual('', ''), true);
  });

  it('sessionCookie has HttpOnly, SameSite=Strict, Path=/, Secure only over TLS; cookieValue finds it among others', () => {
    assert.equal(sessionCookie('v', 10, false), 'strata_console=v; HttpOnly; SameSite=Strict; Path=/; Max-Age=10');
    assert.match(sessionCookie('v', 10, true), /; Secure$/);
    assert.equal(cookieValue('a=1; strata_console=xyz; b=2', 'strata_console'), 'xyz');
    assert.equal(cookieValue('a=1', 'strata_console'), undefined);
    assert.equal(cookieValue(undefined, 'strata_console'), undefined);
  });
});

describe('LoginLimiter', () => {
  it('refuses after `limit` failures per address or per key within the window; a new window starts over', () => {
    let now = 0;
    const limiter = new LoginLimiter(3, 1000, () => now);
    for (let i = 0; i < 3; i++) {
      assert.equal(limiter.blocked('1.2.3.4', 'K'), false);
      limiter.failed('1.2.3.4', 'K');
    }
    assert.equal(limiter.blocked('1.2.3.4', 'other'), true, 'the address is blocked');
    assert.equal(limiter.blocked('5.6.7.8', 'K'), true, 'the key is blocked');
    assert.equal(limiter.blocked('5.6.7.8', 'other'), false);
    now = 1001;
    assert.equal(limiter.blocked('1.2.3.4', 'K'), false, 'the window passed');
    limiter.failed('9.9.9.9', 'Z');
    limiter.succeeded('Z');
    assert.equal(limiter.blocked('0.0.0.0', 'Z'), false);
  });
});

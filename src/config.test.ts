// parseConfig: flags, environment twins, defaults, refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from './config.js';

function cfg(argv: string[], env: Record<string, string> = {}) {
  const r = parseConfig(argv, env);
  if (r.help) throw new Error('unexpected help');
  return r.config;
}

describe('parseConfig', () => {
  it('no flags → defaults with the default credentials flagged', () => {
    const c = cfg([]);
    assert.equal(c.port, 9000);
    assert.equal(c.host, '');
    assert.equal(c.dataDir, './data');
    assert.equal(c.accessKey, 'rustfsadmin');
    assert.equal(c.secretKey, 'rustfssecret');
    assert.equal(c.defaultCredentials, true);
    assert.equal(c.region, 'us-east-1');
    assert.deepEqual(c.domains, []);
    assert.ok(Object.isFrozen(c));
  });
  it('flags → values (both --flag value and --flag=value)', () => {
    const c = cfg(['--address', '127.0.0.1:0', '--data=/tmp/x', '--access-key', 'AKIAEXAMPLE', '--secret-key', 'supersecret1', '--domain', 'localhost, S3.Example.com', '--region', 'eu-west-1']);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 0);
    assert.equal(c.dataDir, '/tmp/x');
    assert.equal(c.accessKey, 'AKIAEXAMPLE');
    assert.equal(c.defaultCredentials, false);
    assert.deepEqual(c.domains, ['localhost', 's3.example.com']);
    assert.equal(c.region, 'eu-west-1');
  });
  it('environment twins, RUSTFS_* accepted, flags win over env', () => {
    const c = cfg(['--address', ':9100'], { STRATA_ADDRESS: ':9200', RUSTFS_ACCESS_KEY: 'rkey', RUSTFS_SECRET_KEY: 'rsecret12', STRATA_DATA: '/d' });
    assert.equal(c.port, 9100);
    assert.equal(c.accessKey, 'rkey');
    assert.equal(c.secretKey, 'rsecret12');
    assert.equal(c.dataDir, '/d');
  });
  it('IPv6 address → host and port', () => {
    const c = cfg(['--address', '[::1]:9001']);
    assert.equal(c.host, '::1');
    assert.equal(c.port, 9001);
  });
  it('--help → help text naming every flag and its env twin', () => {
    const r = parseConfig(['--help'], {});
    assert.ok(r.help);
    for (const s of ['--address', '--data', '--access-key', '--secret-key', '--region', '--domain', 'STRATA_ADDRESS', 'RUSTFS_SECRET_KEY']) assert.ok(r.text.includes(s), s);
  });
  for (const [argv, env, why] of [
    [['--secret-key', 'short', '--access-key', 'ak1'], {}, 'short secret'],
    [['--secret-key', ''], { STRATA_ACCESS_KEY: 'ak1' }, 'empty secret'],
    [['--access-key', 'onlykey'], {}, 'key without secret'],
    [['--address', 'nonsense'], {}, 'bad address'],
    [['--bogus', '1'], {}, 'unknown flag'],
    [['--data'], {}, 'missing value'],
  ] as Array<[string[], Record<string, string>, string]>) {
    it(`${why} → ConfigError`, () => assert.throws(() => parseConfig(argv, env), ConfigError));
  }
});

// parseConfig: flags, environment twins, defaults, refusals.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig, parseKmsSecretKey } from './config.js';
import { helpText } from './config-flags.js';

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
    assert.equal(c.inlineMax, 128 * 1024);
    assert.ok(Object.isFrozen(c));
  });
  it('--inline-max / STRATA_INLINE_MAX → bytes; 0 turns inline objects off', () => {
    assert.equal(cfg(['--inline-max', '0']).inlineMax, 0);
    assert.equal(cfg([], { STRATA_INLINE_MAX: '4096' }).inlineMax, 4096);
  });
  it('--master-key / STRATA_MASTER_KEY → kept as given (NAME:BASE64, BASE64, a passphrase); absent → none; NAME: without 32 bytes or under 8 characters → ConfigError', () => {
    const b64 = Buffer.alloc(32, 9).toString('base64');
    assert.equal(cfg([]).masterKey, undefined);
    assert.equal(cfg(['--master-key', `strata-key:${b64}`]).masterKey, `strata-key:${b64}`);
    assert.equal(cfg([], { STRATA_MASTER_KEY: b64 }).masterKey, b64);
    assert.equal(cfg(['--master-key', 'former-root-secret']).masterKey, 'former-root-secret');
    assert.throws(() => parseConfig(['--master-key', 'k:c2hvcnQ='], {}), ConfigError);
    assert.throws(() => parseConfig(['--master-key', 'short'], {}), ConfigError);
  });
  it('--health-address / STRATA_HEALTH_ADDRESS → host and port of the health listener; absent → none; invalid → ConfigError', () => {
    assert.equal(cfg([]).health, undefined);
    assert.deepEqual(cfg(['--health-address', '127.0.0.1:9001']).health, { host: '127.0.0.1', port: 9001 });
    assert.deepEqual(cfg([], { STRATA_HEALTH_ADDRESS: ':9002' }).health, { host: '', port: 9002 });
    assert.throws(() => parseConfig(['--health-address', 'nope'], {}), ConfigError);
  });

  it('--console-address / --console-s3-url / --console-dir → :9001 (not explicit) by default, off, given (explicit), env twins; a bad URL → ConfigError', () => {
    assert.deepEqual(cfg([]).console, { host: '', port: 9001, explicit: false });
    assert.equal(cfg(['--console-address', 'off']).console, undefined);
    assert.equal(cfg([], { STRATA_CONSOLE_ADDRESS: 'off' }).console, undefined);
    assert.deepEqual(cfg(['--console-address', '127.0.0.1:0']).console, { host: '127.0.0.1', port: 0, explicit: true });
    assert.deepEqual(cfg(['--console-address', ':9001']).console, { host: '', port: 9001, explicit: true });
    assert.deepEqual(cfg([], { STRATA_CONSOLE_ADDRESS: ':9101' }).console, { host: '', port: 9101, explicit: true });
    assert.throws(() => parseConfig(['--console-address', 'nope'], {}), ConfigError);
    assert.equal(cfg([]).consoleS3Url, undefined);
    assert.equal(cfg(['--console-s3-url', 'https://s3.example.com/']).consoleS3Url, 'https://s3.example.com');
    assert.throws(() => parseConfig(['--console-s3-url', 'ftp://x'], {}), ConfigError);
    assert.throws(() => parseConfig(['--console-s3-url', 'http://x/path'], {}), ConfigError);
    assert.equal(cfg([], { STRATA_CONSOLE_DIR: '/srv/console' }).consoleDir, '/srv/console');
  });

  it('--shared / --free-grace / --abort-uploads-after → off, 60 s, never by default; values and env twins', () => {
    const d = cfg([]);
    assert.deepEqual([d.shared, d.freeGraceMs, d.abandonedUploadMs], [false, 60_000, 0]);
    const c = cfg(['--shared', 'yes', '--free-grace', '2.5', '--abort-uploads-after', '7']);
    assert.deepEqual([c.shared, c.freeGraceMs, c.abandonedUploadMs], [true, 2500, 7 * 86_400_000]);
    assert.equal(cfg([], { STRATA_SHARED: 'true' }).shared, true);
    assert.equal(cfg(['--shared', 'no'], { STRATA_SHARED: 'yes' }).shared, false);
  });
  it('--workers / STRATA_WORKERS → one per CPU by default; 1 (a single process) or more; the flag wins over the env twin; --help names it', () => {
    assert.equal(cfg([]).workers, availableParallelism());
    assert.equal(cfg(['--workers', '1']).workers, 1);
    assert.equal(cfg(['--workers=4']).workers, 4);
    assert.equal(cfg([], { STRATA_WORKERS: '3' }).workers, 3);
    assert.equal(cfg(['--workers', '1'], { STRATA_WORKERS: '3' }).workers, 1);
    assert.equal(cfg(['--shared', 'yes', '--workers', '2']).workers, 2);
    const help = parseConfig(['--help'], {});
    assert.ok(help.help && /--workers N .*one per CPU.*\[STRATA_WORKERS\]/.test(help.text));
  });
  it('--lifecycle-day-seconds / STRATA_LIFECYCLE_DAY_SECONDS → a real day by default; shorter for tests', () => {
    assert.equal(cfg([]).lifecycleDayMs, 86_400_000);
    assert.equal(cfg(['--lifecycle-day-seconds', '2']).lifecycleDayMs, 2000);
    assert.equal(cfg([], { STRATA_LIFECYCLE_DAY_SECONDS: '3' }).lifecycleDayMs, 3000);
  });
  it('--scrub-rate / STRATA_SCRUB_RATE → bytes per second, 8 MiB/s by default, binary suffixes, 0 = off; refusals', () => {
    assert.equal(cfg([]).scrubRate, 8 * 1024 * 1024);
    assert.equal(cfg(['--scrub-rate', '0']).scrubRate, 0);
    assert.equal(cfg(['--scrub-rate', '1500']).scrubRate, 1500);
    assert.equal(cfg(['--scrub-rate', '64KiB/s']).scrubRate, 64 * 1024);
    assert.equal(cfg([], { STRATA_SCRUB_RATE: '2g' }).scrubRate, 2 * 1024 ** 3);
    for (const bad of ['-1', 'fast', '1.5M', '10T']) assert.throws(() => cfg(['--scrub-rate', bad]), /--scrub-rate/);
  });
  it('flags → values (both --flag value and --flag=value)', () => {
    const c = cfg([
      '--address',
      '127.0.0.1:0',
      '--data=/tmp/x',
      '--access-key',
      'AKIAEXAMPLE',
      '--secret-key',
      'supersecret1',
      '--domain',
      'localhost, S3.Example.com',
      '--region',
      'eu-west-1',
    ]);
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
    for (const s of [
      '--address',
      '--data',
      '--access-key',
      '--secret-key',
      '--region',
      '--domain',
      '--cors-origins',
      '--certs',
      '--tls-cert',
      '--tls-key',
      'STRATA_ADDRESS',
      'RUSTFS_SECRET_KEY',
      'STRATA_CORS_ORIGINS',
      'STRATA_CERTS',
    ])
      assert.ok(r.text.includes(s), s);
  });
  it('CORS and TLS flags → off by default; --cors-origins list or *, --certs DIR → DIR/public.crt + DIR/private.key', () => {
    const d = cfg([]);
    assert.deepEqual(d.corsOrigins, []);
    assert.equal(d.tls, undefined);
    const c = cfg(['--cors-origins', ' https://a.example, http://localhost:3000 ,https://*.b.example', '--certs', '/etc/strata/certs']);
    assert.deepEqual(c.corsOrigins, ['https://a.example', 'http://localhost:3000', 'https://*.b.example']);
    assert.deepEqual(c.tls, { certFile: '/etc/strata/certs/public.crt', keyFile: '/etc/strata/certs/private.key' });
    assert.deepEqual(cfg(['--cors-origins', 'https://a.example,*']).corsOrigins, ['*']);
    const e = cfg([], { STRATA_CORS_ORIGINS: '*', STRATA_TLS_CERT: '/c.pem', STRATA_TLS_KEY: '/k.pem' });
    assert.deepEqual(e.corsOrigins, ['*']);
    assert.deepEqual(e.tls, { certFile: '/c.pem', keyFile: '/k.pem' });
    assert.deepEqual(cfg([], { STRATA_CERTS: '/certs' }).tls, { certFile: '/certs/public.crt', keyFile: '/certs/private.key' });
  });
  for (const [argv, env, why] of [
    [['--secret-key', 'short', '--access-key', 'ak1'], {}, 'short secret'],
    [['--secret-key', ''], { STRATA_ACCESS_KEY: 'ak1' }, 'empty secret'],
    [['--access-key', 'onlykey'], {}, 'key without secret'],
    [['--address', 'nonsense'], {}, 'bad address'],
    [['--bogus', '1'], {}, 'unknown flag'],
    [['--data'], {}, 'missing value'],
    [['--cors-origins', 'https://*.*.example'], {}, 'CORS origin with two wildcards'],
    [['--cors-origins', 'https://a example'], {}, 'CORS origin with a space'],
    [['--tls-cert', '/c.pem'], {}, 'TLS certificate without key'],
    [['--inline-max', '-1'], {}, 'negative inline limit'],
    [['--inline-max', '2mb'], {}, 'inline limit that is not a number of bytes'],
    [['--inline-max', String(2 * 1024 * 1024)], {}, 'inline limit above 1 MiB'],
    [['--certs', '/certs', '--tls-key', '/k.pem'], {}, '--certs together with --tls-key'],
    [['--shared', 'maybe'], {}, '--shared neither yes nor no'],
    [['--free-grace', '0'], {}, 'zero free grace'],
    [['--workers', '0'], {}, 'zero workers'],
    [['--workers', '1.5'], {}, 'a fraction of a worker'],
    [['--workers', 'all'], {}, 'workers not a number'],
    [['--workers', '257'], {}, 'more than 256 workers'],
    [[], { STRATA_WORKERS: '-2' }, 'negative STRATA_WORKERS'],
    [['--abort-uploads-after', '-1'], {}, 'negative upload age'],
    [['--lifecycle-day-seconds', '0'], {}, 'lifecycle day of 0 seconds'],
    [['--lifecycle-day-seconds', '86401'], {}, 'lifecycle day longer than a day'],
  ] as Array<[string[], Record<string, string>, string]>) {
    it(`${why} → ConfigError`, () => assert.throws(() => parseConfig(argv, env), ConfigError));
  }
  it('--sse-default AES256 → SSE-S3 by default, only with the key service (ConfigError without one); none → off', () => {
    const key = `my-key:${Buffer.alloc(32, 7).toString('base64')}`;
    assert.equal(cfg([]).sseByDefault, false);
    assert.equal(cfg(['--sse-default', 'AES256', '--kms-secret-key', key]).sseByDefault, true);
    assert.equal(cfg(['--sse-default', 'none']).sseByDefault, false);
    assert.throws(
      () => cfg(['--sse-default', 'AES256']),
      (e: Error) => e instanceof ConfigError && /needs the key service/.test(e.message),
    );
    assert.throws(() => cfg(['--sse-default', 'aws:kms', '--kms-secret-key', key]), ConfigError);
  });

  it('--kms-secret-key / STRATA_KMS_SECRET_KEY / MINIO_KMS_SECRET_KEY → kept as given; --kms-secret-key-file → its path; absent → no key service; malformed or both → ConfigError that never repeats the text', () => {
    const key = `my-key:${Buffer.alloc(32, 7).toString('base64')}`;
    assert.equal(cfg([]).kms, undefined);
    assert.deepEqual(cfg(['--kms-secret-key', key]).kms, { secretKey: key });
    assert.deepEqual(cfg([], { STRATA_KMS_SECRET_KEY: key }).kms, { secretKey: key });
    assert.deepEqual(cfg([], { MINIO_KMS_SECRET_KEY: key }).kms, { secretKey: key });
    assert.deepEqual(cfg(['--kms-secret-key-file', '/etc/strata/kms.key']).kms, { secretKeyFile: '/etc/strata/kms.key' });
    assert.deepEqual(cfg([], { STRATA_KMS_SECRET_KEY_FILE: '/k' }).kms, { secretKeyFile: '/k' });
    assert.throws(() => cfg(['--kms-secret-key', key, '--kms-secret-key-file', '/k']), /not both/);
    const short = `my-key:${Buffer.alloc(16, 7).toString('base64')}`;
    for (const bad of [
      short,
      Buffer.alloc(32, 7).toString('base64'),
      `-x:${Buffer.alloc(32).toString('base64')}`,
      `my-key:${Buffer.alloc(32, 7).toString('base64url')}_`,
      'kx:',
    ]) {
      assert.throws(
        () => cfg(['--kms-secret-key', bad]),
        (e: Error) => e instanceof ConfigError && /--kms-secret-key must be NAME:BASE64/.test(e.message) && !e.message.includes(bad),
        bad,
      );
    }
    assert.deepEqual(parseKmsSecretKey(`${key}\n`, 'file'), { name: 'my-key', key: Buffer.alloc(32, 7) });
  });
  it('--audit-* / STRATA_AUDIT_*: off by default; file with its rotation, webhook with token and timeout, queue size; bad values refused', () => {
    assert.equal(cfg([]).audit, undefined);
    assert.deepEqual(cfg(['--audit-file', '/var/log/strata/audit.log']).audit, {
      queueMax: 10_000,
      file: { path: '/var/log/strata/audit.log', maxBytes: 104_857_600, keep: 5 },
    });
    assert.deepEqual(
      cfg([], {
        STRATA_AUDIT_FILE: 'a.log',
        STRATA_AUDIT_FILE_MAX_BYTES: '4096',
        STRATA_AUDIT_FILE_KEEP: '2',
        STRATA_AUDIT_WEBHOOK: 'https://siem.example/in',
        STRATA_AUDIT_WEBHOOK_TOKEN: 't0ken',
        STRATA_AUDIT_WEBHOOK_TIMEOUT: '2.5',
        STRATA_AUDIT_QUEUE: '500',
      }).audit,
      { queueMax: 500, file: { path: 'a.log', maxBytes: 4096, keep: 2 }, webhook: { url: 'https://siem.example/in', token: 't0ken', timeoutMs: 2500 } },
    );
    assert.deepEqual(cfg(['--audit-webhook', 'http://127.0.0.1:8080/']).audit?.webhook, { url: 'http://127.0.0.1:8080/', timeoutMs: 10_000 });
    assert.throws(() => cfg(['--audit-webhook', 'ftp://x/']), /http:\/\/ or https:\/\//);
    assert.throws(() => cfg(['--audit-webhook-token', 't']), /needs --audit-webhook/);
    assert.throws(() => cfg(['--audit-file', 'a', '--audit-file-max-bytes', '10']), /--audit-file-max-bytes/);
    assert.throws(() => cfg(['--audit-file', 'a', '--audit-file-keep', '0']), /--audit-file-keep/);
    assert.throws(() => cfg(['--audit-webhook', 'http://x/', '--audit-webhook-token', 'a b']), ConfigError);
    assert.ok(helpText().includes('--audit-file PATH'));
  });
  it('--metrics-auth → sigv4 by default; public; bearer with --metrics-token or --metrics-token-file (one); tokens only with bearer', () => {
    assert.deepEqual(cfg([]).metrics, { auth: 'sigv4' });
    assert.deepEqual(cfg(['--metrics-auth', 'public']).metrics, { auth: 'public' });
    assert.deepEqual(cfg([], { STRATA_METRICS_AUTH: 'bearer', STRATA_METRICS_TOKEN: 'token-123456' }).metrics, { auth: 'bearer', token: 'token-123456' });
    assert.deepEqual(cfg(['--metrics-auth', 'bearer', '--metrics-token-file', '/t']).metrics, { auth: 'bearer', tokenFile: '/t' });
    assert.throws(() => cfg(['--metrics-auth', 'bearer']), /--metrics-token/);
    assert.throws(() => cfg(['--metrics-auth', 'bearer', '--metrics-token', 'token-123456', '--metrics-token-file', '/t']), /one of them/);
    assert.throws(() => cfg(['--metrics-auth', 'bearer', '--metrics-token', 'short']), /at least 8/);
    assert.throws(() => cfg(['--metrics-token', 'token-123456']), /go with --metrics-auth bearer/);
    assert.throws(() => cfg(['--metrics-auth', 'none']), /public, bearer or sigv4/);
  });
});

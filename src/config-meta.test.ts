// --meta, --meta-pool and --meta-wait (src/config-meta.ts through parseConfig): the default SQLite,
// a PostgreSQL URL and what it implies (the shared rules), and every refusal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from './config.js';
import { helpText } from './config-flags.js';
import { DEFAULT_META_POOL, redactedUrl } from './config-meta.js';

function cfg(argv: string[], env: Record<string, string> = {}) {
  const r = parseConfig(argv, env);
  if (r.help) throw new Error('unexpected help');
  return r.config;
}

const refused = (argv: string[], env: Record<string, string>, match: RegExp) =>
  assert.throws(
    () => cfg(argv, env),
    (e: unknown) => e instanceof ConfigError && match.test(e.message),
  );

const URL_ = 'postgres://strata@db.example:5432/strata';

describe('--meta', () => {
  it('default: SQLite in the data directory (no meta in the config), not shared', () => {
    const c = cfg([]);
    assert.equal(c.meta, undefined);
    assert.equal(c.shared, false);
    assert.equal(cfg(['--meta', 'sqlite']).meta, undefined);
    assert.equal(cfg([], { STRATA_META: 'sqlite' }).meta, undefined);
  });
  it('a postgres:// or postgresql:// URL: the PostgreSQL store, the shared rules, the default pool and wait', () => {
    const c = cfg(['--meta', URL_]);
    assert.deepEqual(c.meta, { kind: 'postgres', url: URL_, poolSize: DEFAULT_META_POOL, startWaitMs: 30_000 });
    assert.equal(c.shared, true);
    assert.equal(cfg(['--meta', 'postgresql://u:p@h/d']).meta?.url, 'postgresql://u:p@h/d');
    assert.equal(cfg([], { STRATA_META: URL_ }).meta?.url, URL_);
    // A socket directory as the host parameter is a host too.
    assert.equal(cfg(['--meta', 'postgres:///strata?host=/run/postgresql']).meta?.kind, 'postgres');
  });
  it('--meta-pool and --meta-wait (and their environment twins)', () => {
    const c = cfg(['--meta', URL_, '--meta-pool', '4', '--meta-wait', '2.5']);
    assert.deepEqual([c.meta?.poolSize, c.meta?.startWaitMs], [4, 2500]);
    const e = cfg(['--meta', URL_], { STRATA_META_POOL: '7', STRATA_META_WAIT: '0' });
    assert.deepEqual([e.meta?.poolSize, e.meta?.startWaitMs], [7, 0]);
  });
  it('refuses a URL of another scheme, a bad URL, a URL without host, bad pool sizes and waits', () => {
    refused(['--meta', 'mysql://h/d'], {}, /postgres:\/\/ \(postgresql:\/\/\) URL, not a mysql URL/);
    refused(['--meta', 'not a url'], {}, /--meta must be sqlite or a PostgreSQL URL/);
    refused(['--meta', 'postgres:///d'], {}, /names no host/);
    for (const bad of ['0', '-1', '2.5', 'x', '201']) refused(['--meta', URL_, '--meta-pool', bad], {}, /--meta-pool must be a whole number .* from 1 to 200/);
    for (const bad of ['-1', 'x', '3601']) refused(['--meta', URL_, '--meta-wait', bad], {}, /--meta-wait must be a number of seconds/);
  });
  it('refuses --meta-pool or --meta-wait without PostgreSQL', () => {
    refused(['--meta-pool', '4'], {}, /--meta-pool goes with --meta postgres/);
    refused(['--meta-wait', '4'], {}, /--meta-wait goes with --meta postgres/);
  });
  it('refuses several drives with PostgreSQL, and an explicit --shared no', () => {
    refused(['--meta', URL_, '--data', '/a,/b'], {}, /works with one --data directory/);
    refused(['--meta', URL_, '--data', '/d{1...4}'], {}, /several drives with PostgreSQL are not supported/);
    refused(['--meta', URL_, '--shared', 'no'], {}, /--shared no contradicts --meta postgres/);
    refused(['--meta', URL_], { STRATA_SHARED: 'false' }, /--shared no contradicts/);
    assert.equal(cfg(['--meta', URL_, '--shared', 'yes']).shared, true);
  });
  it('never shows a password in a refusal; redactedUrl hides it', () => {
    assert.throws(
      () => cfg(['--meta', 'postgres://u:hunter2@h/d', '--data', '/a,/b']),
      (e: unknown) => e instanceof ConfigError && !e.message.includes('hunter2'),
    );
    assert.equal(redactedUrl('postgres://u:hunter2@h:5432/d'), 'postgres://u:***@h:5432/d');
    assert.equal(redactedUrl('postgres://h/d?user=u&password=hunter2'), 'postgres://h/d?user=u&password=***');
    assert.equal(redactedUrl('postgres://u@h/d'), 'postgres://u@h/d');
  });
  it('--help lists the flags with their environment twins', () => {
    const text = helpText();
    for (const f of ['--meta sqlite|URL', '--meta-pool N', '--meta-wait SECONDS', 'STRATA_META]', 'STRATA_META_POOL', 'STRATA_META_WAIT'])
      assert.ok(text.includes(f), f);
  });
});

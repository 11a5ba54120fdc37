// --etcd / STRATA_ETCD: the endpoint list is normalised, and a bad one stops the start with a clear message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from './config.js';

const parse = (argv: string[], env: Record<string, string> = {}) => {
  const r = parseConfig(argv, env);
  assert.equal(r.help, false);
  return r.help ? undefined : r.config;
};

describe('config --etcd', () => {
  it('config › --etcd absent → no etcd', () => {
    assert.equal(parse([])?.etcd, undefined);
  });
  it('config › --etcd list (scheme optional, duplicates once, IPv6) → http URLs in order', () => {
    assert.deepEqual(parse(['--etcd', 'http://127.0.0.1:2379, etcd-2.local:2379,http://127.0.0.1:2379/,[::1]:23790'])?.etcd, [
      'http://127.0.0.1:2379',
      'http://etcd-2.local:2379',
      'http://[::1]:23790',
    ]);
  });
  it('config › STRATA_ETCD → the same', () => {
    assert.deepEqual(parse([], { STRATA_ETCD: 'h1:1,h2:2' })?.etcd, ['http://h1:1', 'http://h2:2']);
  });
  it('config › bad --etcd → ConfigError naming the problem', () => {
    for (const [value, re] of [
      ['h1:1,,h2:2', /empty item/],
      ['https://h:2379', /TLS/],
      ['h', /expected http:\/\/HOST:PORT/],
      ['h:0', /expected/],
      ['h:70000', /expected/],
      ['ftp://h:1', /expected/],
      ['http://h:1/path', /expected/],
    ] as const)
      assert.throws(
        () => parse(['--etcd', value]),
        (err: unknown) => err instanceof ConfigError && re.test(err.message),
        value,
      );
  });
});

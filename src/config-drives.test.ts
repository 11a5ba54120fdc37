// parseConfig's drives: --data lists and MinIO's ellipses, --parity / --rrs-parity and their checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, defaultParity, defaultRrsParity, expandEllipses, parseConfig } from './config.js';
import { helpText } from './config-flags.js';

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

describe('--data: drives', () => {
  it('one directory: dataDirs holds it, dataDir is it, no parity', () => {
    const c = cfg(['--data', '/srv/strata']);
    assert.deepEqual(c.dataDirs, ['/srv/strata']);
    assert.equal(c.dataDir, '/srv/strata');
    assert.equal(c.parity, undefined);
    assert.deepEqual(cfg([]).dataDirs, ['./data']);
  });
  it('a comma-separated list, the flag repeated, or both, in the order given; dataDir is the first', () => {
    assert.deepEqual(cfg(['--data', '/a,/b, /c']).dataDirs, ['/a', '/b', '/c']);
    assert.deepEqual(cfg(['--data', '/a', '--data=/b', '--data', '/c,/d']).dataDirs, ['/a', '/b', '/c', '/d']);
    assert.equal(cfg(['--data', '/x,/y']).dataDir, '/x');
  });
  it('STRATA_DATA takes the same forms; a flag wins over it', () => {
    assert.deepEqual(cfg([], { STRATA_DATA: '/a,/b' }).dataDirs, ['/a', '/b']);
    assert.deepEqual(cfg([], { STRATA_DATA: '/mnt/disk{1...4}' }).dataDirs, ['/mnt/disk1', '/mnt/disk2', '/mnt/disk3', '/mnt/disk4']);
    assert.deepEqual(cfg(['--data', '/f'], { STRATA_DATA: '/a,/b' }).dataDirs, ['/f']);
  });
  it("MinIO's ellipses: a range, zero-padded ranges, several in one path (the first varies fastest)", () => {
    assert.deepEqual(expandEllipses('/mnt/disk{1...6}'), ['/mnt/disk1', '/mnt/disk2', '/mnt/disk3', '/mnt/disk4', '/mnt/disk5', '/mnt/disk6']);
    assert.deepEqual(expandEllipses('/d{01...03}'), ['/d01', '/d02', '/d03']);
    assert.deepEqual(expandEllipses('/d{8...010}'), ['/d008', '/d009', '/d010']);
    assert.deepEqual(expandEllipses('/d{9...10}'), ['/d9', '/d10']);
    assert.deepEqual(expandEllipses('/h{1...2}/e{1...2}'), ['/h1/e1', '/h2/e1', '/h1/e2', '/h2/e2']);
    assert.deepEqual(expandEllipses('/plain/path'), ['/plain/path']);
    assert.deepEqual(cfg(['--data', '/a{1...2},/b{3...4}']).dataDirs, ['/a1', '/a2', '/b3', '/b4']);
  });
  for (const [arg, why] of <[string, string][]>[
    ['/d{1..4}', 'two dots'],
    ['/d{4...1}', 'a backwards range'],
    ['/d{a...f}', 'letters'],
    ['/d1...4', 'an ellipsis without braces'],
    ['/d{{1...4}}', 'nested braces'],
    ['/d{-1...2}', 'a negative number'],
    ['/d{1...4', 'an unclosed brace'],
  ]) {
    it(`refuses ${why}: ${arg}`, () => refused(['--data', arg], {}, /ellips|\{N\.\.\.M\}/));
  }
  it('refuses the same drive twice, a drive inside another, an empty list item, more than 16 drives', () => {
    refused(['--data', '/a,/b,/a'], {}, /names the drive \/a twice/);
    refused(['--data', '/a,/b/../a'], {}, /twice/);
    refused(['--data', '/a,/a/sub'], {}, /\/a\/sub is inside the drive \/a/);
    refused(['--data', '/a,,/b'], {}, /empty path/);
    refused(['--data', '/d{1...17}'], {}, /17 drives; at most 16/);
    assert.equal(cfg(['--data', '/d{1...16}']).dataDirs.length, 16);
  });
});

describe('--parity / --rrs-parity', () => {
  it('defaults by drive count: 2–3 mirroring, 4–5 → 2, 6–7 → 3, 8–16 → 4; RRS min(2, m)', () => {
    assert.deepEqual([2, 3, 4, 5, 6, 7, 8, 12, 16].map(defaultParity), [1, 2, 2, 2, 3, 3, 4, 4, 4]);
    assert.deepEqual([1, 2, 3, 4].map(defaultRrsParity), [1, 2, 2, 2]);
  });
  it('given values are kept (flag or environment); absent they stay undefined (the format file decides)', () => {
    const c = cfg(['--data', '/d{1...6}', '--parity', '2', '--rrs-parity', '1']);
    assert.equal(c.parity, 2);
    assert.equal(c.rrsParity, 1);
    const e = cfg([], { STRATA_DATA: '/d{1...8}', STRATA_PARITY: '3', STRATA_RRS_PARITY: '2' });
    assert.equal(e.parity, 3);
    assert.equal(e.rrsParity, 2);
    assert.equal(cfg(['--data', '/d{1...6}']).parity, undefined);
    assert.equal(cfg(['--data', '/d{1...3}', '--parity', '2']).parity, 2); // mirroring on 3 drives
  });
  it('refuses parity that leaves fewer data shards than parity shards, 0, a fraction, or a single drive', () => {
    refused(['--data', '/d{1...6}', '--parity', '4'], {}, /--parity must be from 1 to 3, or 5 \(mirroring\) for 6 drives/);
    refused(['--data', '/d{1...6}', '--parity', '0'], {}, /from 1 to 3/);
    refused(['--data', '/d{1...6}', '--parity', '1.5'], {}, /from 1 to 3/);
    refused(['--data', '/d{1...6}', '--parity', 'two'], {}, /from 1 to 3/);
    refused(['--data', '/d{1...4}', '--parity', '4'], {}, /from 1 to 2, or 3 \(mirroring\) for 4 drives/);
    refused(['--data', '/one', '--parity', '1'], {}, /need several drives/);
    refused([], { STRATA_RRS_PARITY: '1' }, /need several drives/);
  });
  it('refuses RRS parity above STANDARD (given or default) or below 1', () => {
    refused(['--data', '/d{1...6}', '--parity', '2', '--rrs-parity', '3'], {}, /--rrs-parity must be from 1 to the STANDARD parity \(2/);
    refused(['--data', '/d{1...4}', '--rrs-parity', '3'], {}, /\(2 for 4 drives\)/);
    refused(['--data', '/d{1...4}', '--rrs-parity', '0'], {}, /--rrs-parity/);
  });
  it('--help lists the flags', () => {
    const text = helpText();
    assert.match(text, /--data DIR\[,DIR…\]/);
    assert.match(text, /--parity N/);
    assert.match(text, /--rrs-parity N/);
  });
});

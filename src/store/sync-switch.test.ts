// The test-only STRATA_TEST_SKIP_SYNC switch: honoured only together with NODE_ENV=test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syncSkipped } from './sync-switch.js';

describe('STRATA_TEST_SKIP_SYNC', () => {
  it('without NODE_ENV=test → ignored (production never skips a sync)', () => {
    for (const NODE_ENV of [undefined, 'production', 'development', '']) {
      const env = { STRATA_TEST_SKIP_SYNC: 'data,dir,shard,wal', NODE_ENV };
      for (const p of ['data', 'dir', 'shard', 'wal'] as const) assert.equal(syncSkipped(p, env), false, `${NODE_ENV} ${p}`);
    }
  });

  it('with NODE_ENV=test → only the named points are skipped', () => {
    const env = { STRATA_TEST_SKIP_SYNC: 'dir, wal', NODE_ENV: 'test' };
    assert.deepEqual(
      (['data', 'dir', 'shard', 'wal'] as const).filter((p) => syncSkipped(p, env)),
      ['dir', 'wal'],
    );
    assert.equal(syncSkipped('data', { NODE_ENV: 'test' }), false);
  });

  it('an unknown point with NODE_ENV=test → refused (a typo must not pass as a working test)', () => {
    assert.throws(() => syncSkipped('data', { STRATA_TEST_SKIP_SYNC: 'datta', NODE_ENV: 'test' }), /unknown sync point "datta"/);
  });
});

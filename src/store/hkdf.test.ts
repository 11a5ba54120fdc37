// hkdf32 gives crypto.hkdfSync's bytes (RFC 5869 HKDF-SHA256, 32 bytes) for any key, salt and info.
import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { hkdf32 } from './hkdf.js';

describe('hkdf32', () => {
  it('equals hkdfSync: random keys and salts, info as one string, in parts, with UTF-8 and bytes', () => {
    for (let i = 0; i < 50; i++) {
      const ikm = randomBytes(32);
      const salt = randomBytes(i % 3 === 0 ? 16 : 24);
      const want = Buffer.from(hkdfSync('sha256', ikm, salt, `strata sealed piece v1\0piece-${i}-é`, 32));
      assert.deepEqual(hkdf32(ikm, salt, `strata sealed piece v1\0piece-${i}-é`), want);
      assert.deepEqual(hkdf32(ikm, salt, 'strata sealed piece v1\0', Buffer.from(`piece-${i}-é`, 'utf8')), want);
    }
    assert.deepEqual(
      hkdf32(Buffer.alloc(32, 1), Buffer.alloc(16, 2), 'strata sse-c data key'),
      Buffer.from(hkdfSync('sha256', Buffer.alloc(32, 1), Buffer.alloc(16, 2), 'strata sse-c data key', 32)),
    );
  });
});

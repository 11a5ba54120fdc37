// SSE-C key handling of s3/sse.ts: what a new object stores of its customer's key (kdf 2: one
// HMAC-SHA512 for the key check and the data key) and that objects stored before (an HMAC-SHA256
// check and an HKDF data key) still open with their key and refuse another.
import assert from 'node:assert/strict';
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { StoredSse } from '../store/types.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';
import { readKey, writeEncryption } from './sse.js';

// The SSE-C paths read nothing of the request beyond what they are given.
const CTX = {} as RequestContext;
const customer = (key = randomBytes(32)) => ({ key, keyMd5: createHash('md5').update(key).digest('base64') });
const denied = (err: unknown) => err instanceof S3Error && err.code === 'AccessDenied';

describe('SSE-C keys', () => {
  it('a new object: kdf 2, its MAC and data key the two halves of HMAC-SHA512(key, label | salt); the same key opens it, another is AccessDenied', async () => {
    const c = customer();
    const w = (await writeEncryption(CTX, 'b', 'k', { mode: 'SSE-C', customer: c }))!;
    assert.equal(w.stored.kdf, 2);
    const salt = Buffer.from(w.stored.salt!, 'base64');
    assert.equal(salt.length, 16);
    const both = createHmac('sha512', c.key).update('strata sse-c keys v2\0').update(salt).digest();
    assert.deepEqual(w.key, both.subarray(0, 32));
    assert.equal(w.stored.mac, both.subarray(32).toString('base64'));
    assert.deepEqual(await readKey(CTX, 'b', 'k', w.stored, c), w.key);
    await assert.rejects(readKey(CTX, 'b', 'k', w.stored, customer()), denied);
    const again = (await writeEncryption(CTX, 'b', 'k', { mode: 'SSE-C', customer: c }))!;
    assert.notEqual(again.stored.salt, w.stored.salt, 'every object its own salt, so its own data key');
    assert.notDeepEqual(again.key, w.key);
  });

  it('an object stored before kdf 2 (HMAC-SHA256 check, HKDF-SHA256 data key) opens with its key; another is AccessDenied', async () => {
    const c = customer();
    const salt = randomBytes(16);
    const stored: StoredSse = {
      mode: 'SSE-C',
      keyMd5: c.keyMd5,
      salt: salt.toString('base64'),
      mac: createHmac('sha256', c.key).update('strata sse-c key check').update(salt).digest('base64'),
    };
    assert.deepEqual(await readKey(CTX, 'b', 'k', stored, c), Buffer.from(hkdfSync('sha256', c.key, salt, 'strata sse-c data key', 32)));
    await assert.rejects(readKey(CTX, 'b', 'k', stored, customer()), denied);
  });
});

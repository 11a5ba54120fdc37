// The error table and docs/errors.md list the same codes with the same statuses.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { StoreError } from '../store/errors.js';
import { ERROR_CODES, S3Error, toS3Error } from './errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('error table', () => {
  it('docs/errors.md lists exactly the codes of ERROR_CODES with their statuses', () => {
    const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
    const rows = new Map<string, number>();
    for (const m of doc.matchAll(/^\|\s*`([\w.]+)`\s*\|\s*(\d{3})\s*\|/gm)) rows.set(m[1]!, Number(m[2]));
    const table = new Map(Object.entries(ERROR_CODES).map(([c, v]) => [c, v.status as number]));
    assert.deepEqual([...rows.keys()].sort(), [...table.keys()].sort());
    for (const [c, s] of table) assert.equal(rows.get(c), s, c);
  });
  it('S3Error takes its status from the table', () => {
    assert.equal(new S3Error('NoSuchKey').status, 404);
    assert.equal(new S3Error('InvalidRange').status, 416);
  });
  it('store errors map to S3 errors with the bucket/key fields', () => {
    const e = toS3Error(new StoreError('NoSuchBucket'), { bucket: 'b' });
    assert.equal(e?.code, 'NoSuchBucket');
    assert.equal(e?.fields.BucketName, 'b');
    assert.equal(toS3Error(new StoreError('BucketNotEmpty'), { bucket: 'b' })?.status, 409);
    assert.equal(toS3Error(new Error('x')), undefined);
  });
});

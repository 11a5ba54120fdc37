// getBucketWithConfigs: a bucket and the named configuration documents it has, in one statement
// (what the pipeline reads for every principal but root: s3/bucket-access.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryMetaStore } from './memory.js';

describe('getBucketWithConfigs', () => {
  it('the bucket, and only the named documents it has; no bucket → undefined; any number of names', async () => {
    const m = memoryMetaStore();
    await m.createBucket({ name: 'b1', region: 'us-east-1', createdAt: 5, versioning: 'Enabled', owner: 'UA', objectLock: true });
    await m.createBucket({ name: 'b2', region: 'us-east-1', createdAt: 6, versioning: '', owner: 'root', objectLock: false });
    await m.putBucketConfig('b1', 'policy', '{"p":1}');
    await m.putBucketConfig('b1', 'acl', '{"a":1}');
    await m.putBucketConfig('b1', 'cors', '{"c":1}');
    await m.putBucketConfig('b2', 'policy', '{"other":1}');
    const names = ['policy', 'public-access-block', 'ownership-controls', 'acl'];
    const found = m.getBucketWithConfigs('b1', names);
    assert.deepEqual(found?.bucket, m.getBucket('b1'));
    assert.deepEqual(
      [...(found?.configs ?? [])],
      [
        ['policy', '{"p":1}'],
        ['acl', '{"a":1}'],
      ],
    );
    assert.deepEqual([...(m.getBucketWithConfigs('b1', ['cors'])?.configs ?? [])], [['cors', '{"c":1}']]);
    assert.deepEqual([...(m.getBucketWithConfigs('b2', names)?.configs ?? [])], [['policy', '{"other":1}']]);
    assert.equal(m.getBucketWithConfigs('b2', [])?.configs.size, 0);
    assert.equal(m.getBucketWithConfigs('nope', names), undefined);
    await m.putBucketConfig('b1', 'policy', undefined);
    assert.equal(m.getBucketWithConfigs('b1', names)?.configs.has('policy'), false);
    m.close();
  });
});

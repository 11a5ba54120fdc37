// Unit tests of sse-multipart.ts: the encryption headers each multipart step answers with.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multipartSseHeaders } from './sse-multipart.js';

const KMS = { mode: 'aws:kms' as const, keyId: 'k1', dataKey: 'AA==', context: 'e30=', bucketKey: true };
const SSE_C = { mode: 'SSE-C' as const, keyMd5: 'md5==', salt: 'c2FsdA==', mac: 'bWFj' };

describe('multipartSseHeaders', () => {
  it('a clear upload: none, at every step', () => {
    assert.deepEqual(multipartSseHeaders(undefined, 'us-east-1', 'part'), {});
    assert.deepEqual(multipartSseHeaders(undefined, 'us-east-1', 'complete'), {});
  });

  it('SSE-KMS: the algorithm, the key ARN and bucket key on parts and completion, never the context', () => {
    const want = {
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:eu-west-1:000000000000:key/k1',
      'x-amz-server-side-encryption-bucket-key-enabled': 'true',
    };
    assert.deepEqual(multipartSseHeaders(KMS, 'eu-west-1', 'part'), want);
    assert.deepEqual(multipartSseHeaders(KMS, 'eu-west-1', 'complete'), want);
  });

  it('SSE-S3: the algorithm only', () => {
    assert.deepEqual(multipartSseHeaders({ mode: 'AES256', keyId: 'k', dataKey: 'AA==' }, 'us-east-1', 'part'), {
      'x-amz-server-side-encryption': 'AES256',
    });
  });

  it('SSE-C: the algorithm and key MD5 on parts; nothing on completion (AWS documents none there)', () => {
    assert.deepEqual(multipartSseHeaders(SSE_C, 'us-east-1', 'part'), {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key-md5': 'md5==',
    });
    assert.deepEqual(multipartSseHeaders(SSE_C, 'us-east-1', 'complete'), {});
  });
});

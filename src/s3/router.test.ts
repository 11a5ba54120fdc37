// Router table: request shapes from the AWS API reference → operation names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveOperation } from './router.js';

type Row = [method: string, bucket: string | undefined, key: string | undefined, query: string, headers: Record<string, string>, expected: string];

const q = (s: string) =>
  new Map(
    s === ''
      ? []
      : (s.split('&').map((p) => {
          const i = p.indexOf('=');
          return i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
        }) as [string, string][]),
  );

const TABLE: Row[] = [
  ['GET', undefined, undefined, '', {}, 'ListBuckets'],
  ['GET', undefined, undefined, 'x-id=ListBuckets', {}, 'ListBuckets'],
  ['PUT', undefined, undefined, '', {}, 'MethodNotAllowed'],
  ['PUT', 'b', undefined, '', {}, 'CreateBucket'],
  ['HEAD', 'b', undefined, '', {}, 'HeadBucket'],
  ['DELETE', 'b', undefined, '', {}, 'DeleteBucket'],
  ['GET', 'b', undefined, '', {}, 'ListObjects'],
  ['GET', 'b', undefined, 'list-type=2&prefix=a&x-id=ListObjectsV2', {}, 'ListObjectsV2'],
  ['GET', 'b', undefined, 'versions', {}, 'ListObjectVersions'],
  ['GET', 'b', undefined, 'uploads', {}, 'ListMultipartUploads'],
  ['GET', 'b', undefined, 'location', {}, 'GetBucketLocation'],
  ['PUT', 'b', undefined, 'location', {}, 'MethodNotAllowed'],
  ['GET', 'b', undefined, 'versioning', {}, 'GetBucketVersioning'],
  ['PUT', 'b', undefined, 'versioning', {}, 'PutBucketVersioning'],
  ['GET', 'b', undefined, 'cors', {}, 'GetBucketCors'],
  ['PUT', 'b', undefined, 'tagging', {}, 'PutBucketTagging'],
  ['DELETE', 'b', undefined, 'policy', {}, 'DeleteBucketPolicy'],
  ['GET', 'b', undefined, 'lifecycle', {}, 'GetBucketLifecycleConfiguration'],
  ['DELETE', 'b', undefined, 'lifecycle', {}, 'DeleteBucketLifecycle'],
  ['GET', 'b', undefined, 'logging', {}, 'GetBucketLogging'],
  ['PUT', 'b', undefined, 'logging', {}, 'PutBucketLogging'],
  ['GET', 'b', undefined, 'notification', {}, 'GetBucketNotificationConfiguration'],
  ['GET', 'b', undefined, 'requestPayment', {}, 'GetBucketRequestPayment'],
  ['GET', 'b', undefined, 'accelerate', {}, 'GetBucketAccelerateConfiguration'],
  ['GET', 'b', undefined, 'website', {}, 'GetBucketWebsite'],
  ['DELETE', 'b', undefined, 'website', {}, 'DeleteBucketWebsite'],
  ['GET', 'b', undefined, 'replication', {}, 'GetBucketReplication'],
  ['GET', 'b', undefined, 'analytics', {}, 'ListBucketAnalyticsConfigurations'],
  ['GET', 'b', undefined, 'analytics&x-id=ListBucketAnalyticsConfigurations&continuation-token=t', {}, 'ListBucketAnalyticsConfigurations'],
  ['GET', 'b', undefined, 'analytics&id=a1', {}, 'GetBucketAnalyticsConfiguration'],
  ['PUT', 'b', undefined, 'analytics&id=a1', {}, 'PutBucketAnalyticsConfiguration'],
  ['DELETE', 'b', undefined, 'analytics&id=a1', {}, 'DeleteBucketAnalyticsConfiguration'],
  ['GET', 'b', undefined, 'metrics', {}, 'ListBucketMetricsConfigurations'],
  ['GET', 'b', undefined, 'metrics&id=m1', {}, 'GetBucketMetricsConfiguration'],
  ['GET', 'b', undefined, 'inventory', {}, 'ListBucketInventoryConfigurations'],
  ['GET', 'b', undefined, 'inventory&id=i1', {}, 'GetBucketInventoryConfiguration'],
  ['GET', 'b', undefined, 'intelligent-tiering', {}, 'ListBucketIntelligentTieringConfigurations'],
  ['GET', 'b', undefined, 'intelligent-tiering&id=t1', {}, 'GetBucketIntelligentTieringConfiguration'],
  ['PUT', 'b', undefined, 'intelligent-tiering&id=t1', {}, 'PutBucketIntelligentTieringConfiguration'],
  ['POST', 'b', undefined, 'delete', {}, 'DeleteObjects'],
  ['POST', 'b', undefined, 'delete&x-id=DeleteObjects', {}, 'DeleteObjects'],
  ['POST', 'b', undefined, '', {}, 'PostObject'],
  ['OPTIONS', 'b', 'k', '', {}, 'PreflightRequest'],
  ['PUT', 'b', 'k', '', {}, 'PutObject'],
  ['PUT', 'b', 'k', 'x-id=PutObject', {}, 'PutObject'],
  ['PUT', 'b', 'k', '', { 'x-amz-copy-source': '/s/k' }, 'CopyObject'],
  ['GET', 'b', 'k', '', {}, 'GetObject'],
  ['GET', 'b', 'k', 'response-content-type=x&partNumber=2', {}, 'GetObject'],
  ['HEAD', 'b', 'k', '', {}, 'HeadObject'],
  ['DELETE', 'b', 'k', '', {}, 'DeleteObject'],
  ['DELETE', 'b', 'k', 'versionId=null', {}, 'DeleteObject'],
  ['DELETE', 'b', 'k', 'tagging', {}, 'DeleteObjectTagging'],
  ['GET', 'b', 'k', 'tagging', {}, 'GetObjectTagging'],
  ['PUT', 'b', 'k', 'acl', {}, 'PutObjectAcl'],
  ['GET', 'b', 'k', 'attributes', {}, 'GetObjectAttributes'],
  ['GET', 'b', 'k', 'torrent', {}, 'GetObjectTorrent'],
  ['POST', 'b', 'k', 'restore', {}, 'RestoreObject'],
  ['POST', 'b', 'k', 'uploads', {}, 'CreateMultipartUpload'],
  ['PUT', 'b', 'k', 'partNumber=1&uploadId=u', {}, 'UploadPart'],
  ['PUT', 'b', 'k', 'partNumber=1&uploadId=u', { 'x-amz-copy-source': 'b/k' }, 'UploadPartCopy'],
  ['POST', 'b', 'k', 'uploadId=u', {}, 'CompleteMultipartUpload'],
  ['DELETE', 'b', 'k', 'uploadId=u', {}, 'AbortMultipartUpload'],
  ['GET', 'b', 'k', 'uploadId=u', {}, 'ListParts'],
  ['POST', 'b', 'k', '', {}, 'MethodNotAllowed'],
  ['PATCH', 'b', 'k', '', {}, 'MethodNotAllowed'],
];

describe('resolveOperation', () => {
  for (const [method, bucket, key, query, headers, expected] of TABLE) {
    it(`${method} /${bucket ?? ''}${key ? '/' + key : ''}${query ? '?' + query : ''} → ${expected}`, () => {
      const r = resolveOperation(method, bucket, key, q(query), headers);
      assert.equal(r.op, expected);
      assert.equal(r.bucket, bucket);
      assert.equal(r.key, key);
    });
  }
});

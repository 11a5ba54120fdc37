// Object lock over HTTP (issue 11): CreateBucket with object lock, Put/GetObjectLockConfiguration
// (default retention), the x-amz-object-lock-* headers on PUT, copy, multipart and POST forms,
// Put/GetObjectRetention and Put/GetObjectLegalHold with their errors, GET/HEAD headers — with
// aws-sdk-js and raw requests for what SDKs do not send. Refusals of deletes and overwrites:
// object-lock-refusals.test.ts; boto3 and the AWS CLI: object-lock-clients.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ObjectLockConfiguration,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  PutBucketVersioningCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { newBucketName } from '../helpers/clients.js';
import { crcBase64 } from '../helpers/crc.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';
import { assertS3Error, buildRequest, encodeKey, rawExchange, signRequest, type RawResponse } from '../hardening/raw-http.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const md5 = (b: string | Buffer): string => createHash('md5').update(b).digest('base64');
/** A date `ms` from now in whole seconds (how some clients write a date header). */
const fromNow = (ms: number): Date => new Date(Math.floor((Date.now() + ms) / 1000) * 1000);

describe('Object lock', { timeout: 300_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const locked = newBucketName('lock');
  const plain = newBucketName('nolock');

  /** A signed raw request (headers as given: no checksum unless the test adds one). */
  const raw = async (method: string, path: string, query: Record<string, string>, body = '', headers: Record<string, string> = {}): Promise<RawResponse> => {
    const s = await signRequest({ method, port: server.port, path, query, body, headers });
    return rawExchange(server.port, buildRequest({ method, target: s.target, headers: s.headers, body }));
  };
  /** The versions of a key, newest first (ListObjectVersions). */
  const versionsOf = async (bucket: string, key: string) =>
    ((await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }))).Versions ?? []).filter((v) => v.Key === key);
  const head = (bucket: string, key: string, versionId?: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  const lockConfig = (bucket: string, conf: ObjectLockConfiguration) =>
    s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: conf }));

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: locked, ObjectLockEnabledForBucket: true }));
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  describe('bucket configuration', () => {
    it('CreateBucket › x-amz-bucket-object-lock-enabled: true → versioning Enabled, ObjectLockEnabled without a rule', async () => {
      assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: locked }))).Status, 'Enabled');
      const conf = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: locked }));
      assert.deepEqual(conf.ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
    });

    it('GetObjectLockConfiguration › bucket without object lock → 404 ObjectLockConfigurationNotFoundError', async () => {
      const e = await errorOf(s3.send(new GetObjectLockConfigurationCommand({ Bucket: plain })));
      assert.equal(e.name, 'ObjectLockConfigurationNotFoundError');
      assert.equal(e.$metadata.httpStatusCode, 404);
      assert.equal(e.message, 'Object Lock configuration does not exist for this bucket');
    });

    it('PutObjectLockConfiguration › Days, then Years, then no Rule → GetObjectLockConfiguration answers each', async () => {
      const bucket = newBucketName('lockconf');
      await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
      const days: ObjectLockConfiguration = { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } };
      await lockConfig(bucket, days);
      assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration, days);
      const years: ObjectLockConfiguration = { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 2 } } };
      await lockConfig(bucket, years);
      assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration, years);
      await lockConfig(bucket, { ObjectLockEnabled: 'Enabled' });
      assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
    });

    it('PutObjectLockConfiguration › bucket whose versioning is not Enabled → 409 InvalidBucketState, object lock stays off', async () => {
      const e = await errorOf(lockConfig(plain, { ObjectLockEnabled: 'Enabled' }));
      assert.equal(e.name, 'InvalidBucketState');
      assert.equal(e.$metadata.httpStatusCode, 409);
      assert.equal(e.message, "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
      assert.equal((await errorOf(s3.send(new GetObjectLockConfigurationCommand({ Bucket: plain })))).name, 'ObjectLockConfigurationNotFoundError');
    });

    it('PutObjectLockConfiguration › bucket whose versioning is Enabled → object lock on; then PutBucketVersioning Suspended → 409 InvalidBucketState', async () => {
      const bucket = newBucketName('locklater');
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      const conf: ObjectLockConfiguration = { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2 } } };
      await lockConfig(bucket, conf);
      assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration, conf);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
      assert.equal((await head(bucket, 'k')).ObjectLockMode, 'GOVERNANCE', 'the default retention applies from now on');
      const e = await errorOf(s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } })));
      assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['InvalidBucketState', 409]);
    });

    const bad: Array<[string, ObjectLockConfiguration, string, string?]> = [
      ['Days and Years', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1, Years: 1 } } }, 'MalformedXML'],
      ['neither Days nor Years', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE' } } }, 'MalformedXML'],
      ['no Mode', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Days: 1 } } }, 'MalformedXML'],
      ['mode in lower case', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'governance' as 'GOVERNANCE', Days: 1 } } }, 'MalformedXML'],
      ['ObjectLockEnabled Disabled', { ObjectLockEnabled: 'Disabled' as 'Enabled' }, 'MalformedXML'],
      ['Rule without DefaultRetention', { ObjectLockEnabled: 'Enabled', Rule: {} }, 'MalformedXML'],
      [
        'Days 0',
        { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 0 } } },
        'InvalidArgument',
        'Default retention period must be a positive integer value.',
      ],
      [
        'Years -1',
        { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: -1 } } },
        'InvalidArgument',
        'Default retention period must be a positive integer value.',
      ],
      ['Years 101', { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 101 } } }, 'InvalidArgument'],
    ];
    for (const [what, conf, code, message] of bad) {
      it(`PutObjectLockConfiguration › ${what} → 400 ${code}, configuration unchanged`, async () => {
        const e = await errorOf(lockConfig(locked, conf));
        assert.equal(e.name, code);
        assert.equal(e.$metadata.httpStatusCode, 400);
        if (message !== undefined) assert.equal(e.message, message);
        assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: locked }))).ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
      });
    }

    it('PutObjectLockConfiguration (raw) › no Content-MD5 nor x-amz-checksum-* → 400 InvalidRequest; with Content-MD5 → 200', async () => {
      const body =
        '<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>';
      const bare = await raw('PUT', `/${locked}`, { 'object-lock': '' }, body);
      const err = assertS3Error(bare, 'PutObjectLockConfiguration without integrity header');
      assert.deepEqual(
        [bare.status, err.code, err.message],
        [400, 'InvalidRequest', 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*'],
      );
      const ok = await raw('PUT', `/${locked}`, { 'object-lock': '' }, body, { 'content-md5': md5(body) });
      assert.equal(ok.status, 200, ok.body.toString());
    });
  });

  describe('x-amz-object-lock-* on writes', () => {
    it('PutObject › mode, date and legal hold ON → HEAD and GET answer them, GetObjectRetention / GetObjectLegalHold too', async () => {
      const until = new Date(Date.UTC(2031, 0, 2, 3, 4, 5, 678));
      await s3.send(
        new PutObjectCommand({
          Bucket: locked,
          Key: 'hdr',
          Body: 'x',
          ObjectLockMode: 'GOVERNANCE',
          ObjectLockRetainUntilDate: until,
          ObjectLockLegalHoldStatus: 'ON',
        }),
      );
      for (const r of [await head(locked, 'hdr'), await s3.send(new GetObjectCommand({ Bucket: locked, Key: 'hdr' }))]) {
        assert.deepEqual(
          [r.ObjectLockMode, r.ObjectLockRetainUntilDate?.toISOString(), r.ObjectLockLegalHoldStatus],
          ['GOVERNANCE', until.toISOString(), 'ON'],
        );
      }
      const rawHead = await raw('HEAD', `/${locked}/hdr`, {});
      assert.equal(rawHead.headers['x-amz-object-lock-retain-until-date'], '2031-01-02T03:04:05.678Z', 'ISO 8601 with milliseconds, as S3 writes it');
      const ret = await s3.send(new GetObjectRetentionCommand({ Bucket: locked, Key: 'hdr', VersionId: (await versionsOf(locked, 'hdr'))[0]?.VersionId }));
      assert.deepEqual([ret.Retention?.Mode, ret.Retention?.RetainUntilDate?.toISOString()], ['GOVERNANCE', until.toISOString()]);
      assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket: locked, Key: 'hdr' }))).LegalHold?.Status, 'ON');
    });

    it('PutObject › an object without lock → HEAD carries no x-amz-object-lock-* headers', async () => {
      await s3.send(new PutObjectCommand({ Bucket: locked, Key: 'none', Body: 'x' }));
      const r = await raw('HEAD', `/${locked}/none`, {});
      assert.equal(r.status, 200);
      assert.deepEqual(
        Object.keys(r.headers).filter((h) => h.startsWith('x-amz-object-lock')),
        [],
      );
    });

    const badHeaders: Array<[string, Record<string, string>, string, string]> = [
      [
        'unknown mode',
        { 'x-amz-object-lock-mode': 'governance', 'x-amz-object-lock-retain-until-date': '2031-01-01T00:00:00Z' },
        'InvalidArgument',
        'Unknown wormMode directive.',
      ],
      [
        'date not ISO 8601',
        { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': '01/01/2031' },
        'InvalidArgument',
        'The retain until date must be provided in ISO 8601 format',
      ],
      [
        'date in the past',
        { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': '2020-01-01T00:00:00Z' },
        'InvalidArgument',
        'The retain until date must be in the future!',
      ],
      [
        'mode without date',
        { 'x-amz-object-lock-mode': 'GOVERNANCE' },
        'InvalidArgument',
        'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
      ],
      [
        'date without mode',
        { 'x-amz-object-lock-retain-until-date': '2031-01-01T00:00:00Z' },
        'InvalidArgument',
        'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
      ],
      ['legal hold "on"', { 'x-amz-object-lock-legal-hold': 'on' }, 'InvalidArgument', "Legal Hold must be either of 'ON' or 'OFF'"],
    ];
    for (const [what, headers, code, message] of badHeaders) {
      it(`PutObject (raw) › ${what} → 400 ${code} "${message}", nothing stored`, async () => {
        const key = `bad-${what.replace(/\W+/g, '-')}`;
        const r = await raw('PUT', `/${locked}/${encodeKey(key)}`, {}, 'x', { ...headers, 'content-md5': md5('x') });
        const err = assertS3Error(r, what);
        assert.deepEqual([r.status, err.code, err.message], [400, code, message]);
        assert.equal((await errorOf(head(locked, key))).$metadata.httpStatusCode, 404);
      });
    }

    it('PutObject › lock headers on a bucket without object lock → 400 InvalidRequest "Bucket is missing Object Lock Configuration"', async () => {
      const e = await errorOf(
        s3.send(
          new PutObjectCommand({ Bucket: plain, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(Date.now() + HOUR) }),
        ),
      );
      assert.deepEqual([e.name, e.$metadata.httpStatusCode, e.message], ['InvalidRequest', 400, 'Bucket is missing Object Lock Configuration']);
      const hold = await errorOf(s3.send(new PutObjectCommand({ Bucket: plain, Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'OFF' })));
      assert.equal(hold.name, 'InvalidRequest');
    });

    it('PutObject (raw) › lock headers without Content-MD5 or checksum → 400 InvalidRequest; with an x-amz-checksum-crc32 → 200', async () => {
      const h = { 'x-amz-object-lock-legal-hold': 'ON' };
      const bare = await raw('PUT', `/${locked}/integrity`, {}, 'x', h);
      const err = assertS3Error(bare, 'PUT with lock headers, no checksum');
      assert.deepEqual(
        [bare.status, err.code, err.message],
        [400, 'InvalidRequest', 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters'],
      );
      const crc = await raw('PUT', `/${locked}/integrity`, {}, 'x', { ...h, 'x-amz-checksum-crc32': crcBase64('crc32', Buffer.from('x')) });
      assert.equal(crc.status, 200, crc.body.toString());
      assert.equal((await head(locked, 'integrity')).ObjectLockLegalHoldStatus, 'ON');
    });

    it('PutObject › default retention (GOVERNANCE 1 day) → applied when the write names none; explicit headers win; legal hold alone keeps the default', async () => {
      const bucket = newBucketName('lockdef');
      await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
      await lockConfig(bucket, { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } });
      const t0 = Date.now();
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'd', Body: 'x' }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'h', Body: 'x', ObjectLockLegalHoldStatus: 'OFF' }));
      const t1 = Date.now();
      for (const key of ['d', 'h']) {
        const r = await head(bucket, key);
        assert.equal(r.ObjectLockMode, 'GOVERNANCE', key);
        const until = r.ObjectLockRetainUntilDate!.getTime();
        assert.ok(until >= t0 + DAY && until <= t1 + DAY, `${key}: retain until ${r.ObjectLockRetainUntilDate?.toISOString()} is one day after the write`);
      }
      assert.equal((await head(bucket, 'h')).ObjectLockLegalHoldStatus, 'OFF');
      const explicit = fromNow(2 * HOUR);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'e', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: explicit }));
      const e = await head(bucket, 'e');
      assert.deepEqual([e.ObjectLockMode, e.ObjectLockRetainUntilDate?.getTime()], ['COMPLIANCE', explicit.getTime()]);
      // A write the default retention applies to needs an integrity header too (S3's rule).
      const bare = await raw('PUT', `/${bucket}/nochecksum`, {}, 'x');
      assert.equal(assertS3Error(bare, 'default retention, no checksum').code, 'InvalidRequest');
      const plainWrite = await raw('PUT', `/${locked}/nochecksum`, {}, 'x');
      assert.equal(plainWrite.status, 200, 'a lock bucket without default retention takes a write without checksum');
    });

    it('PutObject › a stream body with lock headers (aws-sdk-js: checksum in an aws-chunked trailer, x-amz-trailer) → accepted and locked', async () => {
      await s3.send(
        new PutObjectCommand({
          Bucket: locked,
          Key: 'streamed',
          Body: Readable.from([Buffer.from('streamed bytes')]),
          ContentLength: 14,
          ObjectLockLegalHoldStatus: 'ON',
        }),
      );
      const r = await s3.send(new GetObjectCommand({ Bucket: locked, Key: 'streamed' }));
      assert.deepEqual([await r.Body?.transformToString(), r.ObjectLockLegalHoldStatus], ['streamed bytes', 'ON']);
    });

    it('CopyObject › lock headers → the copy is locked; the source lock is not copied', async () => {
      const until = fromNow(HOUR);
      await s3.send(new PutObjectCommand({ Bucket: locked, Key: 'src', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }));
      await s3.send(
        new CopyObjectCommand({ Bucket: locked, Key: 'copy', CopySource: `${locked}/src`, ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }),
      );
      const c = await head(locked, 'copy');
      assert.deepEqual([c.ObjectLockMode, c.ObjectLockRetainUntilDate?.getTime(), c.ObjectLockLegalHoldStatus], ['GOVERNANCE', until.getTime(), undefined]);
      await s3.send(new CopyObjectCommand({ Bucket: locked, Key: 'copy2', CopySource: `${locked}/src` }));
      const c2 = await head(locked, 'copy2');
      assert.deepEqual([c2.ObjectLockMode, c2.ObjectLockLegalHoldStatus], [undefined, undefined]);
      const e = await errorOf(s3.send(new CopyObjectCommand({ Bucket: plain, Key: 'copy', CopySource: `${locked}/src`, ObjectLockLegalHoldStatus: 'ON' })));
      assert.equal(e.name, 'InvalidRequest');
    });

    it('CreateMultipartUpload › lock headers → the completed object carries them; UploadPart (raw) without checksum → 400 InvalidRequest "Put Part"', async () => {
      const until = fromNow(HOUR);
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: locked,
          Key: 'mp',
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: until,
          ObjectLockLegalHoldStatus: 'ON',
        }),
      );
      const bare = await raw('PUT', `/${locked}/mp`, { partNumber: '1', uploadId: UploadId! }, 'part');
      const err = assertS3Error(bare, 'UploadPart without checksum');
      assert.deepEqual(
        [err.code, err.message],
        ['InvalidRequest', 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters'],
      );
      const part = await s3.send(new UploadPartCommand({ Bucket: locked, Key: 'mp', UploadId, PartNumber: 1, Body: 'part' }));
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: locked,
          Key: 'mp',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 }] },
        }),
      );
      const r = await head(locked, 'mp');
      assert.deepEqual([r.ObjectLockMode, r.ObjectLockRetainUntilDate?.getTime(), r.ObjectLockLegalHoldStatus], ['COMPLIANCE', until.getTime(), 'ON']);
    });
  });

  describe('Put/GetObjectRetention, Put/GetObjectLegalHold', () => {
    it('GetObjectRetention / GetObjectLegalHold › version without them → 404 NoSuchObjectLockConfiguration; OFF once lifted', async () => {
      await s3.send(new PutObjectCommand({ Bucket: locked, Key: 'bare', Body: 'x' }));
      for (const call of [
        () => s3.send(new GetObjectRetentionCommand({ Bucket: locked, Key: 'bare' })),
        () => s3.send(new GetObjectLegalHoldCommand({ Bucket: locked, Key: 'bare' })),
      ]) {
        const e = await errorOf(call());
        assert.deepEqual(
          [e.name, e.$metadata.httpStatusCode, e.message],
          ['NoSuchObjectLockConfiguration', 404, 'The specified object does not have a ObjectLock configuration'],
        );
      }
      await s3.send(new PutObjectLegalHoldCommand({ Bucket: locked, Key: 'bare', LegalHold: { Status: 'ON' } }));
      assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket: locked, Key: 'bare' }))).LegalHold?.Status, 'ON');
      await s3.send(new PutObjectLegalHoldCommand({ Bucket: locked, Key: 'bare', LegalHold: { Status: 'OFF' } }));
      assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket: locked, Key: 'bare' }))).LegalHold?.Status, 'OFF');
      assert.equal((await head(locked, 'bare')).ObjectLockLegalHoldStatus, 'OFF');
    });

    it('PutObjectRetention › versionId → only that version changes; the latest keeps none', async () => {
      await s3.send(new PutObjectCommand({ Bucket: locked, Key: 'vers', Body: '1' }));
      await s3.send(new PutObjectCommand({ Bucket: locked, Key: 'vers', Body: '2' }));
      const [v2, v1] = await versionsOf(locked, 'vers');
      assert.ok(v1 && v2 && v1.VersionId !== v2.VersionId, 'two versions');
      const until = fromNow(HOUR);
      await s3.send(
        new PutObjectRetentionCommand({ Bucket: locked, Key: 'vers', VersionId: v1.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until } }),
      );
      const r1 = await s3.send(new GetObjectRetentionCommand({ Bucket: locked, Key: 'vers', VersionId: v1.VersionId }));
      assert.equal(r1.Retention?.RetainUntilDate?.getTime(), until.getTime());
      assert.equal((await errorOf(s3.send(new GetObjectRetentionCommand({ Bucket: locked, Key: 'vers' })))).name, 'NoSuchObjectLockConfiguration');
      assert.equal((await head(locked, 'vers', v1.VersionId)).ObjectLockMode, 'GOVERNANCE');
      assert.equal((await head(locked, 'vers')).ObjectLockMode, undefined);
    });

    it('PutObjectRetention › GOVERNANCE: extended freely; shortened, removed or made COMPLIANCE only with the bypass (403 AccessDenied without)', async () => {
      await s3.send(new PutObjectCommand({ Bucket: locked, Key: 'gov', Body: 'x' }));
      const set = (Mode: 'GOVERNANCE' | 'COMPLIANCE' | undefined, RetainUntilDate: Date | undefined, bypass?: boolean) =>
        s3.send(new PutObjectRetentionCommand({ Bucket: locked, Key: 'gov', Retention: { Mode, RetainUntilDate }, BypassGovernanceRetention: bypass }));
      const current = async () => (await s3.send(new GetObjectRetentionCommand({ Bucket: locked, Key: 'gov' }))).Retention;
      const denied = async (p: Promise<unknown>, what: string) => {
        const e = await errorOf(p);
        assert.deepEqual(
          [e.name, e.$metadata.httpStatusCode, e.message],
          ['AccessDenied', 403, 'Access Denied because object protected by object lock.'],
          what,
        );
      };
      const two = fromNow(2 * HOUR);
      await set('GOVERNANCE', fromNow(HOUR));
      await set('GOVERNANCE', two);
      assert.equal((await current())?.RetainUntilDate?.getTime(), two.getTime(), 'extended');
      await denied(set('GOVERNANCE', fromNow(HOUR)), 'shortened without bypass');
      await denied(set('COMPLIANCE', two), 'made COMPLIANCE without bypass');
      await denied(set(undefined, undefined), 'removed without bypass');
      assert.equal((await current())?.RetainUntilDate?.getTime(), two.getTime(), 'unchanged after the refusals');
      const one = fromNow(HOUR);
      await set('GOVERNANCE', one, true);
      assert.equal((await current())?.RetainUntilDate?.getTime(), one.getTime(), 'shortened with bypass');
      await set(undefined, undefined, true);
      assert.equal((await errorOf(current())).name, 'NoSuchObjectLockConfiguration', 'removed with bypass');
    });

    it('PutObjectRetention › COMPLIANCE: only extended; shortened, weakened or removed → 403 even with the bypass', async () => {
      await s3.send(new PutObjectCommand({ Bucket: locked, Key: 'comp', Body: 'x' }));
      const set = (Mode: 'GOVERNANCE' | 'COMPLIANCE' | undefined, ms: number | undefined) =>
        s3.send(
          new PutObjectRetentionCommand({
            Bucket: locked,
            Key: 'comp',
            Retention: { Mode, RetainUntilDate: ms === undefined ? undefined : fromNow(ms) },
            BypassGovernanceRetention: true,
          }),
        );
      await set('COMPLIANCE', HOUR);
      await set('COMPLIANCE', 2 * HOUR);
      for (const [what, call] of [
        ['shortened', () => set('COMPLIANCE', HOUR)],
        ['made GOVERNANCE', () => set('GOVERNANCE', 3 * HOUR)],
        ['removed', () => set(undefined, undefined)],
      ] as const) {
        const e = await errorOf(call());
        assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['AccessDenied', 403], what);
      }
      assert.equal((await s3.send(new GetObjectRetentionCommand({ Bucket: locked, Key: 'comp' }))).Retention?.Mode, 'COMPLIANCE');
    });

    it('PutObjectRetention › bad bodies: unknown mode, one of Mode/Date → MalformedXML; a past date → InvalidArgument', async () => {
      await s3.send(new PutObjectCommand({ Bucket: locked, Key: 'badret', Body: 'x' }));
      const put = (inner: string) => {
        const body = `<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</Retention>`;
        return raw('PUT', `/${locked}/badret`, { retention: '' }, body, { 'content-md5': md5(body) });
      };
      const cases: Array<[string, string, string]> = [
        ['<Mode>governance</Mode><RetainUntilDate>2031-01-01T00:00:00Z</RetainUntilDate>', 'MalformedXML', 'lower-case mode'],
        ['<Mode>GOVERNANCE</Mode>', 'MalformedXML', 'mode alone'],
        ['<RetainUntilDate>2031-01-01T00:00:00Z</RetainUntilDate>', 'MalformedXML', 'date alone'],
        ['<Mode>GOVERNANCE</Mode><RetainUntilDate>tomorrow</RetainUntilDate>', 'MalformedXML', 'date not ISO 8601'],
        ['<Mode>GOVERNANCE</Mode><RetainUntilDate>2020-01-01T00:00:00Z</RetainUntilDate>', 'InvalidArgument', 'date in the past'],
        ['<Mode>GOVERNANCE</Mode><RetainUntilDate>2031-01-01T00:00:00Z</RetainUntilDate><Extra/>', 'MalformedXML', 'unknown element'],
      ];
      for (const [inner, code, what] of cases) {
        const r = await put(inner);
        assert.deepEqual([r.status, assertS3Error(r, what).code], [400, code], what);
      }
      const bare = await raw('PUT', `/${locked}/badret`, { retention: '' }, '<Retention/>');
      assert.equal(assertS3Error(bare, 'no integrity header').message, 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
    });

    it('PutObjectLegalHold › Status other than ON/OFF → 400 MalformedXML', async () => {
      await s3.send(new PutObjectCommand({ Bucket: locked, Key: 'badhold', Body: 'x' }));
      const body = '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>on</Status></LegalHold>';
      const r = await raw('PUT', `/${locked}/badhold`, { 'legal-hold': '' }, body, { 'content-md5': md5(body) });
      assert.deepEqual([r.status, assertS3Error(r, 'legal hold on').code], [400, 'MalformedXML']);
    });

    it('Put/GetObjectRetention, Put/GetObjectLegalHold › bucket without object lock → 400 InvalidRequest "Bucket is missing Object Lock Configuration"', async () => {
      await s3.send(new PutObjectCommand({ Bucket: plain, Key: 'k', Body: 'x' }));
      for (const call of [
        () =>
          s3.send(new PutObjectRetentionCommand({ Bucket: plain, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + HOUR) } })),
        () => s3.send(new GetObjectRetentionCommand({ Bucket: plain, Key: 'k' })),
        () => s3.send(new PutObjectLegalHoldCommand({ Bucket: plain, Key: 'k', LegalHold: { Status: 'ON' } })),
        () => s3.send(new GetObjectLegalHoldCommand({ Bucket: plain, Key: 'k' })),
      ]) {
        const e = await errorOf(call());
        assert.deepEqual([e.name, e.$metadata.httpStatusCode, e.message], ['InvalidRequest', 400, 'Bucket is missing Object Lock Configuration']);
      }
    });

    it('Put/GetObjectRetention, Put/GetObjectLegalHold › missing key → 404 NoSuchKey; unknown versionId → 404 NoSuchVersion; malformed → 400 InvalidArgument', async () => {
      const until = fromNow(HOUR);
      const expectedOf: Record<string, [string, number]> = {
        none: ['NoSuchKey', 404],
        '0123456789abcdefghijABCDEFGHIJ01': ['NoSuchVersion', 404],
        'not-a-version': ['InvalidArgument', 400],
      };
      for (const [id, expected] of Object.entries(expectedOf)) {
        const versionId = id === 'none' ? undefined : id;
        const calls = [
          () =>
            s3.send(
              new PutObjectRetentionCommand({ Bucket: locked, Key: 'ghost', VersionId: versionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until } }),
            ),
          () => s3.send(new GetObjectRetentionCommand({ Bucket: locked, Key: 'ghost', VersionId: versionId })),
          () => s3.send(new PutObjectLegalHoldCommand({ Bucket: locked, Key: 'ghost', VersionId: versionId, LegalHold: { Status: 'ON' } })),
          () => s3.send(new GetObjectLegalHoldCommand({ Bucket: locked, Key: 'ghost', VersionId: versionId })),
        ];
        for (const call of calls) {
          const e = await errorOf(call());
          assert.deepEqual([e.name, e.$metadata.httpStatusCode], expected, id);
        }
      }
    });

    it('Put/GetObjectRetention, Put/GetObjectLegalHold › a delete marker: latest → 404 NoSuchKey, by versionId → 405 MethodNotAllowed, with x-amz-delete-marker', async () => {
      await s3.send(new PutObjectCommand({ Bucket: locked, Key: 'marked', Body: 'x' }));
      const del = await raw('DELETE', `/${locked}/marked`, {});
      assert.equal(del.status, 204);
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: locked, Prefix: 'marked' }));
      const marker = versions.DeleteMarkers?.[0]?.VersionId;
      assert.ok(marker, 'the DELETE made a delete marker');
      const body = '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>';
      for (const [method, sub, b] of [
        ['GET', 'retention', ''],
        ['GET', 'legal-hold', ''],
        ['PUT', 'legal-hold', body],
      ] as const) {
        const headers: Record<string, string> = b === '' ? {} : { 'content-md5': md5(b) };
        const latest = await raw(method, `/${locked}/marked`, { [sub]: '' }, b, headers);
        assert.deepEqual([latest.status, assertS3Error(latest, `${method} ?${sub}`).code, latest.headers['x-amz-delete-marker']], [404, 'NoSuchKey', 'true']);
        const byId = await raw(method, `/${locked}/marked`, { [sub]: '', versionId: marker }, b, headers);
        assert.deepEqual(
          [byId.status, assertS3Error(byId, `${method} ?${sub}&versionId`).code, byId.headers['x-amz-delete-marker'], byId.headers['x-amz-version-id']],
          [405, 'MethodNotAllowed', 'true', marker],
        );
      }
    });
  });
});

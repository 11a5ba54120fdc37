// The object-lock pieces of the S3 layer without a server: ISO 8601 dates, the x-amz-object-lock-*
// headers (and form fields) with S3's errors, default retention dates, the configuration, Retention
// and LegalHold documents, and who may bypass GOVERNANCE retention. Over HTTP:
// test/integration/object-lock*.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../iam/principal.js';
import type { BucketRecord } from '../store/types.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';
import { defaultUntil, lockCheckOf, lockFromRequest, lockHeaders } from './object-lock.js';
import { parseIsoDateTime, parseLegalHold, parseLockConfiguration, parseRetention } from './object-lock-xml.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const bucket = (objectLock: boolean): BucketRecord => ({ name: 'b', region: 'us-east-1', createdAt: 0, versioning: 'Enabled', owner: 'root', objectLock });
const form = (fields: Record<string, string>) => ({ kind: 'form' as const, fields: new Map(Object.entries(fields)) });
const s3err = (code: string, message?: string) => (e: unknown) => e instanceof S3Error && e.code === code && (message === undefined || e.message === message);
const conf = (inner: string) => `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</ObjectLockConfiguration>`;

describe('object lock (s3)', () => {
  it('parseIsoDateTime › Z, milliseconds, offsets → ms; other shapes and impossible dates → undefined', () => {
    assert.equal(parseIsoDateTime('2030-01-01T00:00:00Z'), Date.UTC(2030, 0, 1));
    assert.equal(parseIsoDateTime('2030-01-01T00:00:00.123Z'), Date.UTC(2030, 0, 1, 0, 0, 0, 123));
    assert.equal(parseIsoDateTime('2030-01-01T00:00:00.123456Z'), Date.UTC(2030, 0, 1, 0, 0, 0, 123), 'sub-millisecond digits cut');
    assert.equal(parseIsoDateTime('2030-01-01T02:00:00+02:00'), Date.UTC(2030, 0, 1));
    assert.equal(parseIsoDateTime('2029-12-31T22:00:00-0200'), Date.UTC(2030, 0, 1));
    for (const bad of ['2030-01-01', '01/01/2030', '2030-02-30T00:00:00Z', '2030-01-01T24:00:00Z', '2030-01-01T00:00:00', 'tomorrow', '']) {
      assert.equal(parseIsoDateTime(bad), undefined, bad);
    }
  });

  it('lockFromRequest › mode + date + legal hold → retention and hold; OFF is kept as false; none → {}', () => {
    const got = lockFromRequest(
      form({ 'x-amz-object-lock-mode': 'COMPLIANCE', 'x-amz-object-lock-retain-until-date': '2030-01-01T00:00:00Z', 'x-amz-object-lock-legal-hold': 'OFF' }),
      bucket(true),
      NOW,
    );
    assert.deepEqual(got, { retention: { mode: 'COMPLIANCE', until: Date.UTC(2030, 0, 1) }, legalHold: false });
    assert.deepEqual(lockFromRequest(form({}), bucket(false), NOW), {});
  });

  it('lockFromRequest › S3 errors, the header checks before the bucket check; a missing bucket is left to NoSuchBucket', () => {
    const date = { 'x-amz-object-lock-retain-until-date': '2030-01-01T00:00:00Z' };
    assert.throws(
      () => lockFromRequest(form({ 'x-amz-object-lock-mode': 'X', ...date }), bucket(true), NOW),
      s3err('InvalidArgument', 'Unknown wormMode directive.'),
    );
    assert.throws(() => lockFromRequest(form({ 'x-amz-object-lock-mode': 'GOVERNANCE' }), bucket(false), NOW), s3err('InvalidArgument'));
    assert.throws(
      () => lockFromRequest(form({ 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': '2026-12-02T12:00:00Z' }), bucket(true), NOW),
      s3err('InvalidArgument', 'The retain until date must be in the future!'),
      'a date equal to now is not in the future',
    );
    assert.throws(() => lockFromRequest(form({ 'x-amz-object-lock-legal-hold': 'yes' }), bucket(true), NOW), s3err('InvalidArgument'));
    assert.throws(
      () => lockFromRequest(form({ 'x-amz-object-lock-legal-hold': 'ON' }), bucket(false), NOW),
      s3err('InvalidRequest', 'Bucket is missing Object Lock Configuration'),
    );
    assert.deepEqual(lockFromRequest(form({ 'x-amz-object-lock-legal-hold': 'ON' }), undefined, NOW), { legalHold: true });
  });

  it('defaultUntil › days are 24 h each; years are calendar years', () => {
    assert.equal(defaultUntil({ mode: 'GOVERNANCE', days: 2 }, NOW), NOW + 2 * 86_400_000);
    assert.equal(defaultUntil({ mode: 'GOVERNANCE', years: 1 }, NOW), Date.UTC(2027, 11, 2, 12, 0, 0));
    assert.equal(defaultUntil({ mode: 'GOVERNANCE', years: 100 }, NOW), Date.UTC(2126, 11, 2, 12, 0, 0));
  });

  it('parseLockConfiguration › rule or none; bad documents → MalformedXML / InvalidArgument as S3 answers', () => {
    assert.deepEqual(parseLockConfiguration(conf('<ObjectLockEnabled>Enabled</ObjectLockEnabled>')), {});
    const rule = '<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years> 2 </Years></DefaultRetention></Rule>';
    assert.deepEqual(parseLockConfiguration(conf(`<ObjectLockEnabled>Enabled</ObjectLockEnabled>${rule}`)), { rule: { mode: 'COMPLIANCE', years: 2 } });
    const dr = (inner: string) => conf(`<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>${inner}</DefaultRetention></Rule>`);
    for (const [xml, code] of [
      [conf(''), 'MalformedXML'],
      [conf('<ObjectLockEnabled> Enabled</ObjectLockEnabled>'), 'MalformedXML'],
      [conf('<ObjectLockEnabled>Enabled</ObjectLockEnabled><Other/>'), 'MalformedXML'],
      [dr('<Mode>GOVERNANCE</Mode><Days>1.5</Days>'), 'MalformedXML'],
      [dr('<Mode>GOVERNANCE</Mode><Days>1</Days><Days>2</Days>'), 'MalformedXML'],
      [dr('<Mode>GOVERNANCE</Mode><Days>0</Days>'), 'InvalidArgument'],
      [dr('<Mode>GOVERNANCE</Mode><Days>36501</Days>'), 'InvalidArgument'],
      ['<Other/>', 'MalformedXML'],
    ] as const) {
      assert.throws(() => parseLockConfiguration(xml), s3err(code), xml);
    }
    assert.deepEqual(parseLockConfiguration(dr('<Mode>GOVERNANCE</Mode><Days>36500</Days>')), { rule: { mode: 'GOVERNANCE', days: 36500 } });
  });

  it('parseRetention / parseLegalHold › values, removal (empty Retention), refusals', () => {
    const ret = (inner: string) => `<Retention>${inner}</Retention>`;
    assert.deepEqual(parseRetention(ret('<Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00.000Z</RetainUntilDate>'), NOW), {
      mode: 'GOVERNANCE',
      until: Date.UTC(2030, 0, 1),
    });
    assert.equal(parseRetention('<Retention/>', NOW), null);
    assert.equal(parseRetention('<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></Retention>', NOW), null);
    assert.throws(() => parseRetention(ret('<Mode>GOVERNANCE</Mode><RetainUntilDate>2020-01-01T00:00:00Z</RetainUntilDate>'), NOW), s3err('InvalidArgument'));
    assert.throws(() => parseRetention(ret('<Mode>GOVERNANCE</Mode>'), NOW), s3err('MalformedXML'));
    assert.equal(parseLegalHold('<LegalHold><Status>ON</Status></LegalHold>'), true);
    assert.equal(parseLegalHold('<LegalHold><Status>OFF</Status></LegalHold>'), false);
    assert.throws(() => parseLegalHold('<LegalHold><Status>Off</Status></LegalHold>'), s3err('MalformedXML'));
    assert.throws(() => parseLegalHold('<LegalHold/>'), s3err('MalformedXML'));
  });

  it('lockHeaders › ISO 8601 with milliseconds; legal hold ON / OFF; nothing for a version without lock', () => {
    const rec = { retention: { mode: 'GOVERNANCE' as const, until: Date.UTC(2030, 0, 1) }, legalHold: false } as Parameters<typeof lockHeaders>[0];
    assert.deepEqual(lockHeaders(rec), {
      'x-amz-object-lock-mode': 'GOVERNANCE',
      'x-amz-object-lock-retain-until-date': '2030-01-01T00:00:00.000Z',
      'x-amz-object-lock-legal-hold': 'OFF',
    });
    assert.deepEqual(lockHeaders({} as Parameters<typeof lockHeaders>[0]), {});
  });

  it('lockCheckOf › the header counts only for a principal allowed s3:BypassGovernanceRetention (root today, not anonymous)', () => {
    const ctx = (value: string | undefined, principal: Principal) =>
      ({ headers: value === undefined ? {} : { 'x-amz-bypass-governance-retention': value }, bucket: 'b', key: 'k', principal }) as unknown as RequestContext;
    const root: Principal = { accessKeyId: 'AK', userId: 'root', kind: 'root' };
    const anonymous: Principal = { accessKeyId: '', userId: 'anonymous', kind: 'anonymous' };
    assert.deepEqual(lockCheckOf(ctx('true', root)), { bypassGovernance: true });
    assert.deepEqual(lockCheckOf(ctx(' TRUE ', root)), { bypassGovernance: true });
    assert.deepEqual(lockCheckOf(ctx('false', root)), { bypassGovernance: false });
    assert.deepEqual(lockCheckOf(ctx(undefined, root)), { bypassGovernance: false });
    assert.deepEqual(lockCheckOf(ctx('true', anonymous)), { bypassGovernance: false });
  });
});

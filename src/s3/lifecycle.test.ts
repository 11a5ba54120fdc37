// Lifecycle: configuration parsing and validation (S3's codes and messages), the XML and JSON
// round trips, and the evaluator's day arithmetic and rule semantics.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { S3Error } from './errors.js';
import { MemoryDataStore } from '../store/data/memory.js';
import { memoryMetaStore } from '../store/meta/memory.js';
import { Store } from '../store/store.js';
import {
  LIFECYCLE_CONFIG_NAME,
  deserializeLifecycle,
  expirationHeaders,
  forgetLifecycle,
  lifecycleToXml,
  parseLifecycleXml,
  serializeLifecycle,
  type LifecycleRule,
} from './lifecycle.js';
import { ceilToDay, currentExpiry, dueAfterDays, evaluateUpload, evaluateVersion, expirationHeaderValue, type VersionFacts } from './lifecycle-eval.js';
import { buildXml } from './xml.js';

const DAY = 86_400_000;
const cfg = (rules: string): string => `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</LifecycleConfiguration>`;
const rule = (body: string, id = 'r'): string => `<Rule><ID>${id}</ID><Status>Enabled</Status>${body}</Rule>`;

function refusal(xml: string): [string, string | undefined] {
  try {
    parseLifecycleXml(xml);
  } catch (err) {
    if (err instanceof S3Error) return [err.code, err.message];
    throw err;
  }
  assert.fail('accepted');
}

describe('lifecycle configuration', () => {
  it('PutBucketLifecycleConfiguration › every filter form and action → rules; GET writes them back as given', () => {
    const xml = cfg(
      rule('<Filter><Prefix>logs/</Prefix></Filter><Expiration><Days>30</Days></Expiration>', 'a') +
        rule('<Prefix>old/</Prefix><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>', 'b') +
        rule(
          '<Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>',
          'c',
        ) +
        rule(
          '<Filter/><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
          'd',
        ) +
        rule('<Filter><Tag><Key>t</Key><Value></Value></Tag></Filter><Expiration><Days>1</Days></Expiration>', 'e'),
    );
    const rules = parseLifecycleXml(xml);
    assert.deepEqual(rules[0], { id: 'a', enabled: true, filter: { prefix: 'logs/', tags: [], form: 'filter' }, expiration: { days: 30 } });
    assert.deepEqual(rules[1]!.expiration, { date: Date.UTC(2030, 0, 1) });
    assert.equal(rules[1]!.filter.form, 'legacy');
    assert.deepEqual(rules[2]!.filter, { prefix: 'p/', tags: [{ key: 'k', value: 'v' }], sizeGreaterThan: 10, form: 'and' });
    assert.deepEqual(rules[2]!.noncurrentExpiration, { noncurrentDays: 2, newerNoncurrentVersions: 3 });
    assert.deepEqual(rules[3]!.expiration, { expiredObjectDeleteMarker: true });
    assert.equal(rules[3]!.abortIncompleteDays, 7);
    assert.deepEqual(deserializeLifecycle(serializeLifecycle(rules)), rules);
    const out = buildXml(lifecycleToXml(rules));
    assert.match(out, /<Rule><ID>a<\/ID><Filter><Prefix>logs\/<\/Prefix><\/Filter><Status>Enabled<\/Status><Expiration><Days>30<\/Days><\/Expiration><\/Rule>/);
    assert.match(out, /<ID>b<\/ID><Prefix>old\/<\/Prefix><Status>Enabled<\/Status><Expiration><Date>2030-01-01T00:00:00.000Z<\/Date>/);
    assert.match(
      out,
      /<Filter><And><Prefix>p\/<\/Prefix><Tag><Key>k<\/Key><Value>v<\/Value><\/Tag><ObjectSizeGreaterThan>10<\/ObjectSizeGreaterThan><\/And><\/Filter>/,
    );
    assert.match(out, /<ID>e<\/ID><Filter><Tag><Key>t<\/Key><Value><\/Value><\/Tag><\/Filter>/);
    assert.deepEqual(parseLifecycleXml(out), rules, 'what GET answers is a valid PUT of the same rules');
  });

  it('PutBucketLifecycleConfiguration › rule without ID → one generated (unique, ≤ 255 characters)', () => {
    const rules = parseLifecycleXml(cfg('<Rule><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule>'.repeat(2)));
    assert.equal(rules.length, 2);
    assert.ok(rules[0]!.id.length > 0 && rules[0]!.id.length <= 255);
    assert.notEqual(rules[0]!.id, rules[1]!.id);
  });

  const exp = '<Expiration><Days>1</Days></Expiration>';
  for (const [why, xml, code, message] of [
    ['no rule', cfg(''), 'MalformedXML', undefined],
    ['wrong root', '<Lifecycle><Rule/></Lifecycle>', 'MalformedXML', undefined],
    ['unknown element', cfg(rule(`<Filter/>${exp}<Foo/>`)), 'MalformedXML', undefined],
    ['Status other than Enabled/Disabled', cfg(`<Rule><Status>enabled</Status><Filter/>${exp}</Rule>`), 'MalformedXML', undefined],
    ['neither Filter nor Prefix', cfg(rule(exp)), 'MalformedXML', undefined],
    ['both Filter and Prefix', cfg(rule(`<Prefix/><Filter/>${exp}`)), 'MalformedXML', undefined],
    [
      'two conditions in Filter without And',
      cfg(rule(`<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>${exp}`)),
      'MalformedXML',
      undefined,
    ],
    ['Expiration empty', cfg(rule('<Filter/><Expiration></Expiration>')), 'MalformedXML', undefined],
    [
      'Expiration with Days and Date',
      cfg(rule('<Filter/><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>')),
      'MalformedXML',
      undefined,
    ],
    ['Days not a number', cfg(rule('<Filter/><Expiration><Days>x</Days></Expiration>')), 'MalformedXML', undefined],
    ['Days 0', cfg(rule('<Filter/><Expiration><Days>0</Days></Expiration>')), 'InvalidArgument', "'Days' for Expiration action must be a positive integer"],
    [
      'Date not at midnight',
      cfg(rule('<Filter/><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>')),
      'InvalidArgument',
      "'Date' must be at midnight GMT",
    ],
    [
      'ExpiredObjectDeleteMarker with Days',
      cfg(rule('<Filter/><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>')),
      'InvalidArgument',
      'ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy.',
    ],
    ['ID over 255 characters', cfg(rule(`<Filter/>${exp}`, 'x'.repeat(256))), 'InvalidArgument', 'ID length should not exceed allowed limit of 255'],
    [
      'duplicate IDs',
      cfg(rule(`<Filter/>${exp}`) + rule(`<Filter/>${exp}`)),
      'InvalidArgument',
      'Rule ID must be unique. Found same ID for more than one rule',
    ],
    ['no action', cfg(rule('<Filter/>')), 'InvalidRequest', 'At least one action needs to be specified in a rule'],
    [
      'NoncurrentDays 0',
      cfg(rule('<Filter/><NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>')),
      'InvalidArgument',
      "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
    ],
    [
      'AbortIncompleteMultipartUpload with a Tag filter',
      cfg(
        rule(
          '<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
        ),
      ),
      'InvalidRequest',
      'AbortIncompleteMultipartUpload cannot be specified with Tags.',
    ],
    [
      'DaysAfterInitiation 0',
      cfg(rule('<Filter/><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>')),
      'InvalidArgument',
      "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
    ],
    ['over 1000 rules', cfg(Array.from({ length: 1001 }, (_, i) => rule(`<Filter/>${exp}`, `r${i}`)).join('')), 'InvalidRequest', undefined],
    ['Transition', cfg(rule(`<Filter/><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>`)), 'NotImplemented', undefined],
  ] as const) {
    it(`PutBucketLifecycleConfiguration › ${why} → ${code}`, () => {
      const [c, m] = refusal(xml);
      assert.equal(c, code);
      if (message !== undefined) assert.equal(m, message);
    });
  }
});

describe('lifecycle evaluator', () => {
  const r = (partial: Partial<LifecycleRule>): LifecycleRule => ({ id: 'r', enabled: true, filter: { prefix: '', tags: [], form: 'filter' }, ...partial });
  const v = (partial: Partial<VersionFacts>): VersionFacts => ({
    key: 'k',
    size: 5,
    tags: [],
    lastModified: Date.UTC(2026, 0, 1, 10, 30),
    isLatest: true,
    isDeleteMarker: false,
    versioned: false,
    ...partial,
  });

  it('days › creation + N days, rounded up to the next midnight UTC (or multiple of the short day)', () => {
    assert.equal(dueAfterDays(Date.UTC(2026, 0, 1, 10, 30), 1, DAY), Date.UTC(2026, 0, 3));
    assert.equal(dueAfterDays(Date.UTC(2026, 0, 1), 1, DAY), Date.UTC(2026, 0, 2));
    assert.equal(dueAfterDays(1001, 1, 2000), 4000);
    assert.equal(ceilToDay(4000, 2000), 4000);
  });

  it('Expiration › current version: not before its day, then delete marker (versioned) or removal (unversioned)', () => {
    const rules = [r({ expiration: { days: 1 } })];
    assert.equal(evaluateVersion(rules, v({}), Date.UTC(2026, 0, 3) - 1, DAY), undefined);
    assert.deepEqual(evaluateVersion(rules, v({}), Date.UTC(2026, 0, 3), DAY), {
      action: 'remove',
      ruleId: 'r',
      kind: 'expiration',
      due: Date.UTC(2026, 0, 3),
    });
    assert.equal(evaluateVersion(rules, v({ versioned: true }), Date.UTC(2026, 0, 3), DAY)?.action, 'delete-marker');
    assert.equal(evaluateVersion([r({ enabled: false, expiration: { days: 1 } })], v({}), Date.UTC(2027, 0, 1), DAY), undefined);
  });

  it('Expiration › filters: prefix, every tag, sizes strictly greater / less', () => {
    const f = { prefix: 'a/', tags: [{ key: 't', value: '1' }], sizeGreaterThan: 4, sizeLessThan: 6, form: 'and' as const };
    const rules = [r({ filter: f, expiration: { date: 0 } })];
    const at = Date.now();
    assert.ok(evaluateVersion(rules, v({ key: 'a/x', tags: [{ key: 't', value: '1' }] }), at, DAY));
    assert.equal(evaluateVersion(rules, v({ key: 'b/x', tags: [{ key: 't', value: '1' }] }), at, DAY), undefined);
    assert.equal(evaluateVersion(rules, v({ key: 'a/x', tags: [{ key: 't', value: '2' }] }), at, DAY), undefined);
    assert.equal(evaluateVersion(rules, v({ key: 'a/x', size: 6, tags: [{ key: 't', value: '1' }] }), at, DAY), undefined);
    assert.equal(evaluateVersion(rules, v({ key: 'a/x', size: 4, tags: [{ key: 't', value: '1' }] }), at, DAY), undefined);
  });

  it('NoncurrentVersionExpiration › N days after it became noncurrent, keeping NewerNoncurrentVersions', () => {
    const rules = [r({ noncurrentExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 2 } })];
    const nc = (newer: number) => v({ isLatest: false, versioned: true, noncurrentSince: 0, newerNoncurrent: newer });
    assert.equal(evaluateVersion(rules, nc(1), 2000, 1000), undefined, 'one of the two newest noncurrent');
    assert.equal(evaluateVersion(rules, nc(2), 999, 1000), undefined, 'not yet a day');
    assert.equal(evaluateVersion(rules, nc(2), 1000, 1000)?.kind, 'noncurrent');
    assert.equal(evaluateVersion([r({ expiration: { days: 1 } })], nc(5), 1e12, 1000), undefined, 'Expiration leaves noncurrent versions alone');
  });

  it('ExpiredObjectDeleteMarker › only a latest delete marker with nothing behind it', () => {
    const rules = [r({ expiration: { expiredObjectDeleteMarker: true } })];
    assert.equal(evaluateVersion(rules, v({ isDeleteMarker: true, versioned: true, onlyVersion: false }), 1e13, DAY), undefined);
    assert.deepEqual(evaluateVersion(rules, v({ isDeleteMarker: true, versioned: true, onlyVersion: true }), 1e13, DAY)?.kind, 'delete-marker');
  });

  it('AbortIncompleteMultipartUpload › uploads of the prefix older than N days', () => {
    const rules = [r({ filter: { prefix: 'u/', tags: [], form: 'filter' }, abortIncompleteDays: 2 })];
    assert.equal(evaluateUpload(rules, 'u/x', 0, 3999, 2000), undefined);
    assert.equal(evaluateUpload(rules, 'u/x', 0, 4000, 2000)?.ruleId, 'r');
    assert.equal(evaluateUpload(rules, 'v/x', 0, 1e9, 2000), undefined);
  });

  it('x-amz-expiration › earliest applicable rule; value as S3 writes it', () => {
    const rules = [r({ id: 'late', expiration: { days: 10 } }), r({ id: 'soon', expiration: { date: Date.UTC(2026, 0, 5) } })];
    assert.deepEqual(currentExpiry(rules, v({}), DAY), { due: Date.UTC(2026, 0, 5), ruleId: 'soon' });
    assert.equal(
      expirationHeaderValue(Date.UTC(2012, 11, 23), 'picture-deletion-rule'),
      'expiry-date="Sun, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule"',
    );
    assert.equal(expirationHeaderValue(0, 'a"b\\é'), 'expiry-date="Thu, 01 Jan 1970 00:00:00 GMT", rule-id="a\\"b\\\\%C3%A9"');
  });
});

describe('x-amz-expiration lookup', () => {
  it('expirationHeaders › no configuration → none; after a change in this process (forgetLifecycle) → the rule at once; not latest → none', async () => {
    const store = new Store(memoryMetaStore(), new MemoryDataStore());
    await store.createBucket('b', 'us-east-1');
    const ctx = { store, config: { lifecycleDayMs: DAY }, bucketRecord: { createdAt: 1 } };
    const rec = { bucket: 'b', key: 'k', size: 1, lastModified: Date.UTC(2026, 0, 1, 10), isLatest: true, isDeleteMarker: false };
    assert.deepEqual(await expirationHeaders(ctx, rec), {});
    const rules = parseLifecycleXml(cfg(rule('<Filter/><Expiration><Days>1</Days></Expiration>', 'one')));
    await store.putBucketConfig('b', LIFECYCLE_CONFIG_NAME, serializeLifecycle(rules));
    forgetLifecycle(store, 'b');
    assert.deepEqual(await expirationHeaders(ctx, rec), { 'x-amz-expiration': 'expiry-date="Sat, 03 Jan 2026 00:00:00 GMT", rule-id="one"' });
    assert.deepEqual(await expirationHeaders(ctx, { ...rec, isLatest: false }), {});
    assert.deepEqual(await expirationHeaders({ ...ctx, bucketRecord: { createdAt: 2 } }, rec), {
      'x-amz-expiration': 'expiry-date="Sat, 03 Jan 2026 00:00:00 GMT", rule-id="one"',
    });
  });
});

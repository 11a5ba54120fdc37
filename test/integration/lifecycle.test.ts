// Lifecycle against a real Strata process with a 2-second lifecycle day (--lifecycle-day-seconds 2),
// through aws-sdk-js v3: configuration round trips and S3's validation errors, expiry of current
// objects by prefix and size (never before the date x-amz-expiration announced), x-amz-expiration on
// PUT/GET/HEAD, versioned buckets (delete markers, NoncurrentVersionExpiration with
// NewerNoncurrentVersions, expired delete markers) and aborted multipart uploads.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectTaggingCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { newBucketName } from '../helpers/clients.js';
import { testClient as client, errorOf } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const DAY_MS = 2000;
/** Generous bound for anything the lifecycle job should do within a few test days. */
const WAIT_MS = 60_000;

/** Resolves once `cond` holds (checked every 100 ms); fails after `limitMs`. */
async function waitFor(what: string, cond: () => Promise<boolean>, limitMs = WAIT_MS): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

const EXPIRATION = /^expiry-date="(\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT)", rule-id="(.*)"$/;

function parseExpiration(v: string | undefined): { date: number; ruleId: string } {
  const m = EXPIRATION.exec(v ?? '');
  assert.ok(m, `x-amz-expiration: ${v}`);
  return { date: Date.parse(m[1]!), ruleId: m[2]! };
}

describe('lifecycle (short day)', () => {
  let server: RunningServer;
  let s3: S3Client;

  before(async () => {
    server = await startServer({ args: ['--lifecycle-day-seconds', String(DAY_MS / 1000)] });
    s3 = client(server.url);
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  async function bucket(): Promise<string> {
    const b = newBucketName('lifecycle');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    return b;
  }
  const put = (Bucket: string, Rules: LifecycleRule[]) => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }));
  async function exists(Bucket: string, Key: string): Promise<boolean> {
    try {
      await s3.send(new HeadObjectCommand({ Bucket, Key }));
      return true;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw err;
    }
  }

  it('GetBucketLifecycleConfiguration › none → 404 NoSuchLifecycleConfiguration; Put → Get round trip; Delete → 204, then 404 again', async () => {
    const b = await bucket();
    let err = await errorOf(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })));
    assert.equal(err.name, 'NoSuchLifecycleConfiguration');
    assert.equal(err.$metadata.httpStatusCode, 404);
    await put(b, [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
      {
        Status: 'Disabled',
        Filter: { And: { Prefix: 'p/', Tags: [{ Key: 'k', Value: 'v' }], ObjectSizeGreaterThan: 10, ObjectSizeLessThan: 1000 } },
        NoncurrentVersionExpiration: { NoncurrentDays: 2, NewerNoncurrentVersions: 3 },
      },
      { ID: 'dated', Status: 'Enabled', Filter: {}, Expiration: { Date: new Date('2030-01-01T00:00:00Z') } },
      { ID: 'mpu', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
    ]);
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
    const rules = got.Rules ?? [];
    assert.equal(rules.length, 4);
    assert.deepEqual(rules[0], { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } });
    assert.ok(rules[1]!.ID && rules[1]!.ID.length <= 255, 'an ID was generated');
    assert.equal(rules[1]!.Status, 'Disabled');
    assert.deepEqual(rules[1]!.Filter, { And: { Prefix: 'p/', Tags: [{ Key: 'k', Value: 'v' }], ObjectSizeGreaterThan: 10, ObjectSizeLessThan: 1000 } });
    assert.deepEqual(rules[1]!.NoncurrentVersionExpiration, { NoncurrentDays: 2, NewerNoncurrentVersions: 3 });
    assert.equal(rules[2]!.Expiration?.Date?.toISOString(), '2030-01-01T00:00:00.000Z');
    assert.deepEqual(rules[3]!.AbortIncompleteMultipartUpload, { DaysAfterInitiation: 7 });
    const del = await s3.send(new DeleteBucketLifecycleCommand({ Bucket: b }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    err = await errorOf(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })));
    assert.equal(err.name, 'NoSuchLifecycleConfiguration');
  });

  for (const [why, rules, code, status, message] of [
    [
      'Days 0',
      [{ ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }],
      'InvalidArgument',
      400,
      "'Days' for Expiration action must be a positive integer",
    ],
    ['no action', [{ ID: 'a', Status: 'Enabled', Filter: {} }], 'InvalidRequest', 400, 'At least one action needs to be specified in a rule'],
    [
      'duplicate IDs',
      [
        { ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } },
        { ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 2 } },
      ],
      'InvalidArgument',
      400,
      'Rule ID must be unique. Found same ID for more than one rule',
    ],
    [
      'ID of 256 characters',
      [{ ID: 'x'.repeat(256), Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }],
      'InvalidArgument',
      400,
      'ID length should not exceed allowed limit of 255',
    ],
    [
      'AbortIncompleteMultipartUpload with a Tag filter',
      [{ ID: 'a', Status: 'Enabled', Filter: { Tag: { Key: 'k', Value: 'v' } }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
      'InvalidRequest',
      400,
      'AbortIncompleteMultipartUpload cannot be specified with Tags.',
    ],
    ['Status "enabled"', [{ ID: 'a', Status: 'enabled', Filter: {}, Expiration: { Days: 1 } }], 'MalformedXML', 400, undefined],
    ['Transition', [{ ID: 'a', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] }], 'NotImplemented', 501, undefined],
  ] as Array<[string, LifecycleRule[], string, number, string | undefined]>) {
    it(`PutBucketLifecycleConfiguration › ${why} → ${status} ${code}`, async () => {
      const b = await bucket();
      const err = await errorOf(put(b, rules));
      assert.equal(err.name, code);
      assert.equal(err.$metadata.httpStatusCode, status);
      if (message !== undefined) assert.equal(err.message, message);
      assert.equal((await errorOf(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })))).name, 'NoSuchLifecycleConfiguration', 'nothing stored');
    });
  }

  it('PutBucketLifecycleConfiguration › 1000 rules with long prefixes (a body over 64 KiB) → stored; 1001 → 400 InvalidRequest', async () => {
    const b = await bucket();
    const many = (n: number): LifecycleRule[] =>
      Array.from({ length: n }, (_, i) => ({ ID: `rule-${i}`, Status: 'Enabled', Filter: { Prefix: `${'p'.repeat(200)}/${i}/` }, Expiration: { Days: 1000 } }));
    await put(b, many(1000));
    assert.equal((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))).Rules?.length, 1000);
    const err = await errorOf(put(b, many(1001)));
    assert.equal(err.name, 'InvalidRequest');
    assert.equal(err.message, 'The number of lifecycle rules should not exceed allowed limit of 1000 rules');
  });

  it('x-amz-expiration › PUT, GET and HEAD of an object a rule applies to → the rule and its day; others → none', async () => {
    const b = await bucket();
    await put(b, [
      { ID: 'docs "old"', Status: 'Enabled', Filter: { Prefix: 'docs/' }, Expiration: { Days: 1000 } },
      { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'other/' }, Expiration: { Days: 1 } },
    ]);
    const before = Date.now();
    const p = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'docs/a', Body: 'x' }));
    const fromPut = parseExpiration(p.Expiration);
    assert.equal(fromPut.ruleId, 'docs \\"old\\"');
    // Creation + 1000 days, rounded up to the next day boundary (here: multiple of 2 s).
    assert.equal(fromPut.date % DAY_MS, 0);
    assert.ok(fromPut.date >= before + 1000 * DAY_MS && fromPut.date <= Date.now() + 1001 * DAY_MS, String(fromPut.date));
    const g = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'docs/a' }));
    await g.Body?.transformToString();
    assert.equal(g.Expiration, p.Expiration);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'docs/a' }))).Expiration, p.Expiration);
    const o = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'other/a', Body: 'x' }));
    assert.equal(o.Expiration, undefined, 'a disabled rule announces nothing');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'other/a' }))).Expiration, undefined);
  });

  it('Expiration › by prefix and by size → those objects vanish, never before their announced date; the others stay', async () => {
    const b = await bucket();
    await put(b, [
      { ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } },
      { ID: 'big', Status: 'Enabled', Filter: { ObjectSizeGreaterThan: 100 }, Expiration: { Days: 2 } },
    ]);
    const announced = new Map<string, number>();
    for (const [Key, Body] of [
      ['tmp/a', 'x'],
      ['tmp/b', 'y'],
      ['large', 'z'.repeat(200)],
    ] as const) {
      announced.set(Key, parseExpiration((await s3.send(new PutObjectCommand({ Bucket: b, Key, Body }))).Expiration).date);
    }
    for (const Key of ['keep/a', 'small']) await s3.send(new PutObjectCommand({ Bucket: b, Key, Body: 'k' }));
    const goneAt = new Map<string, number>();
    await waitFor('every expiring object gone', async () => {
      for (const k of announced.keys()) {
        if (goneAt.has(k)) continue;
        const checkedAt = Date.now();
        if (!(await exists(b, k))) goneAt.set(k, checkedAt);
      }
      return goneAt.size === announced.size;
    });
    for (const [k, date] of announced) {
      // The HEAD that found it gone started at goneAt: its removal came after the announced date.
      assert.ok(goneAt.get(k)! >= date, `${k} gone at ${goneAt.get(k)}, announced ${date}`);
    }
    assert.ok(await exists(b, 'keep/a'));
    assert.ok(await exists(b, 'small'));
    // One line per rule and round: tmp/a and tmp/b may fall due in two rounds (a day boundary between their PUTs).
    const expiredBy = (rule: string): number =>
      server
        .logs()
        .split('\n')
        .filter((l) => l.includes('lifecycle: expired by rule') && l.includes(`"bucket":"${b}"`) && l.includes(`"rule":"${rule}"`))
        .reduce((n, l) => n + (JSON.parse(l) as { objects: number }).objects, 0);
    await waitFor('the log lines per rule', async () => expiredBy('tmp') === 2 && expiredBy('big') === 1);
  });

  it('Expiration › by tag → the tagged object goes; untagged, or retagged with PutObjectTagging, stays; x-amz-expiration follows the tags', async () => {
    const b = await bucket();
    await put(b, [{ ID: 'tmp-tag', Status: 'Enabled', Filter: { Tag: { Key: 'class', Value: 'tmp' } }, Expiration: { Days: 1 } }]);
    // c first: whenever a is due, so would c be; the round that expires a looks at c after it.
    const retagged = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'x', Tagging: 'class=tmp' }));
    assert.equal(parseExpiration(retagged.Expiration).ruleId, 'tmp-tag');
    await s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'c', Tagging: { TagSet: [{ Key: 'class', Value: 'keep' }] } }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'c' }))).Expiration, undefined, 'the header follows the current tags');
    const tagged = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'x', Tagging: 'class=tmp' }));
    assert.equal(parseExpiration(tagged.Expiration).ruleId, 'tmp-tag');
    const plain = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'b', Body: 'x', Tagging: 'class=keep' }));
    assert.equal(plain.Expiration, undefined);
    await waitFor('the tagged object gone', async () => !(await exists(b, 'a')));
    // The per-rule line is written when the round has walked the whole bucket (c included).
    await waitFor('the end of that round', async () => server.logs().includes(`"bucket":"${b}","rule":"tmp-tag"`));
    assert.ok(await exists(b, 'b'));
    assert.ok(await exists(b, 'c'), 'retagged before its day: kept');
  });

  it('versioned bucket › Expiration adds a delete marker; noncurrent versions go keeping NewerNoncurrentVersions; a lone marker is removed', async () => {
    const b = await bucket();
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    for (const body of ['1', '2', '3', '4']) await s3.send(new PutObjectCommand({ Bucket: b, Key: 'nc/k', Body: body }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'cur/k', Body: 'c' }));
    const lone = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'dm/k', Body: 'd' }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'dm/k' }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'dm/k', VersionId: lone.VersionId }));
    await put(b, [
      { ID: 'cur', Status: 'Enabled', Filter: { Prefix: 'cur/' }, Expiration: { Days: 1 } },
      { ID: 'nc', Status: 'Enabled', Filter: { Prefix: 'nc/' }, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 } },
      { ID: 'dm', Status: 'Enabled', Filter: { Prefix: 'dm/' }, Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    const listing = async () => {
      const l = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
      return [
        ...(l.Versions ?? []).map((v) => `${v.Key} ${v.ETag} ${v.IsLatest ? 'latest' : 'old'}`),
        ...(l.DeleteMarkers ?? []).map((m) => `${m.Key} marker ${m.IsLatest ? 'latest' : 'old'}`),
      ].sort();
    };
    const want = [`cur/k "${md5('c')}" old`, 'cur/k marker latest', `nc/k "${md5('3')}" old`, `nc/k "${md5('4')}" latest`];
    await waitFor('the versions the rules leave', async () => JSON.stringify(await listing()) === JSON.stringify(want.sort()));
    assert.equal(await exists(b, 'cur/k'), false, 'the current version is hidden behind a delete marker');
  });

  it('object lock › a noncurrent version under legal hold is skipped (counted as locked, the round ends); once the hold is lifted it expires', async () => {
    const b = newBucketName('lifecycle-lock');
    await s3.send(new CreateBucketCommand({ Bucket: b, ObjectLockEnabledForBucket: true }));
    const held = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'held', ObjectLockLegalHoldStatus: 'ON' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'newer' }));
    await put(b, [{ ID: 'nc', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }]);
    const lockedLine = (): boolean =>
      server
        .logs()
        .split('\n')
        .some((l) => l.includes(`"bucket":"${b}","rule":"nc"`) && l.includes('"locked":1'));
    await waitFor('a round that met the held version', async () => lockedLine());
    const versions = async () => ((await s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions ?? []).map((v) => v.VersionId);
    assert.ok((await versions()).includes(held.VersionId), 'the held version stays');
    assert.ok(/lifecycle: object lock protects the version, skipped/.test(server.logs()));
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: b, Key: 'k', VersionId: held.VersionId, LegalHold: { Status: 'OFF' } }));
    await waitFor('the version expired once the hold is lifted', async () => !(await versions()).includes(held.VersionId));
    assert.equal((await versions()).length, 1, 'the current version stays');
  });

  it('AbortIncompleteMultipartUpload › uploads under the prefix are aborted after N days; others stay', async () => {
    const b = await bucket();
    await put(b, [{ ID: 'mpu', Status: 'Enabled', Filter: { Prefix: 'up/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]);
    await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'up/a' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'keep/a' }));
    await waitFor('the upload under up/ aborted', async () => {
      const l = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
      return (l.Uploads ?? []).map((u) => u.Key).join() === 'keep/a';
    });
  });
});

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

// The lifecycle job over an in-memory store: expiry by rule, in bounded steps, never early,
// resumed by a new job (a restarted server) from the cursor in the job state, object lock respected.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { LIFECYCLE_CONFIG_NAME, parseLifecycleXml, serializeLifecycle } from '../s3/lifecycle.js';
import { MemoryDataStore } from '../store/data/memory.js';
import { memoryMetaStore } from '../store/meta/memory.js';
import { Store } from '../store/store.js';
import { StoreError } from '../store/errors.js';
import type { ObjectWrite, Tag } from '../store/types.js';
import { LIFECYCLE_JOB, LIFECYCLE_STEP, lifecycleJob, scanPrefix } from './lifecycle.js';

const DAY = 1000;
const write = (bucket: string, key: string, body: string, extra: Partial<ObjectWrite> = {}): ObjectWrite => ({
  bucket,
  key,
  size: body.length,
  etag: `"${body}"`,
  storageClass: 'STANDARD',
  meta: { user: {} },
  data: [],
  inline: Buffer.from(body),
  ...extra,
});

function memLog() {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const push = (obj: object, msg: string) => lines.push({ obj: obj as Record<string, unknown>, msg });
  return { lines, info: push, warn: push };
}

/** Runs one round to its end; returns the number of steps. */
async function round(job: ReturnType<typeof lifecycleJob>, maxSteps = 1000): Promise<number> {
  const signal = new AbortController().signal;
  for (let i = 1; i <= maxSteps; i++) if (!(await job.step(signal))) return i;
  throw new Error('the round did not end');
}

async function keys(store: Store, bucket: string): Promise<string[]> {
  return (await store.scanVersions(bucket, '', '', '', 10_000)).map((v) => `${v.key}${v.isDeleteMarker ? '(marker)' : ''}${v.isLatest ? '' : '(old)'}`);
}

const rules = (xml: string): string => serializeLifecycle(parseLifecycleXml(`<LifecycleConfiguration>${xml}</LifecycleConfiguration>`));

describe('lifecycle job', () => {
  let store: Store;
  let offset: number;
  const now = () => Date.now() + offset;
  beforeEach(async () => {
    store = new Store(memoryMetaStore(), new MemoryDataStore());
    offset = 0;
    await store.createBucket('b', 'us-east-1');
  });

  it('lifecycle job › Expiration by prefix, tag and size → only matching objects, only once due, logged per rule', async () => {
    const tag: Tag[] = [{ key: 'class', value: 'tmp' }];
    await store.putBucketConfig(
      'b',
      LIFECYCLE_CONFIG_NAME,
      rules(
        '<Rule><ID>logs</ID><Status>Enabled</Status><Filter><Prefix>logs/</Prefix></Filter><Expiration><Days>1</Days></Expiration></Rule>' +
          '<Rule><ID>tmp</ID><Status>Enabled</Status><Filter><Tag><Key>class</Key><Value>tmp</Value></Tag></Filter><Expiration><Days>1</Days></Expiration></Rule>' +
          '<Rule><ID>big</ID><Status>Enabled</Status><Filter><ObjectSizeGreaterThan>3</ObjectSizeGreaterThan></Filter><Expiration><Days>2</Days></Expiration></Rule>',
      ),
    );
    for (const k of ['logs/a', 'logs/b', 'keep']) await store.commitObject(write('b', k, 'x'));
    await store.commitObject(write('b', 'tagged', 'x', { tags: tag }));
    await store.commitObject(write('b', 'large', 'xxxxx'));
    const log = memLog();
    const job = lifecycleJob(store, { dayMs: DAY, log, now });
    await round(job);
    assert.deepEqual(await keys(store, 'b'), ['keep', 'large', 'logs/a', 'logs/b', 'tagged'], 'nothing is due yet');
    offset = 2 * DAY; // past the 1-day rules' boundary (creation + 1 day, rounded up to a day)
    await round(job);
    const left = await keys(store, 'b');
    assert.ok(left.includes('keep') && !left.includes('logs/a') && !left.includes('logs/b') && !left.includes('tagged'), left.join());
    offset = 4 * DAY;
    await round(job);
    assert.deepEqual(await keys(store, 'b'), ['keep']);
    const byRule = Object.fromEntries(log.lines.filter((l) => l.msg === 'lifecycle: expired by rule').map((l) => [l.obj.rule, l.obj.objects]));
    assert.deepEqual(byRule, { logs: 2, tmp: 1, big: 1 });
    assert.equal(await store.getJobState(LIFECYCLE_JOB), undefined, 'a finished round leaves no cursor');
  });

  it('lifecycle job › many objects → bounded steps; a new job (restart) resumes from the saved cursor', async () => {
    await store.putBucketConfig(
      'b',
      LIFECYCLE_CONFIG_NAME,
      rules('<Rule><ID>all</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule>'),
    );
    const n = LIFECYCLE_STEP * 3 + 7;
    for (let i = 0; i < n; i++) await store.commitObject(write('b', `k${String(i).padStart(4, '0')}`, 'x'));
    offset = 2 * DAY;
    const signal = new AbortController().signal;
    const first = lifecycleJob(store, { dayMs: DAY, now });
    assert.equal(await first.step(signal), true);
    assert.equal(await first.step(signal), true);
    const left = (await keys(store, 'b')).length;
    assert.equal(left, n - 2 * LIFECYCLE_STEP, 'two steps, two pages');
    assert.ok(await store.getJobState(LIFECYCLE_JOB), 'the cursor is saved');
    // "Restart": a new job over the same store continues the round.
    const log = memLog();
    const second = lifecycleJob(store, { dayMs: DAY, log, now });
    const steps = await round(second);
    assert.ok(steps <= 3, `${steps} steps`);
    assert.deepEqual(await keys(store, 'b'), []);
    assert.equal(log.lines.find((l) => l.msg === 'lifecycle: expired by rule')?.obj.objects, n, "the round's counts survive the restart");
  });

  it('lifecycle job › versioned bucket → Expiration adds a marker; noncurrent versions expire keeping NewerNoncurrentVersions; a lone marker goes', async () => {
    await store.updateBucket('b', { versioning: 'Enabled' });
    await store.putBucketConfig(
      'b',
      LIFECYCLE_CONFIG_NAME,
      rules(
        '<Rule><ID>cur</ID><Status>Enabled</Status><Filter><Prefix>cur/</Prefix></Filter><Expiration><Days>1</Days></Expiration></Rule>' +
          '<Rule><ID>nc</ID><Status>Enabled</Status><Filter><Prefix>nc/</Prefix></Filter><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>' +
          '<Rule><ID>dm</ID><Status>Enabled</Status><Filter><Prefix>dm/</Prefix></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>',
      ),
    );
    await store.commitObject(write('b', 'cur/a', 'x'));
    for (const body of ['1', '2', '3', '4']) await store.commitObject(write('b', 'nc/a', body));
    await store.commitObject(write('b', 'dm/a', 'x'));
    const v = await store.commitObject(write('b', 'dm/b', 'x'));
    await store.deleteObject('b', 'dm/a'); // marker over a version: stays
    await store.deleteObject('b', 'dm/b');
    await store.deleteObject('b', 'dm/b', { versionId: v.versionId }); // now the marker is alone
    const log = memLog();
    offset = 3 * DAY;
    await round(lifecycleJob(store, { dayMs: DAY, log, now }));
    assert.deepEqual(await keys(store, 'b'), ['cur/a(marker)', 'cur/a(old)', 'dm/a(marker)', 'dm/a(old)', 'nc/a', 'nc/a(old)']);
    assert.equal((await store.versionRecord('b', 'nc/a'))?.etag, '"4"');
    const nc = (await store.scanVersions('b', 'nc/', '', '', 10)).map((x) => x.etag);
    assert.deepEqual(nc, ['"4"', '"3"'], 'the newest noncurrent version is kept');
    const by = Object.fromEntries(log.lines.filter((l) => l.msg === 'lifecycle: expired by rule').map((l) => [l.obj.rule, l.obj]));
    assert.equal(by.cur?.objects, 1);
    assert.equal(by.nc?.versions, 2);
    assert.equal(by.dm?.markers, 1);
  });

  it('lifecycle job › object lock (legal hold) → skipped and logged once per round, never retried in a loop', async () => {
    await store.updateBucket('b', { versioning: 'Enabled' });
    await store.putBucketConfig(
      'b',
      LIFECYCLE_CONFIG_NAME,
      rules(
        '<Rule><ID>nc</ID><Status>Enabled</Status><Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>',
      ),
    );
    await store.commitObject(write('b', 'k', 'old', { legalHold: true }));
    await store.commitObject(write('b', 'k', 'new'));
    const log = memLog();
    offset = 3 * DAY;
    const steps = await round(lifecycleJob(store, { dayMs: DAY, log, now }));
    assert.equal(steps, 1);
    assert.equal((await keys(store, 'b')).length, 2, 'the held version stays');
    assert.equal(log.lines.filter((l) => l.msg.includes('object lock')).length, 1);
    assert.equal(log.lines.find((l) => l.msg === 'lifecycle: expired by rule')?.obj.locked, 1);
  });

  it('Store.deleteObject › ifLastModified of a version replaced meanwhile → PreconditionFailed, the new version stays', async () => {
    const old = await store.commitObject(write('b', 'k', 'old'));
    while (Date.now() <= old.lastModified) await new Promise((r) => setImmediate(r));
    await store.commitObject(write('b', 'k', 'new'));
    await assert.rejects(
      store.deleteObject('b', 'k', { versionId: 'null', ifLastModified: old.lastModified }),
      (e) => e instanceof StoreError && e.code === 'PreconditionFailed',
    );
    assert.equal((await store.versionRecord('b', 'k'))?.etag, '"new"');
  });

  it('lifecycle job › an unversioned object replaced between the re-check and the removal → the new object stays', async () => {
    await store.putBucketConfig(
      'b',
      LIFECYCLE_CONFIG_NAME,
      rules('<Rule><ID>all</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule>'),
    );
    const old = await store.commitObject(write('b', 'k', 'old'));
    // A PUT lands right after the job's re-check read (the narrowest window there is).
    const racing = new Proxy(store, {
      get(target, name, receiver) {
        if (name !== 'versionRecord') return Reflect.get(target, name, receiver);
        return async (...args: Parameters<Store['versionRecord']>) => {
          const rec = await target.versionRecord(...args);
          while (Date.now() <= old.lastModified) await new Promise((r) => setImmediate(r));
          await target.commitObject(write('b', 'k', 'new'));
          return rec;
        };
      },
    });
    offset = 3 * DAY;
    await round(lifecycleJob(racing, { dayMs: DAY, now }));
    assert.equal((await store.versionRecord('b', 'k'))?.etag, '"new"', 'the object written after the evaluation was not expired with the old one');
  });

  it('scanPrefix › the walk covers exactly the keys the enabled version rules can name', () => {
    const p = (xml: string) => scanPrefix(parseLifecycleXml(`<LifecycleConfiguration>${xml}</LifecycleConfiguration>`));
    const r = (prefix: string, status = 'Enabled', action = '<Expiration><Days>1</Days></Expiration>') =>
      `<Rule><ID>${prefix}-${status}</ID><Status>${status}</Status><Filter><Prefix>${prefix}</Prefix></Filter>${action}</Rule>`;
    assert.equal(p(r('logs/a/') + r('logs/b/')), 'logs/');
    assert.equal(p(r('logs/') + r('tmp/')), '');
    assert.equal(p(r('logs/') + r('tmp/', 'Disabled')), 'logs/');
    assert.equal(
      p(r('logs/') + r('', 'Enabled', '<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>')),
      'logs/',
    );
    assert.equal(p(r('a\u{1F600}x') + r('a\u{1F600}y')), 'a\u{1F600}');
  });

  it('lifecycle job › an unreadable saved cursor → a warning and a fresh round, not a job failing forever', async () => {
    await store.putBucketConfig(
      'b',
      LIFECYCLE_CONFIG_NAME,
      rules('<Rule><ID>all</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule>'),
    );
    await store.commitObject(write('b', 'k', 'x'));
    await store.putJobState(LIFECYCLE_JOB, '{not json');
    const log = memLog();
    offset = 3 * DAY;
    await round(lifecycleJob(store, { dayMs: DAY, log, now }));
    assert.deepEqual(await keys(store, 'b'), []);
    assert.ok(log.lines.some((l) => l.msg.includes('unreadable saved cursor')));
  });
});

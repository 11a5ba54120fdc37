// A lifecycle run killed halfway (SIGKILL) and restarted on the same data directory: the run
// resumes from the cursor it saved in the job state (its per-rule counts carry over), finishes, and
// nothing expires early (objects of a rule whose day has not come, and objects no rule names, stay).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateBucketCommand, PutBucketLifecycleConfigurationCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { testClient } from '../helpers/s3.js';
import { startOn, type ServerProc } from './harness.js';

const DAY_S = 2;
const EXPIRING = 2000;
const OTHERS = 50;
const BUCKET = 'lifecycle-crash';

/** Resolves once `cond` holds (checked every `everyMs`); fails after `limitMs`. */
async function waitFor<T>(what: string, cond: () => T | undefined | false, limitMs: number, everyMs = 20): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A read-only look at the metadata (WAL readers do not disturb the running server). */
function look(dataDir: string): {
  left: (prefix: string) => number;
  cursor: () => { bucket: string; counts: Record<string, { objects: number }> } | undefined;
  close: () => void;
} {
  const db = new Database(join(dataDir, 'meta.db'), { readonly: true, fileMustExist: true, timeout: 5000 });
  const count = db.prepare('SELECT count(*) AS n FROM objects WHERE bucket = ? AND key >= ? AND key < ? AND is_latest = 1 AND is_delete_marker = 0');
  const state = db.prepare("SELECT value FROM job_state WHERE name = 'lifecycle'");
  return {
    left: (prefix) =>
      (
        count.get(BUCKET, Buffer.from(prefix), Buffer.from(prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1))) as {
          n: number;
        }
      ).n,
    cursor: () => {
      const row = state.get() as { value: string } | undefined;
      return row ? JSON.parse(row.value) : undefined;
    },
    close: () => db.close(),
  };
}

async function putAll(s3: S3Client, keys: string[], concurrency = 16): Promise<string[]> {
  const expirations: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < keys.length) {
        const i = next++;
        const r = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: keys[i]!, Body: `body of ${keys[i]}` }));
        expirations[i] = r.Expiration ?? '';
      }
    }),
  );
  return expirations;
}

describe('lifecycle crash', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('lifecycle run › SIGKILL halfway, restart → resumes from its saved cursor and finishes; nothing expired early', { timeout: 240_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'strata-lifecycle-crash-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const args = { args: ['--lifecycle-day-seconds', String(DAY_S)] };
    let srv: ServerProc = await startOn(dataDir, 15_000, args);
    cleanups.push(() => srv.kill());
    let s3 = testClient(srv.url);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    // The objects first, then the rules: every exp/ object is due at once, so one round has them all.
    await putAll(
      s3,
      Array.from({ length: EXPIRING }, (_, i) => `exp/${String(i).padStart(5, '0')}`),
    );
    await putAll(
      s3,
      Array.from({ length: OTHERS }, (_, i) => `keep/${i}`),
    );
    // Every exp/ object's day (creation + 1 day, rounded up to a day boundary) has come before the
    // rules exist: the first round finds them all due, and the kill below lands in that round.
    const allDue = Math.ceil((Date.now() + DAY_S * 1000) / (DAY_S * 1000)) * DAY_S * 1000;
    await waitFor('every exp/ object due', () => Date.now() > allDue, 10_000);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: BUCKET,
        LifecycleConfiguration: {
          Rules: [
            { ID: 'exp', Status: 'Enabled', Filter: { Prefix: 'exp/' }, Expiration: { Days: 1 } },
            { ID: 'later', Status: 'Enabled', Filter: { Prefix: 'later/' }, Expiration: { Days: 60 } },
          ],
        },
      }),
    );
    // Objects whose day comes in 120 s or more: whatever the job does meanwhile, they must stay.
    const laterKeys = Array.from({ length: OTHERS }, (_, i) => `later/${i}`);
    const announced = (await putAll(s3, laterKeys)).map((e) => Date.parse(/expiry-date="([^"]+)"/.exec(e)?.[1] ?? ''));
    assert.ok(
      announced.every((d) => d >= Date.now() + 100_000),
      'later/ objects announce a date ≥ 100 s away',
    );

    // Kill when the round is well under way: its cursor saved with some expired, many left.
    const db = look(dataDir);
    cleanups.push(async () => db.close());
    const atKill = await waitFor(
      'a lifecycle round halfway',
      () => {
        const c = db.cursor();
        const done = c?.counts.exp?.objects ?? 0;
        return c && done >= 200 && db.left('exp/') >= 400 ? { done } : undefined;
      },
      60_000,
      5,
    );
    await srv.kill();
    s3.destroy();
    const leftAtKill = db.left('exp/');
    const cursorAtKill = db.cursor();
    assert.ok(cursorAtKill && cursorAtKill.bucket === BUCKET, 'the cursor survived the kill');
    assert.ok(leftAtKill > 0 && leftAtKill < EXPIRING, `${leftAtKill} left at the kill`);
    assert.equal(db.left('keep/'), OTHERS);
    assert.equal(db.left('later/'), OTHERS);

    srv = await startOn(dataDir, 15_000, args);
    s3 = testClient(srv.url);
    cleanups.push(async () => s3.destroy());
    await waitFor('every exp/ object expired after the restart', () => db.left('exp/') === 0, 120_000, 50);
    const line = await waitFor(
      'the per-rule log line of the resumed round',
      () =>
        srv
          .tail()
          .split('\n')
          .find((l) => l.includes('lifecycle: expired by rule') && l.includes('"rule":"exp"')),
      30_000,
    );
    const logged = (JSON.parse(line) as { objects: number }).objects;
    // A round started afresh would count only what was left at the kill: the resumed one carries
    // the counts saved before it (at least atKill.done).
    assert.ok(logged >= atKill.done + leftAtKill - 1 && logged > leftAtKill, `logged ${logged}, ${atKill.done} saved before the kill, ${leftAtKill} left`);
    assert.ok(Date.now() < Math.min(...announced), 'the check below ran before any later/ object was due');
    assert.equal(db.left('later/'), OTHERS, 'no later/ object expired early');
    assert.equal(db.left('keep/'), OTHERS, 'no object without a rule expired');
    assert.deepEqual(
      srv.problems.filter((p) => !p.includes('lifecycle')),
      [],
    );
    await srv.stop();
  });
});

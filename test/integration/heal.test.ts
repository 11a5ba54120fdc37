// Healing on a six-drive server (EC 3+3, docs/drives.md "Healing and scrub") with real clients:
// objects written with @aws-sdk/client-s3, shard files deleted on disk, reads byte-exact throughout,
// the heal queue seen through `strata admin heal status` (the CLI as a subprocess) and the admin
// API, then the shards rebuilt byte-exact by the heal job and the scrub; a drive that goes away
// gets the writes made meanwhile queued (shown as degraded objects), healed once it is back. Who
// may read the status: root and a user whose policy allows admin:Heal; not a user without it
// (MinIO's diagnostics policy has no admin:Heal), nor an anonymous caller.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type Keys, type TestUser, adminCall } from '../helpers/admin.js';
import { newBucketName, run } from '../helpers/clients.js';
import { parsePrometheus, scrape, value } from '../helpers/prometheus.js';
import { testClient } from '../helpers/s3.js';
import { ACCESS_KEY, MAIN_JS, type RunningServer, SECRET_KEY, type StartServerOptions, startServer } from '../helpers/server.js';

const ROOT: Keys = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };

interface Status {
  drives: Array<{ index: number; path: string; state: string; queuedShards: number; freeBytes: number | null }>;
  queue: { shards: number; pieces: number; degraded: Array<{ pieceId: string; drives: number[]; reason: string; bucket?: string; key?: string }> };
  healed: { bytes: number; shards: number };
  scrub: { rateBytesPerSecond: number; lastFullPass: { pieces: number } | null };
  metadataCopies?: { epoch: number; copies: Array<{ path: string; state: string }> };
}

/** Every shard file of a drive: `<xx>/<id>` → its bytes. */
async function shardsOf(drive: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const p of await readdir(join(drive, 'shards')).catch(() => [] as string[]))
    for (const f of await readdir(join(drive, 'shards', p))) out.set(`${p}/${f}`, await readFile(join(drive, 'shards', p, f)));
  return out;
}

/** A server on six new drives with a bucket holding `bodies` (written with @aws-sdk/client-s3). */
async function sixDrives(name: string, bucket: string, bodies: Map<string, Buffer>, opts: Omit<StartServerOptions, 'data'>) {
  const root = await mkdtemp(join(tmpdir(), `strata-${name}-it-`));
  const drives = Array.from({ length: 6 }, (_, i) => join(root, `disk${i + 1}`));
  const server = await startServer({ ...opts, data: drives });
  const s3 = testClient(server.url);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const [key, body] of bodies) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const stop = async () => {
    s3.destroy();
    await server.stop();
    await rm(root, { recursive: true, force: true });
  };
  return { drives, server, s3, stop };
}

/** GETs every object of `bodies`: each byte-exact. */
async function allByteExact(s3: S3Client, bucket: string, bodies: Map<string, Buffer>): Promise<void> {
  for (const [key, body] of bodies) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), `${key} byte-exact`);
  }
}

describe('heal on six drives', { timeout: 240_000 }, () => {
  let drives: string[];
  let server: RunningServer;
  let s3: S3Client;
  let stop: (() => Promise<void>) | undefined;
  let healer: TestUser;
  let viewer: TestUser;
  let diag: TestUser;
  const bucket = newBucketName('heal');
  const bodies = new Map<string, Buffer>([
    ['big', randomBytes(3 * 1024 * 1024 + 17)],
    ['one-block', randomBytes(1024 * 1024)],
    ['small', randomBytes(300 * 1024)],
  ]);

  const status = async (keys: Keys = ROOT): Promise<Status> => {
    const r = await adminCall(server.url, keys, 'GET', 'heal/status');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as unknown as Status;
  };
  const strataAdmin = (args: string[]) =>
    run(process.execPath, [MAIN_JS, 'admin', '--endpoint', server.url, ...args], {
      env: { PATH: process.env.PATH, STRATA_ACCESS_KEY: ACCESS_KEY, STRATA_SECRET_KEY: SECRET_KEY },
      timeoutMs: 30_000,
    });
  const byteExact = () => allByteExact(s3, bucket, bodies);
  /** Polls (every 250 ms, at most `ms`) until `cond` holds; reads stay byte-exact meanwhile. */
  const until = async (what: string, cond: () => Promise<boolean>, ms = 60_000) => {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      if (await cond()) return;
      await byteExact();
      await sleep(250);
    }
    assert.fail(`timed out waiting: ${what}\n${JSON.stringify(await status(), null, 1)}`);
  };

  before(async () => {
    ({ drives, server, s3, stop } = await sixDrives('heal', bucket, bodies, {
      args: ['--scrub-rate', '64M'],
      // Scrub passes a second apart (the default is a day).
      env: { STRATA_TEST_SCRUB_PASS_GAP_MS: '1000' },
      users: [{ name: 'healer', policies: ['consoleAdmin'] }, 'viewer', { name: 'diag', policies: ['diagnostics'] }],
    }));
    [healer, viewer, diag] = server.users as [TestUser, TestUser, TestUser];
  });
  after(async () => {
    await stop?.();
  });

  it('GET heal/status: every drive online, nothing queued, the scrub rate; root and an admin:Heal user only', async () => {
    const s = await status();
    assert.deepEqual(
      s.drives.map((d) => [d.index, d.path, d.state]),
      drives.map((p, i) => [i, p, 'online']),
    );
    assert.equal(s.scrub.rateBytesPerSecond, 64 * 1024 * 1024);
    assert.ok(
      s.drives.every((d) => typeof d.freeBytes === 'number' && d.freeBytes > 0),
      'free space of every drive',
    );
    // /metrics too: every drive's free space (signed by root: a cluster's metrics need auth).
    const m = await scrape(server.url, { keys: ROOT });
    assert.equal(m.status, 200, m.text);
    const p = parsePrometheus(m.text);
    for (const [i, path] of drives.entries()) assert.ok(value(p, 'strata_drive_free_bytes', { drive: String(i), path }) > 0, `drive ${i} in /metrics`);
    assert.equal((await status(healer)).drives.length, 6);
    for (const keys of [viewer, diag, undefined]) {
      const r = await adminCall(server.url, keys, 'GET', 'heal/status');
      assert.deepEqual([r.status, r.body.Code], [403, 'AccessDenied'], keys ? (keys as TestUser).name : 'anonymous');
    }
  });

  it('shards deleted on two drives: reads byte-exact throughout, queued and healed byte-exact (the queue and the scrub)', async () => {
    const before0 = await shardsOf(drives[0]!);
    const before3 = await shardsOf(drives[3]!);
    assert.ok(before0.size >= 3 && before3.size >= 3, 'a shard of each object on every drive');
    for (const f of before0.keys()) await unlink(join(drives[0]!, 'shards', f));
    for (const f of [...before3.keys()].slice(0, 2)) await unlink(join(drives[3]!, 'shards', f));
    await byteExact();
    await until('the deleted shards are back', async () => {
      const s = await status();
      return (
        s.queue.shards === 0 &&
        [...before0.keys()].every((f) => existsSync(join(drives[0]!, 'shards', f))) &&
        [...before3.keys()].every((f) => existsSync(join(drives[3]!, 'shards', f)))
      );
    });
    const after0 = await shardsOf(drives[0]!);
    for (const [f, bytes] of before0) assert.ok(after0.get(f)!.equals(bytes), `drive 1 shard ${f} byte-exact`);
    const after3 = await shardsOf(drives[3]!);
    for (const [f, bytes] of before3) assert.ok(after3.get(f)!.equals(bytes), `drive 4 shard ${f} byte-exact`);
    const s = await status();
    assert.ok(s.healed.shards >= before0.size + 2, `healed ${s.healed.shards} shards`);
    assert.ok(s.healed.bytes > 0);
    await byteExact();
  });

  it('a drive gone: writes meanwhile are queued and shown by `strata admin heal status`; healed when it returns', async () => {
    const away = `${drives[5]!}-away`;
    await rename(drives[5]!, away);
    const late = randomBytes(2 * 1024 * 1024 + 5);
    bodies.set('late', late);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'late', Body: late }));
    await byteExact();
    // Queued by the write (short of drive 6). The worker that wrote saw drive 6 fail and recorded it
    // offline in the metadata store: whichever worker answers the status says offline.
    await until('the late object queued for drive 6', async () => (await status()).queue.degraded.some((d) => d.key === 'late' && d.drives.includes(5)));
    for (let i = 0; i < 4; i++) assert.equal((await status()).drives[5]!.state, 'offline', 'every worker says offline');
    const text = await strataAdmin(['heal', 'status']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^DRIVE +STATE +QUEUED +FREE +PATH +ID\n/);
    assert.match(text.stdout, /\n0 +online +\d+ +\d+\.\d [KMGTP]iB +/, 'the free space of an online drive');
    assert.match(text.stdout, /\nMetadata copies \(epoch \d+\): \S+disk1 primary, \S+disk2 in-sync, \S+disk3 in-sync, \S+disk4 in-sync\n/);
    assert.match(text.stdout, new RegExp(`\\n5 +offline +[1-9]\\d* +- +${drives[5]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
    assert.match(text.stdout, /Degraded: [1-9]\d* pieces? .*queued for healing/);
    assert.match(text.stdout, new RegExp(`\\n${bucket}/late +5 +write-failed +`));
    const json = await strataAdmin(['heal', 'status', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.ok((JSON.parse(json.stdout) as Status).queue.degraded.some((d) => d.key === 'late'));
    await rename(away, drives[5]!);
    await until(
      'drive 6 back and healed',
      async () => {
        const s = await status();
        return s.drives[5]!.state === 'online' && s.queue.shards === 0;
      },
      120_000,
    );
    const shards = await shardsOf(drives[5]!);
    assert.ok(shards.size >= 4, 'the late object has its shard on drive 6 again');
    await byteExact();
  });
});

/**
 * A replaced drive, rebuilt while the server serves. With 2 workers the drive may be adopted by
 * either worker's probe while the other holds the jobs lease: the drive states are shared (the
 * metadata store), so the rebuild starts without a restart and every worker reports the same states.
 */
for (const workers of ['1', '2'])
  describe(`a replaced drive (--workers ${workers})`, { timeout: 240_000 }, () => {
    let drives: string[];
    let server: RunningServer;
    let s3: S3Client;
    let stop: (() => Promise<void>) | undefined;
    const bucket = newBucketName('rebuild');
    const bodies = new Map<string, Buffer>([
      ['a', randomBytes(2 * 1024 * 1024 + 3)],
      ['b', randomBytes(200 * 1024)],
    ]);
    const byteExact = () => allByteExact(s3, bucket, bodies);

    before(async () => {
      // No scrub: what rebuilds the new drive is the drive rebuild, not the queue.
      ({ drives, server, s3, stop } = await sixDrives('rebuild', bucket, bodies, { args: ['--workers', workers, '--scrub-rate', '0'] }));
    });
    after(async () => {
      await stop?.();
    });

    it('a drive fails and an empty one takes its place: adopted (healing), rebuilt byte-exact by the drive rebuild, online again', async () => {
      const old = `${drives[2]!}-failed`;
      const format = JSON.parse(await readFile(join(drives[2]!, 'strata-format.json'), 'utf8')) as { drive: string };
      await rename(drives[2]!, old);
      // A write meets the missing drive: it goes offline (the write succeeds on the others).
      const c = randomBytes(1024 * 1024 + 9);
      bodies.set('c', c);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: c }));
      const before = await shardsOf(old);
      await mkdir(drives[2]!);
      await byteExact();
      for (const end = Date.now() + 120_000; ; ) {
        if (server.logs().includes('drive rebuild: done')) break;
        if (Date.now() > end) assert.fail(`no rebuild:\n${server.logs().slice(-3000)}`);
        await byteExact();
        await sleep(250);
      }
      const f = JSON.parse(await readFile(join(drives[2]!, 'strata-format.json'), 'utf8')) as { drive: string; healing?: boolean };
      assert.equal(f.drive, format.drive, 'the slot keeps its drive id');
      assert.notEqual(f.healing, true);
      const now = await shardsOf(drives[2]!);
      for (const [k, bytes] of before) assert.ok(now.get(k)?.equals(bytes), `shard ${k} rebuilt byte-exact`);
      assert.ok(now.size >= before.size + 1, 'the shard of the object written while the drive was out too');
      // The metadata copy on the replaced drive (one of the first four: EC 3+3 keeps m+1 copies) is back too.
      assert.ok(existsSync(join(drives[2]!, 'meta.db')), 'a fresh metadata copy on the new drive');
      // A read during the rebuild may have reported a shard of the drive just before the rebuild
      // wrote it: the heal job finds it whole and drops the entry. Wait for the queue to drain.
      for (const end = Date.now() + 60_000; ; ) {
        const r = await adminCall(server.url, ROOT, 'GET', 'heal/status');
        if ((r.body as unknown as Status).queue.shards === 0) break;
        if (Date.now() > end) assert.fail(`the heal queue did not drain: ${JSON.stringify(r.body)}`);
        await sleep(250);
      }
      // Asked several times (new connections: with 2 workers, each may answer): every answer the same.
      for (let i = 0; i < 4; i++) {
        const r = await adminCall(server.url, ROOT, 'GET', 'heal/status');
        const s = r.body as unknown as Status;
        assert.deepEqual(
          s.drives.map((d) => d.state),
          Array(6).fill('online'),
        );
        assert.equal(s.queue.shards, 0);
        assert.deepEqual(
          s.metadataCopies?.copies.map((c) => c.state),
          ['primary', 'in-sync', 'in-sync', 'in-sync'],
        );
      }
      await byteExact();
    });
  });

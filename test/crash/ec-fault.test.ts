// The seeded fault test of the erasure-coded store (issue 16, "Reliability"; docs/drives.md "How
// this is tested"). A real server (dist/, default --workers) on six drives at EC 3+3, clients over
// HTTP (@aws-sdk/client-s3), objects of mixed sizes (inline, one block, several blocks, multipart),
// and rounds of seeded faults: shards deleted, corrupted or truncated on up to m drives, every shard
// of up to m drives removed, a drive made full (a small tmpfs filled up) or read-only (a read-only
// bind mount; where mounting is refused, the drive's directory replaced by a file), the server
// SIGKILLed during writes and during healing.
// After each round: every acknowledged object reads back byte-exact (whole and ranges), the listing
// holds nothing unacknowledged (a PUT cut by a kill is absent or complete), and the heal queue
// drains with every shard of every referenced piece present and verified on disk (checked
// in-process with the erasure modules). Last, m+1 drives go away: reads fail with 503 SlowDown
// (never wrong bytes), the log names the drives, and when they return reads resume without a restart.
//
// STRATA_FAULT_SEED replays a run (the seed is printed); STRATA_FAULT_ROUNDS makes it longer.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, open, readdir, rename, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { ErasureDataStore } from '../../src/store/data/erasure/store.js';
import type { DriveSet } from '../../src/store/data/erasure/types.js';
import { adminCall } from '../helpers/admin.js';
import { ACCESS_KEY, SECRET_KEY } from '../helpers/server.js';
import { testClient } from '../helpers/s3.js';
import { Prng, bodyOf, type ServerProc, sleep, startOn } from './harness.js';

const SEED = Number(process.env.STRATA_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = Number(process.env.STRATA_FAULT_ROUNDS ?? 6);
const N = 6;
const M = 3; // EC 3+3, the default for six drives
const MIB = 1024 * 1024;
const ROOT_KEYS = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
const BUCKET = 'faults';
/** The drive on a small tmpfs (when mounting works here), the one made full. */
const FULL_DRIVE = 5;

type Kind = 'shards' | 'wipe' | 'full' | 'read-only' | 'kill-write' | 'kill-heal';
const ALL_KINDS: Kind[] = ['shards', 'wipe', 'full', 'read-only', 'kill-write', 'kill-heal'];
/** STRATA_FAULT_KINDS=full,kill-heal: only those kinds of rounds (to chase one fault). */
const KINDS = process.env.STRATA_FAULT_KINDS ? ALL_KINDS.filter((k) => process.env.STRATA_FAULT_KINDS!.split(',').includes(k)) : ALL_KINDS;

interface Obj {
  tag: string;
  size: number;
  multipart: boolean;
}

const log = (s: string) => console.log(`# fault: ${s}`);

describe(`erasure fault rounds (seed ${SEED}, ${ROUNDS} rounds)`, { timeout: 600_000 }, () => {
  const rng = new Prng(SEED);
  let root = '';
  let drives: string[] = [];
  let mounted = false;
  let server: ServerProc | undefined;
  let s3: S3Client | undefined;
  /** Every acknowledged object: key → what it holds. */
  const acked = new Map<string, Obj>();
  /** PUTs cut by a kill: absent, or complete and byte-exact. */
  const inDoubt = new Map<string, Obj>();
  let counter = 0;
  let allOutput = '';

  const env = { STRATA_TEST_SCRUB_PASS_GAP_MS: '1000', STRATA_FREE_GRACE: '1' };
  const start = async () => {
    server = await startOn(drives.join(','), 30_000, { args: ['--scrub-rate', '256M'], env });
    s3 = testClient(server.url);
  };
  const kill = async () => {
    s3?.destroy();
    allOutput += server!.problems.join('\n');
    await server!.kill();
    server = undefined;
  };

  after(async () => {
    s3?.destroy();
    if (server) await server.stop();
    if (mounted) execFileSync('umount', ['-l', join(root, `mnt${FULL_DRIVE}`)]);
    if (root) await rm(root, { recursive: true, force: true });
  });

  const newObj = (): [string, Obj] => {
    const size = rng.weighted<number>([
      [rng.int(1, 128 * 1024), 3], // inline
      [MIB, 2], // one block
      [rng.int(MIB + 1, 3 * MIB + 7), 3], // several blocks
      [5 * MIB + rng.int(1, MIB), 1], // multipart: 5 MiB + the rest
    ]);
    const multipart = size > 5 * MIB;
    const key = `o${String(counter++).padStart(4, '0')}${multipart ? '-mp' : ''}`;
    return [key, { tag: `${key}/${rng.int(0, 1e9)}`, size, multipart }];
  };
  const bodyFor = (o: Obj) => bodyOf(SEED, o.tag, o.size);

  const put = async (client: S3Client, key: string, o: Obj) => {
    const body = bodyFor(o);
    if (!o.multipart) {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      return;
    }
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const parts = [body.subarray(0, 5 * MIB), body.subarray(5 * MIB)];
    const done = [];
    for (const [i, p] of parts.entries()) {
      const r = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: p }));
      done.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    await client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: done } }));
  };
  const putAcked = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const [key, o] = newObj();
      await put(s3!, key, o);
      acked.set(key, o);
    }
  };

  const getBytes = async (key: string, range?: string): Promise<Buffer> => {
    const r = await s3!.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range }));
    return Buffer.from(await r.Body!.transformToByteArray());
  };

  /** Every acknowledged object whole and in two ranges; the listing is the acknowledged objects plus settled in-doubt ones. */
  const checkReads = async () => {
    const listed = new Set<string>();
    let token: string | undefined;
    do {
      const r = await s3!.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
      for (const c of r.Contents ?? []) listed.add(c.Key!);
      token = r.NextContinuationToken;
    } while (token);
    for (const [key, o] of inDoubt) {
      if (listed.has(key)) {
        assert.ok((await getBytes(key)).equals(bodyFor(o)), `${key} (its PUT cut by a kill) is listed: complete and byte-exact`);
        acked.set(key, o);
      }
      inDoubt.delete(key);
    }
    for (const key of listed) assert.ok(acked.has(key), `${key} listed but never acknowledged`);
    for (const [key, o] of acked) {
      assert.ok(listed.has(key), `${key} acknowledged but not listed`);
      const body = bodyFor(o);
      assert.ok((await getBytes(key)).equals(body), `${key} (${o.size} bytes) byte-exact`);
      for (let i = 0; i < 2; i++) {
        const a = rng.int(0, o.size - 1);
        const b = Math.min(o.size - 1, a + rng.int(0, 2 * MIB));
        assert.ok((await getBytes(key, `bytes=${a}-${b}`)).equals(body.subarray(a, b + 1)), `${key} bytes ${a}-${b}`);
      }
    }
  };

  /** Piece ids the metadata references (objects and parts of uploads), read from the first drive's database. */
  const referencedPieces = (): string[] => {
    const db = new Database(join(drives[0]!, 'meta.db'), { readonly: true, fileMustExist: true, timeout: 5000 });
    try {
      const ids = db.prepare('SELECT data_id FROM object_data UNION SELECT data_id FROM upload_parts').pluck().all() as string[];
      return ids.filter((id) => /^[0-9a-f]{32}$/.test(id));
    } finally {
      db.close();
    }
  };
  /** The erasure store's own check of every shard of every referenced piece: the drives with a bad shard, by piece. */
  const badShards = async (): Promise<Map<string, readonly number[]>> => {
    const set: DriveSet = {
      id: 'fault-check',
      drives: drives.map((path, index) => ({ index, path, id: `d${index}`, state: 'online' as const })),
      parityFor: () => M,
      failed: () => {},
      healed: async () => {},
    };
    const store = await ErasureDataStore.open(set);
    const bad = new Map<string, readonly number[]>();
    for (const id of referencedPieces()) {
      const c = await store.verifyPiece(id);
      if (c === undefined) bad.set(id, [-1]);
      else if (c.bad.length > 0) bad.set(id, c.bad);
    }
    return bad;
  };
  const status = async () => {
    const r = await adminCall(server!.url, ROOT_KEYS, 'GET', 'heal/status');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as unknown as { drives: Array<{ state: string }>; queue: { shards: number; degraded: unknown[] }; healed: { shards: number } };
  };
  /** Until the queue is empty, every drive online, and every referenced shard present and verified on disk. */
  const healed = async (what: string) => {
    let last = '';
    for (const end = Date.now() + 120_000; Date.now() < end; await sleep(500)) {
      const s = await status();
      if (s.queue.shards > 0 || s.drives.some((d) => d.state !== 'online')) {
        last = JSON.stringify({ drives: s.drives.map((d) => d.state), queued: s.queue.shards, degraded: s.queue.degraded.slice(0, 3) });
        continue;
      }
      const bad = await badShards();
      if (bad.size === 0) return;
      last = `bad shards: ${JSON.stringify([...bad].slice(0, 5))}`;
    }
    assert.fail(`${what}: not healed within 120 s (${last})\n${server?.problems.slice(-12).join('\n')}`);
  };

  /** Shard files of drive `d`: `<xx>/<id>` paths. */
  const shardFiles = async (d: number): Promise<string[]> => {
    const dir = join(drives[d]!, 'shards');
    const out: string[] = [];
    for (const p of await readdir(dir).catch(() => [] as string[]))
      for (const f of await readdir(join(dir, p)).catch(() => [] as string[])) out.push(join(dir, p, f));
    return out;
  };
  const someDrives = (n: number, from = 0): number[] => {
    const pool = Array.from({ length: N - from }, (_, i) => i + from);
    const out: number[] = [];
    while (out.length < n) out.push(...pool.splice(rng.int(0, pool.length - 1), 1));
    return out.sort();
  };
  /** Damages shard files on up to m drives: each chosen file deleted, corrupted (bytes flipped) or truncated. */
  const damageShards = async () => {
    const on = someDrives(rng.int(1, M));
    let n = 0;
    for (const d of on) {
      for (const f of await shardFiles(d)) {
        if (!rng.chance(0.5)) continue;
        const size = (await stat(f)).size;
        const how = rng.pick(['delete', 'corrupt', 'truncate'] as const);
        if (how === 'delete') await unlink(f);
        else if (how === 'truncate') await truncate(f, rng.int(0, size - 1));
        else {
          const fh = await open(f, 'r+');
          try {
            for (let i = 0; i < 3; i++) {
              const at = rng.int(0, size - 1);
              const b = Buffer.alloc(1);
              await fh.read(b, 0, 1, at);
              b[0] = b[0]! ^ (1 << rng.int(0, 7));
              await fh.write(b, 0, 1, at);
            }
          } finally {
            await fh.close();
          }
        }
        n++;
      }
    }
    log(`damaged ${n} shard files on drives ${on.join(',')}`);
  };
  const wipeDrives = async () => {
    const on = someDrives(rng.int(1, M));
    for (const d of on) for (const f of await shardFiles(d)) await unlink(f);
    log(`removed every shard of drives ${on.join(',')}`);
    return on;
  };
  /** Reads everything (reads meet the missing shards and queue them), tolerating nothing but byte-exact answers. */
  const readAll = async () => {
    for (const [key, o] of acked) assert.ok((await getBytes(key)).equals(bodyFor(o)), `${key} byte-exact while degraded`);
  };

  const round = async (kind: Kind) => {
    switch (kind) {
      case 'shards':
        await damageShards();
        await readAll();
        await putAcked(2);
        break;
      case 'wipe':
        await wipeDrives();
        await readAll();
        await putAcked(2);
        break;
      case 'full': {
        const d = mounted ? FULL_DRIVE : rng.int(M + 1, N - 1);
        const filler = join(root, `mnt${FULL_DRIVE}`, 'filler');
        if (mounted) {
          // Fill the tmpfs up to its last byte.
          const chunk = Buffer.alloc(MIB);
          try {
            for (let i = 0; i < 1024; i++) await appendFile(filler, chunk);
          } catch (err) {
            assert.equal((err as { code?: string }).code, 'ENOSPC');
          }
          try {
            for (let i = 0; i < 1024 * 1024; i++) await appendFile(filler, Buffer.alloc(1));
          } catch {
            // full
          }
          log(`drive ${d} full (tmpfs)`);
        } else {
          await rename(drives[d]!, `${drives[d]!}-away`);
          await writeFile(drives[d]!, 'not a drive');
          log(`drive ${d} replaced by a file`);
        }
        await putAcked(3);
        await readAll();
        if (mounted) await unlink(filler);
        else {
          await unlink(drives[d]!);
          await rename(`${drives[d]!}-away`, drives[d]!);
        }
        break;
      }
      case 'read-only': {
        // A read-only bind mount of the drive on itself: new opens fail with EROFS (descriptors
        // already open, like the drive's lock, keep working, as on a file system remounted
        // read-only after an error). Without mounts: the directory replaced by a file.
        if (!mounted) return round('full');
        const d = rng.int(1, N - 1);
        execFileSync('mount', ['--bind', drives[d]!, drives[d]!]);
        execFileSync('mount', ['-o', 'remount,bind,ro', drives[d]!]);
        log(`drive ${d} read-only (bind mount remounted ro)`);
        try {
          await putAcked(3);
          await readAll();
        } finally {
          execFileSync('umount', [drives[d]!]);
        }
        break;
      }
      case 'kill-write': {
        const pending: Array<Promise<unknown>> = [];
        for (let i = 0; i < 6; i++) {
          const [key, o] = newObj();
          inDoubt.set(key, o);
          pending.push(
            put(s3!, key, o).then(
              () => {
                inDoubt.delete(key);
                acked.set(key, o);
              },
              () => {},
            ),
          );
        }
        await sleep(rng.int(5, 400));
        await kill();
        await Promise.all(pending);
        log(`killed during writes (${inDoubt.size} PUTs cut)`);
        await start();
        break;
      }
      case 'kill-heal': {
        await wipeDrives();
        await readAll();
        const before = (await status()).healed.shards;
        for (const end = Date.now() + 30_000; Date.now() < end && (await status()).healed.shards === before; ) await sleep(50);
        await sleep(rng.int(0, 300));
        await kill();
        log('killed during healing');
        await start();
        break;
      }
    }
  };

  it('survives seeded rounds of shard, drive and process faults; m+1 drives gone gives 503 SlowDown, resumed without a restart', async () => {
    console.log(`# fault: seed ${SEED} (replay: STRATA_FAULT_SEED=${SEED} STRATA_FAULT_ROUNDS=${ROUNDS})`);
    root = await mkdtemp(join(tmpdir(), 'strata-fault-'));
    drives = Array.from({ length: N }, (_, i) => join(root, `disk${i}`));
    const mnt = join(root, `mnt${FULL_DRIVE}`);
    await mkdir(mnt);
    try {
      // STRATA_FAULT_NO_MOUNT=1 plays the fallback of a machine where mounting is refused.
      if (process.env.STRATA_FAULT_NO_MOUNT === '1') throw new Error('no mounts');
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mnt], { stdio: 'ignore' });
      mounted = true;
      drives[FULL_DRIVE] = join(mnt, 'drive');
    } catch {
      log('cannot mount a tmpfs here: a full drive is played by a file in its place');
    }
    await start();
    await s3!.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await putAcked(6);
    await checkReads();

    // Every kind once (in a seeded order), then seeded picks.
    const order = [...KINDS].sort(() => rng.next() - 0.5);
    for (let r = 0; r < ROUNDS; r++) {
      const kind = r < order.length ? order[r]! : rng.pick(KINDS);
      log(`round ${r + 1}/${ROUNDS}: ${kind}`);
      await round(kind);
      await healed(`round ${r + 1} (${kind})`);
      await checkReads();
      // Keep the set small: the oldest objects are deleted.
      for (const key of [...acked.keys()].slice(0, Math.max(0, acked.size - 12))) {
        await s3!.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
        acked.delete(key);
      }
    }

    // m+1 drives gone (never the first: it holds the metadata database): no read of a coded object
    // answers anything but 503 SlowDown; the log names the drives; they come back without a restart.
    const gone = someDrives(M + 1, 1);
    for (const d of gone) await rename(drives[d]!, `${drives[d]!}-gone`);
    log(`drives ${gone.join(',')} gone`);
    let refused = 0;
    for (const [key, o] of acked) {
      try {
        const got = await getBytes(key);
        assert.ok(got.equals(bodyFor(o)), `${key}: never wrong bytes`);
        assert.ok(o.size <= 128 * 1024, `${key} (${o.size} bytes, coded) read with ${M + 1} drives gone`);
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        assert.deepEqual([e.name, e.$metadata?.httpStatusCode], ['SlowDown', 503], `${key}: ${String(err)}`);
        refused++;
      }
    }
    assert.ok(refused > 0, 'some coded object was refused');
    // A write below the write quorum is refused the same way, and never listed afterwards.
    const refusedPut = await put(s3!, 'refused', { tag: 'refused', size: 2 * MIB + 3, multipart: false }).then(
      () => assert.fail('a PUT with m+1 drives gone was acknowledged'),
      (err: { name?: string; $metadata?: { httpStatusCode?: number } }) => [err.name, err.$metadata?.httpStatusCode],
    );
    assert.deepEqual(refusedPut, ['SlowDown', 503]);
    const output = allOutput + server!.problems.join('\n');
    for (const d of gone) assert.ok(output.includes(drives[d]!), `the log names drive ${drives[d]}`);
    for (const d of gone) await rename(`${drives[d]!}-gone`, drives[d]!);
    const [probeKey, probe] = [...acked].find(([, o]) => o.size > 128 * 1024)!;
    let back = false;
    for (const end = Date.now() + 30_000; !back && Date.now() < end; await sleep(250)) {
      back = await getBytes(probeKey).then(
        (got) => {
          assert.ok(got.equals(bodyFor(probe)), `${probeKey}: never wrong bytes`);
          return true;
        },
        () => false,
      );
    }
    assert.ok(back, `reads resumed without a restart\n${server!.tail()}`);
    await healed('after the drives returned');
    await checkReads();
  });
});

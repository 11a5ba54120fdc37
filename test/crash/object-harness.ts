// The crash harness's model and driver (test/crash/crash.test.ts and crash-drives.test.ts run it):
// concurrent uploads against the real server, SIGKILL at a random moment, restart on the same data
// (one directory, or the drives of an erasure set), check every acknowledged write, repeat. What it
// checks is described at the top of crash.test.ts.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { crashClient } from './cycles.js';
import {
  Prng,
  bodyOf,
  crashServer,
  deadline,
  inspectDataDir,
  md5Hex,
  sha256Hex,
  sleep,
  spawnRaw,
  startOn,
  type DataDirState,
  type ServerProc,
} from './harness.js';

/**
 * A bounded wait, not a speed assertion (a loaded 2-core machine must not fail the run): a start
 * that has not logged `listening` by then, or a refused second server that has not exited, fails.
 * How fast a start is (~0.2–0.6 s) is printed in the summary line.
 */
export const START_LIMIT_MS = 30_000;
const BUCKET = 'crash';
const MiB = 1024 * 1024;
const WORKERS = 4;
/** Kill this long (uniform) after a burst of operations starts. */
const KILL_DELAY_MS: [number, number] = [0, 200];

/** Objects up to 512 KiB; the big keys also get 1–8 MiB objects and multipart uploads. */
const SMALL_KEYS = Array.from({ length: 16 }, (_, i) => `k/${String(i).padStart(2, '0')}`);
const BIG_KEYS = ['big/0', 'big/1', 'mp/0', 'mp/1'];
/**
 * Written right after each restart, while the startup's orphan sweep runs (on a large store it runs
 * for minutes next to normal traffic): it must never take the piece of a write between its rename
 * and its metadata commit. Bursts do not touch these keys, so they are certain at every restart.
 */
const EARLY_KEYS = Array.from({ length: 12 }, (_, i) => `early/${i}`);
const ALL_KEYS = [...SMALL_KEYS, ...BIG_KEYS];
const VERIFIED_KEYS = [...ALL_KEYS, ...EARLY_KEYS];

const errText = (e: unknown): string => {
  const x = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return `${x?.name ?? 'Error'}${x?.$metadata?.httpStatusCode ? ` (HTTP ${x.$metadata.httpStatusCode})` : ''}${x?.code ? ` [${x.code}]` : ''}: ${x?.message ?? String(e)}`;
};
const httpStatus = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

// ---- the model -------------------------------------------------------------------------------------

/** One possible state of a key: what GET must return. */
interface Write {
  /** State id (a key's candidates are state ids). */
  sid: string;
  /** The write whose metadata the object carries (x-amz-meta-wid, Content-Type). */
  metaWid: string;
  size: number;
  sha256: string;
  /** MD5 hex of the whole body (a copy's ETag). */
  md5: string;
  etag: string;
  /** The x-amz-meta-sha256 the object carries ('multipart' for completed uploads: unknown at creation). */
  metaSha: string;
  desc: string;
}

interface Upload {
  id: string;
  key: string;
  /** Write id of the object the upload becomes (its metadata is given at creation). */
  wid: string;
  /** Part sizes by part number - 1. */
  plan: number[];
  /** Part number → candidate variants (null: absent). */
  parts: Map<number, Set<number | null>>;
  /** Can it still exist? {true}, or {true, false} after an unknown Complete/Abort. */
  exists: Set<boolean>;
  /** Set by a Complete in flight at the kill: the state id the key gets if it committed. */
  completing?: string;
}

const contentTypeOf = (metaWid: string) => `application/x-crash; w=${metaWid}`;

class HarnessFailure extends Error {}

/** `kills` cycles of the harness on `data` (one directory, or the drives of a set); the server is gone afterwards. */
export async function runHarness(seed: number, kills: number, data: readonly string[]): Promise<void> {
  const h = new Harness(seed, data);
  try {
    await h.run(kills);
  } finally {
    await h.shutdown();
  }
}

class Harness {
  /** Decisions of the current cycle (kill delay, startup kill, ...): one stream per cycle, so they do not depend on timing. */
  private rng: Prng;
  private server?: ServerProc;
  private client?: S3Client;
  private cycle = 0;
  private killed = false;
  private failure?: Error;
  private widCounter = 0;

  private readonly keyState = new Map<string, Set<string | null>>(VERIFIED_KEYS.map((k) => [k, new Set([null])]));
  private readonly writes = new Map<string, Write>();
  private readonly uploads = new Map<string, Upload>();
  /** Keys with a CreateMultipartUpload in flight at the kill (upload id unknown). */
  private readonly unknownCreates = new Set<string>();
  private readonly busy = new Set<string>();
  private readonly history = new Map<string, string[]>();
  private readonly partEtags = new Map<string, string>();

  private readonly stats = {
    acked: {} as Record<string, number>,
    unknown: {} as Record<string, number>,
    startMs: [] as number[],
    startupKills: 0,
    /** Requests in flight at a kill whose effect was found after the restart / was not. */
    inFlightCommitted: 0,
    inFlightLost: 0,
    objectsVerified: 0,
    bytesVerified: 0,
    lockChecks: 0,
    strayUploadsAborted: 0,
  };

  /** `--data`'s value: the directory, or the drives joined with commas. */
  private readonly dataArg: string;
  private kills = 0;

  /** `data`: one data directory, or the drives of an erasure set (in order). */
  constructor(
    private readonly seed: number,
    private readonly data: readonly string[],
  ) {
    this.rng = new Prng(seed);
    this.dataArg = data.join(',');
  }

  // ---- the run -----------------------------------------------------------------------------------

  async run(kills: number): Promise<void> {
    this.kills = kills;
    const t0 = performance.now();
    await this.start();
    await this.client!.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (this.cycle = 1; this.cycle <= kills; this.cycle++) {
      this.rng = this.streamOf(0);
      await this.burstAndKill();
      if (this.rng.chance(0.15)) await this.killDuringStartup();
      await this.start();
      // Two rounds: the second one's pieces replace (and free) the first one's while the sweep may run.
      for (let round = 0; round < 2; round++) await Promise.all(EARLY_KEYS.map((k) => this.put(k, this.rng.int(1, 64 * 1024))));
      if (this.cycle % 10 === 0) await this.checkLockRefusesSecondServer();
      await this.verify();
    }
    this.rng = this.streamOf(0);
    await this.converge();
    const s = this.stats;
    const ms = s.startMs;
    console.log(
      `# crash harness: ${kills} kills (+${s.startupKills} during startup) in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `startup max ${Math.max(...ms).toFixed(0)} ms, mean ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(0)} ms; ` +
        `acknowledged ${JSON.stringify(s.acked)}; in flight at a kill ${JSON.stringify(s.unknown)} ` +
        `(object writes/deletes in flight found committed after the restart: ${s.inFlightCommitted}, not committed: ${s.inFlightLost}); ` +
        `verified ${s.objectsVerified} objects, ${(s.bytesVerified / MiB).toFixed(0)} MiB, byte for byte; ` +
        `lock checks ${s.lockChecks}; stray uploads aborted ${s.strayUploadsAborted}`,
    );
  }

  /** The PRNG stream of (seed, cycle, stream): 0 for the cycle's own decisions, 1.. for the workers. */
  private streamOf(stream: number): Prng {
    return new Prng((Math.imul(this.seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(this.cycle, 0x85ebca6b) + Math.imul(stream + 1, 0xc2b2ae35)) >>> 0);
  }

  async shutdown(): Promise<void> {
    this.client?.destroy();
    if (this.server) await this.server.kill().catch(() => undefined);
    this.server = undefined;
  }

  private async start(): Promise<void> {
    this.client?.destroy();
    const s = await startOn(this.dataArg, START_LIMIT_MS).catch((err: unknown) => this.fail(`the server did not start: ${(err as Error).message}`));
    this.server = s;
    this.stats.startMs.push(s.startMs);
    this.client = crashClient(s.url);
    this.killed = false;
  }

  /** A kill while the server starts up (opening, sweeping tmp/, or during the orphan sweep). */
  private async killDuringStartup(): Promise<void> {
    const p = spawnRaw(this.dataArg);
    await sleep(this.rng.int(0, 400));
    crashServer(p.child);
    await p.exited;
    this.stats.startupKills++;
  }

  private async checkLockRefusesSecondServer(): Promise<void> {
    const second = spawnRaw(this.dataArg);
    const r = await Promise.race([second.exited, deadline(START_LIMIT_MS)]);
    if (!r) {
      second.child.kill('SIGKILL');
      await second.exited;
      this.fail(`a second server on the same data directory did not exit within ${START_LIMIT_MS / 1000} s`);
    }
    if (r.code === 0 || !second.output().includes('in use by another Strata process')) {
      this.fail(`a second server on the same data directory was not refused (exit ${r.code}):\n${second.output()}`);
    }
    this.stats.lockChecks++;
  }

  // ---- a burst of operations, killed ---------------------------------------------------------------

  private async burstAndKill(): Promise<void> {
    const server = this.server!;
    const delay = this.rng.int(...KILL_DELAY_MS);
    const timer = setTimeout(() => {
      this.killed = true;
      void server.kill();
    }, delay);
    // Each worker draws from its own stream: its choices replay with the seed (which of them a kill
    // catches in flight, and which keys are busy when it chooses, depend on timing).
    const workers = Array.from({ length: WORKERS }, async (_, i) => {
      const rng = this.streamOf(i + 1);
      while (!this.killed && !this.failure) {
        try {
          if (!(await this.oneOperation(rng))) await sleep(1);
        } catch (err) {
          this.failure ??= err as Error;
        }
      }
    });
    await Promise.all(workers);
    clearTimeout(timer);
    this.killed = true;
    await server.kill();
    this.server = undefined;
    if (this.failure) throw this.failure;
    const problems = server.problems;
    if (problems.length > 0) this.fail(`the server logged problems before the kill:\n${problems.join('\n')}`);
  }

  /** Runs one randomly chosen operation; false if none could be chosen now (keys busy). */
  private async oneOperation(rng: Prng): Promise<boolean> {
    const free = (keys: string[]) => keys.filter((k) => !this.busy.has(k));
    const openUploads = [...this.uploads.values()].filter((u) => !this.busy.has(u.key) && this.isCertain(u));
    const kind = rng.weighted([
      ['put', 40],
      ['putBig', 3],
      ['copy', 10],
      ['delete', 6],
      ['deleteObjects', 6],
      ['multipart', this.uploads.size < 4 ? 5 : 0],
      ['continueUpload', openUploads.length > 0 ? 5 : 0],
    ] as const);
    switch (kind) {
      case 'put': {
        const keys = free(ALL_KEYS);
        if (keys.length === 0) return false;
        const r = rng.next();
        // Both storage paths: up to 128 KiB inline in the metadata database, larger as a data piece.
        const size = r < 0.05 ? 0 : r < 0.4 ? rng.int(1, 1024) : r < 0.75 ? rng.int(1025, 128 * 1024) : rng.int(128 * 1024 + 1, 512 * 1024);
        await this.put(rng.pick(keys), size);
        return true;
      }
      case 'putBig': {
        const keys = free(BIG_KEYS);
        if (keys.length === 0) return false;
        await this.put(rng.pick(keys), rng.int(1 * MiB, 8 * MiB));
        return true;
      }
      case 'copy': {
        const sources = free(ALL_KEYS).filter((k) => this.currentSid(k) !== undefined);
        if (sources.length === 0) return false;
        const src = rng.pick(sources);
        const big = this.writes.get(this.currentSid(src)!)!.size > 512 * 1024;
        const directive = rng.chance(0.5) ? 'REPLACE' : 'COPY';
        // A copy onto itself is only legal when the metadata changes.
        const dsts = free(big ? BIG_KEYS : ALL_KEYS).filter((k) => k !== src || directive === 'REPLACE');
        if (dsts.length === 0) return false;
        await this.copy(src, rng.pick(dsts), directive);
        return true;
      }
      case 'delete': {
        const keys = free(ALL_KEYS);
        if (keys.length === 0) return false;
        await this.deleteOne(rng.pick(keys));
        return true;
      }
      case 'deleteObjects': {
        const keys = free(ALL_KEYS);
        if (keys.length === 0) return false;
        const n = rng.int(1, Math.min(4, keys.length));
        const chosen = new Set<string>();
        while (chosen.size < n) chosen.add(rng.pick(keys));
        await this.deleteMany([...chosen]);
        return true;
      }
      case 'multipart': {
        const keys = free(BIG_KEYS);
        if (keys.length === 0) return false;
        await this.multipart(rng.pick(keys), rng);
        return true;
      }
      case 'continueUpload': {
        const u = openUploads.filter((x) => !this.busy.has(x.key));
        if (u.length === 0) return false;
        await this.continueUpload(rng.pick(u), rng);
        return true;
      }
    }
  }

  /**
   * Sends one request. Resolves with the response when it was acknowledged, with undefined when it
   * failed because of the kill (its effect is unknown). Any failure while the server runs fails the run.
   */
  private async send<T>(what: string, keys: string[], fn: (c: S3Client) => Promise<T>): Promise<T | undefined> {
    const client = this.client!;
    try {
      const r = await fn(client);
      this.stats.acked[what] = (this.stats.acked[what] ?? 0) + 1;
      return r;
    } catch (err) {
      if (this.killed) {
        this.stats.unknown[what] = (this.stats.unknown[what] ?? 0) + 1;
        for (const k of keys) this.note(k, `  ↳ ${what} in flight at the kill: ${errText(err)}`);
        return undefined;
      }
      this.fail(`${what} ${keys.join(', ')} failed while the server was running: ${errText(err)}`);
    }
  }

  private lock(keys: string[]): void {
    for (const k of keys) {
      if (this.busy.has(k)) throw new Error(`harness bug: ${k} is busy`);
      this.busy.add(k);
    }
  }

  private unlock(keys: string[]): void {
    for (const k of keys) this.busy.delete(k);
  }

  private nextWid(): string {
    return `w${this.cycle}.${++this.widCounter}`;
  }

  private async put(key: string, size: number): Promise<void> {
    const wid = this.nextWid();
    const body = bodyOf(this.seed, wid, size);
    const sha = sha256Hex(body);
    const md5 = md5Hex(body);
    const w: Write = { sid: wid, metaWid: wid, size, sha256: sha, md5, etag: `"${md5}"`, metaSha: sha, desc: `PutObject ${size} B` };
    this.writes.set(wid, w);
    this.lock([key]);
    try {
      this.note(key, `cycle ${this.cycle}: put ${wid} (${size} B)`);
      const r = await this.send('PutObject', [key], (c) =>
        c.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: contentTypeOf(wid), Metadata: { wid, sha256: w.sha256 } })),
      );
      if (r) {
        if (r.ETag !== w.etag) this.fail(`PutObject ${key}: ETag ${r.ETag}, expected ${w.etag}`);
        this.settle(key, wid);
      } else this.maybe(key, wid);
    } finally {
      this.unlock([key]);
    }
  }

  private async copy(src: string, dst: string, directive: 'COPY' | 'REPLACE'): Promise<void> {
    const from = this.writes.get(this.currentSid(src)!)!;
    // A copy is a single-part object: its ETag is the MD5 of its bytes (also for a multipart source).
    const etag = `"${from.md5}"`;
    let w: Write;
    if (directive === 'REPLACE') {
      const wid = this.nextWid();
      w = { ...from, sid: wid, metaWid: wid, etag, metaSha: from.sha256, desc: `CopyObject REPLACE of ${from.sid}` };
    } else {
      // The copy keeps the source's metadata: the same observable state as a single-part source.
      w = etag === from.etag ? from : { ...from, sid: `${from.sid}~copy`, etag, desc: `CopyObject COPY of multipart ${from.sid}` };
    }
    this.writes.set(w.sid, w);
    const keys = src === dst ? [src] : [src, dst];
    this.lock(keys);
    try {
      this.note(dst, `cycle ${this.cycle}: copy ${directive} from ${src} (${from.sid}) → ${w.sid}`);
      const r = await this.send('CopyObject', [dst], (c) =>
        c.send(
          new CopyObjectCommand({
            Bucket: BUCKET,
            Key: dst,
            CopySource: `${BUCKET}/${src}`,
            MetadataDirective: directive,
            ...(directive === 'REPLACE' && { ContentType: contentTypeOf(w.metaWid), Metadata: { wid: w.metaWid, sha256: w.sha256 } }),
          }),
        ),
      );
      if (r) {
        if (r.CopyObjectResult?.ETag !== w.etag) this.fail(`CopyObject ${src} → ${dst}: ETag ${r.CopyObjectResult?.ETag}, expected ${w.etag}`);
        this.settle(dst, w.sid);
      } else this.maybe(dst, w.sid);
    } finally {
      this.unlock(keys);
    }
  }

  private async deleteOne(key: string): Promise<void> {
    this.lock([key]);
    try {
      this.note(key, `cycle ${this.cycle}: DeleteObject`);
      const r = await this.send('DeleteObject', [key], (c) => c.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key })));
      if (r) this.settle(key, null);
      else this.maybe(key, null);
    } finally {
      this.unlock([key]);
    }
  }

  private async deleteMany(keys: string[]): Promise<void> {
    this.lock(keys);
    try {
      for (const k of keys) this.note(k, `cycle ${this.cycle}: DeleteObjects [${keys.join(', ')}]`);
      const r = await this.send('DeleteObjects', keys, (c) =>
        c.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: false } })),
      );
      if (r) {
        if ((r.Errors ?? []).length > 0) this.fail(`DeleteObjects: errors ${JSON.stringify(r.Errors)}`);
        const deleted = new Set((r.Deleted ?? []).map((d) => d.Key));
        for (const k of keys) {
          if (!deleted.has(k)) this.fail(`DeleteObjects: ${k} not reported as deleted`);
          this.settle(k, null);
        }
      } else for (const k of keys) this.maybe(k, null); // keys are deleted one by one: each either way
    } finally {
      this.unlock(keys);
    }
  }

  private async multipart(key: string, rng: Prng): Promise<void> {
    this.lock([key]);
    try {
      const wid = this.nextWid();
      // 5 MiB is the smallest part but the last: one small part often, two parts sometimes.
      const plan = rng.chance(0.6) ? [rng.int(1, 256 * 1024)] : [5 * MiB, rng.int(1, 256 * 1024)];
      this.note(key, `cycle ${this.cycle}: CreateMultipartUpload for ${wid}, parts ${plan.join('+')} B`);
      const r = await this.send('CreateMultipartUpload', [key], (c) =>
        c.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: contentTypeOf(wid), Metadata: { wid, sha256: 'multipart' } })),
      );
      if (!r) {
        this.unknownCreates.add(key);
        return;
      }
      const u: Upload = { id: r.UploadId!, key, wid, plan, parts: new Map(), exists: new Set([true]) };
      this.uploads.set(u.id, u);
      this.note(key, `  ↳ upload ${u.id}`);
      for (let n = 1; n <= plan.length; n++) {
        if (!(await this.uploadPart(u, n, 1))) return;
        // Now and then a part is uploaded again with other bytes: the first piece must be freed.
        if (n === 1 && rng.chance(0.25) && !(await this.uploadPart(u, 1, 2))) return;
      }
      if (rng.chance(0.75)) await this.complete(u); // otherwise left open for a later cycle
    } finally {
      this.unlock([key]);
    }
  }

  private async continueUpload(u: Upload, rng: Prng): Promise<void> {
    this.lock([u.key]);
    try {
      if (rng.chance(0.25)) {
        this.note(u.key, `cycle ${this.cycle}: AbortMultipartUpload ${u.id}`);
        const r = await this.send('AbortMultipartUpload', [u.key], (c) =>
          c.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: u.key, UploadId: u.id })),
        );
        if (r) this.uploads.delete(u.id);
        else u.exists = new Set([true, false]);
        return;
      }
      for (let n = 1; n <= u.plan.length; n++) {
        if (u.parts.get(n)?.has(null) === false) continue;
        if (!(await this.uploadPart(u, n, 1))) return;
      }
      await this.complete(u);
    } finally {
      this.unlock([u.key]);
    }
  }

  private partBody(u: Upload, n: number, v: number): Buffer {
    return bodyOf(this.seed, `${u.wid}.p${n}.v${v}`, u.plan[n - 1]!);
  }

  private partEtag(u: Upload, n: number, v: number): string {
    const k = `${u.wid}.p${n}.v${v}`;
    let e = this.partEtags.get(k);
    if (!e) this.partEtags.set(k, (e = `"${md5Hex(this.partBody(u, n, v))}"`));
    return e;
  }

  private async uploadPart(u: Upload, n: number, v: number): Promise<boolean> {
    const body = this.partBody(u, n, v);
    this.note(u.key, `  ↳ UploadPart ${n} variant ${v} (${body.length} B)`);
    const r = await this.send('UploadPart', [u.key], (c) =>
      c.send(new UploadPartCommand({ Bucket: BUCKET, Key: u.key, UploadId: u.id, PartNumber: n, Body: body })),
    );
    const cands = u.parts.get(n) ?? new Set([null]);
    if (r) {
      if (r.ETag !== this.partEtag(u, n, v)) this.fail(`UploadPart ${u.key} ${n}: ETag ${r.ETag}, expected ${this.partEtag(u, n, v)}`);
      u.parts.set(n, new Set([v]));
      return true;
    }
    cands.add(v);
    u.parts.set(n, cands);
    return false;
  }

  private async complete(u: Upload): Promise<void> {
    const variants = u.plan.map((_, i) => {
      const c = u.parts.get(i + 1);
      if (!c || c.size !== 1 || c.has(null)) throw new Error(`harness bug: completing ${u.id} with uncertain part ${i + 1}`);
      return [...c][0] as number;
    });
    const bodies = variants.map((v, i) => this.partBody(u, i + 1, v));
    const whole = Buffer.concat(bodies);
    const etag = `"${md5Hex(Buffer.concat(bodies.map((b) => Buffer.from(md5Hex(b), 'hex'))))}-${bodies.length}"`;
    const w: Write = {
      sid: u.wid,
      metaWid: u.wid,
      size: whole.length,
      sha256: sha256Hex(whole),
      md5: md5Hex(whole),
      etag,
      metaSha: 'multipart',
      desc: `CompleteMultipartUpload ${u.id} (parts ${variants.map((v, i) => `${i + 1}v${v}`).join(', ')})`,
    };
    this.writes.set(w.sid, w);
    this.note(u.key, `cycle ${this.cycle}: CompleteMultipartUpload ${u.id} → ${w.sid} (${w.size} B)`);
    const r = await this.send('CompleteMultipartUpload', [u.key], (c) =>
      c.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: u.key,
          UploadId: u.id,
          MultipartUpload: { Parts: variants.map((v, i) => ({ PartNumber: i + 1, ETag: this.partEtag(u, i + 1, v) })) },
        }),
      ),
    );
    if (r) {
      if (r.ETag !== w.etag) this.fail(`CompleteMultipartUpload ${u.key}: ETag ${r.ETag}, expected ${w.etag}`);
      this.uploads.delete(u.id);
      this.settle(u.key, w.sid);
    } else {
      u.exists = new Set([true, false]);
      u.completing = w.sid;
      this.maybe(u.key, w.sid);
    }
  }

  // ---- model bookkeeping ---------------------------------------------------------------------------

  /** The key's state, when it is certain and the object exists. */
  private currentSid(key: string): string | undefined {
    const c = this.keyState.get(key)!;
    if (c.size !== 1) return undefined;
    const [sid] = c;
    return sid ?? undefined;
  }

  private isCertain(u: Upload): boolean {
    return u.exists.size === 1 && [...u.parts.values()].every((c) => c.size === 1);
  }

  private settle(key: string, sid: string | null): void {
    this.keyState.set(key, new Set([sid]));
  }

  private maybe(key: string, sid: string | null): void {
    this.keyState.get(key)!.add(sid);
    this.inFlight.set(key, sid);
  }

  /** Key → the state an operation in flight at the kill would have left (for the statistics). */
  private readonly inFlight = new Map<string, string | null>();

  private note(key: string, line: string): void {
    const h = this.history.get(key) ?? [];
    h.push(line);
    if (h.length > 30) h.splice(0, h.length - 30);
    this.history.set(key, h);
  }

  private fail(msg: string, key?: string): never {
    const parts = [`crash harness (seed ${this.seed}, cycle ${this.cycle}/${this.kills}): ${msg}`];
    if (key !== undefined) {
      const c = [...this.keyState.get(key)!].map((s) => (s === null ? 'absent' : `${s} [${this.writes.get(s)?.desc}]`));
      parts.push(`key ${key}: acceptable states: ${c.join(' | ')}`, `history of ${key}:`, ...(this.history.get(key) ?? []));
    }
    if (this.server) parts.push('server output (tail):', this.server.tail());
    const err = new HarnessFailure(parts.join('\n'));
    this.failure ??= err;
    throw err;
  }

  // ---- verification after a restart ----------------------------------------------------------------

  private async verify(): Promise<void> {
    const c = this.client!;
    // ListObjectsV2 in pages of a random size.
    const listed = new Map<string, { etag: string; size: number }>();
    const pageSize = this.rng.int(1, 25);
    let token: string | undefined;
    do {
      const page = await c.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: pageSize, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (listed.has(o.Key!)) this.fail(`ListObjectsV2 lists ${o.Key} twice`);
        listed.set(o.Key!, { etag: o.ETag!, size: o.Size! });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    for (const k of listed.keys()) if (!this.keyState.has(k)) this.fail(`ListObjectsV2 lists ${k}, which was never written`);

    // Every key, GET and HEAD, four at a time.
    const observed = new Map<string, string | null>();
    const queue = [...VERIFIED_KEYS];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) observed.set(key, await this.checkKey(key, listed.get(key)));
      }),
    );

    await this.checkUploads(observed);
    for (const [key, sid] of observed) {
      if (this.inFlight.has(key)) {
        if (this.inFlight.get(key) === sid) this.stats.inFlightCommitted++;
        else this.stats.inFlightLost++;
      }
      this.settle(key, sid);
    }
    this.inFlight.clear();

    // Metadata must only reference pieces that are on disk.
    const d = inspectDataDir(this.data);
    for (const id of [...d.objectRefs, ...d.partRefs]) {
      if (!d.files.has(id)) this.fail(`the metadata references piece ${id}, which is not on disk`);
      if (d.partial.has(id)) this.fail(`the metadata references piece ${id}, whose shards are not on every drive: ${d.partial.get(id)}`);
    }

    const problems = this.server!.problems;
    if (problems.length > 0) this.fail(`the server logged problems after the restart:\n${problems.join('\n')}`);
  }

  /** GET + HEAD of one key against the model and the listing; returns the observed state id. */
  private async checkKey(key: string, listedAs: { etag: string; size: number } | undefined): Promise<string | null> {
    const c = this.client!;
    const cands = this.keyState.get(key)!;
    let got: { body: Buffer; etag: string; length: number; type?: string; meta: Record<string, string> } | undefined;
    try {
      const r = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const body = Buffer.from(await r.Body!.transformToByteArray());
      got = { body, etag: r.ETag!, length: r.ContentLength!, type: r.ContentType, meta: r.Metadata ?? {} };
    } catch (err) {
      if (!(httpStatus(err) === 404 && (err as Error).name === 'NoSuchKey')) this.fail(`GET ${key}: ${errText(err)}`, key);
    }
    let head: { etag: string; length: number; meta: Record<string, string> } | undefined;
    try {
      const r = await c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      head = { etag: r.ETag!, length: r.ContentLength!, meta: r.Metadata ?? {} };
    } catch (err) {
      if (httpStatus(err) !== 404) this.fail(`HEAD ${key}: ${errText(err)}`, key);
    }
    if (!got) {
      if (head) this.fail(`GET says no such key, HEAD finds it (${head.etag})`, key);
      if (listedAs) this.fail(`ListObjectsV2 lists ${key} (${listedAs.etag}), GET says no such key`, key);
      if (!cands.has(null)) this.fail('an acknowledged object is gone', key);
      return null;
    }
    const wid = got.meta['wid'];
    const match = [...cands].find((s) => s !== null && this.writes.get(s)!.metaWid === wid && this.writes.get(s)!.etag === got!.etag);
    if (match === undefined || match === null) {
      const what =
        cands.has(null) && cands.size === 1
          ? 'an acknowledged delete came back, or a write nobody made appeared'
          : 'the object is in none of the acceptable states';
      this.fail(`${what}: GET gives metadata of ${wid} with ETag ${got.etag} (${got.length} B)`, key);
    }
    const w = this.writes.get(match)!;
    const sha = sha256Hex(got.body);
    if (got.body.length !== w.size || got.length !== w.size)
      this.fail(`GET: ${got.body.length} B (Content-Length ${got.length}), expected ${w.size} B of ${w.sid}`, key);
    if (sha !== w.sha256) this.fail(`GET: body sha256 ${sha} is not that of ${w.sid} (${w.sha256}): half-written or mixed`, key);
    if (got.meta['sha256'] !== w.metaSha) this.fail(`x-amz-meta-sha256 is ${got.meta['sha256']}, expected ${w.metaSha}`, key);
    if (got.type !== contentTypeOf(w.metaWid)) this.fail(`Content-Type ${got.type}, expected ${contentTypeOf(w.metaWid)}`, key);
    if (!head) this.fail('HEAD says not found, GET finds it', key);
    if (head.etag !== got.etag || head.length !== got.length || head.meta['wid'] !== wid) {
      this.fail(`HEAD (${head.etag}, ${head.length} B, wid ${head.meta['wid']}) disagrees with GET (${got.etag}, ${got.length} B, wid ${wid})`, key);
    }
    if (!listedAs) this.fail('GET finds the object, ListObjectsV2 does not list it', key);
    if (listedAs.etag !== got.etag || listedAs.size !== got.length)
      this.fail(`ListObjectsV2 says ${listedAs.etag} ${listedAs.size} B, GET ${got.etag} ${got.length} B`, key);
    this.stats.objectsVerified++;
    this.stats.bytesVerified += got.length;
    return match;
  }

  private async checkUploads(observed: Map<string, string | null>): Promise<void> {
    const c = this.client!;
    const listed = new Map<string, string>();
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const page = await c.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, KeyMarker: keyMarker, UploadIdMarker: idMarker }));
      for (const u of page.Uploads ?? []) listed.set(u.UploadId!, u.Key!);
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
    for (const u of [...this.uploads.values()]) {
      const present = listed.get(u.id) === u.key;
      if (!u.exists.has(present))
        this.fail(`upload ${u.id} ${present ? 'exists after an acknowledged Complete/Abort' : 'is gone, though nothing completed or aborted it'}`, u.key);
      if (u.completing !== undefined && present === (observed.get(u.key) === u.completing)) {
        this.fail(`CompleteMultipartUpload ${u.id} was half done: upload ${present ? 'still exists' : 'gone'}, object ${observed.get(u.key)}`, u.key);
      }
      u.completing = undefined;
      if (!present) {
        this.uploads.delete(u.id);
        continue;
      }
      u.exists = new Set([true]);
      const seen = new Set<number>();
      let marker: string | undefined;
      for (;;) {
        const page = await c.send(new ListPartsCommand({ Bucket: BUCKET, Key: u.key, UploadId: u.id, PartNumberMarker: marker }));
        for (const p of page.Parts ?? []) {
          const n = p.PartNumber!;
          const cands = u.parts.get(n);
          if (!cands) this.fail(`upload ${u.id} has a part ${n} nobody uploaded`, u.key);
          const v = [...cands].find((x) => x !== null && this.partEtag(u, n, x) === p.ETag);
          if (v === undefined || v === null) this.fail(`upload ${u.id} part ${n}: ETag ${p.ETag} is none of the uploaded variants`, u.key);
          if (p.Size !== u.plan[n - 1]) this.fail(`upload ${u.id} part ${n}: ${p.Size} B, expected ${u.plan[n - 1]}`, u.key);
          u.parts.set(n, new Set([v]));
          seen.add(n);
        }
        if (!page.IsTruncated) break;
        marker = page.NextPartNumberMarker;
      }
      for (const [n, cands] of u.parts) {
        if (seen.has(n)) continue;
        if (!cands.has(null)) this.fail(`upload ${u.id}: acknowledged part ${n} is gone`, u.key);
        u.parts.delete(n);
      }
    }
    // Uploads the model does not know: only from a CreateMultipartUpload in flight at the kill. A
    // client that never got the id cannot use them; it cleans them up (as a lifecycle rule would).
    for (const [id, key] of listed) {
      if (this.uploads.has(id)) continue;
      if (!this.unknownCreates.has(key)) this.fail(`upload ${id} exists, but no CreateMultipartUpload for it was in flight at a kill`, key);
      const parts = await c.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: id }));
      if ((parts.Parts ?? []).length > 0) this.fail(`stray upload ${id} has parts nobody uploaded`, key);
      await c.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: id }));
      this.stats.strayUploadsAborted++;
    }
    this.unknownCreates.clear();
  }

  // ---- the end: leftovers must go away by themselves -------------------------------------------------

  private async converge(): Promise<void> {
    // The last server was started after the last kill and verified. Its startup sweep emptied
    // tmp/; its background orphan sweep removes the pieces no metadata references.
    const referenced = (d: DataDirState) => new Set([...d.objectRefs, ...d.partRefs]);
    const diff = (d: DataDirState, refs: Set<string>) => ({
      unreferenced: [...d.files].filter((f) => !refs.has(f)),
      missing: [...refs].filter((r) => !d.files.has(r)),
      tmp: d.tmp,
    });
    const waitClean = async (what: string, refsOf: (d: DataDirState) => Set<string>) => {
      const deadline = performance.now() + 15_000;
      for (;;) {
        const d = inspectDataDir(this.data);
        const x = diff(d, refsOf(d));
        if (x.missing.length > 0) this.fail(`${what}: referenced pieces missing on disk: ${x.missing.join(', ')}`);
        if (x.unreferenced.length === 0 && x.tmp.length === 0) return d;
        if (performance.now() > deadline) {
          this.fail(
            `${what}: the data directory did not converge within 15 s: ${x.unreferenced.length} unreferenced piece(s) in objects/ ` +
              `(${x.unreferenced.slice(0, 5).join(', ')}), ${x.tmp.length} file(s) in tmp/ (${x.tmp.slice(0, 5).join(', ')})`,
          );
        }
        await sleep(100);
      }
    };
    await waitClean('after the last restart', referenced);

    // Open uploads' parts are not stale while the upload exists; once aborted they must go too.
    for (const u of [...this.uploads.values()]) {
      await this.client!.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: u.key, UploadId: u.id }));
      this.uploads.delete(u.id);
    }
    const d = await waitClean('after aborting the open uploads', (x) => x.objectRefs);
    assert.equal(d.partRefs.size, 0);

    // A clean stop, and the directory at rest holds exactly the live objects' pieces.
    const server = this.server!;
    this.server = undefined;
    this.client?.destroy();
    this.client = undefined;
    const code = await server.stop();
    if (code !== 0) this.fail(`the server exited with ${code} on SIGTERM:\n${server.tail()}`);
    const atRest = inspectDataDir(this.data);
    const x = diff(atRest, atRest.objectRefs);
    if (x.unreferenced.length + x.missing.length + x.tmp.length > 0) this.fail(`the data directory at rest is not clean: ${JSON.stringify(x)}`);
    const known = ['meta.db', 'meta.db-wal', 'meta.db-shm', 'strata.lock', 'strata.workers.lock', 'tmp'];
    // One directory keeps objects/; each drive of a set its format file and shards/.
    known.push(...(this.data.length === 1 ? ['objects'] : ['strata-format.json', 'shards', 'meta-copy.json', 'meta-copy.progress']));
    for (const dir of this.data) {
      const top = (await readdir(dir)).filter((n) => !known.includes(n));
      if (top.length > 0) this.fail(`unexpected entries in the data directory ${dir}: ${top.join(', ')}`);
    }
  }
}

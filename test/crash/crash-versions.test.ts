// Crash harness for versioned buckets: the real server as a child process, workers writing versions
// and delete markers, SIGKILL at a random moment, restart on the same data directory, check the
// whole version history, repeat.
//
//   STRATA_CRASH_SEED=<n>          reproduce a run (printed at the start and in every failure)
//   STRATA_CRASH_VERSION_KILLS=<n> number of kills (default 20)
//
// The first half of the kills runs with versioning Enabled, the second half Suspended (writes then
// replace the key's 'null' version or marker and keep the older versions).
// Each key belongs to one worker, so its operations are sequential and its history is a sequence:
// the acknowledged versions and delete markers in order, plus at most the one request in flight at
// the kill (committed or not: either is right). After each restart, ListObjectVersions (small random
// pages) must give, per key, exactly that sequence newest first: no acknowledged version or delete
// marker lost, no version that was never acknowledged (an in-flight one found there joins the
// model), `IsLatest` on exactly one entry per key (the newest); the bytes of every version read back
// by versionId (sha256, once per version, and the latest on every cycle); GET without versionId gives
// the newest version or 404 under a delete marker; ListObjectsV2 lists exactly the keys whose latest
// entry is a version. Versions are identified by their x-amz-meta-wid (HEAD ?versionId), never by
// timing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { CrashCycles, inCrashDir } from './cycles.js';
import { type Prng, bodyOf, sha256Hex } from './harness.js';

const SEED = process.env.STRATA_CRASH_SEED ? Number(process.env.STRATA_CRASH_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const KILLS = Math.max(1, Number(process.env.STRATA_CRASH_VERSION_KILLS ?? 20) || 20);
const BUCKET = 'crash-versions';
const WORKERS = 4;
const KEYS_PER_WORKER = 3;
const KILL_DELAY_MS: [number, number] = [50, 800];
/** Bounds the history (and so the verification's cost): past this, a key only loses versions. */
const MAX_ENTRIES_PER_KEY = 60;

const keyOf = (w: number, j: number) => `v/${w}/${j}`;
const ALL_KEYS = Array.from({ length: WORKERS * KEYS_PER_WORKER }, (_, i) => keyOf(Math.floor(i / KEYS_PER_WORKER), i % KEYS_PER_WORKER));

/** One entry of a key's history: a version (its write id, bytes) or a delete marker; versionId from the answer. */
type Entry = { kind: 'version'; wid: string; size: number; sha256: string; versionId?: string; verified?: boolean } | { kind: 'marker'; versionId?: string };

/** The request in flight at the last kill: it may or may not have committed. */
type Pending = { op: 'add'; entry: Entry; suspended: boolean } | { op: 'remove'; entry: Entry };

interface KeyModel {
  /** Acknowledged (or found committed) entries, oldest first. */
  seq: Entry[];
  pending?: Pending;
}

const httpStatus = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

describe('crash safety, versioned bucket', () => {
  it(`keeps every acknowledged version and delete marker through ${KILLS} SIGKILLs (seed ${SEED})`, { timeout: 120_000 + KILLS * 8_000 }, async () => {
    console.log(`# versioned crash harness: seed ${SEED} (STRATA_CRASH_SEED=${SEED} to replay), ${KILLS} kills`);
    await inCrashDir('crash-versions', SEED, async (dataDir) => {
      const h = new VersionHarness(SEED, dataDir);
      try {
        await h.run(KILLS);
      } finally {
        await h.shutdown();
      }
    });
  });
});

class VersionHarness extends CrashCycles {
  private widCounter = 0;
  private suspended = false;
  private readonly model = new Map<string, KeyModel>(ALL_KEYS.map((k) => [k, { seq: [] }]));
  private readonly stats = { puts: 0, markers: 0, removals: 0, inFlight: 0, inFlightCommitted: 0, versionsVerified: 0, bytesVerified: 0 };

  constructor(seed: number, dataDir: string) {
    super(seed, dataDir, 0x2545f491);
  }

  async run(kills: number): Promise<void> {
    const t0 = performance.now();
    await this.start();
    await this.client!.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await this.client!.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    for (this.cycle = 1; this.cycle <= kills; this.cycle++) {
      // The second half runs Suspended: writes replace the key's 'null' version or marker and keep
      // the older versions (never Enabled again, so a 'null' entry is always its key's newest write).
      if (!this.suspended && this.cycle > kills / 2) {
        await this.client!.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Suspended' } }));
        this.suspended = true;
      }
      await this.burstAndKill(WORKERS, KILL_DELAY_MS, (w, wr) => this.step(w, wr));
      await this.start();
      await this.verify();
    }
    const s = this.stats;
    const entries = [...this.model.values()].reduce((n, m) => n + m.seq.length, 0);
    console.log(
      `# versioned crash harness: ${kills} kills in ${((performance.now() - t0) / 1000).toFixed(1)} s; acknowledged ${s.puts} PUTs, ${s.markers} delete markers, ${s.removals} removals of one version; ` +
        `${s.inFlight} requests in flight at a kill (${s.inFlightCommitted} found committed); ${entries} versions and markers in the bucket; ` +
        `${s.versionsVerified} version reads verified (${(s.bytesVerified / 1024 / 1024).toFixed(1)} MiB)`,
    );
  }

  /** One step of worker `w`: a PUT, a delete marker or the removal of a version of one of its keys. */
  private async step(w: number, wr: Prng): Promise<void> {
    const key = keyOf(w, wr.int(0, KEYS_PER_WORKER - 1));
    const known = this.model.get(key)!.seq.filter((e) => e.versionId !== undefined);
    if (this.model.get(key)!.seq.length >= MAX_ENTRIES_PER_KEY) {
      // A full key only loses versions (its oldest half, one at a time) until it has room again.
      await this.removeVersion(key, wr.pick(known.slice(0, Math.ceil(known.length / 2))));
      return;
    }
    const r0 = wr.next();
    if (r0 < 0.25) await this.deleteMarker(key);
    else if (r0 < 0.33 && known.length > 0) await this.removeVersion(key, wr.pick(known));
    else {
      const r = wr.next();
      // Both storage paths: small objects inline in the metadata database, larger ones as data pieces.
      await this.put(key, r < 0.05 ? 0 : r < 0.75 ? wr.int(1, 16 * 1024) : wr.int(200 * 1024, 1024 * 1024));
    }
  }

  /**
   * Runs `send`: acknowledged, its effect is applied to the model; caught by the kill, it becomes
   * the key's pending request. Any failure while the server is up fails the run.
   */
  private async request<T>(key: string, pending: Pending, send: () => Promise<T>): Promise<T | undefined> {
    const m = this.model.get(key)!;
    if (m.pending) this.fail(`${key}: a new request while the previous one is unresolved`);
    try {
      return await send();
    } catch (err) {
      // After the kill any failure is "in flight" (a connection reset, or an answer cut short).
      if (this.killed) {
        m.pending = pending;
        this.stats.inFlight++;
        return undefined;
      }
      this.fail(`${key}: ${pending.op} ${pending.entry.kind} failed while the server was up: ${(err as Error).message}`);
    }
  }

  private async put(key: string, size: number): Promise<void> {
    const wid = `c${this.cycle}w${++this.widCounter}`;
    const body = bodyOf(this.seed, wid, size);
    const entry: Entry = { kind: 'version', wid, size, sha256: sha256Hex(body) };
    const r = await this.request(key, { op: 'add', entry, suspended: this.suspended }, () =>
      this.client!.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: { wid } })),
    );
    if (!r) return;
    // Suspended: the 'null' version (x-amz-version-id: null, or no header: the versioning slice's call).
    const vid = this.suspended ? (r.VersionId ?? 'null') : r.VersionId;
    if (!vid || (vid === 'null') !== this.suspended) this.fail(`${key}: PUT answered version id ${r.VersionId} (suspended: ${this.suspended})`);
    entry.versionId = vid;
    this.append(key, entry);
    this.stats.puts++;
  }

  private async deleteMarker(key: string): Promise<void> {
    const entry: Entry = { kind: 'marker' };
    const r = await this.request(key, { op: 'add', entry, suspended: this.suspended }, () =>
      this.client!.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key })),
    );
    if (!r) return;
    const vid = this.suspended ? (r.VersionId ?? 'null') : r.VersionId;
    if (r.DeleteMarker !== true || !vid || (vid === 'null') !== this.suspended)
      this.fail(`${key}: DeleteObject without versionId answered DeleteMarker ${r.DeleteMarker}, version ${r.VersionId} (suspended: ${this.suspended})`);
    entry.versionId = vid;
    this.append(key, entry);
    this.stats.markers++;
  }

  /** A new newest entry; a 'null' one (suspended bucket) replaces the key's previous 'null' entry. */
  private append(key: string, entry: Entry): void {
    const m = this.model.get(key)!;
    if (entry.versionId === 'null') m.seq = m.seq.filter((e) => e.versionId !== 'null');
    m.seq.push(entry);
  }

  /** DeleteObject with the version id of an acknowledged version or marker: removes exactly that one. */
  private async removeVersion(key: string, entry: Entry): Promise<void> {
    const r = await this.request(key, { op: 'remove', entry }, () =>
      this.client!.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key, VersionId: entry.versionId })),
    );
    if (!r) return;
    if (r.VersionId !== entry.versionId || (r.DeleteMarker === true) !== (entry.kind === 'marker')) {
      this.fail(`${key}: DeleteObject of version ${entry.versionId} answered version ${r.VersionId}, DeleteMarker ${r.DeleteMarker}`);
    }
    const m = this.model.get(key)!;
    m.seq.splice(m.seq.indexOf(entry), 1);
    this.stats.removals++;
  }

  // ---- verification --------------------------------------------------------------------------------

  private async verify(): Promise<void> {
    const rng = this.streamOf(1000);
    const c = this.client!;
    // Every version and marker, in small pages (the markers' paging is part of what is checked).
    type Listed = { versionId: string; isLatest: boolean; marker: boolean; size?: number };
    const listed = new Map<string, Listed[]>(ALL_KEYS.map((k) => [k, []]));
    let keyMarker: string | undefined;
    let vidMarker: string | undefined;
    for (let page = 0; ; page++) {
      if (page > 10_000) this.fail('ListObjectVersions did not end');
      const r = await c.send(new ListObjectVersionsCommand({ Bucket: BUCKET, MaxKeys: rng.int(3, 40), KeyMarker: keyMarker, VersionIdMarker: vidMarker }));
      const entries = [
        ...(r.Versions ?? []).map((v) => ({
          key: v.Key!,
          versionId: v.VersionId!,
          isLatest: v.IsLatest === true,
          marker: false,
          size: v.Size,
        })),
        ...(r.DeleteMarkers ?? []).map((d) => ({ key: d.Key!, versionId: d.VersionId!, isLatest: d.IsLatest === true, marker: true })),
      ];
      for (const e of entries) {
        const l = listed.get(e.key);
        if (!l) this.fail(`ListObjectVersions shows ${e.key}, a key never written`);
        l.push(e);
      }
      if (!r.IsTruncated) break;
      keyMarker = r.NextKeyMarker;
      vidMarker = r.NextVersionIdMarker;
    }
    // Per key, against the model (the SDK splits each page into Versions and DeleteMarkers: serverOrder rebuilds the order).
    for (const key of ALL_KEYS) await this.verifyKey(key, listed.get(key)!, rng);
    // ListObjectsV2: exactly the keys whose latest entry is a version.
    const live: string[] = [];
    let token: string | undefined;
    for (let page = 0; ; page++) {
      if (page > 1000) this.fail('ListObjectsV2 did not end');
      const r = await c.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: rng.int(2, 10), ContinuationToken: token }));
      live.push(...(r.Contents ?? []).map((o) => o.Key!));
      if (!r.IsTruncated) break;
      token = r.NextContinuationToken;
    }
    const expectLive = ALL_KEYS.filter((k) => this.model.get(k)!.seq.at(-1)?.kind === 'version').sort();
    assert.deepEqual(live, expectLive, `[seed ${this.seed}, cycle ${this.cycle}] ListObjectsV2 lists exactly the keys whose latest entry is a version`);
  }

  private async verifyKey(key: string, listed: Array<{ versionId: string; isLatest: boolean; marker: boolean; size?: number }>, rng: Prng): Promise<void> {
    const m = this.model.get(key)!;
    const c = this.client!;
    const got = this.serverOrder(listed).reverse(); // oldest first, as the model
    const show = (es: Array<{ versionId?: string }>) => es.map((e) => e.versionId ?? '(in flight)').join(', ');
    const where = () =>
      `\nlisted (oldest first): ${show(got)}\nmodel: ${show(m.seq)}${m.pending ? `; in flight: ${m.pending.op} ${m.pending.entry.kind} ${m.pending.entry.versionId ?? ''}` : ''}`;
    // What the model allows: seq, or seq with the in-flight request applied.
    let expected = m.seq;
    const p = m.pending;
    const shaped = (es: Entry[]) =>
      got.length === es.length && es.every((e, i) => got[i]!.versionId === e.versionId && got[i]!.marker === (e.kind === 'marker'));
    if (p?.op === 'add' && p.suspended) {
      // Committed, it replaced the key's 'null' entry and is the newest, as 'null'.
      const withP = [...m.seq.filter((e) => e.versionId !== 'null'), { ...p.entry, versionId: 'null' } as Entry];
      let committed = shaped(withP);
      if (committed && shaped(m.seq)) {
        // Same shape either way (the old 'null' entry was of the same kind): a version tells by its write id; two markers are the same state.
        const old = m.seq.find((e) => e.versionId === 'null')!;
        if (p.entry.kind === 'version' && old.kind === 'version') {
          const wid = (await c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, VersionId: 'null' }))).Metadata?.wid;
          if (wid !== p.entry.wid && wid !== old.wid)
            this.fail(`${key}: the null version carries write ${wid}, which was never acknowledged nor in flight${where()}`);
          committed = wid === p.entry.wid;
        }
      } else if (committed && p.entry.kind === 'version') {
        const wid = (await c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, VersionId: 'null' }))).Metadata?.wid;
        if (wid !== p.entry.wid) this.fail(`${key}: the null version carries write ${wid}, which was never acknowledged nor in flight${where()}`);
      }
      if (committed) {
        p.entry.versionId = 'null';
        expected = [...m.seq.filter((e) => e.versionId !== 'null'), p.entry];
      }
    } else if (p?.op === 'add' && got.length === m.seq.length + 1) {
      // The newest entry must be exactly the in-flight write: a version with its wid, or a marker.
      const extra = got.at(-1)!;
      if (p.entry.kind === 'marker') {
        if (!extra.marker) this.fail(`${key}: an unacknowledged version ${extra.versionId} (the request in flight was a delete)${where()}`);
      } else {
        if (extra.marker) this.fail(`${key}: an unacknowledged delete marker ${extra.versionId} (the request in flight was a PUT)${where()}`);
        const h = await c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, VersionId: extra.versionId }));
        if (h.Metadata?.wid !== p.entry.wid)
          this.fail(`${key}: version ${extra.versionId} carries write ${h.Metadata?.wid}, which was never acknowledged nor in flight${where()}`);
      }
      p.entry.versionId = extra.versionId;
      expected = [...m.seq, p.entry];
    } else if (p?.op === 'remove' && got.length === m.seq.length - 1) {
      expected = m.seq.filter((e) => e !== p.entry);
    }
    if (got.length !== expected.length) this.fail(`${key}: ${got.length} versions/markers listed, expected ${expected.length}${where()}`);
    for (let i = 0; i < expected.length; i++) {
      const want = expected[i]!;
      const have = got[i]!;
      if (have.versionId !== want.versionId || have.marker !== (want.kind === 'marker')) {
        this.fail(
          `${key}: entry ${i + 1} (oldest first) is ${have.marker ? 'marker' : 'version'} ${have.versionId}, expected ${want.kind} ${want.versionId}${where()}`,
        );
      }
      if (want.kind === 'version' && have.size !== want.size)
        this.fail(`${key}: version ${want.versionId} listed with Size ${have.size}, written with ${want.size}`);
    }
    if (p) {
      if (expected !== m.seq) this.stats.inFlightCommitted++;
      m.seq = expected;
      m.pending = undefined;
    }
    // IsLatest: exactly one per key with any entry, the newest.
    const latest = listed.filter((l) => l.isLatest);
    if (m.seq.length === 0) assert.equal(listed.length, 0);
    else {
      if (latest.length !== 1) this.fail(`${key}: ${latest.length} entries with IsLatest (expected exactly one)`);
      if (latest[0]!.versionId !== m.seq.at(-1)!.versionId)
        this.fail(`${key}: IsLatest is on ${latest[0]!.versionId}, not on the newest entry ${m.seq.at(-1)!.versionId}`);
    }
    // Bytes: each version once by versionId, plus one random older one per cycle; the latest without one.
    const versions = m.seq.filter((e): e is Extract<Entry, { kind: 'version' }> => e.kind === 'version');
    const toRead = versions.filter((v) => !v.verified);
    if (versions.length > 0) toRead.push(rng.pick(versions));
    for (const v of toRead) {
      const got = await this.read(key, v.versionId);
      if (got === undefined || sha256Hex(got) !== v.sha256) this.fail(`${key}: version ${v.versionId} (${v.wid}) does not read back byte for byte`);
      v.verified = true;
      this.stats.versionsVerified++;
      this.stats.bytesVerified += got.length;
    }
    const last = m.seq.at(-1);
    const current = await this.read(key);
    if (last === undefined || last.kind === 'marker') {
      if (current !== undefined) this.fail(`${key}: GET without versionId found an object, but the latest entry is ${last ? 'a delete marker' : 'nothing'}`);
    } else if (current === undefined || sha256Hex(current) !== last.sha256) this.fail(`${key}: GET without versionId is not the newest version ${last.wid}`);
  }

  /**
   * One key's entries newest first as the server orders them: the SDK hands a page's Versions and
   * DeleteMarkers as two lists, so the interleaving is rebuilt from the version ids, which are
   * time-ordered (store/versions.ts: newer ids sort after older ones in byte order).
   */
  private serverOrder<T extends { versionId: string }>(entries: T[]): T[] {
    return [...entries].sort((a, b) => (a.versionId < b.versionId ? 1 : a.versionId > b.versionId ? -1 : 0));
  }

  /** The object's bytes (a version's with versionId), or undefined for 404. */
  private async read(key: string, versionId?: string): Promise<Buffer | undefined> {
    try {
      const r = await this.client!.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, VersionId: versionId }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }
}

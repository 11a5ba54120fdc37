// Crash harness for encrypted objects: the real server (built-in key service, SSE-C allowed over the
// loopback) as a child process, workers writing SSE-C and SSE-S3 objects, small (inline in the
// metadata database) and large (sealed data pieces), SIGKILL at a random moment, restart on the same
// data directory, check, repeat.
//
//   STRATA_CRASH_SEED=<n>       reproduce a run (printed at the start and in every failure)
//   STRATA_CRASH_SSE_KILLS=<n>  number of kills (default 12)
//
// Each key belongs to one worker, so its writes are sequential: after a restart the key holds its
// last acknowledged write, or the write in flight at the kill (committed or not: either is right),
// never anything else. Writes to one SSE-C key alternate between two customer keys, and a key's
// writes alternate between SSE-C and SSE-S3, so a record paired with another write's bytes or key
// description cannot open. After every restart every key is read back whole with the right key
// (sha256 of the bytes, x-amz-meta-wid names the write) and by one range across package
// boundaries; an answer that is neither write, an error, or wrong bytes fails the run. The key
// service's root key is the same at every start (it is what the operator keeps).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { sseCustomer } from '../helpers/s3.js';
import { newKmsKey } from '../helpers/server.js';
import { CrashCycles, inCrashDir } from './cycles.js';
import { type Prng, bodyOf, sha256Hex } from './harness.js';

const SEED = process.env.STRATA_CRASH_SEED ? Number(process.env.STRATA_CRASH_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const KILLS = Math.max(1, Number(process.env.STRATA_CRASH_SSE_KILLS ?? 12) || 12);
const BUCKET = 'crash-sse';
const WORKERS = 3;
const KEYS_PER_WORKER = 3;
const KILL_DELAY_MS: [number, number] = [30, 600];
const PKG = 64 * 1024;
const ROOT_KEY = newKmsKey('crash-root');

const keyOf = (w: number, j: number) => `e/${w}/${j}`;
const ALL_KEYS = Array.from({ length: WORKERS * KEYS_PER_WORKER }, (_, i) => keyOf(Math.floor(i / KEYS_PER_WORKER), i % KEYS_PER_WORKER));

/** Two customer keys; a write uses one of them, or SSE-S3. */
const CUSTOMER = [sseCustomer(0x31), sseCustomer(0x7c)];
type Mode = 0 | 1 | 'AES256';

interface Write {
  wid: string;
  mode: Mode;
  size: number;
  sha256: string;
  /** The bytes of one range across a package boundary (large objects). */
  range?: { start: number; end: number; sha256: string };
}

interface KeyModel {
  acked?: Write;
  pending?: Write;
}

const encryption = (mode: Mode) => (mode === 'AES256' ? { ServerSideEncryption: 'AES256' as const } : CUSTOMER[mode]!);
const statusOf = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

describe('crash safety, encrypted objects (SSE-C and SSE-S3)', () => {
  it(`every acknowledged encrypted object reads back byte for byte through ${KILLS} SIGKILLs (seed ${SEED})`, {
    timeout: 120_000 + KILLS * 10_000,
  }, async () => {
    console.log(`# encrypted crash harness: seed ${SEED} (STRATA_CRASH_SEED=${SEED} to replay), ${KILLS} kills`);
    await inCrashDir('crash-sse', SEED, async (dataDir) => {
      const h = new SseHarness(SEED, dataDir);
      try {
        await h.run(KILLS);
      } finally {
        await h.shutdown();
      }
    });
  });
});

class SseHarness extends CrashCycles {
  private widCounter = 0;
  private readonly model = new Map<string, KeyModel>(ALL_KEYS.map((k) => [k, {}]));
  private readonly stats = { puts: 0, inFlight: 0, inFlightCommitted: 0, reads: 0, bytes: 0, modes: { c0: 0, c1: 0, s3: 0 } };

  constructor(seed: number, dataDir: string) {
    super(seed, dataDir, 0x5bd1e995, { args: ['--sse-c-over-http', 'yes', '--kms-secret-key', ROOT_KEY] });
  }

  async run(kills: number): Promise<void> {
    const t0 = performance.now();
    await this.start();
    await this.client!.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (this.cycle = 1; this.cycle <= kills; this.cycle++) {
      await this.burstAndKill(WORKERS, KILL_DELAY_MS, async (w, wr) => {
        const r = wr.next();
        // Both storage paths: inline in the metadata database (≤ 128 KiB), sealed data pieces above.
        await this.put(keyOf(w, wr.int(0, KEYS_PER_WORKER - 1)), r < 0.5 ? wr.int(1, 20 * 1024) : wr.int(3 * PKG, 12 * PKG + 5), wr);
      });
      await this.start();
      await this.verify();
    }
    const s = this.stats;
    console.log(
      `# encrypted crash harness: ${kills} kills in ${((performance.now() - t0) / 1000).toFixed(1)} s; acknowledged ${s.puts} PUTs ` +
        `(SSE-C key A ${s.modes.c0}, key B ${s.modes.c1}, SSE-S3 ${s.modes.s3}); ${s.inFlight} in flight at a kill (${s.inFlightCommitted} found committed); ` +
        `${s.reads} reads verified (${(s.bytes / 1024 / 1024).toFixed(1)} MiB)`,
    );
  }

  private async put(key: string, size: number, wr: Prng): Promise<void> {
    const m = this.model.get(key)!;
    const last = m.acked?.mode;
    // Alternate: SSE-C key A → SSE-S3 → SSE-C key B → SSE-S3 → …, with a random start.
    const mode: Mode = last === undefined ? wr.pick<Mode>([0, 1, 'AES256']) : last === 'AES256' ? wr.pick<Mode>([0, 1]) : 'AES256';
    const wid = `${this.cycle}.${++this.widCounter}`;
    const body = bodyOf(this.seed, wid, size);
    const write: Write = { wid, mode, size, sha256: sha256Hex(body) };
    if (size > 2 * PKG) write.range = { start: PKG - 7, end: 2 * PKG + 7, sha256: sha256Hex(body.subarray(PKG - 7, 2 * PKG + 8)) };
    m.pending = write;
    try {
      await this.client!.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: { wid }, ...encryption(mode) }));
    } catch (err) {
      if (this.killed) {
        this.stats.inFlight++;
        return; // in flight at the kill: pending stays, either outcome is right
      }
      throw err;
    }
    m.acked = write;
    m.pending = undefined;
    this.stats.puts++;
    this.stats.modes[mode === 'AES256' ? 's3' : mode === 0 ? 'c0' : 'c1']++;
  }

  /** GET with a write's encryption: the answer, or its HTTP status when refused. */
  private async read(key: string, w: Write, range?: { start: number; end: number }): Promise<{ wid?: string; sha256: string; size: number } | number> {
    try {
      const res = await this.client!.send(
        new GetObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Range: range && `bytes=${range.start}-${range.end}`,
          ...(w.mode === 'AES256' ? {} : CUSTOMER[w.mode]!),
        }),
      );
      const bytes = Buffer.from(await res.Body!.transformToByteArray());
      this.stats.reads++;
      this.stats.bytes += bytes.length;
      return { wid: res.Metadata?.wid, sha256: sha256Hex(bytes), size: bytes.length };
    } catch (err) {
      const status = statusOf(err);
      if (status === undefined) this.fail(`GET ${key}: no HTTP answer: ${String(err)}`);
      return status;
    }
  }

  private async verify(): Promise<void> {
    for (const key of ALL_KEYS) {
      const m = this.model.get(key)!;
      const candidates = [m.pending, m.acked].filter((w): w is Write => w !== undefined);
      if (candidates.length === 0) continue;
      let found: Write | undefined;
      const refusals: string[] = [];
      for (const w of candidates) {
        const got = await this.read(key, w);
        if (got === 404 && m.acked === undefined) {
          refusals.push(`${w.wid}:404`);
          continue; // the key's first write was in flight and did not commit
        }
        if (typeof got === 'number') {
          // Another write's encryption: SSE-C with the other key → 403, SSE-C asked of an SSE-S3
          // object (or the reverse) → 400. Anything else (a 500: data that does not open) fails.
          if (got !== 400 && got !== 403) this.fail(`GET ${key} as write ${w.wid} (${String(w.mode)}): status ${got}`);
          refusals.push(`${w.wid}:${got}`);
          continue;
        }
        if (got.wid === w.wid) {
          if (got.sha256 !== w.sha256 || got.size !== w.size) this.fail(`GET ${key}: write ${w.wid}'s metadata with other bytes (${got.size} of ${w.size})`);
          found = w;
          break;
        }
        // Read with the same encryption as another write of the same mode (SSE-S3 twice, or the same
        // customer key): the answer must then be that other write, whole.
        const other = candidates.find((c) => c.wid === got.wid);
        if (other === undefined || other.sha256 !== got.sha256) this.fail(`GET ${key}: an answer that is no write of this key (wid ${got.wid})`);
        found = other;
        break;
      }
      if (found === undefined && m.acked === undefined && refusals.every((r) => r.endsWith(':404'))) {
        m.pending = undefined;
        continue;
      }
      if (found === undefined) this.fail(`GET ${key}: neither the acknowledged write nor the one in flight reads back (${refusals.join(', ')})`);
      if (m.pending !== undefined && found === m.pending) this.stats.inFlightCommitted++;
      if (found.range) {
        const r = await this.read(key, found, found.range);
        if (typeof r === 'number' || r.sha256 !== found.range.sha256)
          this.fail(`GET ${key} range ${found.range.start}-${found.range.end}: ${typeof r === 'number' ? `status ${r}` : 'wrong bytes'}`);
      }
      m.acked = found;
      m.pending = undefined;
    }
    const problems = this.server!.problems.filter((p) => !/USING THE DEFAULT CREDENTIALS/.test(p));
    assert.deepEqual(
      problems.filter((p) => /damaged|DataCorrupt|unreadable/.test(p)),
      [],
      `[seed ${this.seed}, cycle ${this.cycle}] the server logged damage`,
    );
  }
}

// A bounded PUT/GET load for the cluster crash tests (cluster-kill, cluster-postgres): writers that
// each own a few keys (so each key's writes are ordered), every request through the front with a
// bounded client, and a model of what was acknowledged. After the chaos, check(): every key holds
// its last acknowledged body, or the body of a write whose answer never came (in flight at a kill,
// refused with 502/503 — such a write may or may not have committed), whole: the ETag is the MD5 of
// the bytes. Read-after-write is checked as the load runs: a GET right after an acknowledged PUT
// (through another random gateway) must return that PUT's bytes.
import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { Prng, bodyOf, md5Hex, sha256Hex } from './harness.js';

export interface Written {
  sha: string;
  etag: string;
}

export interface LoadStats {
  puts: number;
  acked: number;
  /** Answers that were an error: status → count ('net' for no answer). */
  failures: Record<string, number>;
  gets: number;
}

/** What a failed call was: its HTTP status, 'timeout' when the client's bound passed, 'net' when the connection failed. */
export function failureKind(err: unknown): string {
  // The SDK names a reset connection TimeoutError too: only its own deadlines are timeouts here.
  if ((err as Error)?.name === 'TimeoutError' && /exceeded the configured|timed out after|did not establish/.test((err as Error).message)) return 'timeout';
  if (err instanceof S3ServiceException && err.$metadata.httpStatusCode) return String(err.$metadata.httpStatusCode);
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status ? String(status) : 'net';
}

export class ClusterLoad {
  /** key → the last acknowledged write. */
  readonly acked = new Map<string, Written>();
  /** key → every write whose outcome is unknown. */
  readonly unknown = new Map<string, Written[]>();
  readonly stats: LoadStats = { puts: 0, acked: 0, failures: {}, gets: 0 };
  /** Answers no failure explains (a wrong body, an error status other than 502/503). */
  readonly wrong: string[] = [];
  private stopping = false;
  private running: Promise<void>[] = [];

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly seed: number,
    /** Failure statuses that are expected during this test's outages. */
    private readonly allowed: readonly string[] = ['net', '502', '503'],
  ) {}

  /** Starts `writers` writers of `keysEach` keys each; each stops after `maxOps` or at stop(). */
  start(writers: number, keysEach: number, maxOps: number): void {
    for (let w = 0; w < writers; w++) this.running.push(this.writer(w, keysEach, maxOps));
  }

  /** Ends the load (the writers finish their current request) and waits for it. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  private async writer(w: number, keysEach: number, maxOps: number): Promise<void> {
    const rnd = new Prng(this.seed + w * 7919);
    for (let op = 0; op < maxOps && !this.stopping; op++) {
      const key = `load/w${w}/k${rnd.int(0, keysEach - 1)}`;
      const size = rnd.chance(0.1) ? rnd.int(1, 3 << 20) : rnd.int(0, 64 << 10);
      const body = bodyOf(this.seed, `${key}#${op}`, size);
      const written: Written = { sha: sha256Hex(body), etag: `"${md5Hex(body)}"` };
      this.stats.puts++;
      try {
        const r = await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
        if (r.ETag !== written.etag) this.wrong.push(`PUT ${key}: ETag ${r.ETag}, expected ${written.etag}`);
        this.acked.set(key, written);
        this.stats.acked++;
      } catch (err) {
        this.fail(`PUT ${key}`, err);
        this.unknown.set(key, [...(this.unknown.get(key) ?? []), written]);
        continue;
      }
      // Read-after-write, through whichever gateway the front picks.
      try {
        const got = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        const bytes = Buffer.from(await got.Body!.transformToByteArray());
        this.stats.gets++;
        if (sha256Hex(bytes) !== written.sha) this.wrong.push(`GET ${key} after its PUT was acknowledged: other bytes (${bytes.length} B)`);
      } catch (err) {
        this.fail(`GET ${key}`, err);
      }
    }
  }

  private fail(what: string, err: unknown): void {
    const kind = failureKind(err);
    this.stats.failures[kind] = (this.stats.failures[kind] ?? 0) + 1;
    if (!this.allowed.includes(kind)) this.wrong.push(`${what}: ${kind} ${(err as Error).name}: ${(err as Error).message}`);
  }

  /**
   * Every key: GET through `s3` returns the last acknowledged body or an unknown write's, whole
   * (ETag = MD5 of the bytes); a key with nothing acknowledged may be missing.
   */
  async check(s3: S3Client): Promise<void> {
    assert.deepEqual(this.wrong, [], 'answers no outage explains');
    const keys = new Set([...this.acked.keys(), ...this.unknown.keys()]);
    for (const key of keys) {
      const possible = [...(this.acked.has(key) ? [this.acked.get(key)!] : []), ...(this.unknown.get(key) ?? [])];
      let got;
      try {
        got = await s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      } catch (err) {
        if (!this.acked.has(key) && failureKind(err) === '404') continue;
        throw new Error(`GET ${key} after the chaos: ${(err as Error).message} (an acknowledged write is lost)`);
      }
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      const sha = sha256Hex(bytes);
      assert.equal(got.ETag, `"${md5Hex(bytes)}"`, `${key}: the ETag is not the MD5 of the bytes served (torn object)`);
      assert.ok(
        possible.some((p) => p.sha === sha),
        `${key}: ${bytes.length} bytes that are neither the last acknowledged write nor one in doubt${this.acked.has(key) ? '' : ' (none acknowledged)'}`,
      );
    }
  }
}

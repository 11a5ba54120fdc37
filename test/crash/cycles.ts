// What the kill-and-restart crash tests (crash-versions.test.ts, crash-sse.test.ts) share: the
// client for a crash-test server, a run in a temporary data directory kept when it fails, and the
// base of a harness that starts the server again and again on that directory and fails with the
// seed, the cycle and the server's last output.
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { loopbackLookup } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY } from '../helpers/server.js';
import { Prng, startOn, type ServerProc, type SpawnExtra } from './harness.js';

/** A bounded wait for `listening`, not a speed assertion (a loaded 2-core machine must not fail the run). */
export const START_LIMIT_MS = 30_000;

/** An aws-sdk-js client for a crash-test server: root keys, no retries, bounded waits. */
export function crashClient(url: string, requestTimeoutMs = 60_000): S3Client {
  return new S3Client({
    endpoint: url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestHandler: new NodeHttpHandler({
      // `timeout`: Node's agent then closes an idle connection 1 s before the server's announced
      // keep-alive timeout (the `Keep-Alive: timeout=N` hint is ignored without it), so a request
      // never goes out on a connection the server is closing (a reset, which maxAttempts 1 won't retry).
      httpAgent: new http.Agent({ keepAlive: true, lookup: loopbackLookup, timeout: requestTimeoutMs }),
      connectionTimeout: 5_000,
      requestTimeout: requestTimeoutMs,
      // Without it this SDK only logs a warning when the bound passes, and the call waits on.
      throwOnRequestTimeout: true,
    }),
    maxAttempts: 1,
  });
}

/**
 * Runs `body` on a new temporary data directory, removed when it succeeds and kept (and named, with
 * the seed that replays the run) when it fails.
 */
export async function inCrashDir(label: string, seed: number, body: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), `strata-${label}-`));
  let ok = false;
  try {
    await body(dataDir);
    ok = true;
  } finally {
    if (ok) await rm(dataDir, { recursive: true, force: true });
    else console.log(`# ${label} FAILED: seed ${seed}; data directory kept at ${dataDir}`);
  }
}

/** A harness's server and client across restarts on one data directory, and its seeded streams. */
export abstract class CrashCycles {
  protected server?: ServerProc;
  protected client?: S3Client;
  protected cycle = 0;
  protected killed = false;
  protected failure?: Error;

  /** `salt` sets this harness's streams apart from other harnesses' of the same seed. */
  constructor(
    protected readonly seed: number,
    protected readonly dataDir: string,
    private readonly salt: number,
    private readonly extra: SpawnExtra = {},
  ) {}

  protected fail(msg: string): never {
    throw new Error(`[seed ${this.seed}, cycle ${this.cycle}] ${msg}${this.server ? `\n--- server output ---\n${this.server.tail()}` : ''}`);
  }

  /** The seeded stream `stream` of the current cycle (0: the cycle's own decisions, 1..: a worker's). */
  protected streamOf(stream: number): Prng {
    return new Prng((Math.imul(this.seed ^ this.salt, 0x9e3779b1) + Math.imul(this.cycle, 0x85ebca6b) + Math.imul(stream + 1, 0xc2b2ae35)) >>> 0);
  }

  async shutdown(): Promise<void> {
    this.client?.destroy();
    if (this.server) await this.server.kill().catch(() => undefined);
    this.server = undefined;
  }

  /**
   * One burst: `workers` loops, each calling `step` with its worker number and seeded stream until
   * the server is SIGKILLed after a seeded delay in `delayMs`; then the server is gone and a worker's
   * failure (while the server was up) is rethrown.
   */
  protected async burstAndKill(workers: number, delayMs: [number, number], step: (w: number, rng: Prng) => Promise<void>): Promise<void> {
    const server = this.server!;
    const timer = setTimeout(
      () => {
        this.killed = true;
        void server.kill();
      },
      this.streamOf(0).int(...delayMs),
    );
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        const rng = this.streamOf(w + 1);
        while (!this.killed && !this.failure) {
          try {
            await step(w, rng);
          } catch (err) {
            this.failure ??= err as Error;
          }
        }
      }),
    );
    clearTimeout(timer);
    this.killed = true;
    await server.kill();
    this.server = undefined;
    if (this.failure) throw this.failure;
  }

  /** (Re)starts the server on the data directory and a client for it. */
  protected async start(): Promise<void> {
    this.client?.destroy();
    const s = await startOn(this.dataDir, START_LIMIT_MS, this.extra).catch((err: unknown) => this.fail(`the server did not start: ${(err as Error).message}`));
    this.server = s;
    this.client = crashClient(s.url);
    this.killed = false;
  }
}

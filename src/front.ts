// The front router: what a listener answers besides S3. Today the health endpoints (/health/live,
// /health/ready and MinIO's /minio/health/* aliases) and /metrics; later the console hangs here (the
// admin API, which takes signed requests, has its own rule: src/admin/http.ts, isAdminRequest). It
// never shadows the S3 namespace: see `frontRoute` and docs/ARCHITECTURE.md.
import { open, unlink } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { bucketFromHost, splitTarget } from './http/host.js';

/** The front endpoints, by exact raw path (no percent-decoding, no trailing slash, no query). */
const FRONT_PATHS: ReadonlyMap<string, FrontEndpoint> = new Map([
  ['/health/live', 'live'],
  ['/health/ready', 'ready'],
  ['/minio/health/live', 'live'],
  ['/minio/health/ready', 'ready'],
]);

export type FrontEndpoint = 'live' | 'ready';

/**
 * The front endpoint a request is for, or undefined when it belongs to S3. A request is the front
 * router's only when S3 would refuse it anyway, so no bucket or key is ever shadowed:
 * - method GET or HEAD;
 * - its raw path is exactly one of FRONT_PATHS and it has no query string (a `?` with anything);
 * - it carries no S3 authentication: no `Authorization` header (with any value, even empty) — and
 *   with no query at all there is no presigned signature (X-Amz-Signature / Signature) either;
 * - its `Host` does not name a bucket (virtual-hosted style under a `--domain`).
 * Such a request is anonymous. An authenticated client reaches bucket `health` key `live` as any
 * other object; an anonymous one may too, when a bucket policy grants it: so the server asks
 * `frontPathBucketExists` before answering, and S3 takes the request when bucket `health`
 * (`minio`) exists.
 */
export function frontRoute(req: IncomingMessage, domains: readonly string[]): FrontEndpoint | undefined {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const url = req.url ?? '';
  const endpoint = FRONT_PATHS.get(url); // no '?' in the map's keys: any query string misses
  if (endpoint === undefined) return undefined;
  if (req.headers.authorization !== undefined) return undefined;
  if (bucketFromHost(req.headers.host, domains) !== undefined) return undefined;
  // splitTarget is the pipeline's own split: the same rawPath S3 would route.
  return splitTarget(url).rawQuery === '' ? endpoint : undefined;
}

/**
 * Is this GET/HEAD /metrics (exactly: no query, no trailing slash) on a Host that names no bucket?
 * Unlike the health paths it may carry an Authorization header (--metrics-auth bearer or sigv4):
 * path-style it would be a ListObjects of bucket `metrics`, so the server still asks
 * `bucketExists('metrics')` first and S3 takes the request when that bucket exists; when it does
 * not, S3 would only have answered NoSuchBucket.
 */
export function isMetricsRequest(req: IncomingMessage, domains: readonly string[]): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (req.url !== METRICS_PATH) return false;
  return bucketFromHost(req.headers.host, domains) === undefined;
}

export const METRICS_PATH = '/metrics';

/**
 * Does the bucket a front path names as a path-style S3 request (`health` or `minio`) exist? Asked
 * only for a request frontRoute took (one store read): when it does, the request is S3's (an
 * anonymous read the bucket's policy may permit). A store that does not answer counts as no bucket,
 * so /health/ready still answers (503) when the metadata store is down.
 */
export async function frontPathBucketExists(req: IncomingMessage, bucketExists: (name: string) => Promise<boolean>): Promise<boolean> {
  const url = req.url ?? '';
  const name = url.slice(1, url.indexOf('/', 1));
  try {
    return await bucketExists(name);
  } catch {
    return false;
  }
}

/**
 * A listener of its own for the front endpoints (--health-address): there is no S3 namespace there,
 * so every GET/HEAD of a front path is answered, whatever its headers or query; anything else 404.
 */
export function createFrontServer(readiness: Readiness): http.Server {
  const server = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    const endpoint = req.method === 'GET' || req.method === 'HEAD' ? FRONT_PATHS.get(splitTarget(req.url ?? '').rawPath) : undefined;
    if (endpoint !== undefined) {
      answerFront(endpoint, req, res, readiness).catch(() => res.destroy());
      return;
    }
    const body = Buffer.from('not found\n');
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, server: 'Strata' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}

/** How long a readiness answer is reused: the probes run at most once per interval. */
export const READY_CACHE_MS = 1000;

export interface ReadinessProbes {
  /** Resolves when the metadata store answers a read; throws (or rejects) when it does not. */
  meta: () => unknown;
  /** A directory the server writes to (the data directory's tmp/): probed by creating and removing a file. */
  writableDir: string;
  /** Several drives: why the drive set cannot serve reads (fewer than read quorum online), undefined when it can. */
  drives?: () => string | undefined;
}

export interface ReadyState {
  ready: boolean;
  /** Why not, for the 503 body. */
  reason?: string;
}

/**
 * /health/ready: the metadata store answers and the data directory takes a new file. The answer is
 * cached for READY_CACHE_MS and concurrent checks share one probe, so a flood of probes costs at
 * most one file create+unlink and one metadata read per second.
 */
export class Readiness {
  private cached: { at: number; state: ReadyState } | undefined;
  private running: Promise<ReadyState> | undefined;
  private readonly probeFile: string;

  constructor(
    private readonly probes: ReadinessProbes,
    private readonly now: () => number = Date.now,
  ) {
    this.probeFile = join(probes.writableDir, `.ready-probe-${process.pid}`);
  }

  check(): Promise<ReadyState> {
    const c = this.cached;
    if (c !== undefined && this.now() - c.at < READY_CACHE_MS) return Promise.resolve(c.state);
    this.running ??= this.probe().then((state) => {
      this.cached = { at: this.now(), state };
      this.running = undefined;
      return state;
    });
    return this.running;
  }

  private async probe(): Promise<ReadyState> {
    try {
      await this.probes.meta();
    } catch (err) {
      return { ready: false, reason: `metadata store does not answer: ${errorText(err)}` };
    }
    const drives = this.probes.drives?.();
    if (drives !== undefined) return { ready: false, reason: drives };
    try {
      const fh = await open(this.probeFile, 'w');
      try {
        await fh.write('ready\n');
      } finally {
        await fh.close();
      }
      await unlink(this.probeFile);
    } catch (err) {
      return { ready: false, reason: `data directory is not writable: ${errorText(err)}` };
    }
    return { ready: true };
  }
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  return e?.code ?? (err instanceof Error ? err.message : String(err));
}

/** Answers a front endpoint: 200/503 with a one-line text body (none for HEAD), never cached. */
export async function answerFront(endpoint: FrontEndpoint, req: IncomingMessage, res: ServerResponse, readiness: Readiness): Promise<void> {
  let status = 200;
  let text = 'OK\n';
  if (endpoint === 'ready') {
    const state = await readiness.check();
    if (!state.ready) {
      status = 503;
      text = `not ready: ${state.reason ?? 'unknown'}\n`;
    }
  }
  const body = Buffer.from(text);
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': body.length,
    'cache-control': 'no-store',
    server: 'Strata',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

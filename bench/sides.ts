// The sides a benchmark compares (Strata, the reference, the disk) and how the bench talks to them:
// load requests (presigned on S3, plain paths on nginx), control requests, buckets and objects
// created unmeasured, and the load itself (wrk where it can, the Node client otherwise).
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildHead, requestOnce, runLoad, type HttpRequest, type HttpResponse, type LoadResult } from './client.js';
import type { RunningNginx } from './servers.js';
import { objectPath, presign, signHeaders, type S3Credentials } from './sign.js';
import { runWrk } from './wrk.js';
import type { Cell } from './cells.js';
import type { Options } from './options.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const STRATA_CREDS: S3Credentials = { accessKey: 'rustfsadmin', secretKey: 'rustfssecret', region: 'us-east-1' };
export const HOST = '127.0.0.1';

// ---------------------------------------------------------------------------------------------
// Sides: the servers compared

export interface Side {
  name: string;
  /** disk: no server, the disk's own write rate (disk.ts) on the cells that have a DiskSpec. */
  kind: 's3' | 'nginx' | 'disk';
  port: number;
  /** Several gateways of one namespace (strata-pg): load connections alternate between these ports. */
  ports?: number[];
  hostHeader: string;
  creds?: S3Credentials;
  /** Processes whose CPU and memory are measured ([] for an endpoint the bench did not start). */
  pids: () => number[];
  nginx?: RunningNginx;
  /** The cells this side runs (default: every cell an S3 server, or nginx, can run). */
  runs?: (cell: Cell) => boolean;
}

/** The sides that run a cell. */
export const sidesOf = (sides: readonly Side[], cell: Cell) => sides.filter((s) => (s.runs ? s.runs(cell) : s.kind === 's3' || cell.nginx));

/** Request target for a load request: presigned on S3, the plain path on nginx. */
export function target(side: Side, method: string, bucket: string, key?: string, query: Array<[string, string]> = []): string {
  const path = objectPath(bucket, key);
  return side.kind === 's3' ? presign(side.creds!, side.hostHeader, method, path, query) : path;
}

/** A control request (header-signed on S3) on a fresh connection. */
export async function control(
  side: Side,
  method: string,
  bucket: string,
  key?: string,
  query: Array<[string, string]> = [],
  body?: Buffer,
): Promise<HttpResponse> {
  const path = objectPath(bucket, key);
  let tgt = path;
  let headers: Record<string, string> = {};
  if (side.kind === 's3') ({ target: tgt, headers } = signHeaders(side.creds!, side.hostHeader, method, path, query));
  const req: HttpRequest = {
    head: buildHead(method, tgt, side.hostHeader, headers, body !== undefined || method === 'PUT' || method === 'POST' ? (body?.length ?? 0) : undefined),
    body: body ? [body] : undefined,
    isHead: method === 'HEAD',
    keepBody: true,
  };
  return requestOnce(HOST, side.port, req);
}

export function expectOk(res: HttpResponse, what: string, also: number[] = []): void {
  if ((res.status < 200 || res.status > 299) && !also.includes(res.status)) {
    throw new Error(`${what}: HTTP ${res.status} ${res.body?.toString('utf8').slice(0, 300) ?? ''}`);
  }
}

const bucketsMade = new Set<string>();
export async function ensureBucket(side: Side, bucket: string): Promise<void> {
  const k = `${side.name}/${bucket}`;
  if (bucketsMade.has(k)) return;
  if (side.kind === 'nginx') mkdirSync(join(side.nginx!.root, bucket), { recursive: true });
  else expectOk(await control(side, 'PUT', bucket), `CreateBucket ${bucket}`, [409]);
  bucketsMade.add(k);
}

export async function putObject(side: Side, bucket: string, key: string, body: Buffer): Promise<void> {
  await ensureBucket(side, bucket);
  expectOk(await control(side, 'PUT', bucket, key, [], body), `PUT ${bucket}/${key}`);
}

/**
 * Creates `keys` with `size` bytes each, unmeasured: on nginx straight into its document root
 * (what its WebDAV PUT would leave there, minus the HTTP), on S3 through PUT requests.
 */
export async function populate(ctx: Ctx, side: Side, bucket: string, keys: readonly string[], size: number): Promise<void> {
  await ensureBucket(side, bucket);
  if (side.kind === 'nginx') {
    const body = bodyOf(size);
    const dirs = new Set<string>();
    for (const key of keys) {
      const file = join(side.nginx!.root, bucket, key);
      const dir = dirname(file);
      if (!dirs.has(dir)) mkdirSync(dir, { recursive: true });
      dirs.add(dir);
      writeFileSync(file, body);
    }
    return;
  }
  const r = await load(ctx, side, {
    method: 'PUT',
    paths: keys.map((k) => target(side, 'PUT', bucket, k)),
    concurrency: 16,
    bodySize: size,
    durationS: 600,
    maxRequests: keys.length,
  });
  if (r.ops < keys.length || r.errors > 0) throw new Error(`populating ${keys.length} keys in ${bucket}: ${r.ops} answers, ${r.errors} errors`);
}

// ---------------------------------------------------------------------------------------------
// Load: wrk where it can, the Node client otherwise

export interface LoadSpec {
  method: 'GET' | 'PUT' | 'DELETE' | 'HEAD';
  paths: readonly string[];
  concurrency: number;
  bodySize: number;
  durationS: number;
  /** Headers every request sends (signed into its presigned target: see sign.ts presign). */
  headers?: Readonly<Record<string, string>>;
  /** Count mode: exactly this many requests (bounded by durationS as a time limit). */
  maxRequests?: number;
}

const bodies = new Map<number, Buffer>();
export function bodyOf(size: number): Buffer {
  let b = bodies.get(size);
  if (!b) {
    b = randomBytes(size);
    bodies.set(size, b);
  }
  return b;
}

export interface Ctx {
  opts: Options;
  useWrk: boolean;
  workDir: string;
}

export async function load(ctx: Ctx, side: Side, spec: LoadSpec): Promise<LoadResult> {
  // wrk talks to one port: a side of several gateways gets the Node client (cells it runs use it on every side).
  if (ctx.useWrk && spec.method !== 'HEAD' && !(side.ports && side.ports.length > 1)) {
    return runWrk({
      host: HOST,
      port: side.port,
      concurrency: spec.concurrency,
      durationS: spec.durationS,
      method: spec.method,
      paths: spec.paths,
      bodySize: spec.bodySize,
      headers: spec.headers,
      maxRequests: spec.maxRequests,
      workDir: ctx.workDir,
      timeoutS: 60,
    });
  }
  const body = spec.bodySize > 0 ? [bodyOf(spec.bodySize)] : undefined;
  const withLength = spec.method === 'PUT';
  const reqs: HttpRequest[] = spec.paths.map((p) => ({
    head: buildHead(spec.method, p, side.hostHeader, { ...spec.headers }, withLength ? spec.bodySize : undefined),
    body,
    isHead: spec.method === 'HEAD',
  }));
  let wrapped = false;
  const r = await runLoad({
    host: HOST,
    port: side.port,
    ports: side.ports,
    concurrency: spec.concurrency,
    durationMs: spec.durationS * 1000,
    maxRequests: spec.maxRequests ?? 50_000_000,
    next: (i) => {
      if (i >= reqs.length && reqs.length > 1) wrapped = true;
      return reqs[i % reqs.length];
    },
    timeoutMs: 60_000,
  });
  return { ...r, wrapped };
}

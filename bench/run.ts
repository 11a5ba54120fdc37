#!/usr/bin/env node
// `npm run bench`: Strata against a reference HTTP server on this machine, same workload cells,
// alternating sides over several rounds; prints one markdown table (median, spread, ratio, target)
// and writes the same as JSON. Reference: Debian's nginx (static GET/HEAD, WebDAV PUT/DELETE), with
// as many workers as cores and, in full mode, also with one worker; or any S3 endpoint (--vs URL).
// Load: wrk (one thread) where it can, a raw-socket Node client otherwise (HEAD, mixed, multipart,
// listing). `--help` lists the options. Everything runs on 127.0.0.1 and every loop is bounded.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { authCells } from './auth.js';
import { bulkKey, bulkLoad, type BulkBucket } from './bulk.js';
import { buildHead, Connection, requestOnce, runLoad, sequentialResult, type HttpRequest, type HttpResponse, type LoadResult } from './client.js';
import { formatProfile, summarizeProfile, type ProfileSummary } from './profile.js';
import { ProcWindow, readMemory } from './procstat.js';
import { nginxBinary, startNginx, startNullServer, startStrata, strataNodeFlags, type Running, type RunningNginx, type RunningStrata } from './servers.js';
import { objectPath, presign, signHeaders, type S3Credentials } from './sign.js';
import { sseCells, sseServerArgs } from './sse.js';
import { SETS, versionBuckets, versionCells } from './versions.js';
import { runWrk, wrkAvailable } from './wrk.js';

const KiB = 1024;
const MiB = 1024 * 1024;
const STRATA_CREDS: S3Credentials = { accessKey: 'rustfsadmin', secretKey: 'rustfssecret', region: 'us-east-1' };
const HOST = '127.0.0.1';

export type Mode = 'full' | 'quick' | 'smoke';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  mode: Mode;
  rounds: number;
  durationS: number;
  listSizes: [number, number];
  startups: number;
  nginx1w: boolean;
  vs?: { url: string; host: string; port: number; creds: S3Credentials; listMax: number };
  only?: string[];
  /** A named set of cells run instead of the mode's default cells (see SETS). */
  set?: string;
  client: 'auto' | 'wrk' | 'node';
  json: string;
  profileDir?: string;
  strataArgs: string[];
  strataNodeArgs: string[];
  keep: boolean;
  tmpBase: string;
}

const HELP = `usage: node dist/bench/run.js [options]     (npm run bench -- [options])

modes (default: full, several minutes):
  --quick               under a minute: 1 round of 1 s, a subset of cells, listing on 10 k / 100 k keys
  --smoke               a few seconds: 1 round, 3 cells, tiny counts (the test uses it with --vs)
options:
  --rounds N            rounds per cell (full: 5)
  --duration S          seconds per measurement (full: 2; wrk needs whole seconds)
  --list-sizes A,B      keys in the two listing buckets (full: 10000,1000000)
  --only ID,ID          only cells whose id starts with one of these (e.g. get-4k,head)
  --set NAME            run this named set of cells instead of the mode's default ones (sizes and
                        durations still by mode). Sets: versions (ListObjectVersions over 100 k keys
                        × 10 versions, ListObjectsV2 with 90 % delete markers, 4 KiB PUT/GET on a
                        versioned bucket, each against its unversioned twin; Strata only)
  --vs URL              reference = this S3 endpoint (path style, http) instead of nginx
  --vs-access-key K, --vs-secret-key S, --vs-region R   its credentials (default: Strata's)
  --vs-list-max N       populate its listing buckets over HTTP up to N keys (default 10000; larger
                        buckets are skipped on the reference)
  --nginx-1w / --no-nginx-1w   also run nginx with one worker (default: on in full mode)
  --client auto|wrk|node   load generator for GET/PUT/DELETE (auto: wrk when installed)
  --json FILE           where the JSON result goes (default: <tmp>/strata-bench/last-run.json)
  --profile DIR         run Strata under node --cpu-prof, write the profile to DIR and print its top frames
  --strata-arg ARG      extra Strata argument (repeatable), e.g. --strata-arg=--log-level=warn
  --strata-node-arg ARG extra node argument for Strata (repeatable), after the flags of its own launch line
                        (dist/src/main.js: --max-semi-space-size=4), so e.g. --strata-node-arg=--max-semi-space-size=16 overrides
  --tmp DIR             where the data directories go (default: the OS temp dir)
  --keep                keep the data directories
`;

function parseOptions(argv: string[]): Options {
  const flags = new Map<string, string[]>();
  const bool = new Set(['--quick', '--smoke', '--nginx-1w', '--no-nginx-1w', '--keep', '--help', '-h']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else if (bool.has(name)) value = 'true';
    else {
      if (i + 1 >= argv.length) throw new Error(`${name} needs a value`);
      value = argv[++i]!;
    }
    if (!name.startsWith('-')) throw new Error(`unexpected argument ${a}`);
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  const get = (n: string) => flags.get(n)?.at(-1);
  if (get('--help') ?? get('-h')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const known = new Set([
    ...bool,
    '--rounds',
    '--duration',
    '--list-sizes',
    '--only',
    '--set',
    '--vs',
    '--vs-access-key',
    '--vs-secret-key',
    '--vs-region',
    '--vs-list-max',
    '--client',
    '--json',
    '--profile',
    '--strata-arg',
    '--strata-node-arg',
    '--tmp',
  ]);
  for (const n of flags.keys()) if (!known.has(n)) throw new Error(`unknown option ${n} (see --help)`);
  const mode: Mode = get('--smoke') ? 'smoke' : get('--quick') ? 'quick' : 'full';
  const preset = {
    full: { rounds: 5, durationS: 2, listSizes: [10_000, 1_000_000] as [number, number], startups: 3, nginx1w: true },
    quick: { rounds: 1, durationS: 1, listSizes: [10_000, 100_000] as [number, number], startups: 1, nginx1w: false },
    smoke: { rounds: 1, durationS: 1, listSizes: [1_000, 2_000] as [number, number], startups: 1, nginx1w: false },
  }[mode];
  const num = (n: string, d: number, min: number, max: number) => {
    const v = get(n);
    if (v === undefined) return d;
    const x = Number(v);
    if (!Number.isFinite(x) || x < min || x > max) throw new Error(`${n} must be a number in [${min}, ${max}]`);
    return x;
  };
  let vs: Options['vs'];
  const vsUrl = get('--vs');
  if (vsUrl !== undefined) {
    const u = new URL(vsUrl);
    if (u.protocol !== 'http:') throw new Error('--vs: only http:// endpoints');
    if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') throw new Error('--vs: the bench only talks to 127.0.0.1');
    vs = {
      url: vsUrl,
      host: HOST,
      port: Number(u.port || 80),
      creds: {
        accessKey: get('--vs-access-key') ?? STRATA_CREDS.accessKey,
        secretKey: get('--vs-secret-key') ?? STRATA_CREDS.secretKey,
        region: get('--vs-region') ?? STRATA_CREDS.region,
      },
      listMax: num('--vs-list-max', 10_000, 0, 10_000_000),
    };
  }
  const sizes = get('--list-sizes')?.split(',').map(Number);
  if (sizes && (sizes.length !== 2 || sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 20_000_000))) {
    throw new Error('--list-sizes takes two positive integers');
  }
  const set = get('--set');
  if (set !== undefined && !SETS.includes(set)) throw new Error(`--set: one of ${SETS.join(', ')}`);
  const client = get('--client') ?? 'auto';
  if (client !== 'auto' && client !== 'wrk' && client !== 'node') throw new Error('--client: auto, wrk or node');
  const tmpBase = resolve(get('--tmp') ?? os.tmpdir());
  return {
    mode,
    rounds: num('--rounds', preset.rounds, 1, 100),
    durationS: num('--duration', preset.durationS, 1, 600),
    listSizes: sizes ? [sizes[0]!, sizes[1]!] : preset.listSizes,
    startups: preset.startups,
    nginx1w: vs ? false : get('--no-nginx-1w') ? false : get('--nginx-1w') ? true : preset.nginx1w,
    vs,
    only: get('--only')
      ?.split(',')
      .filter((s) => s !== ''),
    set,
    client,
    json: resolve(get('--json') ?? join(tmpBase, 'strata-bench', 'last-run.json')),
    profileDir: get('--profile') !== undefined ? resolve(get('--profile')!) : undefined,
    strataArgs: flags.get('--strata-arg') ?? [],
    strataNodeArgs: flags.get('--strata-node-arg') ?? [],
    keep: get('--keep') !== undefined,
    tmpBase,
  };
}

// ---------------------------------------------------------------------------------------------
// Sides: the servers compared

export interface Side {
  name: string;
  kind: 's3' | 'nginx';
  port: number;
  hostHeader: string;
  creds?: S3Credentials;
  /** Processes whose CPU and memory are measured ([] for an endpoint the bench did not start). */
  pids: () => number[];
  nginx?: RunningNginx;
}

/** Request target for a load request: presigned on S3, the plain path on nginx. */
function target(side: Side, method: string, bucket: string, key?: string, query: Array<[string, string]> = []): string {
  const path = objectPath(bucket, key);
  return side.kind === 's3' ? presign(side.creds!, side.hostHeader, method, path, query) : path;
}

/** A control request (header-signed on S3) on a fresh connection. */
async function control(side: Side, method: string, bucket: string, key?: string, query: Array<[string, string]> = [], body?: Buffer): Promise<HttpResponse> {
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

function expectOk(res: HttpResponse, what: string, also: number[] = []): void {
  if ((res.status < 200 || res.status > 299) && !also.includes(res.status)) {
    throw new Error(`${what}: HTTP ${res.status} ${res.body?.toString('utf8').slice(0, 300) ?? ''}`);
  }
}

const bucketsMade = new Set<string>();
async function ensureBucket(side: Side, bucket: string): Promise<void> {
  const k = `${side.name}/${bucket}`;
  if (bucketsMade.has(k)) return;
  if (side.kind === 'nginx') mkdirSync(join(side.nginx!.root, bucket), { recursive: true });
  else expectOk(await control(side, 'PUT', bucket), `CreateBucket ${bucket}`, [409]);
  bucketsMade.add(k);
}

async function putObject(side: Side, bucket: string, key: string, body: Buffer): Promise<void> {
  await ensureBucket(side, bucket);
  expectOk(await control(side, 'PUT', bucket, key, [], body), `PUT ${bucket}/${key}`);
}

/**
 * Creates `keys` with `size` bytes each, unmeasured: on nginx straight into its document root
 * (what its WebDAV PUT would leave there, minus the HTTP), on S3 through PUT requests.
 */
async function populate(ctx: Ctx, side: Side, bucket: string, keys: readonly string[], size: number): Promise<void> {
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
function bodyOf(size: number): Buffer {
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

async function load(ctx: Ctx, side: Side, spec: LoadSpec): Promise<LoadResult> {
  if (ctx.useWrk && spec.method !== 'HEAD') {
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

// ---------------------------------------------------------------------------------------------
// Cells

export type Unit = 'req/s' | 'MiB/s' | 'pages/s';
export type Target =
  | { kind: 'ratio'; min: number; text: string }
  | { kind: 'abs'; min: number; text: string }
  | { kind: 'abs+same'; min: number; sameAs: string; sameMin: number; text: string }
  /** Strata's median over that of another cell of the same run (Strata only, no reference). */
  | { kind: 'same'; sameAs: string; min: number; text: string };

export interface RunOutput {
  value: number;
  load: LoadResult;
  note?: string;
}

export interface Cell {
  id: string;
  title: string;
  unit: Unit;
  modes: Mode[];
  /** The named set (--set) it belongs to; cells without one are the modes' default cells. */
  set?: string;
  /** Consecutive cells with the same group run interleaved, round by round (comparisons between them). */
  group?: string;
  target?: Target;
  /** The nginx reference can run it (listing cannot). */
  nginx: boolean;
  /** The load generator for this cell. */
  tool: (ctx: Ctx) => 'wrk' | 'node';
  run(ctx: Ctx, side: Side, round: number, measured: <T>(fn: () => Promise<T>) => Promise<T>): Promise<RunOutput | undefined>;
}

const perSecond = (r: LoadResult) => r.ops / r.elapsedS;
const mibPerSecond = (size: number) => (r: LoadResult) => (r.ops * size) / MiB / r.elapsedS;
const wrkOrNode = (ctx: Ctx): 'wrk' | 'node' => (ctx.useWrk ? 'wrk' : 'node');

/** Sizes of request lists, by mode: presigned lists cost signing time and memory, plain ones little. */
function listCap(ctx: Ctx, side: Side): number {
  const s3 = side.kind === 's3';
  return { full: s3 ? 60_000 : 200_000, quick: s3 ? 20_000 : 80_000, smoke: s3 ? 3_000 : 10_000 }[ctx.opts.mode];
}

const prepared = new Set<string>();
async function once(side: Side, key: string, fn: () => Promise<void>): Promise<void> {
  const k = `${side.name}/${key}`;
  if (prepared.has(k)) return;
  await fn();
  prepared.add(k);
}

function getCell(size: number, c: number, modes: Mode[], target?: Target): Cell {
  const label = size >= MiB ? `${size / MiB} MiB` : `${size / KiB} KiB`;
  const key = `get-${size}`;
  return {
    id: size >= MiB ? `get-${size / MiB}m-c${c}` : `get-${size / KiB}k-c${c}`,
    title: `GET ${label}, c${c}`,
    unit: size >= MiB ? 'MiB/s' : 'req/s',
    modes,
    target,
    nginx: true,
    tool: wrkOrNode,
    async run(ctx, side, _round, measured) {
      await once(side, key, () => putObject(side, 'bench', key, bodyOf(size)));
      const r = await measured(() =>
        load(ctx, side, { method: 'GET', paths: [target_(side, 'GET', key)], concurrency: c, bodySize: 0, durationS: ctx.opts.durationS }),
      );
      return { value: size >= MiB ? mibPerSecond(size)(r) : perSecond(r), load: r };
    },
  };
}
const target_ = (side: Side, method: string, key: string) => target(side, method, 'bench', key);

function putOneCell(size: number, c: number, modes: Mode[], target?: Target): Cell {
  const label = size >= MiB ? `${size / MiB} MiB` : `${size / KiB} KiB`;
  const key = `put-one-${size}`;
  return {
    id: size >= MiB ? `put-${size / MiB}m-c${c}` : `put-${size / KiB}k-one-c${c}`,
    title: size >= MiB ? `PUT ${label}, c${c} (one key)` : `PUT ${label} one key, c${c}`,
    unit: size >= MiB ? 'MiB/s' : 'req/s',
    modes,
    target,
    nginx: true,
    tool: wrkOrNode,
    async run(ctx, side, _round, measured) {
      await ensureBucket(side, 'bench');
      const r = await measured(() =>
        load(ctx, side, { method: 'PUT', paths: [target_(side, 'PUT', key)], concurrency: c, bodySize: size, durationS: ctx.opts.durationS }),
      );
      return { value: size >= MiB ? mibPerSecond(size)(r) : perSecond(r), load: r };
    },
  };
}

function putDistinctCell(c: number, modes: Mode[], target?: Target): Cell {
  return {
    id: `put-4k-distinct-c${c}`,
    title: `PUT 4 KiB distinct keys, c${c}`,
    unit: 'req/s',
    modes,
    target,
    nginx: true,
    tool: wrkOrNode,
    async run(ctx, side, round, measured) {
      await ensureBucket(side, 'bench');
      const n = listCap(ctx, side);
      const paths = Array.from({ length: n }, (_, i) => target_(side, 'PUT', `put-distinct/c${c}/r${round}/${i}`));
      const r = await measured(() => load(ctx, side, { method: 'PUT', paths, concurrency: c, bodySize: 4 * KiB, durationS: ctx.opts.durationS }));
      return { value: perSecond(r), load: r, note: r.wrapped ? `key list (${n}) reused` : undefined };
    },
  };
}

function headCell(c: number, modes: Mode[], target?: Target): Cell {
  const key = `get-${4 * KiB}`;
  return {
    id: `head-4k-c${c}`,
    title: `HEAD 4 KiB, c${c}`,
    unit: 'req/s',
    modes,
    target,
    nginx: true,
    tool: () => 'node',
    async run(ctx, side, _round, measured) {
      await once(side, key, () => putObject(side, 'bench', key, bodyOf(4 * KiB)));
      const r = await measured(() =>
        load(ctx, side, { method: 'HEAD', paths: [target_(side, 'HEAD', key)], concurrency: c, bodySize: 0, durationS: ctx.opts.durationS }),
      );
      return { value: perSecond(r), load: r };
    },
  };
}

/** DELETE of existing keys: populate K keys (not measured), then delete exactly those K. */
function deleteCell(c: number, modes: Mode[]): Cell {
  const lastRate = new Map<string, number>();
  return {
    id: `delete-4k-c${c}`,
    title: `DELETE 4 KiB (existing keys), c${c}`,
    unit: 'req/s',
    modes,
    nginx: true,
    tool: wrkOrNode,
    async run(ctx, side, round, measured) {
      await ensureBucket(side, 'bench');
      const nginx = side.kind === 'nginx';
      const first = nginx ? { full: 20_000, quick: 10_000, smoke: 1_000 }[ctx.opts.mode] : { full: 2_000, quick: 1_500, smoke: 300 }[ctx.opts.mode];
      const cap = nginx ? { full: 30_000, quick: 10_000, smoke: 1_000 }[ctx.opts.mode] : { full: 5_000, quick: 2_000, smoke: 300 }[ctx.opts.mode];
      const prev = lastRate.get(side.name);
      // Enough keys for about half a measurement at the last measured rate, bounded both ways
      // (populating costs more than deleting: it is the PUT cell again).
      const k = Math.round(Math.min(cap, Math.max(500, prev === undefined ? first : (prev * ctx.opts.durationS) / 2)));
      const keys = Array.from({ length: k }, (_, i) => `delete/c${c}/r${round}/${i}`);
      await populate(ctx, side, 'bench', keys, 4 * KiB);
      const paths = keys.map((key) => target_(side, 'DELETE', key));
      const r = await measured(() =>
        load(ctx, side, { method: 'DELETE', paths, concurrency: c, bodySize: 0, durationS: Math.max(10, ctx.opts.durationS * 10), maxRequests: k }),
      );
      lastRate.set(side.name, perSecond(r));
      return { value: perSecond(r), load: r, note: `${k} keys` };
    },
  };
}

const PART = 8 * MiB;
const MPU_SIZE = 256 * MiB;

/** Multipart upload (S3) or one PUT of the same bytes (nginx), repeated for the duration. */
function multipartCell(modes: Mode[], target?: Target): Cell {
  const parallel = 4;
  return {
    id: 'multipart-256m',
    title: 'multipart 256 MiB, 8 MiB parts ×4 parallel (nginx: one PUT of 256 MiB)',
    unit: 'MiB/s',
    modes,
    target,
    nginx: true,
    tool: () => 'node',
    async run(ctx, side, round, measured) {
      await ensureBucket(side, 'bench');
      const part = bodyOf(PART);
      const nParts = MPU_SIZE / PART;
      const key = `mpu/${round}`;
      const maxUploads = 20;
      const r = await measured(async () => {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const deadline = t0 + ctx.opts.durationS * 1000;
        let uploads = 0;
        let errors = 0;
        do {
          if (side.kind === 'nginx') {
            const head = buildHead('PUT', objectPath('bench', key), side.hostHeader, {}, MPU_SIZE);
            const res = await requestOnce(HOST, side.port, { head, body: Array.from({ length: nParts }, () => part) }, 300_000);
            if (res.status >= 300) errors++;
          } else {
            const created = await control(side, 'POST', 'bench', key, [['uploads', '']]);
            expectOk(created, 'CreateMultipartUpload');
            const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body!.toString('utf8'))?.[1];
            if (!uploadId) throw new Error('CreateMultipartUpload: no UploadId');
            const etags: string[] = new Array<string>(nParts);
            let nextPart = 0;
            const worker = async () => {
              const conn = await Connection.connect(HOST, side.port, 300_000);
              try {
                while (nextPart < nParts) {
                  const n = ++nextPart;
                  const query: Array<[string, string]> = [
                    ['partNumber', String(n)],
                    ['uploadId', uploadId],
                  ];
                  const { target: tgt, headers } = signHeaders(side.creds!, side.hostHeader, 'PUT', objectPath('bench', key), query);
                  const res = await conn.request({ head: buildHead('PUT', tgt, side.hostHeader, headers, PART), body: [part], keepBody: true });
                  expectOk(res, `UploadPart ${n}`);
                  const etag = /\r\netag:\s*([^\r]+)/i.exec(res.headerText ?? '')?.[1];
                  if (!etag) throw new Error(`UploadPart ${n}: no ETag`);
                  etags[n - 1] = etag.trim();
                }
              } finally {
                conn.close();
              }
            };
            await Promise.all(Array.from({ length: parallel }, worker));
            const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e.replace(/"/g, '&quot;')}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
            const done = await control(side, 'POST', 'bench', key, [['uploadId', uploadId]], Buffer.from(xml));
            expectOk(done, 'CompleteMultipartUpload');
            if (/<Error>/.test(done.body!.toString('utf8'))) throw new Error(`CompleteMultipartUpload: ${done.body!.toString('utf8').slice(0, 300)}`);
          }
          uploads++;
        } while (performance.now() < deadline && uploads < maxUploads);
        const elapsedS = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        return {
          ops: uploads,
          elapsedS,
          statuses: {},
          errors,
          bytesIn: 0,
          latencyMs: { p50: (elapsedS * 1000) / uploads, p99: (elapsedS * 1000) / uploads },
          clientCpuS: (cpu.user + cpu.system) / 1e6,
          tool: 'node',
        } satisfies LoadResult;
      });
      return { value: mibPerSecond(MPU_SIZE)(r), load: r, note: `${r.ops} upload${r.ops === 1 ? '' : 's'}` };
    },
  };
}

/** ListObjectsV2, pages of 1000, one client paging sequentially from a different start each round. */
function listCell(which: 0 | 1, modes: Mode[], target?: Target): Cell {
  return {
    id: which === 0 ? 'list-small' : 'list-large',
    title: 'ListObjectsV2, 1000-key pages', // completed with the bucket size in main()
    unit: 'pages/s',
    modes,
    target,
    nginx: false,
    tool: () => 'node',
    async run(ctx, side, round, measured) {
      const size = ctx.opts.listSizes[which];
      const bucket = listBucket(size);
      if (side.name !== 'strata') {
        const max = ctx.opts.vs?.listMax ?? 0;
        if (size > max) return undefined; // not populated on the reference (see --vs-list-max)
        await once(side, bucket, () => populateOverHttp(ctx, side, bucket, size));
      }
      const conn = await Connection.connect(HOST, side.port, 60_000);
      try {
        // A different, deterministic start each round so deep pages are measured too.
        const startAt = Math.floor(((round * 0.618034) % 1) * size);
        const r = await measured(async () => {
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const deadline = t0 + ctx.opts.durationS * 1000;
          let pages = 0;
          let keys = 0;
          let errors = 0;
          let token: string | undefined;
          let startAfter: string | undefined = startAt > 0 ? bulkKey(startAt) : undefined;
          const lat: number[] = [];
          while (performance.now() < deadline && pages < 1_000_000) {
            const query: Array<[string, string]> = [
              ['list-type', '2'],
              ['max-keys', '1000'],
            ];
            if (token !== undefined) query.push(['continuation-token', token]);
            else if (startAfter !== undefined) query.push(['start-after', startAfter]);
            const { target: tgt, headers } = signHeaders(side.creds!, side.hostHeader, 'GET', objectPath(bucket), query);
            const s = performance.now();
            const res = await conn.request({ head: buildHead('GET', tgt, side.hostHeader, headers), keepBody: true });
            lat.push(performance.now() - s);
            pages++;
            if (res.status !== 200) {
              errors++;
              break;
            }
            const xml = res.body!.toString('utf8');
            const n = xml.split('<Key>').length - 1;
            keys += n;
            const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
            if (/<IsTruncated>true<\/IsTruncated>/.test(xml) && next !== undefined) {
              if (n !== 1000) throw new Error(`a truncated page had ${n} keys`);
              token = next.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
            } else {
              token = undefined; // end of the bucket: start over from the beginning
              startAfter = undefined;
            }
          }
          return sequentialResult(pages, t0, cpu0, lat, { keys }, errors);
        });
        return { value: perSecond(r), load: r, note: `${r.statuses.keys} keys` };
      } finally {
        conn.close();
      }
    },
  };
}

function listBucket(size: number): string {
  return size >= 1_000_000 && size % 1_000_000 === 0
    ? `list-${size / 1_000_000}m`
    : size >= 1000 && size % 1000 === 0
      ? `list-${size / 1000}k`
      : `list-${size}`;
}

/** 0-byte objects with the bulk keys, over HTTP (for a reference the bench cannot bulk-load). */
async function populateOverHttp(ctx: Ctx, side: Side, bucket: string, size: number): Promise<void> {
  await populate(
    ctx,
    side,
    bucket,
    Array.from({ length: size }, (_, i) => bulkKey(i)),
    0,
  );
}

/** 45 % GET, 30 % HEAD, 15 % PUT, 10 % DELETE of 4 KiB objects; DELETE removes keys PUT earlier. */
function mixedCell(c: number, modes: Mode[]): Cell {
  const CYCLE = 'GHGPGHDGHGPHGGHDGPHG'; // 9 G, 6 H, 3 P, 2 D in 20
  const HOT = 256;
  return {
    id: `mixed-4k-c${c}`,
    title: `mixed 4 KiB (45% GET, 30% HEAD, 15% PUT, 10% DELETE), c${c}`,
    unit: 'req/s',
    modes,
    nginx: true,
    tool: () => 'node',
    async run(ctx, side, round, measured) {
      await ensureBucket(side, 'bench');
      const hotKeys = Array.from({ length: HOT }, (_, i) => `mixed/hot/${i}`);
      await once(side, 'mixed-hot', () => populate(ctx, side, 'bench', hotKeys, 4 * KiB));
      const n = Math.floor(listCap(ctx, side) / 2);
      const churn = Array.from({ length: n }, (_, i) => `mixed/c${c}/r${round}/${i}`);
      // The first keys exist before the run, so the first DELETEs never race their PUT.
      const pre = Math.min(n, 2 * c);
      await populate(ctx, side, 'bench', churn.slice(0, pre), 4 * KiB);
      const body = [bodyOf(4 * KiB)];
      const mk = (method: string, key: string): HttpRequest => ({
        head: buildHead(method, target_(side, method, key), side.hostHeader, {}, method === 'PUT' ? 4 * KiB : undefined),
        body: method === 'PUT' ? body : undefined,
        isHead: method === 'HEAD',
      });
      const gets = hotKeys.map((k) => mk('GET', k));
      const heads = hotKeys.map((k) => mk('HEAD', k));
      const puts = churn.map((k) => mk('PUT', k));
      const dels = churn.map((k) => mk('DELETE', k));
      let p = pre; // PUTs continue after the pre-filled keys; DELETEs start at key 0
      let d = 0;
      const r = await measured(() =>
        runLoad({
          host: HOST,
          port: side.port,
          concurrency: c,
          durationMs: ctx.opts.durationS * 1000,
          maxRequests: Math.floor(((n - pre) * 20) / 3),
          next: (i) => {
            switch (CYCLE[i % 20]) {
              case 'G':
                return gets[(i * 7) % HOT];
              case 'H':
                return heads[(i * 13) % HOT];
              case 'P':
                return p < n ? puts[p++] : undefined;
              default:
                return d < p ? dels[d++] : gets[i % HOT];
            }
          },
        }),
      );
      return { value: perSecond(r), load: r };
    },
  };
}

function allCells(): Cell[] {
  const F: Mode[] = ['full'];
  const FQ: Mode[] = ['full', 'quick'];
  const FQS: Mode[] = ['full', 'quick', 'smoke'];
  const ratio = (min: number): Target => ({ kind: 'ratio', min, text: `≥ ${min.toFixed(2)}×` });
  return [
    getCell(4 * KiB, 16, ['full', 'smoke'], ratio(0.1)),
    getCell(4 * KiB, 64, FQ, ratio(0.1)),
    putOneCell(4 * KiB, 16, F, ratio(0.5)),
    putOneCell(4 * KiB, 64, F, ratio(0.5)),
    putDistinctCell(16, F, ratio(0.5)),
    putDistinctCell(64, FQ, ratio(0.5)),
    headCell(16, ['full', 'smoke'], ratio(0.3)),
    headCell(64, FQ, ratio(0.3)),
    deleteCell(16, F),
    deleteCell(64, FQ),
    getCell(MiB, 8, F),
    putOneCell(MiB, 8, F),
    getCell(64 * MiB, 2, FQ, ratio(0.6)),
    putOneCell(64 * MiB, 2, FQ, ratio(0.35)),
    multipartCell(FQ, ratio(0.35)),
    listCell(0, FQS, { kind: 'abs', min: 100, text: '≥ 100 pages/s' }),
    listCell(1, FQ, { kind: 'abs+same', min: 100, sameAs: 'list-small', sameMin: 0.8, text: '≥ 100 pages/s, ≥ 0.8× small' }),
    mixedCell(16, F),
    mixedCell(64, FQ),
    ...versionCells({ load, target, putObject, once, listCap, bodyOf, wrkOrNode, perSecond }),
    ...authCells({ load, target, putObject, once, bodyOf, wrkOrNode, perSecond }),
    ...sseCells({ load, once, bodyOf, wrkOrNode, perSecond }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Statistics and output

interface RunRecord {
  round: number;
  value: number;
  ops: number;
  elapsedS: number;
  errors: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  tool: string;
  clientCpuS?: number;
  serverCpuS?: number;
  serverPeakRssMiB?: number;
  note?: string;
}

interface SideStats {
  runs: RunRecord[];
  median: number;
  min: number;
  max: number;
  /** Half the range, in % of the median. */
  spreadPct: number;
  serverCpuS?: number;
  /** Server CPU µs per request, page or MiB (by the cell's unit). */
  serverCpuUsPerOp?: number;
  serverPeakRssMiB?: number;
  errors: number;
}

interface CellResult {
  id: string;
  title: string;
  unit: Unit;
  tool: string;
  target?: Target;
  sides: Record<string, SideStats | undefined>;
  ratio?: number;
  /** Target 'same': Strata's median over the other cell's. */
  sameRatio?: number;
  /**
   * Target 'same': Strata's server CPU per operation over the other cell's (a cost ratio: 1.10 =
   * 10 % more CPU per op). On a shared machine it moves less than the throughput ratio.
   */
  sameCpuRatio?: number;
  met?: boolean;
  missedBy?: string;
  skipped?: string;
  /** The reference's median is within 60 % of the load generator's ceiling at this concurrency. */
  nearCeiling?: boolean;
}

/** How far below its target a value is: '12% short' or, far off, '3.4× short'. */
const short = (actual: number, target: number): string =>
  actual >= target / 2 ? `${Math.ceil((1 - actual / target) * 100)}% short` : `${(target / actual).toFixed(1)}× short`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function stats(runs: RunRecord[]): SideStats | undefined {
  if (runs.length === 0) return undefined;
  const v = runs.map((r) => r.value);
  const med = median(v);
  const cpu = runs.filter((r) => r.serverCpuS !== undefined).map((r) => r.serverCpuS!);
  // Per unit of work: per request or page, or per MiB moved (value × elapsed = units done).
  const perOp = runs.filter((r) => r.serverCpuS !== undefined && r.value > 0).map((r) => (r.serverCpuS! * 1e6) / (r.value * r.elapsedS));
  const rss = runs.filter((r) => r.serverPeakRssMiB !== undefined).map((r) => r.serverPeakRssMiB!);
  return {
    runs,
    median: med,
    min: Math.min(...v),
    max: Math.max(...v),
    spreadPct: med > 0 ? ((Math.max(...v) - Math.min(...v)) / 2 / med) * 100 : 0,
    serverCpuS: cpu.length ? median(cpu) : undefined,
    serverCpuUsPerOp: perOp.length ? median(perOp) : undefined,
    serverPeakRssMiB: rss.length ? Math.max(...rss) : undefined,
    errors: runs.reduce((s, r) => s + r.errors, 0),
  };
}

function fmtNum(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function fmtSide(s: SideStats | undefined): string {
  if (!s) return '–';
  const spread = s.runs.length > 1 ? ` ±${s.spreadPct < 10 ? s.spreadPct.toFixed(1) : Math.round(s.spreadPct)}%` : '';
  const err = s.errors > 0 ? ` (${s.errors} err)` : '';
  return `${fmtNum(s.median)}${spread}${err}`;
}

function fmtCpu(s: SideStats | undefined, unit: Unit): string {
  if (s?.serverCpuS === undefined) return '–';
  const per = unit === 'MiB/s' ? 'MiB' : unit === 'pages/s' ? 'page' : 'req';
  return `${s.serverCpuS.toFixed(2)} s (${fmtNum(s.serverCpuUsPerOp)} µs/${per})`;
}

function table(results: CellResult[], refName: string, extra: string | undefined): string {
  const head = [
    'cell',
    'unit',
    'Strata',
    refName,
    `Strata/${refName}`,
    'target',
    'met',
    ...(extra ? [extra] : []),
    'Strata CPU s/run (per op)',
    `${refName} CPU s/run (per op)`,
    'Strata peak RSS MiB',
  ];
  const rows = results.map((r) => {
    const s = r.sides.strata;
    const ref = r.sides[refName];
    const same =
      r.sameRatio !== undefined ? ` (${r.sameRatio.toFixed(2)}×${r.sameCpuRatio !== undefined ? `; CPU/op ${r.sameCpuRatio.toFixed(2)}×` : ''})` : '';
    const met = r.met === undefined ? '' : r.met ? `✅${same}` : `❌${same} ${r.missedBy ?? ''}`.trim();
    return [
      r.title,
      r.unit,
      r.skipped ? `skipped: ${r.skipped}` : fmtSide(s),
      `${fmtSide(ref)}${r.nearCeiling ? ' †' : ''}`,
      r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : '–',
      r.target?.text ?? '',
      met,
      ...(extra ? [fmtSide(r.sides[extra])] : []),
      fmtCpu(s, r.unit),
      fmtCpu(ref, r.unit),
      fmtNum(s?.serverPeakRssMiB),
    ];
  });
  const line = (cols: string[]) => `| ${cols.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function machineInfo(): Record<string, string | number> {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const ver = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return r.error ? 'not installed' : `${r.stdout}${r.stderr}`.split('\n')[0]!.trim();
  };
  return {
    nproc: os.availableParallelism(),
    cpu,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: ver(nginxBinary() ?? 'nginx', ['-v']),
    wrk: ver('wrk', ['--version']).replace(/ Copyright.*/, ''),
    filesystem: (() => {
      const r = spawnSync('df', ['-T', os.tmpdir()], { encoding: 'utf8' });
      return r.stdout?.split('\n')[1]?.split(/\s+/)[1] ?? 'unknown';
    })(),
  };
}

// ---------------------------------------------------------------------------------------------
// Main

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const tAll = performance.now();
  const haveWrk = wrkAvailable();
  if (opts.client === 'wrk' && !haveWrk) throw new Error('--client wrk: wrk is not installed (scripts/bench-deps.sh)');
  const useWrk = opts.client === 'wrk' || (opts.client === 'auto' && haveWrk);
  if (!opts.vs && !nginxBinary()) throw new Error('nginx is not installed: run `bash scripts/bench-deps.sh` (or pass --vs URL)');
  mkdirSync(opts.tmpBase, { recursive: true });
  const root = mkdtempSync(join(opts.tmpBase, 'strata-bench-'));
  const workDir = join(root, 'work');
  mkdirSync(workDir);
  const ctx: Ctx = { opts, useWrk, workDir };
  const running: Running[] = [];
  const cleanup = async () => {
    for (const r of running.splice(0).reverse()) await r.stop().catch(() => undefined);
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: stopping the servers');
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    log(`mode ${opts.mode}: ${opts.rounds} round(s) of ${opts.durationS} s, load generator ${useWrk ? 'wrk + node' : 'node only'}, data in ${root}`);
    const machine = machineInfo();

    // 1. Strata's data directory, with the listing buckets written straight into its metadata.
    const dataDir = join(root, 'strata-data');
    mkdirSync(dataDir);
    const cells = allCells().filter((c) => c.modes.includes(opts.mode) && c.set === opts.set && (!opts.only || opts.only.some((p) => c.id.startsWith(p))));
    const wantsList = cells.some((c) => c.id.startsWith('list-'));
    const listBuckets: BulkBucket[] = wantsList ? opts.listSizes.map((n) => ({ name: listBucket(n), count: n })) : [];
    if (opts.mode === 'smoke' && !cells.some((c) => c.id === 'list-large')) listBuckets.splice(1);
    listBuckets.push(...versionBuckets(opts.mode, cells));
    let bulk = { objects: 0, ms: 0 };
    if (listBuckets.length > 0) {
      log(`bulk-loading ${listBuckets.map((b) => `${b.name} (${b.count} keys)`).join(', ')} into meta.db`);
      bulk = bulkLoad(dataDir, listBuckets, STRATA_CREDS.region);
      log(`bulk load: ${bulk.objects} objects in ${(bulk.ms / 1000).toFixed(1)} s`);
    }

    // 2. Startup time (with the bulk-loaded objects), then the Strata that serves the cells.
    const strataArgs = [...sseServerArgs(cells), ...opts.strataArgs];
    const nodeArgs = [...opts.strataNodeArgs, ...(opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [])];
    if (opts.profileDir) mkdirSync(opts.profileDir, { recursive: true });
    const startups: Array<{ listeningMs: number; readyMs: number }> = [];
    let strata: RunningStrata | undefined;
    for (let i = 0; i < opts.startups; i++) {
      const last = i === opts.startups - 1;
      const t0 = Date.now();
      const s = await startStrata({ dataDir, logFile: join(root, `strata-${i}.log`), args: strataArgs, nodeArgs: last ? nodeArgs : opts.strataNodeArgs });
      const side = { name: 'strata', kind: 's3', port: s.port, hostHeader: `${HOST}:${s.port}`, creds: STRATA_CREDS, pids: s.pids } as Side;
      let readyMs = NaN;
      for (let tries = 0; tries < 2000; tries++) {
        const res = await control(side, 'GET', listBuckets[listBuckets.length - 1]?.name ?? 'none', undefined, [
          ['list-type', '2'],
          ['max-keys', '1'],
        ]).catch(() => undefined);
        if (res && (res.status === 200 || res.status === 404)) {
          readyMs = Date.now() - t0;
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      startups.push({ listeningMs: s.listeningMs, readyMs });
      if (last) strata = s;
      else await s.stop();
    }
    running.push(strata!);
    let emptyStartup: { listeningMs: number } | undefined;
    if (opts.mode !== 'smoke') {
      const emptyDir = join(root, 'strata-empty');
      mkdirSync(emptyDir);
      const s = await startStrata({ dataDir: emptyDir, logFile: join(root, 'strata-empty.log') });
      emptyStartup = { listeningMs: s.listeningMs };
      await s.stop();
    }
    const startupObjects = bulk.objects;
    log(
      `startup with ${startupObjects} objects: ${startups.map((s) => `${s.listeningMs} ms`).join(', ')} to "listening"` +
        (emptyStartup ? ` (empty data dir: ${emptyStartup.listeningMs} ms)` : ''),
    );

    // 3. The reference(s).
    const sides: Side[] = [{ name: 'strata', kind: 's3', port: strata!.port, hostHeader: `${HOST}:${strata!.port}`, creds: STRATA_CREDS, pids: strata!.pids }];
    let refName: string;
    let extra: string | undefined;
    if (opts.vs) {
      refName = 'reference';
      sides.push({ name: refName, kind: 's3', port: opts.vs.port, hostHeader: `${HOST}:${opts.vs.port}`, creds: opts.vs.creds, pids: () => [] });
    } else {
      refName = 'nginx';
      const cores = os.availableParallelism();
      const n = await startNginx({ dir: join(root, 'nginx'), workers: cores });
      running.push(n);
      sides.push({ name: refName, kind: 'nginx', port: n.port, hostHeader: `${HOST}:${n.port}`, pids: n.pids, nginx: n });
      if (opts.nginx1w) {
        extra = 'nginx-1w';
        const n1 = await startNginx({ dir: join(root, 'nginx-1w'), workers: 1 });
        running.push(n1);
        sides.push({ name: extra, kind: 'nginx', port: n1.port, hostHeader: `${HOST}:${n1.port}`, pids: n1.pids, nginx: n1 });
      }
    }

    // 4. The client's own ceiling: the cheapest possible answer (nginx `return 204`, or a Node
    //    server that answers 204 when nginx is not there) at the cells' concurrencies.
    const nginxSide = sides.find((s) => s.name === 'nginx');
    let ceilingTarget = { name: `nginx (${os.availableParallelism()} workers) location returning 204`, port: nginxSide?.port ?? 0 };
    if (!nginxSide) {
      const ns = await startNullServer();
      running.push(ns);
      ceilingTarget = { name: 'node:http server answering 204', port: ns.port };
    }
    // Measured before and after the cells (the machine is shared: its load varies); the higher counts.
    const ceilings: Array<{ tool: string; method: string; concurrency: number; reqPerS: number; measured: number[]; clientCpuS: number[] }> = [];
    const ceilingSide: Side = { name: 'ceiling', kind: 'nginx', port: ceilingTarget.port, hostHeader: `${HOST}:${ceilingTarget.port}`, pids: () => [] };
    const ceilingConc = opts.mode === 'smoke' ? [16] : [16, 64];
    const measureCeilings = async () => {
      const note = (tool: string, method: string, c: number, r: LoadResult) => {
        let e = ceilings.find((x) => x.tool === tool && x.concurrency === c);
        if (!e) ceilings.push((e = { tool, method, concurrency: c, reqPerS: 0, measured: [], clientCpuS: [] }));
        e.measured.push(perSecond(r));
        e.clientCpuS.push(r.clientCpuS ?? NaN);
        e.reqPerS = Math.max(...e.measured);
      };
      for (const c of ceilingConc) {
        if (useWrk)
          note('wrk', 'GET', c, await load(ctx, ceilingSide, { method: 'GET', paths: ['/__null'], concurrency: c, bodySize: 0, durationS: opts.durationS }));
        note(
          'node',
          'HEAD',
          c,
          await load({ ...ctx, useWrk: false }, ceilingSide, {
            method: 'HEAD',
            paths: ['/__null'],
            concurrency: c,
            bodySize: 0,
            durationS: opts.mode === 'smoke' ? 0.5 : opts.durationS,
          }),
        );
      }
    };
    await measureCeilings();
    log(`client ceiling (${ceilingTarget.name}): ${ceilings.map((c) => `${c.tool} ${c.method} c${c.concurrency} ${fmtNum(c.reqPerS)} req/s`).join(', ')}`);

    // 5. Warm-up (not measured): the mixed workload once on every side, so the first measured
    //    round does not pay for V8's JIT compiling the request path, nor for cold caches.
    if (opts.mode !== 'smoke') {
      const warm = mixedCell(16, ['full', 'quick']);
      for (const side of sides) await warm.run(ctx, side, -1, (fn) => fn());
      log(`warm-up done (${warm.title} for ${opts.durationS} s on each side)`);
    }

    // 6. The cells: per cell, every round runs each side in turn (A, B, A, B...).
    // The peak over the run, and where it was reached: VmHWM is reset when a measurement starts,
    // so a reading taken before the next one that is higher than every earlier one grew in between
    // (warm-up, a cell's set-up).
    let strataPeakKb = 0;
    let strataPeakWhere = '';
    const notePeak = (where: string, kb?: number) => {
      if (kb === undefined) {
        const m = readMemory(strata!.pid);
        if (!m) return;
        kb = Math.max(m.hwmKb, m.rssKb);
      }
      if (kb > strataPeakKb) {
        strataPeakKb = kb;
        strataPeakWhere = where;
      }
    };
    const results: CellResult[] = [];
    // Cells of one group (consecutive, same Cell.group) run interleaved: each round runs every cell
    // of the group in turn (the order reversed every other round), so a comparison between them is
    // not skewed by the machine's load drifting nor by which cell runs first.
    const groups: Cell[][] = [];
    for (const cell of cells) {
      const last = groups.at(-1);
      if (cell.group !== undefined && last?.[0]?.group === cell.group) last.push(cell);
      else groups.push([cell]);
    }
    for (const group of groups) {
      const runsOf = new Map<Cell, Map<string, RunRecord[]>>();
      for (const cell of group) {
        if (cell.id.startsWith('list-')) {
          const size = opts.listSizes[cell.id === 'list-small' ? 0 : 1];
          cell.title = `ListObjectsV2, 1000-key pages, ${size.toLocaleString('en-US')} keys`;
        }
        runsOf.set(cell, new Map<string, RunRecord[]>(sides.map((s) => [s.name, []])));
        log(
          `cell ${cell.id} (${cell.title}) on ${sides
            .filter((s) => s.kind === 's3' || cell.nginx)
            .map((s) => s.name)
            .join(', ')}${
            group.length > 1
              ? ` (interleaved with ${group
                  .filter((c) => c !== cell)
                  .map((c) => c.id)
                  .join(', ')})`
              : ''
          }`,
        );
      }
      for (let round = 0; round < opts.rounds; round++) {
        // The order turns every round (A B, B A, …): a cell that runs right after another in the same
        // round was measured slower than the same work run first (the auth cells: user/root 0.86–0.89×
        // with the user second, 1.01–1.09× with it first), so no cell of a group is always second.
        for (const cell of round % 2 === 0 ? group : [...group].reverse()) {
          const runsBySide = runsOf.get(cell)!;
          const active = sides.filter((s) => s.kind === 's3' || cell.nginx);
          for (const side of active) {
            const win = new ProcWindow(side.pids);
            const meter: { usage?: { cpuS: number; peakRssMiB: number } } = {};
            const measured = async <T>(fn: () => Promise<T>): Promise<T> => {
              if (side.name === 'strata') notePeak(`before ${cell.id} round ${round + 1} (warm-up, set-up)`);
              win.start();
              try {
                return await fn();
              } finally {
                meter.usage = win.stop();
                if (side.name === 'strata') notePeak(`${cell.id} round ${round + 1}`);
              }
            };
            const out = await cell.run(ctx, side, round, measured);
            if (!out) continue;
            const usage = meter.usage;
            const hasPids = side.pids().length > 0;
            if (hasPids && side.name === 'strata' && usage) notePeak(`${cell.id} round ${round + 1}`, usage.peakRssMiB * 1024);
            runsBySide.get(side.name)!.push({
              round,
              value: out.value,
              ops: out.load.ops,
              elapsedS: out.load.elapsedS,
              errors: out.load.errors,
              statuses: out.load.statuses,
              p50Ms: out.load.latencyMs.p50,
              p99Ms: out.load.latencyMs.p99,
              tool: out.load.tool,
              clientCpuS: out.load.clientCpuS,
              serverCpuS: hasPids ? usage?.cpuS : undefined,
              serverPeakRssMiB: hasPids ? usage?.peakRssMiB : undefined,
              note: out.note,
            });
            log(
              `  round ${round + 1}/${opts.rounds} ${side.name}: ${fmtNum(out.value)} ${cell.unit}` +
                ` (${out.load.ops} ops in ${out.load.elapsedS.toFixed(2)} s${out.load.errors ? `, ${out.load.errors} errors` : ''}${usage && hasPids ? `, server CPU ${usage.cpuS.toFixed(2)} s, peak RSS ${usage.peakRssMiB.toFixed(0)} MiB` : ''}${out.note ? `, ${out.note}` : ''})`,
            );
          }
        }
      }
      for (const cell of group) {
        const runsBySide = runsOf.get(cell)!;
        const sidesStats: Record<string, SideStats | undefined> = {};
        for (const s of sides) sidesStats[s.name] = stats(runsBySide.get(s.name)!);
        const res: CellResult = { id: cell.id, title: cell.title, unit: cell.unit, tool: cell.tool(ctx), target: cell.target, sides: sidesStats };
        const sm = sidesStats.strata?.median;
        const rm = sidesStats[refName]?.median;
        if (sm !== undefined && rm !== undefined && rm > 0) res.ratio = sm / rm;
        if (cell.target && sm !== undefined) {
          const t = cell.target;
          if (t.kind === 'ratio' && res.ratio !== undefined) {
            res.met = res.ratio >= t.min;
            if (!res.met) res.missedBy = short(res.ratio, t.min);
          } else if (t.kind === 'abs') {
            res.met = sm >= t.min;
            if (!res.met) res.missedBy = short(sm, t.min);
          } else if (t.kind === 'abs+same') {
            const other = results.find((r) => r.id === t.sameAs)?.sides.strata?.median;
            const same = other === undefined ? undefined : sm / other;
            res.met = sm >= t.min && (same === undefined || same >= t.sameMin);
            if (!res.met) res.missedBy = sm < t.min ? short(sm, t.min) : `${same!.toFixed(2)}× the small bucket`;
          } else if (t.kind === 'same') {
            const otherSide = results.find((r) => r.id === t.sameAs)?.sides.strata;
            const other = otherSide?.median;
            const cpu = sidesStats.strata?.serverCpuUsPerOp;
            if (cpu !== undefined && otherSide?.serverCpuUsPerOp) res.sameCpuRatio = cpu / otherSide.serverCpuUsPerOp;
            if (other !== undefined && other > 0) {
              res.sameRatio = sm / other;
              res.met = res.sameRatio >= t.min;
              if (!res.met) res.missedBy = short(res.sameRatio, t.min);
            }
          }
        }
        results.push(res);
      }
    }

    if (opts.mode !== 'smoke') {
      await measureCeilings();
      log(`client ceiling again: ${ceilings.map((c) => `${c.tool} ${c.method} c${c.concurrency} ${fmtNum(c.measured.at(-1))} req/s`).join(', ')}`);
    }

    for (const res of results) {
      const conc = /-c(\d+)$/.exec(res.id)?.[1];
      const ceiling = ceilings.find((c) => c.tool === res.tool && String(c.concurrency) === conc)?.reqPerS;
      const rm = res.sides[refName]?.median;
      if (res.unit === 'req/s' && ceiling !== undefined && rm !== undefined && rm > 0.6 * ceiling) res.nearCeiling = true;
    }

    // 7. Stop Strata first: with --profile its profile is written on exit.
    notePeak('after the cells');
    await strata!.stop();
    running.splice(running.indexOf(strata!), 1);
    let profile: ProfileSummary | undefined;
    if (opts.profileDir) {
      const files = readdirSync(opts.profileDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(opts.profileDir!, f))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
      if (files[0]) profile = summarizeProfile(files[0], 25);
    }
    await cleanup();

    // 8. Report.
    const strataPeakMiB = strataPeakKb / 1024;
    const startupMedian = median(startups.map((s) => s.listeningMs));
    const readyMedian = median(startups.map((s) => s.readyMs));
    const tableText = table(results, refName, extra);
    const missed = results.filter((r) => r.met === false);
    const summary: string[] = [];
    for (const r of results) {
      if (r.met === undefined) continue;
      summary.push(
        `- ${r.met ? 'met' : 'MISSED'} ${r.id}: ${r.ratio !== undefined && r.target?.kind === 'ratio' ? `${r.ratio.toFixed(2)}×` : r.sameRatio !== undefined ? `${r.sameRatio.toFixed(2)}× ${(r.target as { sameAs: string }).sameAs}${r.sameCpuRatio !== undefined ? ` (server CPU per op ${r.sameCpuRatio.toFixed(2)}×)` : ''}` : `${fmtNum(r.sides.strata?.median)} ${r.unit}`} (target ${r.target!.text})${r.missedBy ? `, ${r.missedBy}` : ''}`,
      );
    }
    const rssMet = strataPeakMiB < 150;
    summary.push(`- ${rssMet ? 'met' : 'MISSED'} Strata peak RSS over the run: ${strataPeakMiB.toFixed(0)} MiB, ${strataPeakWhere} (target < 150 MiB)`);
    const startupMet = readyMedian < 1000;
    summary.push(
      `- ${startupMet ? 'met' : 'MISSED'} startup with ${startupObjects.toLocaleString('en-US')} objects: ${startupMedian.toFixed(0)} ms to "listening", ${readyMedian.toFixed(0)} ms to the first answered request (target < 1 s${startupObjects < 1_000_000 ? '; the target is for 1 million objects: run the full mode' : ''})`,
    );
    const header = [
      `## Strata benchmark (${opts.mode}, ${startedAt.toISOString()})`,
      '',
      `Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}, ${machine.filesystem} data dir; ${machine.nginx}; ${machine.wrk}.`,
      `Strata runs as \`node ${[...strataNodeFlags(), ...opts.strataNodeArgs].join(' ')} dist/src/main.js\`.`,
      `Reference: ${opts.vs ? `S3 endpoint ${opts.vs.url}` : `nginx with ${os.availableParallelism()} workers (one per core)${extra ? `; ${extra} = nginx with 1 worker` : ''}`}. ` +
        `${opts.rounds} round(s) × ${opts.durationS} s per cell and side, sides alternating; value = median ± half the range over rounds.`,
      `Client ceiling (${ceilingTarget.name}; before / after the cells): ${ceilings.map((c) => `${c.tool} ${c.method} c${c.concurrency}: ${c.measured.map((v) => fmtNum(v)).join(' / ')} req/s`).join('; ')}.`,
      `Startup with ${startupObjects.toLocaleString('en-US')} objects: ${startupMedian.toFixed(0)} ms to "listening", ${readyMedian.toFixed(0)} ms to the first answer (median of ${startups.length})` +
        `${emptyStartup ? `; empty data dir: ${emptyStartup.listeningMs} ms` : ''}. Bulk load: ${(bulk.ms / 1000).toFixed(1)} s. Strata peak RSS over the run: ${strataPeakMiB.toFixed(0)} MiB (${strataPeakWhere}).`,
      '',
    ].join('\n');
    const footnote = results.some((r) => r.nearCeiling)
      ? `\n† the reference is within 60 % of the client ceiling at that concurrency: the load generator and the server share ${machine.nproc} cores, so this figure (and the ratio's denominator) is partly bounded by the client.\n`
      : '\n';
    const text = `${header}${tableText}\n${footnote}\nTargets:\n${summary.join('\n')}\n`;
    process.stdout.write(`\n${text}`);
    if (profile) process.stdout.write(`\n${formatProfile(profile)}\n`);

    const json = {
      schema: 'strata-bench/1',
      mode: opts.mode,
      startedAt: startedAt.toISOString(),
      elapsedS: (performance.now() - tAll) / 1000,
      machine,
      options: {
        rounds: opts.rounds,
        durationS: opts.durationS,
        listSizes: opts.listSizes,
        client: useWrk ? 'wrk+node' : 'node',
        vs: opts.vs?.url,
        nginxWorkers: opts.vs ? undefined : os.availableParallelism(),
        strataArgs,
        strataNodeFlags: strataNodeFlags(),
        strataNodeArgs: opts.strataNodeArgs,
      },
      reference: refName,
      clientCeiling: { target: ceilingTarget.name, runs: ceilings },
      startup: {
        objects: startupObjects,
        runs: startups,
        listeningMsMedian: startupMedian,
        readyMsMedian: readyMedian,
        emptyDataDirListeningMs: emptyStartup?.listeningMs,
        met: startupMet,
      },
      bulkLoad: bulk,
      strataPeakRssMiB: strataPeakMiB,
      strataPeakRssWhere: strataPeakWhere,
      rssMet,
      cells: results,
      missed: missed.map((r) => r.id),
      profile,
      table: tableText,
    };
    mkdirSync(dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, `${JSON.stringify(json, null, 2)}\n`);
    process.stdout.write(`\nJSON: ${opts.json}\n`);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

#!/usr/bin/env node
// `npm run bench`: Strata against a reference HTTP server on this machine, same workload cells,
// alternating sides over several rounds; prints one markdown table (median, spread, ratio, target)
// and writes the same as JSON. Reference: Debian's nginx (static GET/HEAD, WebDAV PUT/DELETE), with
// as many workers as cores and, in full mode, also with one worker; or any S3 endpoint (--vs URL).
// Load: wrk (one thread) where it can, a raw-socket Node client otherwise (HEAD, mixed, multipart,
// listing). `--help` lists the options. Everything runs on 127.0.0.1 and every loop is bounded.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { authCells } from './auth.js';
import { bulkKey, bulkLoad, type BulkBucket } from './bulk.js';
import { buildHead, Connection, requestOnce, runLoad, sequentialResult, type HttpRequest, type HttpResponse, type LoadResult } from './client.js';
import { formatProfile, summarizeProfile, type ProfileSummary } from './profile.js';
import { compareFiles, compareRuns, type Comparison } from './compare.js';
import { DISK_COMMAND, type DiskSpec, diskWrite } from './disk.js';
import { ProcWindow, readMemory, type WindowUsage } from './procstat.js';
import { type CellResult, fmtNum, median, type RunRecord, type SideStats, stats, table, type Unit } from './report.js';
import {
  nginxBinary,
  startNginx,
  startNullServer,
  startStrata,
  strataHasWorkers,
  strataNodeFlags,
  type Running,
  type RunningNginx,
  type RunningStrata,
} from './servers.js';
import { objectPath, presign, signHeaders, type S3Credentials } from './sign.js';
import { sseCells, sseServerArgs } from './sse.js';
import { ecSidesOf, STRATA_EC, STRATA_EC_DOWN, startEcSides } from './erasure.js';
import { bulkLoadPg, gatewayWorkers, type PgSide, pgRuns, pgSideText, postgresVersion, STRATA_PG, startPgSide } from './cluster.js';
import { SETS, versionBuckets, versionCells } from './versions.js';
import { measureSyscalls, type SyscallReport, syscallTable } from './syscalls.js';
import { coreTarget, DISK, evaluate, formatChecks, type RefKind, RSS_PER_PROCESS_MAX_MIB, STARTUP_MAX_MS, STRATA_1W, type Target } from './targets.js';
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
  /** Also run Strata with `--workers 1` (the strata-1w side) on the cells that compare with it. */
  strata1w: boolean;
  /** `--workers N` for the main Strata side (undefined: its default, one worker per CPU). */
  workers?: number;
  /** Requests per system-call count (0: not measured). */
  syscalls: number;
  /** Run the disk side (dd … conv=fdatasync) on the durable large-write cells. */
  disk: boolean;
  /** Run the erasure-coded sides (six directories at EC 4+2, and the same with a drive gone) on the cells marked for them. */
  ec: boolean;
  /** Also run two gateways on PostgreSQL (the strata-pg side, cluster.ts) on the cells marked for it. */
  cluster: boolean;
  /** Compare with this earlier JSON result; with compareTo, two files and no run. */
  compare?: string;
  compareTo?: string;
  vs?: { url: string; host: string; port: number; creds: S3Credentials; listMax: number; kind: RefKind };
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
  --quick               a few minutes: 1 round of 1 s, a subset of cells, listing on 10 k / 100 k keys;
                        its figures are indicative only (the full mode is the reference)
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
  --vs-kind rgw|s3      what the endpoint is, for the targets: rgw = Ceph RGW (no cell below 1.5×,
                        4 KiB cells ≥ 5×); s3 (default) = no target against the reference
  --vs-access-key K, --vs-secret-key S, --vs-region R   its credentials (default: Strata's)
  --vs-list-max N       populate its listing buckets over HTTP up to N keys (default 10000; larger
                        buckets are skipped on the reference)
  --nginx-1w / --no-nginx-1w   also run nginx with one worker (default: on in full mode)
  --workers N           Strata's --workers for the main side (default: Strata's own, one per CPU)
  --strata-1w / --no-strata-1w   also run Strata with --workers 1 on the 4 KiB GET/HEAD/PUT cells
                        (default: on in full and quick mode; needs a Strata that has --workers)
  --syscalls N          system calls per request: strace -c -f over N requests each of GET, HEAD and
                        PUT 4 KiB, apart from the timed rounds (default 2000; smoke 200; 0 = off; with
                        --only/--set only when the list names "syscalls")
  --no-disk             leave out the disk side: the disk's own fdatasync'd write rate on the PUT
                        64 MiB and multipart cells (dd if=/dev/zero bs=1M conv=fdatasync, same bytes,
                        concurrency and syncs as the cell)
  --ec / --no-ec        also run Strata on six directories at EC 4+2 (strata-ec) and the same with a
                        drive taken away (strata-ec-1down) on the 64 MiB PUT/GET and 4 KiB GET/PUT
                        cells (default: on in full and quick mode, off with --vs)
  --cluster             also run strata-pg: a throw-away PostgreSQL and two Strata gateways on one data
                        directory with --meta <its URL>, the load alternating between them, on the 4 KiB
                        GET/HEAD/PUT (distinct keys), 64 MiB PUT/GET and listing cells; those cells then
                        use the Node client on every side (wrk talks to one port)
  --compare BASE.json   after the run, print which cells moved beyond the noise against that result
  --to NEW.json         with --compare: compare the two files and do not run anything
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
  const bool = new Set(['--quick', '--smoke', '--nginx-1w', '--no-nginx-1w', '--strata-1w', '--no-strata-1w', '--no-disk', '--keep', '--help', '-h']);
  for (const b of ['--cluster', '--ec', '--no-ec']) bool.add(b); // --ec/--no-ec: in --help, missing from the set
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
    '--vs-kind',
    '--workers',
    '--syscalls',
    '--compare',
    '--to',
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
    full: { rounds: 5, durationS: 2, listSizes: [10_000, 1_000_000] as [number, number], startups: 3, nginx1w: true, strata1w: true, syscalls: 2000 },
    quick: { rounds: 1, durationS: 1, listSizes: [10_000, 100_000] as [number, number], startups: 1, nginx1w: false, strata1w: true, syscalls: 2000 },
    smoke: { rounds: 1, durationS: 1, listSizes: [1_000, 2_000] as [number, number], startups: 1, nginx1w: false, strata1w: false, syscalls: 200 },
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
      kind: (() => {
        const k = get('--vs-kind') ?? 's3';
        if (k !== 'rgw' && k !== 's3') throw new Error('--vs-kind: rgw or s3');
        return k;
      })(),
    };
  } else if (get('--vs-kind') !== undefined) throw new Error('--vs-kind needs --vs URL');
  if (get('--to') !== undefined && get('--compare') === undefined) throw new Error('--to needs --compare BASE.json');
  const only = get('--only')
    ?.split(',')
    .filter((s) => s !== '');
  const workers = get('--workers') === undefined ? undefined : num('--workers', 1, 1, 256);
  if (workers !== undefined && !Number.isInteger(workers)) throw new Error('--workers takes a whole number');
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
    strata1w: workers === 1 ? false : get('--no-strata-1w') ? false : get('--strata-1w') ? true : preset.strata1w,
    workers,
    // With --only or --set, counted only when asked for by name.
    syscalls:
      get('--syscalls') === undefined && (only || set !== undefined) && !only?.includes('syscalls') ? 0 : num('--syscalls', preset.syscalls, 0, 100_000),
    disk: get('--no-disk') === undefined,
    ec: vs !== undefined || get('--no-ec') !== undefined ? false : get('--ec') !== undefined || mode !== 'smoke',
    cluster: get('--cluster') !== undefined,
    compare: get('--compare') !== undefined ? resolve(get('--compare')!) : undefined,
    compareTo: get('--to') !== undefined ? resolve(get('--to')!) : undefined,
    vs,
    only,
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
const sidesOf = (sides: readonly Side[], cell: Cell) => sides.filter((s) => (s.runs ? s.runs(cell) : s.kind === 's3' || cell.nginx));

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

// ---------------------------------------------------------------------------------------------
// Cells

export type { Target, Unit };

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
  /** Also run by the strata-1w side (Strata with --workers 1). */
  strata1w?: boolean;
  /** What the disk side writes for this cell (the same bytes, concurrency and syncs). */
  disk?: DiskSpec;
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
      // 64 MiB bodies: at least 3 s, or a slow server completes none in a 1 s quick round.
      const durationS = size >= 64 * MiB ? Math.max(3, ctx.opts.durationS) : ctx.opts.durationS;
      const r = await measured(() => load(ctx, side, { method: 'PUT', paths: [target_(side, 'PUT', key)], concurrency: c, bodySize: size, durationS }));
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
      if (side.name !== 'strata' && side.name !== STRATA_PG) {
        const max = ctx.opts.vs?.listMax ?? 0;
        if (size > max) return undefined; // not populated on the reference (see --vs-list-max)
        await once(side, bucket, () => populateOverHttp(ctx, side, bucket, size));
      }
      // One connection per gateway (strata-pg: two), the pages alternating between them.
      const conns = await Promise.all((side.ports ?? [side.port]).map((p) => Connection.connect(HOST, p, 60_000)));
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
            const res = await conns[pages % conns.length]!.request({ head: buildHead('GET', tgt, side.hostHeader, headers), keepBody: true });
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
        for (const c of conns) c.close();
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
          ports: side.ports,
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

/** The disk side of a cell: its DiskSpec written by dd (disk.ts), as many operations as fit the duration. */
async function diskRun(ctx: Ctx, cell: Cell, _round: number, measured: <T>(fn: () => Promise<T>) => Promise<T>): Promise<RunOutput | undefined> {
  const spec = cell.disk;
  if (!spec) return undefined;
  const bytes = spec.jobBytes * spec.jobsPerOp;
  const durationS = spec.jobsPerOp === 1 && spec.jobBytes >= 64 * MiB ? Math.max(3, ctx.opts.durationS) : ctx.opts.durationS; // as putOneCell
  // At most as many uploads as the multipart cell makes (20); PUT streams run for the duration.
  const r = await measured(() => diskWrite(join(dirname(ctx.workDir), 'disk'), spec, durationS, spec.jobsPerOp === 1 ? 10_000 : 20));
  return { value: (r.ops * bytes) / MiB / r.elapsedS, load: r, note: `${r.ops} × ${bytes / MiB} MiB` };
}

function allCells(ref: RefKind, cluster = false): Cell[] {
  const F: Mode[] = ['full'];
  const FQ: Mode[] = ['full', 'quick'];
  const FQS: Mode[] = ['full', 'quick', 'smoke'];
  const core = [
    getCell(4 * KiB, 16, ['full', 'smoke']),
    getCell(4 * KiB, 64, FQ),
    putOneCell(4 * KiB, 16, F),
    putOneCell(4 * KiB, 64, F),
    putDistinctCell(16, F),
    putDistinctCell(64, FQ),
    headCell(16, ['full', 'smoke']),
    headCell(64, FQ),
    deleteCell(16, F),
    deleteCell(64, FQ),
    getCell(MiB, 8, F),
    putOneCell(MiB, 8, F),
    getCell(64 * MiB, 2, FQ),
    putOneCell(64 * MiB, 2, FQ),
    multipartCell(FQ),
    listCell(0, FQS),
    listCell(1, FQ),
    mixedCell(16, F),
    mixedCell(64, FQ),
  ];
  for (const cell of core) {
    cell.target = coreTarget(cell.id, ref, cluster);
    // The cells the workers should speed up most: also run on Strata with --workers 1.
    cell.strata1w = /^(get-4k|head-4k|put-4k-distinct)-c/.test(cell.id);
    // strata-pg's load is spread over its gateways by the Node client: the same client on every side.
    if (cluster && pgRuns(cell.id)) {
      const run = cell.run.bind(cell);
      cell.tool = () => 'node';
      cell.run = (ctx, side, round, measured) => run({ ...ctx, useWrk: false }, side, round, measured);
    }
  }
  // The disk's own rate for the same bytes: one PUT body per dd, or one part per dd per upload.
  core.find((c) => c.id === 'put-64m-c2')!.disk = { jobBytes: 64 * MiB, jobsPerOp: 1, concurrency: 2 };
  core.find((c) => c.id === 'multipart-256m')!.disk = { jobBytes: PART, jobsPerOp: MPU_SIZE / PART, concurrency: 4 };
  return [
    ...core,
    ...versionCells({ load, target, putObject, once, listCap, bodyOf, wrkOrNode, perSecond }),
    ...authCells({ load, target, putObject, once, bodyOf, wrkOrNode, perSecond }),
    ...sseCells({ load, once, bodyOf, wrkOrNode, perSecond }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Output

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
  if (opts.compare && opts.compareTo) {
    process.stdout.write(`${compareFiles(opts.compare, opts.compareTo).text}\n`);
    return;
  }
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
    const loadAtStart = os.loadavg();

    // 1. Strata's data directory, with the listing buckets written straight into its metadata.
    const dataDir = join(root, 'strata-data');
    mkdirSync(dataDir);
    const cells = allCells(opts.vs?.kind ?? 'nginx', opts.cluster).filter(
      (c) => c.modes.includes(opts.mode) && c.set === opts.set && (!opts.only || opts.only.some((p) => c.id.startsWith(p))),
    );
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
    // Asked of every Strata run: the report says how many processes served the cells.
    const hasWorkers = strataHasWorkers();
    if (opts.workers !== undefined && !hasWorkers) throw new Error('--workers: this Strata has no --workers flag (its --help does not list it)');
    const strataArgs = [...sseServerArgs(cells), ...(opts.workers !== undefined ? ['--workers', String(opts.workers)] : []), ...opts.strataArgs];
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
    // Strata with one worker, on a data directory of its own (the lock admits one server per directory).
    let strata1wNote: string | undefined;
    if (opts.strata1w && cells.some((c) => c.strata1w)) {
      if (!hasWorkers) strata1wNote = 'not run: this Strata has no --workers flag';
      else {
        const dir = join(root, 'strata-1w-data');
        mkdirSync(dir);
        const s1 = await startStrata({
          dataDir: dir,
          logFile: join(root, 'strata-1w.log'),
          args: [...strataArgs, '--workers', '1'],
          nodeArgs: opts.strataNodeArgs,
        });
        running.push(s1);
        sides.push({
          name: STRATA_1W,
          kind: 's3',
          port: s1.port,
          hostHeader: `${HOST}:${s1.port}`,
          creds: STRATA_CREDS,
          pids: s1.pids,
          runs: (c) => c.strata1w === true,
        });
      }
      if (strata1wNote) log(`strata-1w ${strata1wNote}`);
    }
    // Strata on six directories (erasure coding), and the same with a drive taken away.
    if (opts.ec && cells.some((c) => ecSidesOf(c.id) !== undefined)) {
      const [ec, down] = await startEcSides(root, strataArgs, opts.strataNodeArgs, log);
      running.push(ec!, down!);
      for (const [name, s] of [
        [STRATA_EC, ec!],
        [STRATA_EC_DOWN, down!],
      ] as const) {
        sides.push({
          name,
          kind: 's3',
          port: s.port,
          hostHeader: `${HOST}:${s.port}`,
          creds: STRATA_CREDS,
          pids: s.pids,
          runs: (c) => (name === STRATA_EC ? ecSidesOf(c.id) !== undefined : ecSidesOf(c.id) === 'ec+down'),
        });
      }
    }
    // Two gateways on PostgreSQL (one data directory, --meta), as many Node processes as the main side has.
    let pgSide: PgSide | undefined;
    let pgBulk: { objects: number; ms: number } | undefined;
    if (opts.cluster && cells.some((c) => pgRuns(c.id))) {
      const mainWorkers = opts.workers ?? (hasWorkers ? os.availableParallelism() : 1);
      const pgArgs = [...sseServerArgs(cells), ...opts.strataArgs];
      pgSide = await startPgSide(root, pgArgs, opts.strataNodeArgs, gatewayWorkers(mainWorkers), log);
      running.push(pgSide);
      const side: Side = {
        name: STRATA_PG,
        kind: 's3',
        port: pgSide.port,
        ports: pgSide.ports,
        hostHeader: `${HOST}:${pgSide.port}`,
        creds: STRATA_CREDS,
        pids: pgSide.pids,
        runs: (c) => pgRuns(c.id),
      };
      sides.push(side);
      const pgBuckets = listBuckets.filter((b) => (b.versions ?? 0) === 0);
      if (pgBuckets.length > 0) {
        log(`${STRATA_PG}: bulk-loading ${pgBuckets.map((b) => `${b.name} (${b.count} keys)`).join(', ')} into PostgreSQL (server-side copies of one PUT row)`);
        pgBulk = await bulkLoadPg(pgSide.url, pgBuckets, {
          createBucket: (b) => ensureBucket(side, b),
          putEmpty: (b, k) => putObject(side, b, k, Buffer.alloc(0)),
        });
        log(`${STRATA_PG}: bulk load: ${pgBulk.objects} objects in ${(pgBulk.ms / 1000).toFixed(1)} s`);
      }
    }
    // The disk's own fdatasync'd write rate, in a directory next to Strata's data (same file system).
    if (opts.disk && cells.some((c) => c.disk))
      sides.push({ name: DISK, kind: 'disk', port: 0, hostHeader: '', pids: () => [], runs: (c) => c.disk !== undefined });

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
      for (const side of sides.filter((x) => x.kind !== 'disk')) await warm.run(ctx, side, -1, (fn) => fn());
      log(`warm-up done (${warm.title} for ${opts.durationS} s on each side)`);
    }

    // 6. The cells: per cell, every round runs each side in turn (A, B, A, B...).
    // The peak over the run, and where it was reached: VmHWM is reset when a measurement starts,
    // so a reading taken before the next one that is higher than every earlier one grew in between
    // (warm-up, a cell's set-up).
    // Summed over Strata's processes (a cluster: primary + workers) and for its largest process.
    const peak = { sumKb: 0, sumWhere: '', oneKb: 0, oneWhere: '', processes: 0 };
    const notePeak = (where: string, u?: { sumKb: number; oneKb: number }) => {
      if (u === undefined) {
        u = { sumKb: 0, oneKb: 0 };
        const pids = strata!.pids();
        peak.processes = Math.max(peak.processes, pids.length);
        for (const p of pids) {
          const m = readMemory(p);
          if (!m) continue;
          u.sumKb += Math.max(m.hwmKb, m.rssKb);
          u.oneKb = Math.max(u.oneKb, m.hwmKb, m.rssKb);
        }
      }
      if (u.sumKb > peak.sumKb) Object.assign(peak, { sumKb: u.sumKb, sumWhere: where });
      if (u.oneKb > peak.oneKb) Object.assign(peak, { oneKb: u.oneKb, oneWhere: where });
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
            .filter((s) => sidesOf(sides, cell).includes(s))
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
          const active = sidesOf(sides, cell);
          for (const side of active) {
            const win = new ProcWindow(side.pids);
            const meter: { usage?: WindowUsage } = {};
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
            const out = side.kind === 'disk' ? await diskRun(ctx, cell, round, measured) : await cell.run(ctx, side, round, measured);
            if (!out) continue;
            const usage = meter.usage;
            const hasPids = side.pids().length > 0;
            if (hasPids && side.name === 'strata' && usage)
              notePeak(`${cell.id} round ${round + 1}`, { sumKb: usage.peakRssMiB * 1024, oneKb: usage.peakRssMaxMiB * 1024 });
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
              serverPeakRssMaxMiB: hasPids ? usage?.peakRssMaxMiB : undefined,
              serverProcesses: hasPids ? usage?.processes : undefined,
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
        for (const [name, st] of Object.entries(sidesStats)) {
          if (name !== 'strata' && st && st.median > 0 && sm !== undefined) (res.ratios ??= {})[name] = sm / st.median;
        }
        evaluate(res, refName, results);
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

    // 7. System calls per request, apart from the timed rounds (strace slows the servers down).
    notePeak('after the cells');
    let syscalls: SyscallReport | undefined;
    if (opts.syscalls > 0) {
      log(`system calls: strace -c -f over ${opts.syscalls} requests each of GET, HEAD, PUT 4 KiB`);
      const counted = ['strata', STRATA_1W, STRATA_PG, refName].flatMap((n) => sides.filter((x) => x.name === n && x.kind !== 'disk' && x.pids().length > 0));
      syscalls = await measureSyscalls(
        counted.map((x) => ({
          name: x.name,
          port: x.port,
          ports: x.ports,
          hostHeader: x.hostHeader,
          pids: x.pids,
          target: (method: string, key: string) => target_(x, method, key),
          put: (key: string, body: Buffer) => (x.kind === 'nginx' ? populate(ctx, x, 'bench', [key], body.length) : putObject(x, 'bench', key, body)),
        })),
        { requests: opts.syscalls, warmup: Math.min(500, opts.syscalls), concurrency: 16, workDir, body: bodyOf(4 * KiB) },
      );
      log(
        syscalls.skipped
          ? `system calls not counted: ${syscalls.skipped}`
          : `system calls: ${syscalls.counts.map((c) => `${c.side} ${c.method} ${c.perRequest}/req`).join(', ')}`,
      );
    }

    // 8. Stop Strata first: with --profile its profile is written on exit.
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

    // 9. Report.
    const loadAverage = { start: loadAtStart.map((x) => Math.round(x * 100) / 100), end: os.loadavg().map((x) => Math.round(x * 100) / 100) };
    const strataPeakMiB = peak.sumKb / 1024;
    const strataPeakOneMiB = peak.oneKb / 1024;
    const startupMedian = median(startups.map((s) => s.listeningMs));
    const readyMedian = median(startups.map((s) => s.readyMs));
    const tableText = table(results, refName, extra);
    const missed = results.filter((r) => r.met === false);
    const summary: string[] = [];
    for (const r of results) {
      if (r.met === undefined) continue;
      const got =
        r.sameRatio !== undefined
          ? `${r.sameRatio.toFixed(2)}× ${(r.target as { sameAs: string }).sameAs}${r.sameCpuRatio !== undefined ? ` (server CPU per op ${r.sameCpuRatio.toFixed(2)}×)` : ''}`
          : [`${fmtNum(r.sides.strata?.median)} ${r.unit}`, formatChecks(r.checks)].filter((x) => x !== '').join('; ');
      summary.push(`- ${r.met ? 'met' : 'MISSED'} ${r.id}: ${got} (target ${r.target!.text})${r.missedBy ? `, ${r.missedBy}` : ''}`);
    }
    const rssMet = strataPeakOneMiB < RSS_PER_PROCESS_MAX_MIB;
    summary.push(
      `- ${rssMet ? 'met' : 'MISSED'} Strata peak RSS per process over the run: ${strataPeakOneMiB.toFixed(0)} MiB, ${peak.oneWhere} (target < ${RSS_PER_PROCESS_MAX_MIB} MiB per worker); all ${peak.processes} process(es) together: ${strataPeakMiB.toFixed(0)} MiB`,
    );
    const startupMet = readyMedian < STARTUP_MAX_MS;
    summary.push(
      `- ${startupMet ? 'met' : 'MISSED'} startup with ${startupObjects.toLocaleString('en-US')} objects: ${startupMedian.toFixed(0)} ms to "listening", ${readyMedian.toFixed(0)} ms to the first answered request (target < 1 s${startupObjects < 1_000_000 ? '; the target is for 1 million objects: run the full mode' : ''})`,
    );
    const indicative =
      opts.mode !== 'full'
        ? `${opts.mode} mode: indicative only (${opts.rounds} round(s) of ${opts.durationS} s${opts.rounds === 1 ? ', no spread to judge the noise by' : ''}, fewer cells, smaller listing buckets); the full mode is the reference`
        : undefined;
    const workersText =
      opts.workers !== undefined
        ? `--workers ${opts.workers}`
        : hasWorkers
          ? 'its default workers (one per CPU)'
          : 'one process (this Strata has no --workers)';
    const header = [
      `## Strata benchmark (${opts.mode}${indicative ? ': INDICATIVE ONLY' : ''}, ${startedAt.toISOString()})`,
      '',
      ...(indicative ? [`**${indicative}.**`, ''] : []),
      `Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}, ${machine.filesystem} data dir; ${machine.nginx}; ${machine.wrk}. ` +
        `Load average (1/5/15 min) at the start ${loadAverage.start.join(' / ')}, at the end ${loadAverage.end.join(' / ')}.`,
      `Strata runs as \`node ${[...strataNodeFlags(), ...opts.strataNodeArgs].join(' ')} dist/src/main.js\` with ${workersText}` +
        `${sides.some((x) => x.name === STRATA_1W) ? `; ${STRATA_1W} = Strata with --workers 1` : strata1wNote ? `; ${STRATA_1W} ${strata1wNote}` : ''}` +
        `${pgSide ? `; ${pgSideText(pgSide)}${pgBulk ? `, listing buckets loaded in ${(pgBulk.ms / 1000).toFixed(1)} s` : ''}` : ''}.`,
      `Reference: ${opts.vs ? `S3 endpoint ${opts.vs.url} (${opts.vs.kind === 'rgw' ? 'Ceph RGW targets' : 'no targets against it'})` : `nginx with ${os.availableParallelism()} workers (one per core)${extra ? `; ${extra} = nginx with 1 worker` : ''}`}. ` +
        `${opts.rounds} round(s) × ${opts.durationS} s per cell and side, sides alternating; value = median ± half the range over rounds.` +
        `${sides.some((x) => x.kind === 'disk') ? ` ${DISK} = \`${DISK_COMMAND}\` with the cell's bytes, concurrency and syncs, in the data directory's file system.` : ''}`,
      `Client ceiling (${ceilingTarget.name}; before / after the cells): ${ceilings.map((c) => `${c.tool} ${c.method} c${c.concurrency}: ${c.measured.map((v) => fmtNum(v)).join(' / ')} req/s`).join('; ')}.`,
      `Startup with ${startupObjects.toLocaleString('en-US')} objects: ${startupMedian.toFixed(0)} ms to "listening", ${readyMedian.toFixed(0)} ms to the first answer (median of ${startups.length})` +
        `${emptyStartup ? `; empty data dir: ${emptyStartup.listeningMs} ms` : ''}. Bulk load: ${(bulk.ms / 1000).toFixed(1)} s. Strata peak RSS over the run: largest process ${strataPeakOneMiB.toFixed(0)} MiB (${peak.oneWhere}), all processes ${strataPeakMiB.toFixed(0)} MiB (${peak.sumWhere}).`,
      '',
    ].join('\n');
    const footnote = results.some((r) => r.nearCeiling)
      ? `\n† the reference is within 60 % of the client ceiling at that concurrency: the load generator and the server share ${machine.nproc} cores, so this figure (and the ratio's denominator) is partly bounded by the client.\n`
      : '\n';
    const syscallText = syscalls ? `\n${syscallTable(syscalls)}\n` : '';
    const text = `${header}${tableText}\n${footnote}${syscallText}\nTargets:\n${summary.join('\n')}\n`;
    process.stdout.write(`\n${text}`);
    if (profile) process.stdout.write(`\n${formatProfile(profile)}\n`);

    const json = {
      schema: 'strata-bench/1',
      mode: opts.mode,
      indicative: indicative !== undefined,
      indicativeNote: indicative,
      startedAt: startedAt.toISOString(),
      elapsedS: (performance.now() - tAll) / 1000,
      machine,
      loadAverage,
      options: {
        rounds: opts.rounds,
        durationS: opts.durationS,
        listSizes: opts.listSizes,
        client: useWrk ? 'wrk+node' : 'node',
        vs: opts.vs?.url,
        vsKind: opts.vs?.kind,
        nginxWorkers: opts.vs ? undefined : os.availableParallelism(),
        strataWorkers: opts.workers ?? (hasWorkers ? 'default' : 'no --workers flag'),
        strata1w: sides.some((x) => x.name === STRATA_1W) ? true : (strata1wNote ?? false),
        cluster: pgSide
          ? { gateways: pgSide.gateways.length, workersPerGateway: pgSide.workersPerGateway, postgres: postgresVersion(), bulkLoad: pgBulk }
          : undefined,
        disk: sides.some((x) => x.kind === 'disk') ? DISK_COMMAND : undefined,
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
      strataPeakRssWhere: peak.sumWhere,
      strataPeakRssPerProcessMiB: strataPeakOneMiB,
      strataPeakRssPerProcessWhere: peak.oneWhere,
      strataProcesses: peak.processes,
      rssMet,
      cells: results,
      missed: missed.map((r) => r.id),
      syscalls,
      profile,
      table: tableText,
    };
    let comparison: Comparison | undefined;
    if (opts.compare) {
      comparison = compareRuns(JSON.parse(readFileSync(opts.compare, 'utf8')) as Parameters<typeof compareRuns>[0], json, [opts.compare, 'this run']);
      process.stdout.write(`\n${comparison.text}\n`);
    }
    Object.assign(json, { comparison });
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

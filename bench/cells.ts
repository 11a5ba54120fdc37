// The benchmark's workload cells (bench/run.ts runs them): GET, PUT, HEAD, DELETE, multipart,
// listing and mixed cells, the disk side's run of a cell, and the list of every cell with its target
// (the version, auth and SSE cells come from versions.ts, auth.ts and sse.ts).
import { dirname, join } from 'node:path';
import { authCells } from './auth.js';
import { bulkKey } from './bulk.js';
import { buildHead, Connection, requestOnce, runLoad, sequentialResult, type HttpRequest, type LoadResult } from './client.js';
import { type DiskSpec, diskWrite } from './disk.js';
import type { Unit } from './report.js';
import { objectPath, signHeaders } from './sign.js';
import { sseCells } from './sse.js';
import { pgRuns, STRATA_PG } from './cluster.js';
import { versionCells } from './versions.js';
import { coreTarget, type RefKind, type Target } from './targets.js';
import type { Mode } from './options.js';
import { type Ctx, type Side, bodyOf, control, ensureBucket, expectOk, HOST, KiB, load, MiB, populate, putObject, target } from './sides.js';

// ---------------------------------------------------------------------------------------------
// Cells

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

export const perSecond = (r: LoadResult) => r.ops / r.elapsedS;
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
export const target_ = (side: Side, method: string, key: string) => target(side, method, 'bench', key);

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

export function listBucket(size: number): string {
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
export function mixedCell(c: number, modes: Mode[]): Cell {
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
export async function diskRun(ctx: Ctx, cell: Cell, _round: number, measured: <T>(fn: () => Promise<T>) => Promise<T>): Promise<RunOutput | undefined> {
  const spec = cell.disk;
  if (!spec) return undefined;
  const bytes = spec.jobBytes * spec.jobsPerOp;
  const durationS = spec.jobsPerOp === 1 && spec.jobBytes >= 64 * MiB ? Math.max(3, ctx.opts.durationS) : ctx.opts.durationS; // as putOneCell
  // At most as many uploads as the multipart cell makes (20); PUT streams run for the duration.
  const r = await measured(() => diskWrite(join(dirname(ctx.workDir), 'disk'), spec, durationS, spec.jobsPerOp === 1 ? 10_000 : 20));
  return { value: (r.ops * bytes) / MiB / r.elapsedS, load: r, note: `${r.ops} × ${bytes / MiB} MiB` };
}

export function allCells(ref: RefKind, cluster = false): Cell[] {
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

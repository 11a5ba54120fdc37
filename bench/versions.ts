// The `versions` set of `npm run bench` (--set versions; docs/performance.md, "Versioned buckets"):
// ListObjectVersions and ListObjectsV2 with delete markers on bulk-loaded versioned buckets, and 4 KiB
// PUT/GET on a versioned bucket, each against its unversioned twin in the same run (target 'same',
// twins interleaved round by round). Strata only. run.ts hands in its load helpers (RunHelpers).
import type { BulkBucket } from './bulk.js';
import { bulkKey } from './bulk.js';
import { buildHead, Connection, type LoadResult, sequentialResult } from './client.js';
import type { Cell } from './cells.js';
import type { Mode } from './options.js';
import type { Ctx, LoadSpec, Side } from './sides.js';
import type { Target } from './targets.js';
import { objectPath, signHeaders } from './sign.js';

const KiB = 1024;
const HOST = '127.0.0.1';

/** What the cells use of run.ts (passed in: run.ts is the entry point, so no import cycle). */
export interface RunHelpers {
  load(ctx: Ctx, side: Side, spec: LoadSpec): Promise<LoadResult>;
  target(side: Side, method: string, bucket: string, key?: string, query?: Array<[string, string]>): string;
  putObject(side: Side, bucket: string, key: string, body: Buffer): Promise<void>;
  once(side: Side, key: string, fn: () => Promise<void>): Promise<void>;
  listCap(ctx: Ctx, side: Side): number;
  bodyOf(size: number): Buffer;
  wrkOrNode(ctx: Ctx): 'wrk' | 'node';
  perSecond(r: LoadResult): number;
}

export const SETS = ['versions'];
const VER_VERSIONS = 10;
const VER_MARKERS_PER_10 = 9;

/** Keys per listing bucket of the versions set, by mode. */
const verKeys = (mode: Mode) => ({ full: 100_000, quick: 100_000, smoke: 1_000 })[mode];

/**
 * The buckets the selected cells of the versions set use, bulk-loaded with the listing buckets
 * (bench/bulk.ts): 100 k keys each for the listings (1.39 M rows in all), empty ones for PUT/GET.
 */
export function versionBuckets(mode: Mode, cells: readonly Cell[]): BulkBucket[] {
  const n = verKeys(mode);
  const out: BulkBucket[] = [];
  if (cells.some((c) => c.id.startsWith('ver-list'))) {
    out.push(
      { name: 'ver-plain', count: n },
      { name: 'ver-10x', count: n, versions: VER_VERSIONS },
      { name: 'ver-markers', count: n, versions: 2, markersPer10: VER_MARKERS_PER_10 },
    );
  }
  if (cells.some((c) => c.set === 'versions' && !c.id.startsWith('ver-list'))) {
    // One unversioned, one with versioning Enabled.
    out.push({ name: 'ver-small-plain', count: 0 }, { name: 'ver-small-on', count: 0, versions: 1 });
  }
  return out;
}

const xmlText = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

/**
 * Pages of 1000 through `bucket` with one client, sequentially, from a different key each round:
 * ListObjectsV2 (api 'v2') or ListObjectVersions (api 'versions'); at the end it starts over.
 */
function verListCell(d: RunHelpers, id: string, title: string, bucket: string, api: 'v2' | 'versions', modes: Mode[], target?: Target): Cell {
  const { perSecond } = d;
  return {
    id,
    title,
    unit: 'pages/s',
    modes,
    set: 'versions',
    group: 'ver-list',
    target,
    nginx: false,
    tool: () => 'node',
    async run(ctx, side, round, measured) {
      if (side.name !== 'strata') return undefined;
      const size = verKeys(ctx.opts.mode);
      const conn = await Connection.connect(HOST, side.port, 60_000);
      try {
        const startAt = Math.floor(((round * 0.618034) % 1) * size);
        const r = await measured(async () => {
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const deadline = t0 + ctx.opts.durationS * 1000;
          let pages = 0;
          let entries = 0;
          let errors = 0;
          // v2: continuation token or start-after; versions: key-marker (+ version-id-marker).
          let token: string | undefined;
          let keyMarker: string | undefined = startAt > 0 ? bulkKey(startAt) : undefined;
          let vidMarker: string | undefined;
          const lat: number[] = [];
          while (performance.now() < deadline && pages < 1_000_000) {
            const query: Array<[string, string]> = api === 'v2' ? [['list-type', '2']] : [['versions', '']];
            query.push(['max-keys', '1000']);
            if (api === 'v2') {
              if (token !== undefined) query.push(['continuation-token', token]);
              else if (keyMarker !== undefined) query.push(['start-after', keyMarker]);
            } else {
              if (keyMarker !== undefined) query.push(['key-marker', keyMarker]);
              if (vidMarker !== undefined) query.push(['version-id-marker', vidMarker]);
            }
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
            const n = api === 'v2' ? xml.split('<Key>').length - 1 : xml.split('<Version>').length + xml.split('<DeleteMarker>').length - 2;
            entries += n;
            const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
            if (truncated && n !== 1000) throw new Error(`${id}: a truncated page had ${n} entries`);
            if (api === 'v2') {
              const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
              token = truncated && next !== undefined ? xmlText(next) : undefined;
              if (token === undefined) keyMarker = undefined; // end of the bucket: start over
            } else {
              const nk = /<NextKeyMarker>([^<]*)<\/NextKeyMarker>/.exec(xml)?.[1];
              const nv = /<NextVersionIdMarker>([^<]*)<\/NextVersionIdMarker>/.exec(xml)?.[1];
              keyMarker = truncated && nk !== undefined ? xmlText(nk) : undefined;
              vidMarker = truncated && nv !== undefined ? xmlText(nv) : undefined;
            }
          }
          return sequentialResult(pages, t0, cpu0, lat, { entries }, errors);
        });
        return { value: perSecond(r), load: r, note: `${r.statuses.entries} entries` };
      } finally {
        conn.close();
      }
    },
  };
}

/**
 * 4 KiB PUT (distinct keys, or one key: on the versioned bucket every PUT adds a version to it) or
 * GET (of a key with VER_VERSIONS versions on the versioned bucket) on `bucket`.
 */
function verSmallCell(
  d: RunHelpers,
  id: string,
  title: string,
  bucket: string,
  what: 'put-distinct' | 'put-one' | 'get',
  c: number,
  modes: Mode[],
  goal?: Target,
): Cell {
  const { load, target, putObject, once, listCap, bodyOf, wrkOrNode, perSecond } = d;
  return {
    id,
    title,
    unit: 'req/s',
    modes,
    set: 'versions',
    group: `ver-${what}`,
    target: goal,
    nginx: false,
    tool: wrkOrNode,
    async run(ctx, side, round, measured) {
      if (side.name !== 'strata') return undefined;
      let spec: LoadSpec;
      if (what === 'get') {
        const key = 'get-4k';
        await once(side, `${bucket}/${key}`, async () => {
          for (let v = 0; v < VER_VERSIONS; v++) await putObject(side, bucket, key, bodyOf(4 * KiB));
        });
        spec = { method: 'GET', paths: [target(side, 'GET', bucket, key)], concurrency: c, bodySize: 0, durationS: ctx.opts.durationS };
      } else if (what === 'put-one') {
        spec = { method: 'PUT', paths: [target(side, 'PUT', bucket, 'put-one')], concurrency: c, bodySize: 4 * KiB, durationS: ctx.opts.durationS };
      } else {
        const n = listCap(ctx, side);
        const paths = Array.from({ length: n }, (_, i) => target(side, 'PUT', bucket, `put-distinct/r${round}/${i}`));
        spec = { method: 'PUT', paths, concurrency: c, bodySize: 4 * KiB, durationS: ctx.opts.durationS };
      }
      const r = await measured(() => load(ctx, side, spec));
      return { value: perSecond(r), load: r, note: r.wrapped ? 'key list reused' : undefined };
    },
  };
}

export function versionCells(d: RunHelpers): Cell[] {
  const all: Mode[] = ['full', 'quick', 'smoke'];
  const half = (of: string): Target => ({ kind: 'same', sameAs: of, min: 0.5, text: `≥ 0.50× ${of}` });
  const near = (of: string): Target => ({ kind: 'same', sameAs: of, min: 0.9, text: `≥ 0.90× ${of}` });
  const cells: Cell[] = [
    verListCell(d, 'ver-list-plain', 'ListObjectsV2, 1000-key pages, unversioned bucket (the baseline)', 'ver-plain', 'v2', all),
    verListCell(
      d,
      'ver-list-versions',
      `ListObjectVersions, pages of 1000, ${VER_VERSIONS} versions per key`,
      'ver-10x',
      'versions',
      all,
      half('ver-list-plain'),
    ),
    verListCell(
      d,
      'ver-list-markers',
      `ListObjectsV2, 1000-key pages, versioned, ${VER_MARKERS_PER_10 * 10} % of keys deleted (delete marker latest)`,
      'ver-markers',
      'v2',
      all,
      half('ver-list-plain'),
    ),
  ];
  for (const [what, label] of [
    ['put-distinct', 'PUT 4 KiB distinct keys'],
    ['put-one', 'PUT 4 KiB one key'],
    ['get', 'GET 4 KiB'],
  ] as const) {
    const plain = `ver-${what}-plain-c16`;
    cells.push(verSmallCell(d, plain, `${label}, c16, unversioned bucket`, 'ver-small-plain', what, 16, all));
    cells.push(verSmallCell(d, `ver-${what}-on-c16`, `${label}, c16, versioning Enabled`, 'ver-small-on', what, 16, all, near(plain)));
  }
  return cells;
}

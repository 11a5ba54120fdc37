// The PostgreSQL side of `npm run bench -- --cluster` (issue 17; docs/performance.md, "Gateways on
// PostgreSQL in the bench"): a throw-away PostgreSQL (test/helpers/postgres.ts, Debian's binaries,
// its default durability: every commit fsyncs its WAL) and two Strata gateways on one shared data
// directory with `--meta <its URL>` — the `strata-pg` side. It runs the core cells marked here
// beside the one-directory SQLite Strata in the same rounds; the client's connections alternate
// between the two gateways' ports (client.ts runLoad `ports`), so no proxy is measured with them.
// Targets: 4 KiB PUT (distinct keys) and HEAD at ≥ 0.4× SQLite's, listing ≥ 100 pages/s of 1000
// keys on the large bucket (1 million keys in full mode).
//
// The listing buckets are not filled over HTTP: one object is PUT through a gateway (the store
// writes its row as for any PUT), then PostgreSQL copies that row server-side for every other key
// (`INSERT … SELECT … FROM generate_series`), the usage counters are moved by as much, and VACUUM
// (ANALYZE) gives the planner the table's new size and sets the visibility map. The copy names the columns the table has (read from the
// catalogue), so it follows the schema of the `0001-core` migration without restating it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { type PostgresCluster, postgresBinDir, startPostgres } from '../test/helpers/postgres.js';
import { bulkKey, type BulkBucket } from './bulk.js';
import { processTree } from './procstat.js';
import { type Running, type RunningStrata, startStrata } from './servers.js';

export const STRATA_PG = 'strata-pg';
/** Gateways of the strata-pg side, all on one data directory and one PostgreSQL database. */
export const PG_GATEWAYS = 2;
/** 4 KiB PUT and HEAD on PostgreSQL at ≥ this × the one-directory SQLite Strata (issue 17). */
export const PG_SMALL_MIN = 0.4;
/** Listing pages of 1000 keys per second on the large bucket (issue 17: 1 million keys). */
export const PG_LIST_PAGES_MIN = 100;

/** Whether the strata-pg side runs a core cell. */
export function pgRuns(id: string): boolean {
  return /^(get-4k|head-4k|put-4k-distinct)-c\d+$/.test(id) || ['put-64m-c2', 'get-64m-c2', 'list-small', 'list-large'].includes(id);
}

/** The checks of the strata-pg side by core cell: a ratio to SQLite's Strata, or an absolute floor. */
export function pgChecks(id: string): { ofStrata?: Record<string, number>; absOf?: Record<string, number> } | undefined {
  if (/^(head-4k|put-4k-distinct)-c\d+$/.test(id)) return { ofStrata: { [STRATA_PG]: PG_SMALL_MIN } };
  if (id === 'list-large') return { absOf: { [STRATA_PG]: PG_LIST_PAGES_MIN } };
  return undefined;
}

/**
 * `--workers` of each gateway: as many Node processes in all as the SQLite side has (its workers,
 * by default one per CPU), split over the gateways, at least one each. On 2 cores: one per gateway.
 */
export function gatewayWorkers(strataWorkers: number): number {
  return Math.max(1, Math.floor(strataWorkers / PG_GATEWAYS));
}

export interface PgSide extends Running {
  /** The gateways' ports, in order (the load alternates between them). */
  ports: number[];
  gateways: RunningStrata[];
  pg: PostgresCluster;
  /** The database URL the gateways use. */
  url: string;
  workersPerGateway: number;
}

/** `postgres (PostgreSQL) 15.x`: the server the side runs (Debian's newest installed). */
export function postgresVersion(): string {
  const r = spawnSync(join(postgresBinDir(), 'postgres'), ['--version'], { encoding: 'utf8' });
  return r.error ? 'unknown' : r.stdout.trim();
}

/** How the side is made, for the report's header. */
export function pgSideText(s: PgSide): string {
  return (
    `${STRATA_PG} = ${s.gateways.length} gateways × --workers ${s.workersPerGateway} on one data directory with --meta postgres://… ` +
    `(${postgresVersion()}, its default durability: fsync, synchronous_commit on), the load's connections alternating between them ` +
    `(the Node client on every side of its cells)`
  );
}

/** The postmaster's pid (first line of postmaster.pid), or undefined when it is not running. */
function postmasterPid(pgDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n', 1)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts PostgreSQL (a fresh cluster and database) and PG_GATEWAYS gateways on `root`/strata-pg-data
 * with `--meta <url>`; `args` are the main side's server arguments (without its --workers).
 * Its pids are the gateways' process trees and PostgreSQL's (postmaster, backends, writers): the
 * server's CPU is both.
 */
export async function startPgSide(
  root: string,
  args: readonly string[],
  nodeArgs: readonly string[] | undefined,
  workersPerGateway: number,
  log: (s: string) => void,
): Promise<PgSide> {
  const t0 = performance.now();
  const pgc = await startPostgres();
  const gateways: RunningStrata[] = [];
  try {
    const url = await pgc.createDatabase('strata_bench');
    const dataDir = join(root, `${STRATA_PG}-data`);
    mkdirSync(dataDir, { recursive: true });
    // One after the other: the first one migrates the schema, the second finds it done.
    for (let i = 0; i < PG_GATEWAYS; i++) {
      gateways.push(
        await startStrata({
          dataDir,
          logFile: join(root, `${STRATA_PG}-${i + 1}.log`),
          args: [...args, '--meta', url, '--workers', String(workersPerGateway)],
          nodeArgs: nodeArgs ? [...nodeArgs] : undefined,
        }),
      );
    }
    const pgPid = postmasterPid(pgc.dir);
    log(
      `${STRATA_PG}: PostgreSQL on port ${pgc.port} (postmaster ${pgPid ?? '?'}), ${PG_GATEWAYS} gateways × --workers ${workersPerGateway} on ports ` +
        `${gateways.map((g) => g.port).join(', ')}, started in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    return {
      pid: gateways[0]!.pid,
      port: gateways[0]!.port,
      ports: gateways.map((g) => g.port),
      gateways,
      pg: pgc,
      url,
      workersPerGateway,
      pids: () => {
        const pm = postmasterPid(pgc.dir);
        return [...gateways.flatMap((g) => g.pids()), ...(pm !== undefined ? processTree(pm) : [])];
      },
      stop: async () => {
        for (const g of gateways) await g.stop().catch(() => undefined);
        await pgc.dispose();
      },
    };
  } catch (err) {
    for (const g of gateways) await g.stop().catch(() => undefined);
    await pgc.dispose().catch(() => undefined);
    throw err;
  }
}

/** The HTTP side of the bulk load (run.ts's control requests against a gateway). */
export interface PgBulkHttp {
  createBucket(bucket: string): Promise<void>;
  /** PUT of a 0-byte object (the row every other key is copied from). */
  putEmpty(bucket: string, key: string): Promise<void>;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Fills the listing buckets on PostgreSQL: each bucket and its first key over HTTP, then every
 * other key as a server-side copy of that key's row (keys bulkKey(1) … bulkKey(count - 1), the
 * same as SQLite's bulk load), its usage counters moved by as much, then VACUUM (ANALYZE). Bounded: one
 * statement per bucket, a 30-minute statement timeout.
 */
export async function bulkLoadPg(url: string, buckets: readonly BulkBucket[], http: PgBulkHttp): Promise<{ objects: number; ms: number }> {
  const t0 = performance.now();
  let objects = 0;
  for (const b of buckets) {
    if ((b.versions ?? 0) > 0) throw new Error(`bulkLoadPg: versioned bucket ${b.name} is not supported`);
    await http.createBucket(b.name);
    await http.putEmpty(b.name, bulkKey(0));
    objects++;
  }
  const client = new pg.Client({ connectionString: url, statement_timeout: 30 * 60_000, application_name: 'strata-bench-bulk' });
  await client.connect();
  try {
    // A bench load, not a client's write: its commit need not wait for the WAL flush (ANALYZE and
    // the gateways' first reads see it either way; PostgreSQL flushes it within a moment).
    await client.query('SET synchronous_commit = off');
    const cols = (
      await client.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'objects' ORDER BY ordinal_position`,
      )
    ).rows.map((r) => r.column_name);
    if (!cols.includes('key') || !cols.includes('bucket')) throw new Error(`bulkLoadPg: table objects has no key/bucket column (columns: ${cols.join(', ')})`);
    const usageCols = new Set(
      (
        await client.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'bucket_usage'`,
        )
      ).rows.map((r) => r.column_name),
    );
    const select = cols.map((c) => (c === 'key' ? `convert_to('obj/' || lpad(i::text, 8, '0'), 'UTF8')` : `o.${ident(c)}`)).join(', ');
    for (const b of buckets) {
      if (b.count <= 1) continue;
      await client.query('BEGIN');
      const r = await client.query(
        `INSERT INTO objects (${cols.map(ident).join(', ')})
         SELECT ${select} FROM objects o CROSS JOIN generate_series(1, $3::int - 1) AS i
         WHERE o.bucket = $1 AND o.key = convert_to($2, 'UTF8')`,
        [b.name, bulkKey(0), b.count],
      );
      if (r.rowCount !== b.count - 1)
        throw new Error(`bulkLoadPg: ${b.name}: copied ${r.rowCount} rows, expected ${b.count - 1} (the first key's row missing?)`);
      // The usage counters (objects and versions of the bucket) as b.count PUTs would have left them:
      // added to one of the bucket's rows (their sum is the figure).
      if (usageCols.has('objects') && usageCols.has('versions')) {
        const u = await client.query(
          `UPDATE bucket_usage SET objects = objects + $2, versions = versions + $2
           WHERE ctid = (SELECT ctid FROM bucket_usage WHERE bucket = $1 LIMIT 1)`,
          [b.name, b.count - 1],
        );
        if (u.rowCount !== 1) throw new Error(`bulkLoadPg: ${b.name}: no usage row to update`);
      }
      await client.query('COMMIT');
      objects += b.count - 1;
    }
    // VACUUM as well: it sets the visibility map, so the listing's index-only scan skips the heap as
    // it would on a table autovacuum has been through (ANALYZE alone leaves a heap fetch per key).
    await client.query('VACUUM (ANALYZE) objects');
    if (usageCols.size > 0) await client.query('ANALYZE bucket_usage');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
  return { objects, ms: performance.now() - t0 };
}

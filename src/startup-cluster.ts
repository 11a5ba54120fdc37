// What a gateway on PostgreSQL (--meta postgres://…, docs/cluster.md) does beside what every server
// does (startup.ts, serve.ts): open the PostgreSQL metadata store — waiting a bounded time for a
// database that does not answer yet — after checking that the data directory is this database's;
// then register in the gateway registry with a heartbeat and answer the cluster status.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { AdminCluster } from './admin/cluster-operations.js';
import { type GatewayRegistry, keepRegistered } from './cluster/registry.js';
import { bindNamespace, refuseSqliteDir } from './cluster/registry-binding.js';
import { PgGatewayRegistry, pgHealth } from './cluster/registry-pg.js';
import { clusterStatus } from './cluster/registry-status.js';
import type { PostgresMetaConfig } from './config-meta.js';
import { redactedUrl } from './config-meta.js';
import { StoreError } from './store/errors.js';
import { isUnavailable, PgDb } from './store/meta/postgres/db.js';
import type { MetaStore } from './store/types.js';

/** Between two attempts to reach PostgreSQL at start. */
const START_RETRY_MS = 1000;

/** The PostgreSQL metadata store (store/meta/postgres/open.ts), loaded only by a gateway on PostgreSQL. */
async function openPg(url: string, opts: { poolSize: number; applicationName: string }): Promise<MetaStore> {
  const { openPgMetaStore } = await import('./store/meta/postgres/open.js');
  return openPgMetaStore(url, opts);
}

const unreachable = (err: unknown) => isUnavailable(err) || (err instanceof StoreError && err.code === 'Unavailable');

/**
 * Runs `attempt` until it succeeds, retrying while PostgreSQL does not answer, for at most
 * `meta.startWaitMs`; then fails with a message naming the database (password hidden). Any other
 * error (a refused login, a missing database) fails at once.
 */
async function whileUnreachable<T>(meta: PostgresMetaConfig, log: Logger, what: string, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + meta.startWaitMs;
  let logged = false;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (!unreachable(err)) throw new Error(`PostgreSQL at ${redactedUrl(meta.url)}: ${what} failed: ${msg}`);
      if (Date.now() + START_RETRY_MS > deadline)
        throw new Error(`PostgreSQL at ${redactedUrl(meta.url)} did not answer within ${Math.round(meta.startWaitMs / 1000)} s (--meta-wait): ${msg}`);
      if (!logged) log.warn({ meta: redactedUrl(meta.url), err: msg }, 'PostgreSQL does not answer yet: retrying');
      logged = true;
      await new Promise((r) => setTimeout(r, START_RETRY_MS));
    }
  }
}

/**
 * Opens the PostgreSQL metadata store for a gateway on `dataDir`: a directory with a SQLite meta.db
 * is refused first; the schema is migrated (once, whichever gateway comes first); the directory is
 * checked to be this database's (registry-binding.ts). Each process opens its own pool.
 */
export async function openPostgresMeta(meta: PostgresMetaConfig, dataDir: string, log: Logger): Promise<MetaStore> {
  refuseSqliteDir(dataDir);
  const store = await whileUnreachable(meta, log, 'opening the metadata store', () =>
    openPg(meta.url, { poolSize: meta.poolSize, applicationName: `strata-${process.pid}` }),
  );
  const control = PgDb.create(meta.url, { poolSize: 1, applicationName: `strata-control-${process.pid}` });
  try {
    await whileUnreachable(meta, log, 'checking the data directory', () => bindNamespace(control, dataDir));
  } catch (err) {
    await store.close();
    throw err;
  } finally {
    await control.close().catch(() => undefined);
  }
  return store;
}

/** A gateway's registration and status: `cluster` for the admin API, `close` at shutdown (deregisters). */
export interface GatewayPresence {
  cluster: AdminCluster;
  close(): Promise<void>;
}

/**
 * Registers this process as a gateway (heartbeat every 2 s; registry.ts) and builds the cluster
 * status. Its own small pool (one connection): heartbeats and the status never wait behind a busy
 * request pool, and the status measures PostgreSQL itself.
 */
export async function startGatewayPresence(o: {
  meta: PostgresMetaConfig;
  id: string;
  address: string;
  leader: () => Promise<string | undefined>;
  log: Logger;
}): Promise<GatewayPresence> {
  const db = PgDb.create(o.meta.url, { poolSize: 1, applicationName: `strata-registry-${process.pid}`, connectTimeoutMs: 2000, statementTimeoutMs: 5000 });
  const registry: GatewayRegistry = new PgGatewayRegistry(db);
  const stop = new AbortController();
  await keepRegistered(registry, { id: o.id, address: o.address, hostname: hostname(), pid: process.pid }, { log: o.log, signal: stop.signal });
  return {
    cluster: {
      status: () => clusterStatus({ registry, selfId: o.id, leader: o.leader, leaderBy: 'postgres-lease', postgres: () => pgHealth(db) }),
    },
    async close() {
      stop.abort();
      await registry.close();
      await db.close().catch(() => undefined);
    },
  };
}

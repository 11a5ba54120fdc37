#!/usr/bin/env node
// Entry point: parse the config, open the stores, start the server, shut down cleanly on signals.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { ConfigError, parseConfig } from './config.js';
import { createServer } from './server.js';
import { DirDataStore } from './store/data/dir.js';
import { SqliteMetaStore } from './store/meta/sqlite.js';
import { Store } from './store/store.js';

/** How long in-flight requests may run after SIGINT/SIGTERM before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`strata: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(parsed.text);
    return;
  }
  const config = parsed.config;
  const log = pino({ level: config.logLevel, base: { pid: process.pid } });
  if (config.defaultCredentials) {
    log.warn(
      { accessKey: config.accessKey },
      'USING THE DEFAULT CREDENTIALS (rustfsadmin / rustfssecret): anyone who knows them can read and write every bucket. Set --access-key/--secret-key (or STRATA_ACCESS_KEY/STRATA_SECRET_KEY) for anything but a local test.',
    );
  }

  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const meta = SqliteMetaStore.open(join(dataDir, 'meta.db'));
  const data = await DirDataStore.open(dataDir);
  const store = new Store(meta, data, log);
  const swept = await store.sweepTemp();
  if (swept > 0) log.info({ files: swept }, 'removed leftovers of interrupted uploads');

  const credentials = (accessKey: string) =>
    accessKey === config.accessKey ? { accessKey: config.accessKey, secretKey: config.secretKey } : undefined;
  const server = createServer(config, { store, log, credentials });

  const orphanSweep = new AbortController();
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen({ host: config.host || undefined, port: config.port }, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  log.info({ address: config.host || '0.0.0.0', port, dataDir, region: config.region }, 'listening');

  store
    .sweepOrphans(orphanSweep.signal)
    .then((n) => n > 0 && log.info({ pieces: n }, 'removed orphaned data left by an earlier crash'))
    .catch((err) => log.warn({ err }, 'orphan sweep failed'));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    orphanSweep.abort();
    server.close(async () => {
      await store.close();
      log.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`strata: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

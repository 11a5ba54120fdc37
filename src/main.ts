#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point: parse the config, open the stores, start the server, shut down cleanly on signals.
import { identityCredentials } from './iam/credentials.js';
import { SessionTokens, sessionCredentials } from './iam/sessions.js';
import { SecretBox } from './iam/secret-box.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { type Config, ConfigError, parseConfig, parseKmsSecretKey } from './config.js';
import { createFrontServer, Readiness } from './front.js';
import { BatchedLines, createServer, drainConnections } from './server.js';
import { DirDataStore } from './store/data/dir.js';
import { lockDataDir } from './store/lock.js';
import { SqliteMetaStore } from './store/meta/sqlite.js';
import { Store } from './store/store.js';
import { freeReaperJob, orphanSweepJob, staleUploadsJob } from './jobs/jobs.js';
import { JobRunner, type Job } from './jobs/runner.js';
import { lifecycleJob } from './jobs/lifecycle.js';
import { seedCannedPolicies } from './iam/canned-policies.js';
import { BuiltinKeyService, type RootKey } from './kms/builtin.js';
import { startMemoryGuard } from './memory-guard.js';

/** How long in-flight requests may run after SIGINT/SIGTERM before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;
/** Rounds of the orphan sweep after the first (at start). */
const ORPHAN_SWEEP_INTERVAL_MS = 6 * 3600_000;
/** Rounds of the stale-upload cleanup. */
const STALE_UPLOADS_INTERVAL_MS = 3600_000;

async function main(): Promise<void> {
  // `strata admin …`: the admin API's command line (src/cli/admin.ts), not a server.
  if (process.argv[2] === 'admin') {
    const { adminMain } = await import('./cli/admin.js');
    process.exitCode = await adminMain(process.argv.slice(3), process.env, process.stdout, process.stderr);
    return;
  }
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
  startMemoryGuard(); // dead I/O buffers collected while a large transfer runs (memory-guard.ts)
  // Logs go to process.stdout (asynchronous for pipes). A reader that goes away (EPIPE) must not
  // stop or hang the server: pino's synchronous destination retries a dead pipe forever.
  process.stdout.on('error', () => undefined);
  const log = pino({ level: config.logLevel, base: { pid: process.pid } }, process.stdout);
  // The access log (a line per request) reaches stdout in one write per event-loop turn.
  const accessLog = pino({ level: config.logLevel, base: { pid: process.pid } }, new BatchedLines(process.stdout).flushOnExit());
  if (config.defaultCredentials) {
    log.warn(
      { accessKey: config.accessKey },
      'USING THE DEFAULT CREDENTIALS (rustfsadmin / rustfssecret): anyone who knows them can read and write every bucket. Set --access-key/--secret-key (or STRATA_ACCESS_KEY/STRATA_SECRET_KEY) for anything but a local test.',
    );
  }

  // Before opening anything: a missing certificate stops the start cleanly.
  const tls = config.tls ? readTlsFiles(config.tls) : undefined;
  const kmsRoot = config.kms && readKmsRootKey(config.kms);
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  // Before anything touches the directory (the temp sweep would delete another server's writes in
  // progress): one process per data directory, or several that all share it (--shared). Released
  // by the OS if the process dies.
  const lock = lockDataDir(dataDir, { shared: config.shared });
  // Alone on the directory, no other connection commits: cached rows need no data_version check.
  const meta = SqliteMetaStore.open(join(dataDir, 'meta.db'), { hot: { othersMayWrite: config.shared } });
  const data = await DirDataStore.open(dataDir);
  const store = new Store(meta, data, log, { inlineMax: config.inlineMax, freeGraceMs: config.shared ? config.freeGraceMs : 0 });
  if (!config.shared) {
    // Alone on the directory: what other processes left in the metadata store is stale, and every
    // temp file is a leftover. Shared: the jobs runner removes only old ones (write intents).
    await store.takeOverAlone();
    const swept = await store.sweepTemp();
    if (swept > 0) log.info({ files: swept }, 'removed leftovers of interrupted uploads');
  }

  // Users' secrets are sealed with a key from --master-key or, without one, the root secret. A
  // stored secret sealed under another key makes the start fail, loudly (docs/admin-api.md).
  const box = new SecretBox({ masterKey: config.masterKey, rootSecret: config.secretKey });
  const foreign = store.identities.secretKeyIds().filter((id) => id !== box.keyId);
  if (foreign.length > 0) {
    await store.close();
    lock.release();
    throw new Error(
      `stored access-key secrets were sealed with key ${foreign.join(', ')} but this server's key is ${box.keyId}: ` +
        'the secret key changed without a --master-key. Start with the former root secret key as --master-key (STRATA_MASTER_KEY) to read them.',
    );
  }
  // The canned managed policies MinIO users know (readonly, readwrite, writeonly, diagnostics,
  // consoleAdmin) exist by name from the first start: `strata admin user add NAME --policy readonly`.
  await seedCannedPolicies(store.identities, Date.now());
  // STS sessions' keys resolve from their sealed token (iam/sessions.ts), the role read per request.
  const sessions = sessionCredentials({ identities: store.identities, tokens: new SessionTokens(box) });
  const credentials = identityCredentials({ rootAccessKey: config.accessKey, rootSecretKey: config.secretKey, identities: store.identities, box, sessions });
  // One readiness probe for the S3 port's health endpoints and --health-address's.
  const readiness = new Readiness({ meta: () => store.getBucket(''), writableDir: join(dataDir, 'tmp') });
  // The key service (SSE-S3, SSE-KMS): built in, its master keys in the metadata store sealed under
  // the operator's root key (docs/encryption.md). Without a root key there is none.
  const kms = kmsRoot && (await BuiltinKeyService.open(store.kmsKeys, kmsRoot, { log }));
  if (kms) log.info({ defaultKeyId: kms.defaultKeyId, rootKeyId: kms.rootKeyId }, 'key service: built-in, default key');
  const server = createServer(config, { store, log, accessLog, credentials, secrets: box, tls, readiness, kms });
  const healthServer = config.health && createFrontServer(readiness);
  if (healthServer && config.health) {
    const { host, port } = config.health;
    await new Promise<void>((ok, fail) => {
      healthServer.once('error', fail);
      healthServer.listen({ host: host || undefined, port }, () => ok());
    });
  }

  const jobsStop = new AbortController();
  /** Settles once the jobs runner has stopped (after jobsStop aborts) and released its lease. */
  let jobsDone: Promise<void> = Promise.resolve();
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen({ host: config.host || undefined, port: config.port }, () => ok());
  });

  let stopping = false;
  /** Logging must never stand in the way of stopping (stdout may be a closed pipe: EPIPE). */
  const safeLog = (msg: string, obj: object = {}) => {
    try {
      log.info(obj, msg);
    } catch {
      // nothing to do: the log destination is gone
    }
  };
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    jobsStop.abort();
    healthServer?.close();
    healthServer?.closeAllConnections();
    server.close(() => {
      jobsDone
        .then(() => store.close())
        .catch(() => undefined)
        .finally(() => {
          lock.release();
          safeLog('stopped');
          process.exit(0);
        });
    });
    // Connections without a request in flight (idle keep-alive, or never sent one) close now; the
    // others when their response is done, or at the end of the grace period.
    drainConnections(server);
    setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    // Last resort: whatever hangs, the process ends shortly after the grace period.
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS + 5_000).unref();
    safeLog('shutting down: no new connections, finishing in-flight requests', { signal });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  // Only now: a supervisor may send SIGTERM as soon as it reads `listening`, and without the
  // handlers above that would kill the process instead of stopping it cleanly.
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const healthAddr = healthServer?.address();
  const healthPort = typeof healthAddr === 'object' && healthAddr ? healthAddr.port : undefined;
  log.info(
    {
      address: config.host || '0.0.0.0',
      port,
      dataDir,
      region: config.region,
      tls: tls !== undefined,
      ...(config.tls && { certFile: config.tls.certFile }),
      ...(healthPort !== undefined && { healthPort }),
    },
    'listening',
  );

  // One line for a person: the URL to use, where the data is, and the default-credentials warning.
  // On stdout when it is a terminal (the JSON lines are then for the eye too), else on stderr, so
  // that a log collector reading stdout gets only JSON.
  const human = startLine({ host: config.host, port, tls: tls !== undefined, dataDir, defaultCredentials: config.defaultCredentials });
  const humanOut = process.stdout.isTTY ? process.stdout : process.stderr;
  humanOut.on('error', () => undefined); // a closed stderr (EPIPE) must not stop the server
  humanOut.write(human);

  // Background work (src/jobs/): one runner per data directory, whichever process holds the lease.
  // STRATA_TEST_SWEEP_INTERVAL_MS: tests run the sweep continuously (two-process.test.ts); not a flag.
  const sweepEvery = Number(process.env.STRATA_TEST_SWEEP_INTERVAL_MS) || ORPHAN_SWEEP_INTERVAL_MS;
  const jobs: Job[] = [orphanSweepJob(store, { intervalMs: sweepEvery, shared: config.shared, log })];
  if (config.shared) jobs.push(freeReaperJob(store, { intervalMs: Math.max(1000, config.freeGraceMs / 4) }));
  if (config.abandonedUploadMs > 0) jobs.push(staleUploadsJob(store, { maxAgeMs: config.abandonedUploadMs, intervalMs: STALE_UPLOADS_INTERVAL_MS, log }));
  jobs.push(lifecycleJob(store, { dayMs: config.lifecycleDayMs, log }));
  jobsDone = new JobRunner({ leases: store, owner: store.owner, jobs, log, beforeStep: () => store.requestArrived() }).run(jobsStop.signal);
}

/**
 * The start line: `Strata is serving S3 at http://127.0.0.1:9000 — data in /abs/dir` (a wildcard
 * address becomes 127.0.0.1, the address a client on this machine uses), plus the warning when the
 * default credentials are in use.
 */
function startLine(o: { host: string; port: number; tls: boolean; dataDir: string; defaultCredentials: boolean }): string {
  const wildcard = o.host === '' || o.host === '0.0.0.0' || o.host === '::' || o.host === '[::]';
  const host = wildcard ? '127.0.0.1' : o.host.includes(':') && !o.host.startsWith('[') ? `[${o.host}]` : o.host;
  let line = `Strata is serving S3 at ${o.tls ? 'https' : 'http'}://${host}:${o.port} — data in ${o.dataDir}\n`;
  if (o.defaultCredentials) {
    line +=
      'WARNING: default credentials in use (access key rustfsadmin, secret key rustfssecret): anyone who knows them can read and write every bucket. Set --access-key/--secret-key for anything but a local test.\n';
  }
  return line;
}

/** The PEM files named by --certs / --tls-cert / --tls-key; a missing file stops the start with its name. */
function readTlsFiles(files: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return { cert: read('certificate', files.certFile), key: read('private key', files.keyFile) };
}

/** The key service's root key, from --kms-secret-key (checked by parseConfig) or the file --kms-secret-key-file names. */
function readKmsRootKey(kms: NonNullable<Config['kms']>): RootKey {
  try {
    if ('secretKey' in kms) return parseKmsSecretKey(kms.secretKey, '--kms-secret-key');
    let text: string;
    try {
      text = readFileSync(kms.secretKeyFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read the KMS root key file ${kms.secretKeyFile}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return parseKmsSecretKey(text, `the KMS root key file ${kms.secretKeyFile}`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`strata: ${err.message}\n`);
    process.exit(2);
  }
}

main().catch((err) => {
  process.stderr.write(`strata: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

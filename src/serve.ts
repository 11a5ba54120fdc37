// One serving process: the whole server when --workers is 1, or one worker of a cluster (its
// primary, src/primary.ts, holds the data-directory lock and ran the startup sweeps). Opens the
// stores, listens, runs the jobs runner, and shuts down cleanly on SIGINT/SIGTERM.
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createFrontServer, Readiness } from './front.js';
import { identityCredentials } from './iam/credentials.js';
import { SessionTokens, sessionCredentials } from './iam/sessions.js';
import { erasureJobs, freeReaperJob, orphanSweepJob, staleUploadsJob } from './jobs/jobs.js';
import { healStatus } from './jobs/heal-status.js';
import { metaCopyDirs } from './store/meta/mirror.js';
import { metaCopyStatus } from './store/meta/mirror-readmit.js';
import { lifecycleJob } from './jobs/lifecycle.js';
import { type Job, JobRunner } from './jobs/runner.js';
import type { EtcdCluster } from './cluster/etcd.js';
import { BuiltinKeyService } from './kms/builtin.js';
import { BatchedLines, createConsoleServer, createServer, drainConnections } from './server.js';
import { type DrivesLock, lockDrives } from './store/lock.js';
import { createDriveDirs } from './store/data/erasure/drive-format.js';
import { offloadWorthIt, setHashOffload } from './store/hash-offload.js';
import { availableParallelism, hostname } from 'node:os';
import { startMemoryGuard } from './memory-guard.js';
import { erasureText, listenerUrl, openStore, readKmsRootKey, readTlsFiles, writeStartLine } from './startup.js';
import { pino } from 'pino';
import { localAudit, workerAudit } from './audit/audit.js';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { MetricsService } from './metrics/service.js';
import type { AdminCluster } from './admin/cluster-operations.js';
import type { GatewayPresence } from './startup-cluster.js';

/** How long in-flight requests may run after SIGINT/SIGTERM before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;
/** Rounds of the orphan sweep after the first (at start). */
const ORPHAN_SWEEP_INTERVAL_MS = 6 * 3600_000;
/** Rounds of the stale-upload cleanup. */
const STALE_UPLOADS_INTERVAL_MS = 3600_000;
/** How long a stopping process may spend delivering its pending audit records (to its targets, or to the primary). */
const AUDIT_FLUSH_MS = 3_000;

/** What a worker tells its primary (process.send): it listens (the ports it got), or it could not start. */
export type WorkerReport =
  | { strata: 'loaded' }
  | { strata: 'listening'; port: number; healthPort?: number; consolePort?: number }
  | { strata: 'failed'; message: string };

/**
 * Serves until a signal stops the process. `worker`: one of a cluster's workers (send reports to
 * the primary through `worker.report`, which logs `listening` for all of them).
 */
export async function serve(config: Config, log: Logger, worker?: { report: (r: WorkerReport) => void; aloneSince?: number }): Promise<void> {
  // Dead I/O buffers are collected before they pile up in malloc's heap (src/memory-guard.ts).
  startMemoryGuard();
  // Large hashes on a worker thread only with cores to spare (store/hash-offload.ts).
  setHashOffload(offloadWorthIt(availableParallelism(), worker ? config.workers : 1));
  // The access log (a line per request) reaches stdout in one write per event-loop turn; a worker's
  // writes stay under PIPE_BUF so lines of several workers on one pipe never interleave.
  const accessLog = pino(
    { level: config.logLevel, base: { pid: process.pid } },
    new BatchedLines(process.stdout, undefined, worker ? PIPE_BUF : undefined).flushOnExit(),
  );

  // The audit log: a worker sends its records to the primary, which owns the targets (src/audit/cluster.ts).
  const audit = worker ? workerAudit(config.audit, log) : localAudit(config.audit, log);
  // Before opening anything: a missing certificate stops the start cleanly.
  const tls = config.tls ? readTlsFiles(config.tls) : undefined;
  const kmsRoot = config.kms && readKmsRootKey(config.kms);
  // Several drives (--data a,b,… : an erasure set, docs/drives.md): each is locked as the one data
  // directory is; the metadata lives on the first.
  const dataDirs = config.dataDirs.map((d) => resolve(d));
  const dataDir = dataDirs[0]!;
  createDriveDirs(dataDirs);
  // Before anything touches the directory (the temp sweep would delete another server's writes in
  // progress): one process per data directory, or several that all share it (--shared), or the
  // workers of one cluster (their primary holds the directory's lock). Released by the OS if the
  // process dies.
  const lock: DrivesLock = lockDrives(dataDirs, { shared: config.shared, worker: worker !== undefined });
  // A worker follows the shared rules: its siblings use the directory too.
  const alone = !config.shared && !worker;
  const { store, box, drives } = await openStore(config, dataDir, log, {
    alone,
    prepare: !worker,
    freeGraceMs: alone ? 0 : config.freeGraceMs,
    lockDrive: lock.lockLater,
  }).catch((err) => {
    lock.release();
    throw err;
  });
  // A worker of a primary that took the directory over: what is older than that is a dead process's.
  if (worker?.aloneSince !== undefined) store.adoptTakeover(worker.aloneSince);

  // STS sessions' keys resolve from their sealed token (iam/sessions.ts), the role read per request.
  const sessions = sessionCredentials({ identities: store.identities, tokens: new SessionTokens(box) });
  const credentials = identityCredentials({ rootAccessKey: config.accessKey, rootSecretKey: config.secretKey, identities: store.identities, box, sessions });
  // One readiness probe for the S3 port's health endpoints and --health-address's.
  // Several drives: not ready while fewer than read quorum are online (docs/drives.md).
  const readiness = new Readiness({
    meta: () => store.getBucket(''),
    writableDir: join(dataDir, 'tmp'),
    ...(drives && { drives: () => drives.notReady() }),
  });
  // The key service (SSE-S3, SSE-KMS): built in, its master keys in the metadata store sealed under
  // the operator's root key (docs/encryption.md). Without a root key there is none.
  // Several processes (workers, --shared): data-key calls check the key generation as of their
  // request's arrival (read with the store's per-request check for other processes' commits), so a
  // key disabled through another process is refused here from the next request on, not a second later.
  const kms = kmsRoot && (await BuiltinKeyService.open(store.kmsKeys, kmsRoot, { log, ...(!alone && { perRequest: true }) }));
  if (kms) log.info({ defaultKeyId: kms.defaultKeyId, rootKeyId: kms.rootKeyId }, 'key service: built-in, default key');
  // Metrics (src/metrics/): counted here; a worker's /metrics asks its primary for every process's.
  const metrics = new MetricsService({
    dataDir,
    ...(dataDirs.length > 1 && { drives: dataDirs }),
    usage: store.usage,
    auth: { mode: config.metrics.auth, token: config.metrics.tokenFile ? readMetricsToken(config.metrics.tokenFile) : config.metrics.token },
    ...(worker && { worker: cluster.worker?.id ?? 0 }),
    log,
  }).start();
  // Several drives (an erasure-coded data store): the heal status for the admin API, and the heal jobs below.
  const erasure = store.erasure;
  const copyDirs =
    drives &&
    metaCopyDirs(
      drives.drives.map((d) => d.path),
      drives.parity,
    );
  const heal = erasure && {
    status: () => healStatus(store, erasure, { scrubRate: config.scrubRate, ...(copyDirs && { metaCopies: () => metaCopyStatus(copyDirs) }) }),
  };
  // --meta postgres: this process registers as a gateway once it listens; the admin API's cluster
  // status asks the registry (startup-cluster.ts).
  let presence: GatewayPresence | undefined;
  const clusterStatus: AdminCluster | undefined = config.meta && {
    status: () => (presence ? presence.cluster.status() : Promise.reject(new Error('the gateway is starting'))),
  };
  const server = createServer(config, {
    store,
    log,
    accessLog,
    credentials,
    secrets: box,
    tls,
    readiness,
    kms,
    metrics,
    audit,
    ...(heal && { heal }),
    ...(clusterStatus && { cluster: clusterStatus }),
  });
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
  /** --etcd: membership, the job leader and change notices (src/cluster/etcd.ts); closed after the jobs. */
  let etcd: EtcdCluster | undefined;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen({ host: config.host || undefined, port: config.port }, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  // The job leader: etcd with --etcd, a PostgreSQL advisory lock with --meta postgres, else the
  // store's lease row (src/cluster/leader-choice.ts, docs/cluster.md, "etcd and the job leader"). etcd is never on the
  // request path: nothing here waits for it.
  if (config.etcd) {
    // Loaded only here: etcd3 and its gRPC stack take ~190 ms to load and memory a server without --etcd never needs.
    const { EtcdCluster } = await import('./cluster/etcd.js');
    etcd = new EtcdCluster({ endpoints: config.etcd, id: store.owner, log });
    // Cache invalidation through etcd too (a store on PostgreSQL; docs/cluster.md, "Change notices").
    let warned = false;
    store.attachChangeNotices(etcd, (name, err) => {
      if (warned) return;
      warned = true;
      log.warn({ change: name, err: err instanceof Error ? err.message : String(err) }, 'etcd change notice not published: PostgreSQL notifications carry it');
    });
  }
  // SQLite on one machine: no elector (the store's lease row), and no PostgreSQL client loaded.
  const elector =
    etcd || config.meta ? (await import('./cluster/leader-choice.js')).jobElector({ etcd, postgresUrl: config.meta?.url, owner: store.owner, log }) : undefined;
  const gatewaySelf = { id: store.owner, address: gatewayAddress(config.host, port, tls !== undefined), hostname: hostname(), pid: process.pid };
  if (config.meta) {
    const { startGatewayPresence } = await import('./startup-cluster.js');
    presence = await startGatewayPresence({
      meta: config.meta,
      id: store.owner,
      address: gatewaySelf.address,
      leader: elector ? () => elector.leader() : () => store.leaseHolder('jobs'),
      ...(elector && { leaderBy: etcd ? 'etcd' : 'postgres-advisory-lock' }),
      ...(etcd && { etcd }),
      log,
    });
  } else if (etcd) void etcd.registry.register(gatewaySelf).catch(() => undefined);
  // The web console (src/console/) on its own address, served by this same process.
  const localS3Url = listenerUrl(config.host, port, tls !== undefined);
  const s3Url = config.consoleS3Url ?? localS3Url;
  const consoleServer =
    config.console &&
    (await listenConsole(
      createConsoleServer(
        config,
        { store, log, accessLog, credentials, secrets: box, tls, kms, metrics, audit, ...(heal && { heal }) },
        { s3: () => s3Url, local: () => localS3Url },
      ),
      config.console,
      log,
    ));

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
    if (consoleServer) {
      consoleServer.close();
      drainConnections(consoleServer);
      setTimeout(() => consoleServer.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    }
    server.close(() => {
      jobsDone
        .then(() => presence?.close())
        .catch(() => undefined)
        .then(() => elector?.close())
        .then(() => etcd?.close())
        .catch(() => undefined)
        .then(() => store.close())
        .catch(() => undefined)
        .then(() => audit?.close(AUDIT_FLUSH_MS))
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
  const healthAddr = healthServer?.address();
  const healthPort = typeof healthAddr === 'object' && healthAddr ? healthAddr.port : undefined;
  const consoleAddr = consoleServer ? consoleServer.address() : undefined;
  const consolePort = typeof consoleAddr === 'object' && consoleAddr ? consoleAddr.port : undefined;
  if (worker) {
    // The primary logs `listening` (and the start line) once every worker listens.
    worker.report({ strata: 'listening', port, ...(healthPort !== undefined && { healthPort }), ...(consolePort !== undefined && { consolePort }) });
  } else {
    log.info(
      {
        address: config.host || '0.0.0.0',
        port,
        dataDir,
        ...(drives && { drives: dataDirs, erasure: erasureText(drives) }),
        region: config.region,
        tls: tls !== undefined,
        ...(config.tls && { certFile: config.tls.certFile }),
        ...(healthPort !== undefined && { healthPort }),
        ...(consolePort !== undefined && { consolePort }),
      },
      'listening',
    );
    // One line for a person: the URL to use, where the data is, and the default-credentials warning.
    writeStartLine({
      host: config.host,
      port,
      tls: tls !== undefined,
      dataDir,
      defaultCredentials: config.defaultCredentials,
      ...(drives && { drives: { paths: dataDirs, erasure: erasureText(drives) } }),
      ...(consolePort !== undefined && config.console && { console: { host: config.console.host, port: consolePort } }),
    });
  }

  // Background work (src/jobs/): one runner per data directory, whichever process holds the lease.
  // STRATA_TEST_SWEEP_INTERVAL_MS: tests run the sweep continuously (two-process.test.ts); not a flag.
  const sweepEvery = Number(process.env.STRATA_TEST_SWEEP_INTERVAL_MS) || ORPHAN_SWEEP_INTERVAL_MS;
  const jobs: Job[] = [orphanSweepJob(store, { intervalMs: sweepEvery, shared: !alone, log })];
  if (!alone) jobs.push(freeReaperJob(store, { intervalMs: Math.max(1000, config.freeGraceMs / 4) }));
  if (config.abandonedUploadMs > 0) jobs.push(staleUploadsJob(store, { maxAgeMs: config.abandonedUploadMs, intervalMs: STALE_UPLOADS_INTERVAL_MS, log }));
  jobs.push(lifecycleJob(store, { dayMs: config.lifecycleDayMs, log }));
  // STRATA_TEST_SCRUB_PASS_GAP_MS: tests start scrub passes back to back; not a flag.
  if (erasure)
    jobs.push(
      ...erasureJobs(store, erasure, { scrubRate: config.scrubRate, scrubPassGapMs: Number(process.env.STRATA_TEST_SCRUB_PASS_GAP_MS) || undefined, log }),
    );
  metrics.jobNames = jobs.map((j) => j.name);
  jobsDone = new JobRunner({
    ...(elector ? { elector } : { leases: store }),
    owner: store.owner,
    jobs,
    log,
    beforeStep: () => store.requestArrived(),
    observer: metrics.recorder.jobObserver,
  }).run(jobsStop.signal);
}

/** Where other machines reach this gateway: the listening address, or this host's name for a wildcard one. */
function gatewayAddress(host: string, port: number, tls: boolean): string {
  const wildcard = host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
  return wildcard ? `${tls ? 'https' : 'http'}://${hostname()}:${port}` : listenerUrl(host, port, tls);
}

/** --metrics-token-file's token (trailing white space dropped); an empty file stops the start. */
function readMetricsToken(file: string): string {
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 8) throw new Error(`--metrics-token-file ${file}: the token must be at least 8 characters`);
  return token;
}

/** Writes of at most this many bytes to a pipe are atomic (Linux): several writers' lines stay whole. */
const PIPE_BUF = 4096;

/**
 * Binds the console's listener. The default address (`:9001`, not asked for) already in use is
 * logged and the server runs without a console; an address given explicitly that cannot be bound
 * stops the start, as the S3 address does.
 */
async function listenConsole(server: Server, at: NonNullable<Config['console']>, log: Logger): Promise<Server | undefined> {
  try {
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen({ host: at.host || undefined, port: at.port }, () => ok());
    });
    return server;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (at.explicit || (code !== 'EADDRINUSE' && code !== 'EACCES')) throw err;
    log.warn({ port: at.port, code }, 'console not started: its default address is taken (set --console-address, or off)');
    return undefined;
  }
}

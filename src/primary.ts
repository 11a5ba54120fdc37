// The cluster primary (--workers N ≥ 2): holds the data-directory lock, runs the startup sweeps
// once while alone on the directory, then forks N workers (src/serve.ts) that serve the one
// listening socket through node:cluster. It serves no request and keeps no store open: it logs
// `listening` once every worker listens, replaces a worker that dies (after a bounded backoff),
// and on SIGTERM/SIGINT stops every worker (each drains its connections) before it exits.
//
// Scheduling: Node's default on Linux, round-robin (the primary accepts each connection and hands
// it to the next worker over IPC): connections spread evenly, at the price of one accept and one
// descriptor passing in the primary per connection (not per request: keep-alive connections stay
// with their worker). NODE_CLUSTER_SCHED_POLICY=none leaves the accepting to the workers and the
// kernel (docs/ARCHITECTURE.md "Workers" has the measurements).
import cluster, { type Worker } from 'node:cluster';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { WorkerReport } from './serve.js';
import { type DrivesLock, lockDrives } from './store/lock.js';
import { createDriveDirs, lookAtDrive } from './store/data/erasure/drive-format.js';
import { erasureText, openStore, readKmsRootKey, readTlsFiles, writeStartLine } from './startup.js';
import { PrimaryAudit } from './audit/cluster.js';
import { startPrimaryMetrics } from './metrics/service.js';

/** How long the workers may take to stop after SIGTERM (their own grace is 10 s + 5 s last resort). */
const STOP_WAIT_MS = 20_000;
/** Backoff before replacing a worker that died: doubles per quick death, from the first to the last. */
const RESPAWN_FIRST_MS = 100;
const RESPAWN_MAX_MS = 10_000;
/** A worker that served this long resets the backoff. */
const HEALTHY_AFTER_MS = 30_000;
/** Replacements in a row that die before they listen: the server stops (what failed will not heal). */
const MAX_FAILED_RESPAWNS = 5;
/** How often the primary tries to lock a drive that was missing at start (as often as the drive probe runs). */
const RELOCK_INTERVAL_MS = 3000;
/** How long the primary may spend, once the workers are gone, delivering the audit records they sent. */
const AUDIT_FLUSH_MS = 3_000;

export async function runPrimary(config: Config, log: Logger): Promise<void> {
  // The checks a single process makes before it opens anything, so a bad file stops the start
  // here, once, with its name (the workers read the files again).
  const tls = config.tls !== undefined;
  if (config.tls) readTlsFiles(config.tls);
  if (config.kms) readKmsRootKey(config.kms);
  // The audit targets live here: the workers send their records (src/audit/cluster.ts).
  const audit = config.audit && new PrimaryAudit(config.audit, log);
  const dataDirs = config.dataDirs.map((d) => resolve(d));
  const dataDir = dataDirs[0]!;
  createDriveDirs(dataDirs);
  // The directory's lock (every drive's, with several), as a single process takes it (so every
  // other server is refused); the workers hold the workers lock beside it (store/lock.ts).
  const lock = lockDrives(dataDirs, { shared: config.shared });
  // Alone on the directory (no --shared): the sweeps run here, once, before any worker touches the
  // store. The workers are forked first and load their code meanwhile; they open the store only at
  // the primary's `go` (so a start costs the longer of the two, not their sum).
  const alone = !config.shared;
  /** Several drives: `EC k+m` of the set, for the `listening` log and the start line. */
  let erasure: string | undefined;
  /** Several drives: the set's id (a returning drive is locked here only when it is the set's, or empty). */
  let setId: string | undefined;
  /** When the sweeps' takeover began (alone only): the workers' sweeps take every piece older than it (Store.adoptTakeover). */
  let takeoverAt: number | undefined;
  const prepare = async (): Promise<void> => {
    if (alone) takeoverAt = Date.now();
    const { store, drives } = await openStore(config, dataDir, log, { alone, prepare: true, freeGraceMs: alone ? 0 : config.freeGraceMs });
    if (drives) erasure = erasureText(drives);
    setId = drives?.id;
    drives?.close();
    await store.close();
  };
  /** The sweeps are done: workers may open the store (a replacement gets `go` as soon as it asks). */
  let prepared = false;
  /** Workers that loaded their code and wait for `go`. */
  const waiting = new Set<Worker>();
  const sendGo = (): void => {
    for (const w of waiting) if (w.isConnected()) w.send({ strata: 'go', ...(takeoverAt !== undefined && { aloneSince: takeoverAt }) });
    waiting.clear();
  };

  const n = config.workers;
  /** Live workers, with when each started and whether it listens. */
  const live = new Map<Worker, { startedAt: number; listening: boolean }>();
  let started = false;
  let stopping = false;
  /** The start failed: the workers are being killed, the caller reports the error. */
  let aborting = false;
  let quickDeaths = 0;
  let failedRespawns = 0;
  let lastFailure = '';
  const ports = new Set<number>();
  let healthPort: number | undefined;
  let consolePort: number | undefined;
  let startFailed: ((err: Error) => void) | undefined;
  let allListening: (() => void) | undefined;

  // The workers' figures, merged on request, and the history (src/metrics/cluster.ts).
  const metrics = startPrimaryMetrics(dataDir, log);
  const fork = (): void => {
    const w = cluster.fork();
    metrics.attach(w);
    live.set(w, { startedAt: Date.now(), listening: false });
    audit?.attach(w);
    w.on('message', (m: WorkerReport) => {
      // The worker's code is loaded: `go` now, or once the sweeps are done.
      if (m?.strata === 'loaded') {
        waiting.add(w);
        if (prepared) sendGo();
        return;
      }
      if (m?.strata === 'failed') lastFailure = m.message;
      if (m?.strata !== 'listening') return;
      live.get(w)!.listening = true;
      ports.add(m.port);
      if (m.healthPort !== undefined) healthPort = m.healthPort;
      if (m.consolePort !== undefined) consolePort = m.consolePort;
      failedRespawns = 0;
      if (!started && [...live.values()].filter((s) => s.listening).length === n) allListening?.();
    });
  };

  cluster.on('exit', (w, code, signal) => {
    const state = live.get(w);
    live.delete(w);
    if (aborting) return;
    if (stopping) {
      if (live.size === 0) finish(0);
      return;
    }
    const why = lastFailure || `exit code ${code}, signal ${signal}`;
    if (!started) {
      startFailed?.(new Error(lastFailure || `a worker exited before it listened (${why})`));
      return;
    }
    const lived = state ? Date.now() - state.startedAt : 0;
    if (state?.listening !== true) failedRespawns++;
    if (failedRespawns >= MAX_FAILED_RESPAWNS) {
      log.error({ pid: w.process.pid, code, signal, error: lastFailure || undefined }, 'workers keep failing to start: stopping the server');
      stop('workers failing', 1);
      return;
    }
    quickDeaths = lived >= HEALTHY_AFTER_MS ? 0 : quickDeaths + 1;
    const delay = Math.min(RESPAWN_MAX_MS, RESPAWN_FIRST_MS * 2 ** Math.max(0, quickDeaths - 1));
    log.error({ pid: w.process.pid, code, signal, livedMs: lived, restartInMs: delay }, 'worker exited unexpectedly: starting another');
    lastFailure = '';
    setTimeout(() => stopping || fork(), delay).unref();
  });

  let exitCode = 0;
  const finish = (code: number): void => {
    void (audit ? audit.close(AUDIT_FLUSH_MS) : Promise.resolve()).finally(() => {
      lock.release();
      try {
        log.info({}, 'stopped');
      } catch {
        // the log destination is gone
      }
      process.exit(Math.max(code, exitCode));
    });
  };
  const stop = (signal: string, code = 0): void => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    try {
      log.info({ signal }, 'shutting down: stopping the workers');
    } catch {
      // the log destination is gone
    }
    for (const w of live.keys()) w.process.kill('SIGTERM');
    if (live.size === 0) finish(code);
    // Last resort: whatever hangs, the workers go and the primary ends.
    setTimeout(() => {
      for (const w of live.keys()) w.process.kill('SIGKILL');
      process.exit(1);
    }, STOP_WAIT_MS).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  // Workers run main.js with the same arguments (and execArgv); cluster.isWorker sends them to serve().
  try {
    await new Promise<void>((ok, fail) => {
      allListening = ok;
      startFailed = fail;
      for (let i = 0; i < n; i++) fork();
      prepare().then(() => {
        prepared = true;
        sendGo();
      }, fail);
    });
  } catch (err) {
    // A worker could not start (port in use, a bad file…): the others go too, and so does the primary.
    aborting = true;
    for (const w of live.keys()) w.process.kill('SIGKILL');
    await Promise.all([...live.keys()].map((w) => (w.isDead() ? undefined : new Promise((r) => w.once('exit', r)))));
    lock.release();
    throw err;
  }
  started = true;
  if (setId !== undefined && lock.locked.length < dataDirs.length) relockDrives(lock, dataDirs, setId, log, () => stopping);
  if (ports.size !== 1) {
    stop('workers on different ports', 1);
    throw new Error(`the workers listen on different ports (${[...ports].join(', ')})`);
  }
  const port = [...ports][0]!;
  log.info(
    {
      address: config.host || '0.0.0.0',
      port,
      dataDir,
      ...(erasure && { drives: dataDirs, erasure }),
      region: config.region,
      tls,
      ...(config.tls && { certFile: config.tls.certFile }),
      ...(healthPort !== undefined && { healthPort }),
      ...(consolePort !== undefined && { consolePort }),
      workers: n,
    },
    'listening',
  );
  writeStartLine({
    host: config.host,
    port,
    tls,
    dataDir,
    defaultCredentials: config.defaultCredentials,
    ...(erasure && { drives: { paths: dataDirs, erasure } }),
    ...(consolePort !== undefined && config.console && { console: { host: config.console.host, port: consolePort } }),
  });
}

/**
 * A drive missing at start was not locked (there was no directory to lock): when it comes back
 * while the server runs (the workers' probes bring it in), the primary takes its lock too, as it
 * holds every other drive's, so that a second server started on it is refused with the usual
 * message. Only a drive of this set or an empty directory is locked (never another server's disk);
 * tried every probe interval until every drive is held.
 */
function relockDrives(lock: DrivesLock, dirs: readonly string[], setId: string, log: Logger, stopping: () => boolean): void {
  const timer = setInterval(() => {
    void (async () => {
      for (const dir of dirs) {
        if (stopping() || lock.locked.includes(dir)) continue;
        const look = await lookAtDrive(dir);
        if (!(look.kind === 'empty' || (look.kind === 'formatted' && look.format.set === setId))) continue;
        try {
          lock.lockLater(dir);
          log.info({ drive: dir }, 'drive back: locked');
        } catch {
          // in use by another server, or unusable now: tried again at the next interval
        }
      }
      if (stopping() || lock.locked.length === dirs.length) clearInterval(timer);
    })();
  }, RELOCK_INTERVAL_MS);
  timer.unref();
}

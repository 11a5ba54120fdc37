// The metrics of one serving process, wired for its mode: a single process (--workers 1) counts,
// samples its own history and answers alone; a cluster worker counts and asks its primary for the
// server's figures (cluster.ts); the primary collects and keeps the history. What /metrics
// (http.ts) and the admin API (usage, metrics/history, jobs) read.
import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { UsageReader } from '../store/usage.js';
import { MetricsHub, WorkerLink } from './cluster.js';
import { render } from './exposition.js';
import { History, type HistoryAnswer, historyInterval } from './history.js';
import { MetricsRecorder } from './recorder.js';
import type { Snapshot } from './snapshot.js';
import { buildInfo, type DiskFigures, diskFigures } from './system.js';

/** Metric access: who may read /metrics (config --metrics-auth). */
export interface MetricsAuth {
  mode: 'public' | 'bearer' | 'sigv4';
  /** bearer: the token. */
  token?: string;
}

/** The usage totals over every bucket. */
async function usageTotals(usage: UsageReader): Promise<{ objects: number; bytes: number }> {
  const list = await usage.listUsage();
  return { objects: list.reduce((n, u) => n + u.objects, 0), bytes: list.reduce((n, u) => n + u.bytes, 0) };
}

const freeBytes = (dataDir: string): Promise<number> =>
  diskFigures(dataDir).then(
    (d) => d.freeBytes,
    () => 0,
  );

export interface JobState {
  name: string;
  lastRun: string | null;
  lastResult: 'ok' | 'error' | null;
  nextRun: string | null;
  itemsLastRun: number | null;
}

export class MetricsService {
  readonly recorder: MetricsRecorder;
  /** The background jobs this server runs (serve.ts sets them), listed by jobs() even before their first round. */
  jobNames: readonly string[] = [];
  private readonly link: WorkerLink | undefined;
  private readonly local: History | undefined;

  /**
   * `worker`: this process is a cluster worker (its cluster id names it); otherwise a single process
   * that samples its own history (started by start()).
   */
  /** `drives`: several drives (an erasure set): each one's free space is exposed too. */
  constructor(private readonly o: { dataDir: string; drives?: readonly string[]; usage: UsageReader; auth: MetricsAuth; worker?: number; log?: Logger }) {
    this.recorder = new MetricsRecorder(o.worker === undefined ? 'server' : `worker-${o.worker}`);
    if (o.worker !== undefined)
      this.link = new WorkerLink(
        () => this.recorder.snapshot(true),
        () => usageTotals(o.usage),
      );
    else
      this.local = new History(
        async () => ({ snapshot: this.recorder.snapshot(true), ...(await usageTotals(o.usage)), freeBytes: await freeBytes(o.dataDir) }),
        historyInterval(),
        (err) => o.log?.warn({ err }, 'metrics history: a sample failed'),
      );
  }

  get auth(): MetricsAuth {
    return this.o.auth;
  }

  get usage(): UsageReader {
    return this.o.usage;
  }

  start(): this {
    this.recorder.startLagMonitor();
    this.local?.start();
    return this;
  }

  stop(): void {
    this.recorder.stop();
    this.local?.stop();
  }

  /** The server's figures: this process's alone, or every process's through the primary. */
  snapshot(): Promise<Snapshot> {
    return this.link ? this.link.snapshot() : Promise.resolve(this.recorder.snapshot(true));
  }

  async history(minutes: number): Promise<HistoryAnswer> {
    if (this.link) return this.link.history(minutes);
    return this.local!.answer(minutes);
  }

  disk(): Promise<DiskFigures> {
    return diskFigures(this.o.dataDir);
  }

  /** The background jobs and their last rounds (in whichever process ran them). */
  async jobs(): Promise<JobState[]> {
    const s = await this.snapshot();
    const names = [...new Set([...this.jobNames, ...Object.keys(s.jobs)])];
    const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);
    return names.map((name) => {
      const j = s.jobs[name];
      return {
        name,
        lastRun: iso(j?.lastRun),
        lastResult: j?.lastResult || null,
        nextRun: iso(j?.nextRun),
        itemsLastRun: j?.lastRun ? j.itemsLastRun : null,
      };
    });
  }

  /** The /metrics body. */
  async exposition(): Promise<string> {
    const [snapshot, usage, disk, drives] = await Promise.all([
      this.snapshot(),
      this.o.usage.listUsage(),
      this.disk().catch(() => undefined),
      this.o.drives && Promise.all(this.o.drives.map((d) => diskFigures(d).catch(() => undefined))),
    ]);
    return render({ snapshot, usage, build: buildInfo(), ...(disk && { disk }), ...(drives && { drives }) });
  }
}

/**
 * The primary's part (--workers N ≥ 2): its own process figures, the collections, and the history
 * sampled from them (usage totals from one worker, free bytes read here).
 */
export function startPrimaryMetrics(dataDir: string, log?: Logger): { hub: MetricsHub; attach: (w: Worker) => void; stop: () => void } {
  const recorder = new MetricsRecorder('primary').startLagMonitor();
  const hub = new MetricsHub(() => recorder.snapshot(false));
  const history = new History(
    async () => {
      const { snapshot, usage } = await hub.collect(true);
      return { snapshot, objects: usage?.objects ?? 0, bytes: usage?.bytes ?? 0, freeBytes: await freeBytes(dataDir) };
    },
    historyInterval(),
    (err) => log?.warn({ err }, 'metrics history: a sample failed'),
  ).start();
  hub.history = (minutes) => history.answer(minutes);
  return {
    hub,
    attach: (w) => hub.attach(w),
    stop: () => {
      history.stop();
      recorder.stop();
    },
  };
}

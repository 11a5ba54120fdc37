// What one process counts as it serves: the S3 pipeline's last stage calls `request()` once per
// answered request (the hot path: a map lookup and a few additions into preallocated arrays, no
// label strings built, no allocation), the jobs runner reports each round (`JobObserver`), and the
// process's memory and event-loop delay are read when a snapshot is taken. docs/metrics.md.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { emptyJob, emptyOp, type JobFigures, LATENCY_BOUNDS, type OpFigures, type ProcessFigures, type Snapshot } from './snapshot.js';

const BOUNDS = LATENCY_BOUNDS;
const LAST = BOUNDS.length;
/** The event-loop delay window: its figures are those of the last complete window. */
const LAG_WINDOW_MS = 10_000;
/** The sampling timer's period (ms): Node records each whole period, so the delay is what exceeds it. */
const LAG_RESOLUTION_MS = 100;
const lagSeconds = (ns: number): number => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS) / 1000;

export class MetricsRecorder {
  private readonly ops = new Map<string, OpFigures>();
  private readonly jobs = new Map<string, JobFigures>();
  private lag: IntervalHistogram | undefined;
  private lastLag = { p50: 0, p99: 0, max: 0 };
  private lagTimer: NodeJS.Timeout | undefined;

  /** `name`: this process in the per-process metrics ('server', 'primary', 'worker-<n>'). */
  constructor(readonly name: string) {}

  /** Samples the event-loop delay (a 100 ms timer inside Node: an idle server wakes 10 times a second for it) in windows of LAG_WINDOW_MS; stop() ends it. */
  startLagMonitor(): this {
    if (this.lag) return this;
    const h = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    h.enable();
    this.lag = h;
    this.lagTimer = setInterval(() => this.closeLagWindow(), LAG_WINDOW_MS);
    this.lagTimer.unref();
    return this;
  }

  stop(): void {
    this.lag?.disable();
    if (this.lagTimer) clearInterval(this.lagTimer);
  }

  private closeLagWindow(): void {
    const h = this.lag;
    if (!h) return;
    // The histogram is in nanoseconds; an empty window (no sample yet) reports 0.
    if (h.count > 0) this.lastLag = { p50: lagSeconds(h.percentile(50)), p99: lagSeconds(h.percentile(99)), max: lagSeconds(h.max) };
    h.reset();
  }

  /** One answered S3 request: its operation, HTTP status, body bytes in and out, and latency (seconds). */
  request(op: string, status: number, bytesIn: number, bytesOut: number, seconds: number): void {
    let f = this.ops.get(op);
    if (f === undefined) {
      f = emptyOp();
      this.ops.set(op, f);
    }
    const cls = (status / 100) | 0;
    f.status[cls >= 1 && cls <= 5 ? cls - 1 : 4]!++;
    f.bytesIn += bytesIn;
    f.bytesOut += bytesOut;
    let i = 0;
    while (i < LAST && seconds > BOUNDS[i]!) i++;
    f.buckets[i]!++;
    f.sum += seconds;
  }

  /** The jobs runner's observer (src/jobs/runner.ts: RunnerOptions.observer). */
  readonly jobObserver = {
    step: (job: string, items: number): void => {
      const j = this.job(job);
      j.steps++;
      j.items += items;
    },
    round: (job: string, r: { ok: boolean; items: number; endedAt: number; nextRun: number }): void => {
      const j = this.job(job);
      if (r.ok) j.runsOk++;
      else j.runsFailed++;
      j.lastRun = r.endedAt;
      j.lastResult = r.ok ? 'ok' : 'error';
      j.itemsLastRun = r.items;
      j.nextRun = r.nextRun;
    },
  };

  private job(name: string): JobFigures {
    let j = this.jobs.get(name);
    if (j === undefined) {
      j = emptyJob();
      this.jobs.set(name, j);
    }
    return j;
  }

  /** This process's figures. */
  process(): ProcessFigures {
    const m = process.memoryUsage();
    return {
      name: this.name,
      pid: process.pid,
      rssBytes: m.rss,
      heapUsedBytes: m.heapUsed,
      heapTotalBytes: m.heapTotal,
      externalBytes: m.external,
      lagP50: this.lastLag.p50,
      lagP99: this.lastLag.p99,
      lagMax: this.lastLag.max,
      startTime: Math.round((Date.now() - process.uptime() * 1000) / 1000),
    };
  }

  /** Everything counted so far (a copy), with this process's figures; `worker`: counts as one worker process. */
  snapshot(worker: boolean): Snapshot {
    const ops: Snapshot['ops'] = {};
    for (const [op, f] of this.ops) ops[op] = { status: [...f.status], bytesIn: f.bytesIn, bytesOut: f.bytesOut, buckets: [...f.buckets], sum: f.sum };
    const jobs: Snapshot['jobs'] = {};
    for (const [name, j] of this.jobs) jobs[name] = { ...j };
    return { ops, jobs, processes: [this.process()], workers: worker ? 1 : 0 };
  }
}

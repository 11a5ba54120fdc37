// The last hour of the server's figures, for the console's dashboard (admin API
// `metrics/history`): every interval (10 s) the process that sees every other (the cluster
// primary, or the single process) takes the merged snapshot, and keeps what changed since the
// previous one as a sample, in a ring of an hour. Counts per interval, never cumulative.
import { LATENCY_BOUNDS, quantile, requestsOf, type Snapshot } from './snapshot.js';

/** The sampling interval, and the interval tests may shorten it to (STRATA_TEST_METRICS_INTERVAL_MS, tests only). */
export const HISTORY_INTERVAL_MS = 10_000;
export const HISTORY_SPAN_MS = 3600_000;

export interface HistorySample {
  /** End of the interval (ms since the epoch). */
  t: number;
  /** Requests answered in the interval, by operation (operations with none left out). */
  requests: Record<string, number>;
  errors4xx: number;
  errors5xx: number;
  bytesIn: number;
  bytesOut: number;
  /** Latency percentiles of the interval's requests (ms; 0 when there were none). */
  latencyMs: { p50: number; p90: number; p99: number };
  /** At the end of the interval: objects and bytes over every bucket, free bytes of the data directory. */
  objects: number;
  bytes: number;
  freeBytes: number;
  /** Job rounds and items in the interval, by job. */
  jobs: Record<string, { runs: number; items: number }>;
  /** The largest 99th-percentile event-loop delay of any process (ms). */
  eventLoopLagMs: number;
  /** Resident memory of every process together. */
  rssBytes: number;
}

/** What a sample is taken from: the merged snapshot, the usage totals and the free bytes at that moment. */
export interface Reading {
  snapshot: Snapshot;
  objects: number;
  bytes: number;
  freeBytes: number;
}

export interface HistoryAnswer {
  intervalSeconds: number;
  samples: HistorySample[];
}

const delta = (now: number, before: number | undefined): number => Math.max(0, now - (before ?? 0));
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The sample of an interval from its first and last readings. Pure. */
export function sampleOf(prev: Reading, cur: Reading, t: number): HistorySample {
  const requests: Record<string, number> = {};
  let errors4xx = 0;
  let errors5xx = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  const buckets = new Array<number>(LATENCY_BOUNDS.length + 1).fill(0);
  for (const [op, f] of Object.entries(cur.snapshot.ops)) {
    const p = prev.snapshot.ops[op];
    const n = delta(requestsOf(f), p && requestsOf(p));
    if (n > 0) requests[op] = n;
    errors4xx += delta(f.status[3] ?? 0, p?.status[3]);
    errors5xx += delta(f.status[4] ?? 0, p?.status[4]);
    bytesIn += delta(f.bytesIn, p?.bytesIn);
    bytesOut += delta(f.bytesOut, p?.bytesOut);
    f.buckets.forEach((c, i) => {
      buckets[i]! += delta(c, p?.buckets[i]);
    });
  }
  const ms = (q: number): number => round3((quantile(buckets, q) ?? 0) * 1000);
  const jobs: HistorySample['jobs'] = {};
  for (const [name, j] of Object.entries(cur.snapshot.jobs)) {
    const p = prev.snapshot.jobs[name];
    jobs[name] = { runs: delta(j.runsOk + j.runsFailed, p && p.runsOk + p.runsFailed), items: delta(j.items, p?.items) };
  }
  const procs = cur.snapshot.processes;
  return {
    t,
    requests,
    errors4xx,
    errors5xx,
    bytesIn,
    bytesOut,
    latencyMs: { p50: ms(0.5), p90: ms(0.9), p99: ms(0.99) },
    objects: cur.objects,
    bytes: cur.bytes,
    freeBytes: cur.freeBytes,
    jobs,
    eventLoopLagMs: round3(Math.max(0, ...procs.map((p) => p.lagP99)) * 1000),
    rssBytes: procs.reduce((n, p) => n + p.rssBytes, 0),
  };
}

/** The ring of samples and the timer that fills it. */
export class History {
  private readonly ring: HistorySample[] = [];
  private readonly capacity: number;
  private prev: Reading | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly read: () => Promise<Reading>,
    readonly intervalMs: number = HISTORY_INTERVAL_MS,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.capacity = Math.max(1, Math.ceil(HISTORY_SPAN_MS / intervalMs));
  }

  /** Takes the first reading now, then one per interval (the timer does not keep the process alive). */
  start(): this {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One reading: a sample of the interval since the previous one (none for the first). */
  async tick(now: () => number = Date.now): Promise<void> {
    if (this.busy) return; // a reading slower than the interval: skip this one
    this.busy = true;
    try {
      const cur = await this.read();
      if (this.prev) this.push(sampleOf(this.prev, cur, now()));
      this.prev = cur;
    } catch (err) {
      this.onError(err);
    } finally {
      this.busy = false;
    }
  }

  push(s: HistorySample): void {
    this.ring.push(s);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
  }

  /** The samples of the last `minutes`, oldest first. */
  answer(minutes: number, now: number = Date.now()): HistoryAnswer {
    const since = now - minutes * 60_000;
    return { intervalSeconds: this.intervalMs / 1000, samples: this.ring.filter((s) => s.t > since) };
  }
}

/** The sampling interval: STRATA_TEST_METRICS_INTERVAL_MS (tests only, at least 50 ms) or 10 s. */
export function historyInterval(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.STRATA_TEST_METRICS_INTERVAL_MS);
  return Number.isFinite(n) && n >= 50 ? n : HISTORY_INTERVAL_MS;
}

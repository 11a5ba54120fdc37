// What one process counted, as plain JSON (a snapshot), and how several processes' snapshots add up
// to the server's: the form /metrics renders, the cluster IPC carries and the history samples.
// Pure: no I/O, no clock.

/** Upper bounds (seconds) of the request latency histogram's buckets; +Inf follows. */
export const LATENCY_BOUNDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** One S3 operation's counters. */
export interface OpFigures {
  /** Answers by status class: index 0 = 1xx … 4 = 5xx. */
  status: number[];
  /** Request body bytes received. */
  bytesIn: number;
  /** Response body bytes sent (the answer's length). */
  bytesOut: number;
  /** Requests per latency bucket (not cumulative): LATENCY_BOUNDS.length + 1 entries, the last +Inf. */
  buckets: number[];
  /** Sum of the latencies (seconds). */
  sum: number;
}

/** A background job's figures in one process (only the process running the jobs has any). */
export interface JobFigures {
  runsOk: number;
  runsFailed: number;
  /** Items the job handled (pieces examined, uploads aborted, versions expired…). */
  items: number;
  /** Bounded steps run. */
  steps: number;
  /** When the last round ended (ms epoch), its result and its items; 0: never ran here. */
  lastRun: number;
  lastResult: 'ok' | 'error' | '';
  itemsLastRun: number;
  /** When the next round is due (ms epoch), as the runner that ran it planned. */
  nextRun: number;
}

/** Memory and event-loop figures of one process. */
export interface ProcessFigures {
  /** 'server' (--workers 1), 'primary', or 'worker-<n>'. */
  name: string;
  pid: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /** Event-loop delay over the last window (seconds): median, 99th percentile, maximum. */
  lagP50: number;
  lagP99: number;
  lagMax: number;
  /** Process start (seconds since the epoch). */
  startTime: number;
}

export interface Snapshot {
  ops: Record<string, OpFigures>;
  jobs: Record<string, JobFigures>;
  processes: ProcessFigures[];
  /** Worker processes whose figures are in (1 for a single process). */
  workers: number;
}

export const emptySnapshot = (): Snapshot => ({ ops: {}, jobs: {}, processes: [], workers: 0 });

export const emptyOp = (): OpFigures => ({ status: [0, 0, 0, 0, 0], bytesIn: 0, bytesOut: 0, buckets: new Array(LATENCY_BOUNDS.length + 1).fill(0), sum: 0 });

export const emptyJob = (): JobFigures => ({ runsOk: 0, runsFailed: 0, items: 0, steps: 0, lastRun: 0, lastResult: '', itemsLastRun: 0, nextRun: 0 });

const addArray = (into: number[], from: readonly number[]): void => {
  for (let i = 0; i < into.length; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
};

/** Adds `from` into `into` (counters summed; the newest job round's details kept; processes listed). */
export function mergeInto(into: Snapshot, from: Snapshot): Snapshot {
  for (const [op, f] of Object.entries(from.ops)) {
    const t = (into.ops[op] ??= emptyOp());
    addArray(t.status, f.status);
    addArray(t.buckets, f.buckets);
    t.bytesIn += f.bytesIn;
    t.bytesOut += f.bytesOut;
    t.sum += f.sum;
  }
  for (const [name, j] of Object.entries(from.jobs)) {
    const t = (into.jobs[name] ??= emptyJob());
    t.runsOk += j.runsOk;
    t.runsFailed += j.runsFailed;
    t.items += j.items;
    t.steps += j.steps;
    if (j.lastRun > t.lastRun) {
      t.lastRun = j.lastRun;
      t.lastResult = j.lastResult;
      t.itemsLastRun = j.itemsLastRun;
      t.nextRun = j.nextRun;
    }
  }
  into.processes.push(...from.processes);
  into.workers += from.workers;
  return into;
}

/** The server's snapshot from its processes'. */
export function mergeSnapshots(parts: readonly Snapshot[]): Snapshot {
  const out = emptySnapshot();
  for (const p of parts) mergeInto(out, p);
  return out;
}

/** A copy with only the counters (what a process that is gone leaves behind: no process, no worker). */
export function countersOf(s: Snapshot): Snapshot {
  const copy = JSON.parse(JSON.stringify(s)) as Snapshot;
  copy.processes = [];
  copy.workers = 0;
  return copy;
}

/** Requests answered by an operation (every status class). */
export const requestsOf = (f: OpFigures): number => f.status.reduce((a, b) => a + b, 0);

/**
 * The q-quantile (0..1) of a latency histogram (non-cumulative bucket counts), interpolated linearly
 * inside its bucket as Prometheus' histogram_quantile does; a quantile in +Inf is the last bound.
 * undefined for an empty histogram.
 */
export function quantile(buckets: readonly number[], q: number): number | undefined {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i] ?? 0;
    if (seen + n >= rank && n > 0) {
      if (i >= LATENCY_BOUNDS.length) return LATENCY_BOUNDS[LATENCY_BOUNDS.length - 1];
      const lower = i === 0 ? 0 : LATENCY_BOUNDS[i - 1]!;
      const upper = LATENCY_BOUNDS[i]!;
      return lower + ((upper - lower) * (rank - seen)) / n;
    }
    seen += n;
  }
  return LATENCY_BOUNDS[LATENCY_BOUNDS.length - 1];
}

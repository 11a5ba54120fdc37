// The Prometheus text exposition format (version 0.0.4) of the server's figures: the merged
// snapshot of every process, the per-bucket usage from the metadata store, the data directory's
// disk and the build. Every metric name is in METRIC_NAMES (docs/metrics.md documents each; the
// Grafana dashboard's test checks its expressions against them). Pure.
import type { BucketUsage } from '../store/usage.js';
import { LATENCY_BOUNDS, type Snapshot } from './snapshot.js';
import type { BuildInfo, DiskFigures } from './system.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Kind = 'counter' | 'gauge' | 'histogram';

/** Every metric this server exposes: name → type and help text. */
export const METRICS: Readonly<Record<string, { type: Kind; help: string }>> = {
  strata_s3_requests_total: { type: 'counter', help: 'S3 requests answered, by operation and status class (2xx, 3xx, 4xx, 5xx).' },
  strata_s3_request_duration_seconds: { type: 'histogram', help: 'Time from a request’s arrival to the end of its answer, by operation.' },
  strata_s3_received_bytes_total: { type: 'counter', help: 'Request body bytes received, by operation.' },
  strata_s3_sent_bytes_total: { type: 'counter', help: 'Response body bytes sent, by operation.' },
  strata_buckets: { type: 'gauge', help: 'Buckets.' },
  strata_bucket_objects: { type: 'gauge', help: 'Objects in a bucket (latest versions that are not delete markers).' },
  strata_bucket_versions: { type: 'gauge', help: 'Object versions stored in a bucket, current and noncurrent (delete markers excluded).' },
  strata_bucket_delete_markers: { type: 'gauge', help: 'Delete markers in a bucket.' },
  strata_bucket_bytes: { type: 'gauge', help: 'Bytes of every object version stored in a bucket.' },
  strata_disk_capacity_bytes: { type: 'gauge', help: 'Size of the file system holding the data directory.' },
  strata_disk_free_bytes: { type: 'gauge', help: 'Bytes the server can still write on the data directory’s file system.' },
  strata_disk_used_bytes: { type: 'gauge', help: 'Bytes in use on the data directory’s file system (by anything).' },
  strata_drive_free_bytes: { type: 'gauge', help: 'Several drives: bytes the server can still write on each drive’s file system.' },
  strata_job_runs_total: { type: 'counter', help: 'Rounds of a background job, by result (ok, error).' },
  strata_job_items_total: { type: 'counter', help: 'Items a background job handled (pieces examined, uploads aborted, versions expired…).' },
  strata_job_steps_total: { type: 'counter', help: 'Bounded steps a background job ran.' },
  strata_job_last_run_timestamp_seconds: { type: 'gauge', help: 'When a background job’s last round ended.' },
  strata_workers: { type: 'gauge', help: 'Worker processes serving requests (1 with --workers 1).' },
  strata_process_resident_memory_bytes: { type: 'gauge', help: 'Resident set size of a server process.' },
  strata_process_heap_used_bytes: { type: 'gauge', help: 'V8 heap in use in a server process.' },
  strata_process_heap_total_bytes: { type: 'gauge', help: 'V8 heap reserved by a server process.' },
  strata_process_external_memory_bytes: { type: 'gauge', help: 'Memory of buffers and other objects outside the V8 heap of a server process.' },
  strata_process_start_time_seconds: { type: 'gauge', help: 'Start time of a server process (seconds since the epoch).' },
  strata_event_loop_lag_seconds: {
    type: 'gauge',
    help: 'Event-loop delay of a server process over the last 10 s window, by quantile (0.5, 0.99, 1 = maximum).',
  },
  strata_build_info: { type: 'gauge', help: 'Always 1; the labels name the build.' },
};

export const METRIC_NAMES: readonly string[] = Object.keys(METRICS);

/** A label value escaped as the format wants (backslash, double quote, line feed). */
const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
};
/** A sample value: integers as they are, others in JavaScript's shortest round-trip form. */
const num = (n: number): string => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface Exposition {
  snapshot: Snapshot;
  usage: readonly BucketUsage[];
  disk?: DiskFigures;
  /** Several drives: each drive's figures, in index order (absent: one the statfs could not read). */
  drives?: ReadonlyArray<DiskFigures | undefined>;
  build: BuildInfo;
}

/** The whole /metrics body. */
export function render(e: Exposition): string {
  const out: string[] = [];
  const family = (name: string, samples: Array<[suffix: string, l: Record<string, string>, value: number]>): void => {
    const m = METRICS[name]!;
    out.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} ${m.type}`);
    for (const [suffix, l, v] of samples) out.push(`${name}${suffix}${labels(l)} ${num(v)}`);
  };
  const s = e.snapshot;
  const ops = Object.keys(s.ops).sort(byName);

  family(
    'strata_s3_requests_total',
    ops.flatMap((op) =>
      s.ops[op]!.status.flatMap((n, i) =>
        n > 0 ? [['', { operation: op, status_class: STATUS_CLASSES[i]! }, n] as [string, Record<string, string>, number]] : [],
      ),
    ),
  );
  family(
    'strata_s3_request_duration_seconds',
    ops.flatMap((op) => {
      const f = s.ops[op]!;
      let cumulative = 0;
      const rows: Array<[string, Record<string, string>, number]> = f.buckets.map((n, i) => {
        cumulative += n;
        return ['_bucket', { operation: op, le: i < LATENCY_BOUNDS.length ? String(LATENCY_BOUNDS[i]) : '+Inf' }, cumulative];
      });
      rows.push(['_sum', { operation: op }, f.sum], ['_count', { operation: op }, cumulative]);
      return rows;
    }),
  );
  family(
    'strata_s3_received_bytes_total',
    ops.map((op) => ['', { operation: op }, s.ops[op]!.bytesIn]),
  );
  family(
    'strata_s3_sent_bytes_total',
    ops.map((op) => ['', { operation: op }, s.ops[op]!.bytesOut]),
  );

  family('strata_buckets', [['', {}, e.usage.length]]);
  const perBucket = (name: string, pick: (u: BucketUsage) => number): void =>
    family(
      name,
      e.usage.map((u) => ['', { bucket: u.bucket }, pick(u)]),
    );
  perBucket('strata_bucket_objects', (u) => u.objects);
  perBucket('strata_bucket_versions', (u) => u.versions);
  perBucket('strata_bucket_delete_markers', (u) => u.deleteMarkers);
  perBucket('strata_bucket_bytes', (u) => u.bytes);
  if (e.disk) {
    family('strata_disk_capacity_bytes', [['', {}, e.disk.totalBytes]]);
    family('strata_disk_free_bytes', [['', {}, e.disk.freeBytes]]);
    family('strata_disk_used_bytes', [['', {}, e.disk.usedBytes]]);
  }
  if (e.drives)
    family(
      'strata_drive_free_bytes',
      e.drives.flatMap((d, i) => (d ? [['', { drive: String(i), path: d.path }, d.freeBytes] as [string, Record<string, string>, number]] : [])),
    );

  const jobs = Object.keys(s.jobs).sort(byName);
  family(
    'strata_job_runs_total',
    jobs.flatMap((job) => [
      ['', { job, result: 'ok' }, s.jobs[job]!.runsOk],
      ['', { job, result: 'error' }, s.jobs[job]!.runsFailed],
    ]),
  );
  family(
    'strata_job_items_total',
    jobs.map((job) => ['', { job }, s.jobs[job]!.items]),
  );
  family(
    'strata_job_steps_total',
    jobs.map((job) => ['', { job }, s.jobs[job]!.steps]),
  );
  family(
    'strata_job_last_run_timestamp_seconds',
    jobs.filter((job) => s.jobs[job]!.lastRun > 0).map((job) => ['', { job }, s.jobs[job]!.lastRun / 1000]),
  );

  family('strata_workers', [['', {}, s.workers]]);
  const procs = [...s.processes].sort((a, b) => byName(a.name, b.name));
  const perProcess = (name: string, pick: (p: Snapshot['processes'][number]) => number): void =>
    family(
      name,
      procs.map((p) => ['', { process: p.name }, pick(p)]),
    );
  perProcess('strata_process_resident_memory_bytes', (p) => p.rssBytes);
  perProcess('strata_process_heap_used_bytes', (p) => p.heapUsedBytes);
  perProcess('strata_process_heap_total_bytes', (p) => p.heapTotalBytes);
  perProcess('strata_process_external_memory_bytes', (p) => p.externalBytes);
  perProcess('strata_process_start_time_seconds', (p) => p.startTime);
  family(
    'strata_event_loop_lag_seconds',
    procs.flatMap((p) => [
      ['', { process: p.name, quantile: '0.5' }, p.lagP50],
      ['', { process: p.name, quantile: '0.99' }, p.lagP99],
      ['', { process: p.name, quantile: '1' }, p.lagMax],
    ]),
  );
  family('strata_build_info', [['', { version: e.build.version, node_version: e.build.nodeVersion, commit: e.build.commit }, 1]]);
  return `${out.join('\n')}\n`;
}

// The dashboard's data: the admin API's usage, metrics history (the last hour in 10 s samples, kept
// by the server) and background jobs (docs/admin-api.md). All need admin:ServerInfo.
import { adminJson } from './api';

export interface HistorySample {
  /** Start of the interval, ms since the epoch. */
  t: number;
  /** Requests in the interval, by S3 operation. */
  requests: Record<string, number>;
  errors4xx: number;
  errors5xx: number;
  bytesIn: number;
  bytesOut: number;
  latencyMs: { p50: number; p90: number; p99: number };
  objects: number;
  bytes: number;
  freeBytes: number;
  jobs: Record<string, { runs: number; items: number }>;
  eventLoopLagMs: number;
  rssBytes: number;
}

export interface History {
  intervalSeconds: number;
  samples: HistorySample[];
}

export interface Usage {
  buckets: { name: string; objects: number; bytes: number; versions: number }[];
  totals: { buckets: number; objects: number; bytes: number };
  disk: { path: string; totalBytes: number; freeBytes: number; usedBytes: number };
}

export interface JobInfo {
  name: string;
  lastRun?: string | null;
  lastResult?: string | null;
  nextRun?: string | null;
  itemsLastRun?: number | null;
}

export const metricsApi = {
  history: (minutes = 60) => adminJson<History>('GET', `v1/metrics/history?minutes=${minutes}`),
  usage: () => adminJson<Usage>('GET', 'v1/usage'),
  jobs: () => adminJson<{ jobs: JobInfo[] }>('GET', 'v1/jobs'),
};

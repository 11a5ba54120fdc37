// The admin API's operations for the console's dashboard (docs/admin-api.md, "Usage, history,
// jobs"): per-bucket usage (the store's counters, never a scan), the last hour of the server's
// figures (src/metrics/history.ts) and the background jobs' last rounds; action admin:ServerInfo.
import type { UsageReader } from '../store/usage.js';
import { AdminError, type AdminRoute } from './operations.js';

/** What these routes read (src/metrics/service.ts' MetricsService). */
export interface AdminMetrics {
  readonly usage: UsageReader;
  disk(): Promise<{ path: string; totalBytes: number; freeBytes: number; usedBytes: number }>;
  history(minutes: number): Promise<object>;
  jobs(): Promise<object[]>;
}

function metricsOf(m: AdminMetrics | undefined): AdminMetrics {
  if (!m) throw new AdminError('NotImplemented', 501, 'This server does not keep metrics.');
  return m;
}

/** ?minutes=N: a whole number from 1 to 60 (default 60). */
function minutesOf(query: URLSearchParams | undefined): number {
  const text = query?.get('minutes');
  if (text === null || text === undefined) return 60;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 60) throw new AdminError('InvalidArgument', 400, 'minutes must be a whole number from 1 to 60.');
  return n;
}

export const USAGE_ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: ['usage'],
    action: 'admin:ServerInfo',
    run: async (c) => {
      const m = metricsOf(c.metrics);
      const [list, disk] = await Promise.all([m.usage.listUsage(), m.disk()]);
      const buckets = list.map((u) => ({ name: u.bucket, objects: u.objects, bytes: u.bytes, versions: u.versions, deleteMarkers: u.deleteMarkers }));
      return {
        buckets,
        totals: { buckets: buckets.length, objects: buckets.reduce((n, b) => n + b.objects, 0), bytes: buckets.reduce((n, b) => n + b.bytes, 0) },
        disk,
      };
    },
  },
  {
    method: 'GET',
    path: ['metrics', 'history'],
    action: 'admin:ServerInfo',
    run: async (c, r) => ({ ...(await metricsOf(c.metrics).history(minutesOf(r.query))) }),
  },
  {
    method: 'GET',
    path: ['jobs'],
    action: 'admin:ServerInfo',
    run: async (c) => ({ jobs: await metricsOf(c.metrics).jobs() }),
  },
];

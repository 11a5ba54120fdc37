// Turns the server's metrics history (10 s samples of counts per interval) into chart series:
// rates per second, the busiest operations by name, totals over the window.
import type { HistorySample } from '../../api/metrics';
import type { Series } from './TimeChart';

/** The operations charted by name; the rest are summed as "other". */
export const TOP_OPERATIONS = 8;

export function operationTotals(samples: HistorySample[]): [string, number][] {
  const totals = new Map<string, number>();
  for (const s of samples) for (const [op, n] of Object.entries(s.requests ?? {})) totals.set(op, (totals.get(op) ?? 0) + n);
  return [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function requestSeries(samples: HistorySample[], interval: number): Series[] {
  const ranked = operationTotals(samples).map(([op]) => op);
  const top = ranked.slice(0, TOP_OPERATIONS);
  const rest = new Set(ranked.slice(TOP_OPERATIONS));
  const out: Series[] = top.map((op) => ({ label: op, values: samples.map((s) => (s.requests?.[op] ?? 0) / interval) }));
  if (rest.size > 0) {
    out.push({
      label: 'other',
      values: samples.map((s) => Object.entries(s.requests ?? {}).reduce((a, [op, n]) => a + (rest.has(op) ? n : 0), 0) / interval),
    });
  }
  return out;
}

export function perSecond(samples: HistorySample[], interval: number, pick: (s: HistorySample) => number): (number | null)[] {
  return samples.map((s) => {
    const v = pick(s);
    return Number.isFinite(v) ? v / interval : null;
  });
}

export function gauge(samples: HistorySample[], pick: (s: HistorySample) => number | undefined): (number | null)[] {
  return samples.map((s) => {
    const v = pick(s);
    return v === undefined || !Number.isFinite(v) ? null : v;
  });
}

export function sum(samples: HistorySample[], pick: (s: HistorySample) => number): number {
  return samples.reduce((a, s) => a + (Number.isFinite(pick(s)) ? pick(s) : 0), 0);
}

export function jobTotals(samples: HistorySample[]): Map<string, { runs: number; items: number }> {
  const out = new Map<string, { runs: number; items: number }>();
  for (const s of samples) {
    for (const [name, j] of Object.entries(s.jobs ?? {})) {
      const t = out.get(name) ?? { runs: 0, items: 0 };
      t.runs += j.runs ?? 0;
      t.items += j.items ?? 0;
      out.set(name, t);
    }
  }
  return out;
}

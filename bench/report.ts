// The bench's statistics and its markdown table: per cell and side, the rounds' median and spread,
// server CPU per operation, peak RSS; Strata against every other side of the cell (the reference,
// strata-1w, nginx-1w, the disk), and the target's checks.
import { type Check, formatChecks, STRATA_1W, DISK, type Target } from './targets.js';
import { STRATA_EC, STRATA_EC_DOWN } from './erasure.js';
import { STRATA_PG } from './cluster.js';

export type Unit = 'req/s' | 'MiB/s' | 'pages/s';

export interface RunRecord {
  round: number;
  value: number;
  ops: number;
  elapsedS: number;
  errors: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  tool: string;
  clientCpuS?: number;
  serverCpuS?: number;
  /** Peak RSS summed over the side's processes (a cluster: primary + workers). */
  serverPeakRssMiB?: number;
  /** Peak RSS of its largest process. */
  serverPeakRssMaxMiB?: number;
  serverProcesses?: number;
  note?: string;
}

export interface SideStats {
  runs: RunRecord[];
  median: number;
  min: number;
  max: number;
  /** Half the range, in % of the median. */
  spreadPct: number;
  serverCpuS?: number;
  /** Server CPU µs per request, page or MiB (by the cell's unit). */
  serverCpuUsPerOp?: number;
  serverPeakRssMiB?: number;
  serverPeakRssMaxMiB?: number;
  errors: number;
}

export interface CellResult {
  id: string;
  title: string;
  unit: Unit;
  tool: string;
  target?: Target;
  sides: Record<string, SideStats | undefined>;
  /** Strata's median over the reference's. */
  ratio?: number;
  /** Strata's median over every other side's that ran the cell (reference, strata-1w, nginx-1w, disk). */
  ratios?: Record<string, number>;
  /** The target's checks, as evaluated (targets.ts). */
  checks?: Check[];
  /** Target 'same': Strata's median over the other cell's. */
  sameRatio?: number;
  /**
   * Target 'same': Strata's server CPU per operation over the other cell's (a cost ratio: 1.10 =
   * 10 % more CPU per op). On a shared machine it moves less than the throughput ratio.
   */
  sameCpuRatio?: number;
  met?: boolean;
  missedBy?: string;
  skipped?: string;
  /** The reference's median is within 60 % of the load generator's ceiling at this concurrency. */
  nearCeiling?: boolean;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Server CPU µs per unit of work of one run: per request or page, or per MiB moved (value × elapsed = units done). */
export const cpuPerOp = (r: Pick<RunRecord, 'serverCpuS' | 'value' | 'elapsedS'>): number | undefined =>
  r.serverCpuS !== undefined && r.value > 0 ? (r.serverCpuS * 1e6) / (r.value * r.elapsedS) : undefined;

export function stats(runs: RunRecord[]): SideStats | undefined {
  if (runs.length === 0) return undefined;
  const v = runs.map((r) => r.value);
  const med = median(v);
  const cpu = runs.filter((r) => r.serverCpuS !== undefined).map((r) => r.serverCpuS!);
  const perOp = runs.map(cpuPerOp).filter((x): x is number => x !== undefined);
  const rss = runs.filter((r) => r.serverPeakRssMiB !== undefined).map((r) => r.serverPeakRssMiB!);
  const rssMax = runs.filter((r) => r.serverPeakRssMaxMiB !== undefined).map((r) => r.serverPeakRssMaxMiB!);
  return {
    runs,
    median: med,
    min: Math.min(...v),
    max: Math.max(...v),
    spreadPct: med > 0 ? ((Math.max(...v) - Math.min(...v)) / 2 / med) * 100 : 0,
    serverCpuS: cpu.length ? median(cpu) : undefined,
    serverCpuUsPerOp: perOp.length ? median(perOp) : undefined,
    serverPeakRssMiB: rss.length ? Math.max(...rss) : undefined,
    serverPeakRssMaxMiB: rssMax.length ? Math.max(...rssMax) : undefined,
    errors: runs.reduce((s, r) => s + r.errors, 0),
  };
}

export function fmtNum(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function fmtSide(s: SideStats | undefined): string {
  if (!s) return '–';
  const spread = s.runs.length > 1 ? ` ±${s.spreadPct < 10 ? s.spreadPct.toFixed(1) : Math.round(s.spreadPct)}%` : '';
  const err = s.errors > 0 ? ` (${s.errors} err)` : '';
  return `${fmtNum(s.median)}${spread}${err}`;
}

function fmtCpu(s: SideStats | undefined, unit: Unit): string {
  if (s?.serverCpuS === undefined) return '–';
  const per = unit === 'MiB/s' ? 'MiB' : unit === 'pages/s' ? 'page' : 'req';
  return `${s.serverCpuS.toFixed(2)} s (${fmtNum(s.serverCpuUsPerOp)} µs/${per})`;
}

const fmtRatio = (r: number | undefined) => (r !== undefined ? `${r.toFixed(2)}×` : '–');

/**
 * The markdown table. Columns: the reference and the ratio to it, then for each comparison side
 * present in the run (strata-1w, disk, strata-ec, strata-ec-1down, strata-pg) its figure and Strata's ratio to it, the target and whether
 * it was met, nginx-1w (`extra`), server CPU, Strata's peak RSS (largest process / sum).
 */
export function table(results: CellResult[], refName: string, extra: string | undefined): string {
  const present = (name: string) => results.some((r) => r.sides[name] !== undefined);
  const compared = [STRATA_1W, DISK, STRATA_EC, STRATA_EC_DOWN, STRATA_PG].filter(present);
  const head = [
    'cell',
    'unit',
    'Strata',
    refName,
    `Strata/${refName}`,
    ...compared.flatMap((n) => [n, `Strata/${n}`]),
    'target',
    'met',
    ...(extra ? [extra] : []),
    'Strata CPU s/run (per op)',
    `${refName} CPU s/run (per op)`,
    'Strata peak RSS MiB (largest process / sum)',
  ];
  const rows = results.map((r) => {
    const s = r.sides.strata;
    const ref = r.sides[refName];
    const same =
      r.sameRatio !== undefined ? ` (${r.sameRatio.toFixed(2)}×${r.sameCpuRatio !== undefined ? `; CPU/op ${r.sameCpuRatio.toFixed(2)}×` : ''})` : '';
    const checks = r.checks && r.checks.length > 1 ? ` (${formatChecks(r.checks)})` : '';
    const met = r.met === undefined ? '' : r.met ? `✅${same}${checks}` : `❌${same} ${r.missedBy ?? ''}`.trim();
    const rss = s?.serverPeakRssMiB === undefined ? '–' : `${fmtNum(s.serverPeakRssMaxMiB)} / ${fmtNum(s.serverPeakRssMiB)}`;
    return [
      r.title,
      r.unit,
      r.skipped ? `skipped: ${r.skipped}` : fmtSide(s),
      `${fmtSide(ref)}${r.nearCeiling ? ' †' : ''}`,
      fmtRatio(r.ratio),
      ...compared.flatMap((n) => [fmtSide(r.sides[n]), fmtRatio(r.ratios?.[n])]),
      r.target?.text ?? '',
      met,
      ...(extra ? [fmtSide(r.sides[extra])] : []),
      fmtCpu(s, r.unit),
      fmtCpu(ref, r.unit),
      rss,
    ];
  });
  const line = (cols: string[]) => `| ${cols.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

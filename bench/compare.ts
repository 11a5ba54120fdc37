#!/usr/bin/env node
// `npm run bench -- --compare BASE.json` (after a run: that run against BASE) or
// `npm run bench -- --compare BASE.json --to NEW.json` (two files, no run), or
// `node dist/bench/compare.js BASE.json NEW.json`: which cells moved beyond the noise.
//
// The noise is the rounds' spread of both runs: a figure moved when the ranges [min, max] over the
// rounds of the two runs do not overlap AND the medians differ by at least the floor — 10 %, or
// 25 % when either run has a single round (its spread is unknown: quick runs are indicative only).
// Compared per cell and side: the throughput (higher is better) and the server CPU per operation
// (lower is better); and the system calls per request (one count per run, so no range: a move
// needs ≥ 10 % and ≥ 0.5 calls per request).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface RunLike {
  value: number;
  elapsedS: number;
  serverCpuS?: number;
}
interface BenchJsonLike {
  mode?: string;
  startedAt?: string;
  reference?: string;
  machine?: { nproc?: number; cpu?: string; kernel?: string };
  loadAverage?: { start: number[]; end: number[] };
  cells?: Array<{ id: string; unit: string; sides: Record<string, { median: number; runs: RunLike[] } | undefined | null> }>;
  syscalls?: { counts?: Array<{ side: string; method: string; perRequest: number; byName: Record<string, number> }> };
}

export interface Move {
  cell: string;
  side: string;
  measure: string;
  base: number;
  now: number;
  /** (now − base) / base. */
  change: number;
  /** better / worse, by the measure's direction. */
  verdict: 'better' | 'worse';
}

export interface Comparison {
  base: string;
  now: string;
  floorPct: number;
  /** Figures compared, and how many of them moved. */
  compared: number;
  moves: Move[];
  text: string;
}

const FLOOR = 0.1;
const FLOOR_SINGLE = 0.25;
const SYSCALL_FLOOR_ABS = 0.5;

const cpuPerOp = (r: RunLike) => (r.serverCpuS !== undefined && r.value > 0 ? (r.serverCpuS * 1e6) / (r.value * r.elapsedS) : undefined);

function med(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Compares two bench JSON results (parsed); `label`s name them in the text. */
export function compareRuns(base: BenchJsonLike, now: BenchJsonLike, labels: [string, string] = ['base', 'now']): Comparison {
  const moves: Move[] = [];
  let compared = 0;
  let single = false;
  const consider = (cell: string, side: string, measure: string, a: number[], b: number[], higherIsBetter: boolean) => {
    if (a.length === 0 || b.length === 0) return;
    compared++;
    const ma = med(a);
    const mb = med(b);
    const oneRound = a.length < 2 || b.length < 2;
    if (oneRound) single = true;
    const overlap = Math.max(...a) >= Math.min(...b) && Math.max(...b) >= Math.min(...a);
    if (overlap || !(ma >= 0 && mb >= 0) || (ma === 0 && mb === 0)) return;
    const change = ma > 0 ? (mb - ma) / ma : Infinity; // from nothing completed to something
    if (Math.abs(change) < (oneRound ? FLOOR_SINGLE : FLOOR)) return;
    moves.push({ cell, side, measure, base: ma, now: mb, change, verdict: change > 0 === higherIsBetter ? 'better' : 'worse' });
  };
  for (const c of now.cells ?? []) {
    const b = base.cells?.find((x) => x.id === c.id);
    if (!b) continue;
    for (const [side, s] of Object.entries(c.sides)) {
      const bs = b.sides[side];
      if (!s || !bs) continue;
      consider(
        c.id,
        side,
        c.unit,
        bs.runs.map((r) => r.value),
        s.runs.map((r) => r.value),
        true,
      );
      // Strata over the reference round by round (the sides of a round ran back to back): what a
      // move of both sides together (another machine, another load) leaves unchanged.
      const ref = now.reference;
      if (side === 'strata' && ref && base.reference === ref) {
        const perRound = (cell: NonNullable<BenchJsonLike['cells']>[number]) =>
          (cell.sides.strata?.runs ?? []).flatMap((r, i) => {
            const o = cell.sides[ref]?.runs[i];
            return o && o.value > 0 ? [r.value / o.value] : [];
          });
        consider(c.id, side, `Strata/${ref}`, perRound(b), perRound(c), true);
      }
      const cpuA = bs.runs.map(cpuPerOp).filter((x): x is number => x !== undefined);
      const cpuB = s.runs.map(cpuPerOp).filter((x): x is number => x !== undefined);
      consider(c.id, side, `server CPU µs/${c.unit === 'MiB/s' ? 'MiB' : c.unit === 'pages/s' ? 'page' : 'req'}`, cpuA, cpuB, false);
    }
  }
  for (const s of now.syscalls?.counts ?? []) {
    const b = base.syscalls?.counts?.find((x) => x.side === s.side && x.method === s.method);
    if (!b) continue;
    const names = ['total', ...new Set([...Object.keys(s.byName), ...Object.keys(b.byName)])];
    for (const n of names) {
      const va = n === 'total' ? b.perRequest : (b.byName[n] ?? 0);
      const vb = n === 'total' ? s.perRequest : (s.byName[n] ?? 0);
      compared++;
      const d = vb - va;
      if (Math.abs(d) < SYSCALL_FLOOR_ABS || (va > 0 && Math.abs(d) / va < FLOOR)) continue;
      moves.push({
        cell: `syscalls ${s.method} 4 KiB`,
        side: s.side,
        measure: `${n} per request`,
        base: va,
        now: vb,
        change: va > 0 ? d / va : Infinity,
        verdict: d < 0 ? 'better' : 'worse',
      });
    }
  }
  const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const pct = (x: number) => (Number.isFinite(x) ? `${x > 0 ? '+' : ''}${(x * 100).toFixed(0)} %` : 'new');
  const ma = base.machine;
  const mn = now.machine;
  const otherMachine =
    ma && mn && (ma.nproc !== mn.nproc || ma.cpu !== mn.cpu || ma.kernel !== mn.kernel)
      ? `\nThe machines differ (${ma.nproc} × ${ma.cpu}, ${ma.kernel} → ${mn.nproc} × ${mn.cpu}, ${mn.kernel}): compare the ratios, the CPU per operation and the system calls rather than the figures.`
      : '';
  // The 1-minute load average around each run: a busy machine moves every throughput figure.
  const loads = [base, now].map((j) => (j.loadAverage ? [j.loadAverage.start[0] ?? NaN, j.loadAverage.end[0] ?? NaN] : undefined));
  const cores = mn?.nproc ?? ma?.nproc ?? 1;
  const busy = loads.some((l) => l !== undefined && Math.max(...l) > cores / 2);
  const loadNote =
    loads[0] && loads[1]
      ? `\nLoad average (1 min) at start and end: ${loads[0].join('–')} → ${loads[1].join('–')}${busy ? ` on ${cores} cores: other work shared the machine, so throughput (and partly CPU per operation) moves with it; the system calls per request do not` : ''}.`
      : '';
  const head = `Compared ${labels[0]} (${base.mode ?? '?'}, ${base.startedAt ?? '?'}) → ${labels[1]} (${now.mode ?? '?'}, ${now.startedAt ?? '?'}): ${compared} figures; a move counts when the rounds' ranges do not overlap and the medians differ by ≥ ${FLOOR * 100} %${single ? ` (≥ ${FLOOR_SINGLE * 100} % where a run had one round: its spread is unknown)` : ''}; system calls: ≥ ${FLOOR * 100} % and ≥ ${SYSCALL_FLOOR_ABS} per request.${otherMachine}${loadNote}`;
  const rows = moves.map((m) => `| ${m.cell} | ${m.side} | ${m.measure} | ${fmt(m.base)} | ${fmt(m.now)} | ${pct(m.change)} | ${m.verdict} |`);
  const text =
    moves.length === 0
      ? `${head}\nNothing moved beyond the noise.`
      : [head, '', '| cell | side | measure | base | now | change | verdict |', '| --- | --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
  return { base: labels[0], now: labels[1], floorPct: FLOOR * 100, compared, moves, text };
}

export function compareFiles(baseFile: string, nowFile: string): Comparison {
  const read = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as BenchJsonLike;
  return compareRuns(read(baseFile), read(nowFile), [baseFile, nowFile]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [a, b] = process.argv.slice(2);
  if (!a || !b) {
    process.stderr.write('usage: node dist/bench/compare.js BASE.json NEW.json\n');
    process.exit(2);
  }
  process.stdout.write(`${compareFiles(a, b).text}\n`);
}

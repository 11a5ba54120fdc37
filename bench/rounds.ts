// The measuring loop of `npm run bench` (bench/run.ts): per group of cells, every round runs each
// cell on each of its sides in turn, with the side's CPU and memory metered around the measured part;
// then each cell's rounds become its statistics, ratios and target verdict.
import { type Cell, diskRun } from './cells.js';
import { ProcWindow, type WindowUsage } from './procstat.js';
import { type CellResult, fmtNum, type RunRecord, type SideStats, stats } from './report.js';
import { type Ctx, type Side, sidesOf } from './sides.js';
import { evaluate } from './targets.js';

/**
 * Runs `cells` on `sides` for ctx.opts.rounds rounds and returns one result per cell (ratios
 * against `refName`). Consecutive cells of one group run interleaved. `notePeak` is told of Strata's
 * memory before and after each measured run (undefined usage: read it now).
 */
export async function runCells(
  ctx: Ctx,
  cells: readonly Cell[],
  sides: readonly Side[],
  refName: string,
  notePeak: (where: string, u?: { sumKb: number; oneKb: number }) => void,
  log: (msg: string) => void,
): Promise<CellResult[]> {
  const { opts } = ctx;
  const results: CellResult[] = [];
  // Cells of one group (consecutive, same Cell.group) run interleaved: each round runs every cell
  // of the group in turn (the order reversed every other round), so a comparison between them is
  // not skewed by the machine's load drifting nor by which cell runs first.
  const groups: Cell[][] = [];
  for (const cell of cells) {
    const last = groups.at(-1);
    if (cell.group !== undefined && last?.[0]?.group === cell.group) last.push(cell);
    else groups.push([cell]);
  }
  for (const group of groups) {
    const runsOf = new Map<Cell, Map<string, RunRecord[]>>();
    for (const cell of group) {
      if (cell.id.startsWith('list-')) {
        const size = opts.listSizes[cell.id === 'list-small' ? 0 : 1];
        cell.title = `ListObjectsV2, 1000-key pages, ${size.toLocaleString('en-US')} keys`;
      }
      runsOf.set(cell, new Map<string, RunRecord[]>(sides.map((s) => [s.name, []])));
      log(
        `cell ${cell.id} (${cell.title}) on ${sides
          .filter((s) => sidesOf(sides, cell).includes(s))
          .map((s) => s.name)
          .join(', ')}${
          group.length > 1
            ? ` (interleaved with ${group
                .filter((c) => c !== cell)
                .map((c) => c.id)
                .join(', ')})`
            : ''
        }`,
      );
    }
    for (let round = 0; round < opts.rounds; round++) {
      // The order turns every round (A B, B A, …): a cell that runs right after another in the same
      // round was measured slower than the same work run first (the auth cells: user/root 0.86–0.89×
      // with the user second, 1.01–1.09× with it first), so no cell of a group is always second.
      for (const cell of round % 2 === 0 ? group : [...group].reverse()) {
        const runsBySide = runsOf.get(cell)!;
        const active = sidesOf(sides, cell);
        for (const side of active) {
          const win = new ProcWindow(side.pids);
          const meter: { usage?: WindowUsage } = {};
          const measured = async <T>(fn: () => Promise<T>): Promise<T> => {
            if (side.name === 'strata') notePeak(`before ${cell.id} round ${round + 1} (warm-up, set-up)`);
            win.start();
            try {
              return await fn();
            } finally {
              meter.usage = win.stop();
              if (side.name === 'strata') notePeak(`${cell.id} round ${round + 1}`);
            }
          };
          const out = side.kind === 'disk' ? await diskRun(ctx, cell, round, measured) : await cell.run(ctx, side, round, measured);
          if (!out) continue;
          const usage = meter.usage;
          const hasPids = side.pids().length > 0;
          if (hasPids && side.name === 'strata' && usage)
            notePeak(`${cell.id} round ${round + 1}`, { sumKb: usage.peakRssMiB * 1024, oneKb: usage.peakRssMaxMiB * 1024 });
          runsBySide.get(side.name)!.push({
            round,
            value: out.value,
            ops: out.load.ops,
            elapsedS: out.load.elapsedS,
            errors: out.load.errors,
            statuses: out.load.statuses,
            p50Ms: out.load.latencyMs.p50,
            p99Ms: out.load.latencyMs.p99,
            tool: out.load.tool,
            clientCpuS: out.load.clientCpuS,
            serverCpuS: hasPids ? usage?.cpuS : undefined,
            serverPeakRssMiB: hasPids ? usage?.peakRssMiB : undefined,
            serverPeakRssMaxMiB: hasPids ? usage?.peakRssMaxMiB : undefined,
            serverProcesses: hasPids ? usage?.processes : undefined,
            note: out.note,
          });
          log(
            `  round ${round + 1}/${opts.rounds} ${side.name}: ${fmtNum(out.value)} ${cell.unit}` +
              ` (${out.load.ops} ops in ${out.load.elapsedS.toFixed(2)} s${out.load.errors ? `, ${out.load.errors} errors` : ''}${usage && hasPids ? `, server CPU ${usage.cpuS.toFixed(2)} s, peak RSS ${usage.peakRssMiB.toFixed(0)} MiB` : ''}${out.note ? `, ${out.note}` : ''})`,
          );
        }
      }
    }
    for (const cell of group) {
      const runsBySide = runsOf.get(cell)!;
      const sidesStats: Record<string, SideStats | undefined> = {};
      for (const s of sides) sidesStats[s.name] = stats(runsBySide.get(s.name)!);
      const res: CellResult = { id: cell.id, title: cell.title, unit: cell.unit, tool: cell.tool(ctx), target: cell.target, sides: sidesStats };
      const sm = sidesStats.strata?.median;
      const rm = sidesStats[refName]?.median;
      if (sm !== undefined && rm !== undefined && rm > 0) res.ratio = sm / rm;
      for (const [name, st] of Object.entries(sidesStats)) {
        if (name !== 'strata' && st && st.median > 0 && sm !== undefined) (res.ratios ??= {})[name] = sm / st.median;
      }
      evaluate(res, refName, results);
      results.push(res);
    }
  }
  return results;
}

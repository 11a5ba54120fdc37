// The bench's targets (issue 14), chosen by the kind of reference: nginx (the default), Ceph RGW
// (`--vs URL --vs-kind rgw`) or any other S3 endpoint (`--vs URL`: only the targets that do not
// depend on the reference). A target is a set of checks, each a ratio or an absolute floor; a cell
// meets its target when every check that could be evaluated in this run holds.
import { pgChecks } from './cluster.js';
import { ecChecks } from './erasure.js';

/** A check of Strata's median against another side of the same cell, an absolute floor, or another cell. */
export type Target =
  | {
      kind: 'vs';
      text: string;
      /** Strata ≥ ref × the reference (nginx, or the --vs endpoint). */
      ref?: number;
      /** Strata ≥ strata1w × Strata with `--workers 1` (the strata-1w side). */
      strata1w?: number;
      /** Strata ≥ disk × the disk's own fdatasync'd write rate at the cell's concurrency (the disk side). */
      disk?: number;
      /** Strata's median ≥ this, in the cell's unit. */
      abs?: number;
      /** "Flat": Strata's median ≥ flatMin × its median on the cell flatOf (the small listing). */
      flatOf?: string;
      flatMin?: number;
      /** Another Strata side of the same cell against Strata: that side's median ≥ min × Strata's (e.g. the erasure-coded server). */
      ofStrata?: Record<string, number>;
      /** Another side's own median ≥ this, in the cell's unit (e.g. strata-pg's listing pages/s). */
      absOf?: Record<string, number>;
    }
  /** Strata's median over that of another cell of the same run (Strata only, no reference). */
  | { kind: 'same'; sameAs: string; min: number; text: string };

export type RefKind = 'nginx' | 'rgw' | 's3';

/** The side names the checks compare with (run.ts names its sides so). */
export const STRATA_1W = 'strata-1w';
export const DISK = 'disk';

/** The listing's "flat" criterion: the 1 M-key bucket at ≥ 0.8× the 10 k-key bucket's pages/s, same run. */
export const FLAT_MIN = 0.8;
export const LIST_PAGES_MIN = 500;
/** Peak RSS of any one Strata process (a worker), MiB. */
export const RSS_PER_PROCESS_MAX_MIB = 150;
export const STARTUP_MAX_MS = 1000;

const SMALL = ['get-4k-', 'head-4k-', 'put-4k-', 'delete-4k-', 'mixed-4k-'];

/**
 * The target of one of the core cells (undefined: reported without a target); `cluster`: the
 * strata-pg side runs (`--cluster`), so its checks are part of the target.
 */
export function coreTarget(id: string, ref: RefKind, cluster = false): Target | undefined {
  const parts: Omit<Extract<Target, { kind: 'vs' }>, 'kind' | 'text'> = {};
  // Targets that hold whatever the reference.
  if (id.startsWith('get-4k-') || id.startsWith('head-4k-')) parts.strata1w = 1.6;
  if (id === 'put-64m-c2' || id === 'multipart-256m') parts.disk = 0.6;
  if (id.startsWith('list-')) parts.abs = LIST_PAGES_MIN;
  if (id === 'list-large') Object.assign(parts, { flatOf: 'list-small', flatMin: FLAT_MIN });
  const ec = ecChecks(id);
  if (ec) parts.ofStrata = ec;
  const pgc = cluster ? pgChecks(id) : undefined;
  if (pgc?.ofStrata) parts.ofStrata = { ...parts.ofStrata, ...pgc.ofStrata };
  if (pgc?.absOf) parts.absOf = pgc.absOf;
  // Against the reference.
  if (ref === 'nginx') {
    const vsNginx: Record<string, number> = {
      'get-4k-c16': 0.35,
      'get-4k-c64': 0.35,
      'head-4k-c16': 0.5,
      'head-4k-c64': 0.5,
      'put-4k-one-c16': 0.5,
      'put-4k-one-c64': 0.5,
      'put-4k-distinct-c16': 1,
      'put-4k-distinct-c64': 1,
      'get-64m-c2': 0.8,
    };
    if (vsNginx[id] !== undefined) parts.ref = vsNginx[id];
  } else if (ref === 'rgw') {
    // No cell below 1.5× RGW; the small-object cells ≥ 5×.
    parts.ref = SMALL.some((p) => id.startsWith(p)) ? 5 : 1.5;
  }
  if (Object.keys(parts).length === 0) return undefined;
  return { kind: 'vs', ...parts, text: targetText(parts, ref) };
}

function targetText(p: Omit<Extract<Target, { kind: 'vs' }>, 'kind' | 'text'>, ref: RefKind): string {
  const out: string[] = [];
  const x = (n: number) => `${n.toFixed(n < 1 ? 2 : 1)}×`;
  if (p.ref !== undefined) out.push(`≥ ${x(p.ref)} ${ref === 'nginx' ? 'nginx' : 'ref'}`);
  if (p.strata1w !== undefined) out.push(`≥ ${x(p.strata1w)} 1w`);
  if (p.disk !== undefined) out.push(`≥ ${x(p.disk)} disk`);
  if (p.abs !== undefined) out.push(`≥ ${p.abs} pages/s`);
  if (p.flatOf !== undefined) out.push(`≥ ${x(p.flatMin ?? FLAT_MIN)} ${p.flatOf}`);
  for (const [side, min] of Object.entries(p.ofStrata ?? {})) out.push(`${side} ≥ ${x(min)} strata`);
  for (const [side, min] of Object.entries(p.absOf ?? {})) out.push(`${side} ≥ ${min} pages/s`);
  return out.join(', ');
}

/** One evaluated check: what was compared, the figure, its floor, whether it holds. */
export interface Check {
  what: string;
  value: number;
  min: number;
  met: boolean;
}

/** What evaluate() needs of a cell's result (run.ts's CellResult). */
export interface Evaluated {
  id: string;
  target?: Target;
  sides: Record<string, { median: number; serverCpuUsPerOp?: number } | undefined>;
  checks?: Check[];
  sameRatio?: number;
  sameCpuRatio?: number;
  met?: boolean;
  missedBy?: string;
}

/** How far below its floor a value is: '12% short' or, far off, '3.4× short'. */
export const short = (actual: number, target: number): string =>
  actual <= 0 ? 'nothing completed' : actual >= target / 2 ? `${Math.ceil((1 - actual / target) * 100)}% short` : `${(target / actual).toFixed(1)}× short`;

/** Evaluates res.target (sets checks, met, missedBy); `earlier` are the cells already done. */
export function evaluate(res: Evaluated, refName: string, earlier: readonly Evaluated[]): void {
  const t = res.target;
  const sm = res.sides.strata?.median;
  if (!t || sm === undefined) return;
  if (t.kind === 'same') {
    const otherSide = earlier.find((r) => r.id === t.sameAs)?.sides.strata;
    const cpu = res.sides.strata?.serverCpuUsPerOp;
    if (cpu !== undefined && otherSide?.serverCpuUsPerOp) res.sameCpuRatio = cpu / otherSide.serverCpuUsPerOp;
    if (otherSide !== undefined && otherSide.median > 0) {
      res.sameRatio = sm / otherSide.median;
      res.met = res.sameRatio >= t.min;
      if (!res.met) res.missedBy = short(res.sameRatio, t.min);
    }
    return;
  }
  const checks: Check[] = [];
  const against = (what: string, side: string | undefined, min: number | undefined) => {
    if (min === undefined || side === undefined) return;
    const m = res.sides[side]?.median;
    if (m !== undefined && m > 0) checks.push({ what, value: sm / m, min, met: sm / m >= min });
  };
  against(refName, refName, t.ref);
  against(STRATA_1W, STRATA_1W, t.strata1w);
  against(DISK, DISK, t.disk);
  for (const [side, min] of Object.entries(t.ofStrata ?? {})) {
    const m = res.sides[side]?.median;
    if (m !== undefined && sm > 0) checks.push({ what: `${side}/strata`, value: m / sm, min, met: m / sm >= min });
  }
  if (t.abs !== undefined) checks.push({ what: 'absolute', value: sm, min: t.abs, met: sm >= t.abs });
  for (const [side, min] of Object.entries(t.absOf ?? {})) {
    const m = res.sides[side]?.median;
    if (m !== undefined) checks.push({ what: `${side}${ABS}`, value: m, min, met: m >= min });
  }
  if (t.flatOf !== undefined) {
    const other = earlier.find((r) => r.id === t.flatOf)?.sides.strata?.median;
    if (other !== undefined && other > 0)
      checks.push({ what: t.flatOf, value: sm / other, min: t.flatMin ?? FLAT_MIN, met: sm / other >= (t.flatMin ?? FLAT_MIN) });
  }
  if (checks.length === 0) return;
  res.checks = checks;
  res.met = checks.every((c) => c.met);
  const missed = checks.filter((c) => !c.met);
  if (missed.length > 0) res.missedBy = missed.map((c) => `${missPrefix(c)}${short(c.value, c.min)}`).join('; ');
}

/** The checks as text: "0.21× nginx, 1.9× strata-1w". */
export function formatChecks(checks: readonly Check[] | undefined): string {
  return (checks ?? [])
    .filter((c) => c.what !== 'absolute')
    .map((c) => (c.what.endsWith(ABS) ? `${c.what.slice(0, -ABS.length)} ${fmtAbs(c.value)}/s` : `${c.value.toFixed(2)}× ${c.what}`))
    .join(', ');
}

/** The suffix of an absolute check on another side ("strata-pg absolute"). */
const ABS = ' absolute';
const fmtAbs = (v: number) => (v >= 100 ? String(Math.round(v)) : v.toFixed(1));
/** How a missed check is named: nothing (Strata's own floor), the side (its floor), or "vs side" (a ratio). */
const missPrefix = (c: Check) => (c.what === 'absolute' ? '' : c.what.endsWith(ABS) ? `${c.what.slice(0, -ABS.length)} ` : `vs ${c.what} `);

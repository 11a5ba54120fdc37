// Summarises a V8 .cpuprofile (node --cpu-prof) as text: the top functions by self time, by
// inclusive time, and self time by module. `node dist/bench/profile.js FILE [N]` prints it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  name: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Samples outside (idle): the share of wall time the main thread had nothing to do. */
  idlePct: number;
  self: ProfileRow[];
  inclusive: ProfileRow[];
  modules: ProfileRow[];
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  const dist = u.indexOf('/dist/');
  if (dist >= 0) return u.slice(dist + 1);
  return u;
}

function frameName(f: CallFrame): string {
  const fn = f.functionName || '(anonymous)';
  const url = shortUrl(f.url);
  return url ? `${fn} ${url}:${f.lineNumber + 1}` : fn;
}

/** Which module a frame belongs to: a package, a Strata source file, node internals or V8. */
function moduleOf(f: CallFrame): string {
  const u = f.url.replace(/^file:\/\//, '');
  if (u === '') return f.functionName.startsWith('(') ? f.functionName : '(native)';
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (u.startsWith('node:')) return u.split('/')[0]!.replace(/^node:internal\/?/, 'node:internal');
  const dist = u.indexOf('/dist/');
  if (dist >= 0) return u.slice(dist + 1).replace(/\.js$/, '');
  return u;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfMs = new Map<string, number>();
  const inclMs = new Map<string, number>();
  const modMs = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(p.samples[i]!);
    if (!node) continue;
    total += dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const name = frameName(node.callFrame);
    selfMs.set(name, (selfMs.get(name) ?? 0) + dt);
    const mod = moduleOf(node.callFrame);
    modMs.set(mod, (modMs.get(mod) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (n.callFrame.functionName === '(root)') break;
      const k = frameName(n.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclMs.set(k, (inclMs.get(k) ?? 0) + dt);
    }
  }
  const busy = total - idle;
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, pct: busy > 0 ? (100 * ms) / busy : 0 }));
  return { file, totalMs: total, idlePct: total > 0 ? (100 * idle) / total : 0, self: rows(selfMs), inclusive: rows(inclMs), modules: rows(modMs) };
}

export function formatProfile(s: ProfileSummary): string {
  const fmt = (rows: ProfileRow[]) => rows.map((r) => `  ${r.pct.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`).join('\n');
  return [
    `profile ${s.file}: ${(s.totalMs / 1000).toFixed(1)} s sampled, main thread idle ${s.idlePct.toFixed(1)}% (percentages below are of the busy time)`,
    'self time by module:',
    fmt(s.modules.slice(0, 15)),
    'top functions by self time:',
    fmt(s.self),
    'top functions by inclusive time:',
    fmt(s.inclusive),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile.js FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatProfile(summarizeProfile(file, n ? Number(n) : 25))}\n`);
}

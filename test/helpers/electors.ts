// Helpers for the leader-election tests (cluster-etcd*, cluster-pg-leader): bounded waits and a sampler
// that checks, every few milliseconds, that at most one elector of a group believes it leads.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Leads {
  isLeader(): boolean;
}

/** Polls `cond` every 25 ms until it holds; throws naming `what` after `limitMs` (a bound, not a speed check). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`not within ${limitMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The indexes of the electors that lead now. */
export const leaders = (es: readonly Leads[]): number[] => es.flatMap((e, i) => (e.isLeader() ? [i] : []));

/** Samples `electors()` every 5 ms until stop(): the most that led at one instant, and how many samples. */
export function sampleLeaders(electors: () => readonly Leads[]): { stop(): { max: number; samples: number } } {
  let max = 0;
  let samples = 0;
  const t = setInterval(() => {
    samples++;
    max = Math.max(max, leaders(electors()).length);
  }, 5);
  return {
    stop() {
      clearInterval(t);
      samples++;
      max = Math.max(max, leaders(electors()).length);
      return { max, samples };
    },
  };
}

/** The compiled module at `rel` (under dist/, e.g. 'src/cluster/etcd.js'), for a child process to import. */
export const distModule = (rel: string): string => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

export interface Child {
  proc: ChildProcess;
  /** Resolves with the first JSON line from the child that satisfies `pred`. */
  line(pred: (msg: Record<string, unknown>) => boolean, limitMs?: number): Promise<Record<string, unknown>>;
  kill(): Promise<void>;
}

/** Runs `code` (an ES module body) in a child node process with `env`; its stdout lines are JSON messages. */
export function nodeChild(code: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const seen: Record<string, unknown>[] = [];
  const waiters: { pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(l) as Record<string, unknown>;
    } catch {
      return;
    }
    seen.push(m);
    for (const w of [...waiters])
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
  });
  const onExit = () => proc.kill('SIGKILL');
  process.once('exit', onExit);
  return {
    proc,
    line(pred, limitMs = 20_000) {
      const hit = seen.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`child: no matching line within ${limitMs} ms`)), limitMs);
        proc.once('exit', (code, signal) => {
          clearTimeout(t);
          reject(new Error(`child exited (${code ?? signal}) before a matching line`));
        });
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(t);
            resolve(m);
          },
        });
      });
    },
    async kill() {
      process.removeListener('exit', onExit);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await done;
    },
  };
}

/**
 * The frozen-leader check: `child` leads (it reports `{ leader: true }` and samples `{ sample, leader, at }`
 * every few ms); it is SIGSTOPped until one of `es` leads, then SIGCONTinued: its first sample after the
 * thaw must say it does not lead, and at no sample did two of `es` lead.
 */
export async function frozenLeaderHandsOver(child: Child, es: readonly Leads[], limitMs = 20_000): Promise<void> {
  const sampler = sampleLeaders(() => es);
  child.proc.kill('SIGSTOP');
  await until(() => leaders(es).length === 1, 'a leader here while the child is frozen', limitMs);
  const thawed = Date.now();
  child.proc.kill('SIGCONT');
  const first = await child.line((m) => m.sample === true && (m.at as number) >= thawed);
  if (first.leader !== false) throw new Error('the thawed process still believed it led');
  await new Promise((r) => setTimeout(r, 500));
  const { max } = sampler.stop();
  if (max !== 1 || leaders(es).length !== 1) throw new Error(`expected one leader here throughout, saw at most ${max}, now ${leaders(es).length}`);
}

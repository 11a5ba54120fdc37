// Pieces of the crash harness (test/crash/crash.test.ts): a seeded PRNG, deterministic object
// bodies, a server child process on a *given* data directory (restarted on the same directory,
// unlike test/helpers/server.ts) that can be SIGKILLed at any moment, and a look at the data
// directory itself (which pieces exist on disk, which ones the metadata references).
import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { childPids, MAIN_JS, REPO_ROOT } from '../helpers/server.js';

// ---- seeded randomness ---------------------------------------------------------------------------

/** sfc32: small, fast, good enough for choosing operations; the whole run follows from the seed. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** [0, 1) */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight; entries with weight 0 are never chosen. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [v, w] of entries) {
      if ((r -= w) < 0) return v;
    }
    return entries[entries.length - 1]![0];
  }
}

// ---- bodies --------------------------------------------------------------------------------------

/**
 * `size` pseudo-random bytes determined by (seed, tag): AES-128-CTR over zeros, so an 8 MiB body
 * costs milliseconds and never needs to be kept in memory between uses.
 */
export function bodyOf(seed: number, tag: string, size: number): Buffer {
  if (size === 0) return Buffer.alloc(0);
  const k = createHash('sha256').update(`${seed}/${tag}`).digest();
  const cipher = createCipheriv('aes-128-ctr', k.subarray(0, 16), k.subarray(16, 32));
  return cipher.update(Buffer.alloc(size));
}

export const sha256Hex = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');
export const md5Hex = (b: Buffer | Uint8Array): string => createHash('md5').update(b).digest('hex');

// ---- the server process --------------------------------------------------------------------------

/** The server to run: `STRATA_CRASH_MAIN` may name another build (used for fault injection). */
export const CRASH_MAIN_JS = process.env.STRATA_CRASH_MAIN || MAIN_JS;

export interface ServerProc {
  url: string;
  port: number;
  pid: number;
  /** Milliseconds from spawn to the `listening` log line. */
  startMs: number;
  /** The last lines of output (for failure reports). */
  tail: () => string;
  /** Log lines at level warn (40) or above, and anything on stderr. */
  problems: string[];
  /** SIGKILL and wait for the exit. */
  kill: () => Promise<void>;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop: () => Promise<number | null>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Known warn-level lines that are not problems. */
const EXPECTED_WARNINGS = [
  /USING THE DEFAULT CREDENTIALS/,
  // The six-drive harnesses run every drive on the test machine's one file system.
  /several drives share a file system/,
];
/** The human start line main.ts writes to stderr, and its warning line. */
const HUMAN_START_LINES = [/^Strata is serving S3 at /, /^WARNING: default credentials in use/];

export interface SpawnResult {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** Extra command-line arguments and environment variables for the server (the power-cut test). */
export interface SpawnExtra {
  args?: string[];
  env?: Record<string, string>;
}

/**
 * SIGKILL to the whole server at once: the process and its workers (--workers N ≥ 2, the default on
 * a multi-core machine), as a crash of the machine would stop them. A primary SIGKILLed alone (its
 * workers left to notice) is test/integration/workers.test.ts's.
 */
export function crashServer(child: ChildProcess): void {
  const workers = child.pid === undefined ? [] : childPids(child.pid);
  child.kill('SIGKILL');
  for (const pid of workers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Starts `node main.js --address 127.0.0.1:0 --data <dir> --console-address off` without waiting for
 * anything (no console: it would take the default port 9001, and servers run side by side here).
 */
export function spawnRaw(dataDir: string, mainJs = CRASH_MAIN_JS, extra: SpawnExtra = {}): SpawnResult {
  const child = spawn(process.execPath, [mainJs, '--address', '127.0.0.1:0', '--data', dataDir, '--console-address', 'off', ...(extra.args ?? [])], {
    cwd: REPO_ROOT,
    // Workers (the default on a multi-core machine) follow the shared rules: a freed piece stays on
    // disk for the free grace period (60 s by default); 5 s lets the end-of-run checks (15 s) see it
    // go, and stays longer than a GET takes from its record to its piece on a loaded machine.
    env: { ...process.env, STRATA_LOG_LEVEL: 'info', STRATA_FREE_GRACE: '5', ...extra.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (s: string) => {
    out += s;
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.once('exit', (code, signal) => setImmediate(() => ok({ code, signal }))),
  );
  return { child, exited, output: () => out };
}

/** Starts the server on `dataDir` and waits for its `listening` line (rejects if it exits or takes > timeoutMs). */
export function startOn(dataDir: string, timeoutMs = 15_000, extra: SpawnExtra = {}): Promise<ServerProc> {
  const t0 = performance.now();
  const { child, exited, output } = spawnRaw(dataDir, CRASH_MAIN_JS, extra);
  const problems: string[] = [];
  let pending = '';
  return new Promise<ServerProc>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`server did not listen within ${timeoutMs} ms; output:\n${output()}`));
    }, timeoutMs);
    void exited.then(({ code, signal }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${code}, signal ${signal}); output:\n${output()}`));
    });
    child.stderr!.on('data', (s: string) => {
      // The human start line (and its default-credentials warning) goes to stderr when stdout is
      // not a terminal (src/main.ts): not a problem. Anything else on stderr is.
      const rest = s.split('\n').filter((l) => l.trim() !== '' && !HUMAN_START_LINES.some((re) => re.test(l)));
      if (rest.length > 0) problems.push(`stderr: ${rest.join('\n')}`);
    });
    child.stdout!.on('data', (s: string) => {
      pending += s;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        let rec: { level?: number; msg?: string; port?: number };
        try {
          rec = JSON.parse(line) as typeof rec;
        } catch {
          continue;
        }
        if ((rec.level ?? 0) >= 40 && !EXPECTED_WARNINGS.some((re) => re.test(line))) problems.push(line);
        if (!done && rec.msg === 'listening' && typeof rec.port === 'number') {
          done = true;
          clearTimeout(timer);
          const port = rec.port;
          resolve({
            url: `http://127.0.0.1:${port}`,
            port,
            pid: child.pid!,
            startMs: performance.now() - t0,
            tail: () => output().split('\n').slice(-40).join('\n'),
            problems,
            kill: async () => {
              crashServer(child);
              await exited;
            },
            stop: async () => {
              child.kill('SIGTERM');
              const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
              const r = await exited;
              clearTimeout(t);
              return r.code;
            },
            exited,
          });
        }
      }
    });
  });
}

// ---- the data directory --------------------------------------------------------------------------

export interface DataDirState {
  /** Piece ids present under objects/<shard>/ (several drives: with a shard on at least one drive). */
  files: Set<string>;
  /** Several drives: the pieces whose shards are on some drives only, with those drives' numbers. */
  partial: Map<string, string>;
  /** Names left in tmp/ (of every drive). */
  tmp: string[];
  /** Piece ids referenced by object versions (object_data). */
  objectRefs: Set<string>;
  /** Piece ids referenced by parts of uploads in progress (upload_parts). */
  partRefs: Set<string>;
}

/** The names in `dir`'s two-hex-digit subdirectories (objects/ or a drive's shards/). */
function namesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const prefix of existsSync(dir) ? readdirSync(dir) : []) out.push(...readdirSync(join(dir, prefix)));
  return out;
}

/**
 * What is on disk and what the metadata references, read directly: the pieces by listing
 * objects/ (several drives: each drive's shards/), the references with a read-only SQLite connection
 * to the metadata database (on the first drive; WAL readers do not disturb a running server, and
 * the data-directory lock is a separate file, so this works while it runs).
 */
export function inspectDataDir(data: string | readonly string[]): DataDirState {
  const dirs = typeof data === 'string' ? [data] : data;
  const files = new Set<string>();
  const partial = new Map<string, string>();
  const tmp: string[] = [];
  if (dirs.length === 1) for (const name of namesUnder(join(dirs[0]!, 'objects'))) files.add(name);
  else {
    const holders = new Map<string, number[]>();
    for (const [i, d] of dirs.entries()) for (const name of namesUnder(join(d, 'shards'))) holders.set(name, [...(holders.get(name) ?? []), i + 1]);
    for (const [id, on] of holders) {
      files.add(id);
      if (on.length !== dirs.length) partial.set(id, `on drives ${on.join(', ')} of ${dirs.length}`);
    }
  }
  for (const d of dirs) if (existsSync(join(d, 'tmp'))) tmp.push(...readdirSync(join(d, 'tmp')));
  const db = new Database(join(dirs[0]!, 'meta.db'), { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    const read = db.transaction(() => ({
      objectRefs: new Set(db.prepare('SELECT DISTINCT data_id FROM object_data').pluck().all() as string[]),
      partRefs: new Set(db.prepare('SELECT DISTINCT data_id FROM upload_parts').pluck().all() as string[]),
    }));
    return { files, partial, tmp, ...read() };
  } finally {
    db.close();
  }
}

export const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/** Resolves with undefined after `ms` without keeping the process alive (for races against an exit). */
export const deadline = (ms: number) => new Promise<undefined>((ok) => setTimeout(() => ok(undefined), ms).unref());

// A throw-away PostgreSQL cluster for tests and the bench: Debian's own binaries (package
// `postgresql`, installed by scripts/test.sh), `initdb` into a temp directory, the server on a free
// loopback port, stopped and removed afterwards. Never a server started by hand.
//
// As root (CI, this machine) the cluster runs as the `postgres` system user (PostgreSQL refuses to
// run as root); otherwise as the current user.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PostgresCluster {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Its data directory. */
  dir: string;
  /** A URL for `database` (default: the cluster's `postgres` database), user `strata`, no password. */
  url(database?: string): string;
  /** Creates a fresh empty database and returns its URL (each test its own namespace). */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (fast shutdown: open transactions roll back). */
  stop(): Promise<void>;
  /** Starts it again after stop() on the same port and data. */
  start(): Promise<void>;
  /** Stop (immediate: no shutdown checkpoint) and remove everything. */
  dispose(): Promise<void>;
}

/** The directory holding Debian's PostgreSQL binaries (the newest installed major version). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(b) - Number(a));
    for (const m of majors) if (existsSync(join(root, m, 'bin', 'initdb'))) return join(root, m, 'bin');
  }
  throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql (Debian package `postgresql`; scripts/test.sh installs it)');
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

function pgUser(): { uid: number; gid: number } | undefined {
  if (!asRoot) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/** Runs a PostgreSQL binary as the cluster's user; throws with its output on failure. */
function run(bin: string, args: string[], user: { uid: number; gid: number } | undefined, timeoutMs = 60_000): string {
  const r = spawnSync(join(postgresBinDir(), bin), args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    ...(user && { uid: user.uid, gid: user.gid }),
    env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
    cwd: '/',
  });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let seq = 0;

/**
 * initdb + start on a free port. Options go to the server as `-c name=value` (e.g. fsync: tests
 * keep PostgreSQL's defaults unless they say otherwise).
 */
export async function startPostgres(opts: { settings?: Record<string, string | number> } = {}): Promise<PostgresCluster> {
  const user = pgUser();
  const dir = mkdtempSync(join(tmpdir(), 'strata-pg-'));
  chmodSync(dir, 0o700);
  if (user) chownSync(dir, user.uid, user.gid);
  run('initdb', ['-D', dir, '-U', 'strata', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], user);
  const port = await freePort();
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    port,
    unix_socket_directories: dir,
    max_connections: 200,
    ...opts.settings,
  };
  const o = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  const log = join(dir, 'server.log');
  let running = false;
  const start = async (): Promise<void> => {
    run('pg_ctl', ['start', '-D', dir, '-w', '-t', '60', '-l', log, '-o', o], user, 70_000);
    running = true;
  };
  const stop = async (): Promise<void> => {
    if (!running) return;
    run('pg_ctl', ['stop', '-D', dir, '-m', 'fast', '-w', '-t', '60'], user, 70_000);
    running = false;
  };
  await start();
  const url = (database = 'postgres') => `postgres://strata@127.0.0.1:${port}/${database}`;
  const cluster: PostgresCluster = {
    port,
    dir,
    url,
    start,
    stop,
    async createDatabase(name) {
      const db = name ?? `t${process.pid}_${++seq}_${Date.now().toString(36)}`;
      run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'strata', '-d', 'postgres', '-qAt', '-c', `CREATE DATABASE "${db}"`], undefined);
      return url(db);
    },
    async dispose() {
      try {
        // Immediate: the directory goes next, so the shutdown checkpoint (seconds of fsync once
        // a file has created dozens of databases) would write pages nobody reads.
        if (running) run('pg_ctl', ['stop', '-D', dir, '-m', 'immediate', '-w', '-t', '60'], user, 70_000);
        running = false;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  // A test process that dies without dispose() must not leave a server behind.
  process.once('exit', () => {
    if (running)
      spawnSync(join(postgresBinDir(), 'pg_ctl'), ['stop', '-D', dir, '-m', 'immediate'], { ...(user && { uid: user.uid, gid: user.gid }), cwd: '/' });
  });
  return cluster;
}

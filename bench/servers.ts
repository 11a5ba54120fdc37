// The servers under test, as child processes on 127.0.0.1: Strata (logs to a file, port from its
// `listening` line), nginx from Debian with a generated config (static GET/HEAD, WebDAV PUT/DELETE),
// and a do-nothing Node server for the client-ceiling fallback. Every wait is bounded.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTree } from './procstat.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const STRATA_MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');

/**
 * The node flags Strata is started with: those of its own `#!/usr/bin/env -S node FLAGS` line (the
 * `strata` command; `npm start` passes the same, src/launch.test.ts checks), so the bench measures
 * the server as users run it. Today `--max-semi-space-size=4`: see README, "Memory".
 */
export function strataNodeFlags(main = STRATA_MAIN): string[] {
  const first = readFileSync(main, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node((?:\s+--\S+)*)\s*$/.exec(first);
  if (!m) throw new Error(`${main}: unexpected first line ${JSON.stringify(first)}`);
  return m[1]!
    .trim()
    .split(/\s+/)
    .filter((f) => f !== '');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Running {
  pid: number;
  port: number;
  /** Processes whose CPU and memory are the server's. */
  pids: () => number[];
  stop: () => Promise<void>;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  if (!(await waitExit(child, graceMs))) {
    child.kill('SIGKILL');
    await waitExit(child, 5_000);
  }
}

/** A port that was free a moment ago (for servers that cannot be told to pick one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once host:port accepts a connection (bounded). */
export async function waitForPort(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error('the server exited during startup');
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(10);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export interface StrataOptions {
  dataDir: string;
  logFile: string;
  /** Extra server arguments (e.g. --log-level warn). */
  args?: readonly string[];
  /** Extra node arguments (e.g. --cpu-prof), after strataNodeFlags() (so a later V8 flag wins). */
  nodeArgs?: readonly string[];
  startTimeoutMs?: number;
  /** Another build's dist/src/main.js (a before/after comparison); default this one's. */
  main?: string;
}

export interface RunningStrata extends Running {
  /** Spawn to the `listening` log line (the line's own pino timestamp), ms. */
  listeningMs: number;
}

/**
 * Starts Strata on 127.0.0.1:<free port>; stdout and stderr go to logFile (truncated: one file per
 * start). Ready when its `listening` line shows up (its pino time gives the startup time) or, with
 * a log level that hides that line, when the port accepts connections.
 */
export async function startStrata(o: StrataOptions): Promise<RunningStrata> {
  const fd = openSync(o.logFile, 'w');
  const port = await freePort();
  const spawnedAt = Date.now();
  const child = spawn(
    process.execPath,
    [
      ...strataNodeFlags(),
      ...(o.nodeArgs ?? []),
      o.main ?? STRATA_MAIN,
      '--address',
      `127.0.0.1:${port}`,
      '--data',
      o.dataDir,
      '--console-address',
      'off',
      ...(o.args ?? []),
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, STRATA_LOG_LEVEL: process.env.STRATA_LOG_LEVEL ?? 'info' },
    },
  );
  closeSync(fd);
  const timeout = o.startTimeoutMs ?? 120_000;
  const deadline = Date.now() + timeout;
  let listenedAt = 0;
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`strata exited during startup: ${readFileSync(o.logFile, 'utf8').slice(0, 4000)}`);
    }
    const line = readFileSync(o.logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('"msg":"listening"'));
    if (line) {
      listenedAt = (JSON.parse(line) as { time: number }).time;
      break;
    }
    if (await accepts()) {
      listenedAt = Date.now();
      // The port accepts a moment before the line is written: prefer the line's own time.
      await sleep(20);
      const late = readFileSync(o.logFile, 'utf8')
        .split('\n')
        .find((l) => l.includes('"msg":"listening"'));
      if (late) listenedAt = (JSON.parse(late) as { time: number }).time;
      break;
    }
    await sleep(2);
  }
  if (listenedAt === 0) {
    await stopChild(child, 'SIGKILL', 1000);
    throw new Error(`strata did not listen within ${timeout} ms`);
  }
  return {
    pid: child.pid!,
    port,
    listeningMs: listenedAt - spawnedAt,
    // With --workers N ≥ 2 the spawned process is the cluster primary and the workers are its children.
    pids: () => processTree(child.pid!),
    stop: () => stopChild(child, 'SIGTERM', 20_000),
  };
}

/** True when this build of Strata knows `--workers` (its --help lists it). */
export function strataHasWorkers(main = STRATA_MAIN): boolean {
  const r = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8', timeout: 30_000 });
  return /--workers\b/.test(r.stdout ?? '');
}

export function nginxBinary(): string | undefined {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  const p = r.stdout?.trim();
  return p ? p : undefined;
}

/** True when this nginx was built with the WebDAV module (dav_methods). */
export function nginxHasDav(bin: string): boolean {
  const r = spawnSync(bin, ['-V'], { encoding: 'utf8' });
  return /--with-http_dav_module/.test(`${r.stdout}${r.stderr}`);
}

export interface NginxOptions {
  dir: string;
  workers: number;
}

export interface RunningNginx extends Running {
  root: string;
}

/**
 * nginx with a generated config: static files under <dir>/root for GET/HEAD, WebDAV PUT (body
 * spooled to client_body_temp_path in the same file system, then renamed into place: not
 * fsynced) and DELETE, access log off, keep-alive without a request limit (like Node's).
 * `location = /__null` answers 204 without touching the disk (the client-ceiling target).
 */
export async function startNginx(o: NginxOptions): Promise<RunningNginx> {
  const bin = nginxBinary();
  if (!bin) throw new Error('nginx not found: run scripts/bench-deps.sh (or pass --vs URL)');
  if (!nginxHasDav(bin)) throw new Error(`${bin} lacks the http_dav module: install Debian's nginx (scripts/bench-deps.sh)`);
  const root = join(o.dir, 'root');
  for (const d of ['root', 'body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) mkdirSync(join(o.dir, d), { recursive: true });
  const port = await freePort();
  const conf = join(o.dir, 'nginx.conf');
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  writeFileSync(
    conf,
    `# generated by bench/servers.ts
daemon off;
master_process on;
${asRoot ? 'user root;  # the bench owns every file here; workers must write them' : ''}
worker_processes ${o.workers};
pid ${join(o.dir, 'nginx.pid')};
error_log ${join(o.dir, 'logs', 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  client_max_body_size 0;
  client_body_temp_path ${join(o.dir, 'body')};
  proxy_temp_path ${join(o.dir, 'proxy')};
  fastcgi_temp_path ${join(o.dir, 'fastcgi')};
  uwsgi_temp_path ${join(o.dir, 'uwsgi')};
  scgi_temp_path ${join(o.dir, 'scgi')};
  types { }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location = /__null { return 204; }
    location / {
      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw;
    }
  }
}
`,
  );
  const child = spawn(bin, ['-p', o.dir, '-c', conf, '-e', join(o.dir, 'logs', 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitForPort(port, 10_000, () => child.exitCode === null && child.signalCode === null);
  } catch (err) {
    await stopChild(child, 'SIGKILL', 1000);
    throw new Error(`nginx did not start: ${(err as Error).message} ${stderr}`);
  }
  return {
    pid: child.pid!,
    port,
    root,
    pids: () => processTree(child.pid!),
    // SIGQUIT: graceful shutdown of the master and its workers.
    stop: () => stopChild(child, 'SIGQUIT', 10_000),
  };
}

/** A Node HTTP server that answers 204 to everything: the ceiling target when nginx is not there. */
export async function startNullServer(): Promise<Running> {
  const code = `
    const http = require('node:http');
    const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.statusCode = 204; res.end(); }); });
    s.keepAliveTimeout = 65000;
    s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('null server did not start')), 10_000);
    child.stdout!.once('data', (d: Buffer) => {
      clearTimeout(t);
      resolve(Number(d.toString().trim()));
    });
  });
  return { pid: child.pid!, port, pids: () => [child.pid!], stop: () => stopChild(child, 'SIGTERM', 5_000) };
}

// Starts a real Strata server as a child process (port 0, temp data dir) for integration tests,
// waits for its `"msg":"listening"` log line and hands back the endpoint plus a stop() function.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createUser, type TestUser } from './admin.js';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Default credentials the server accepts when none are configured. */
export const ACCESS_KEY = 'rustfsadmin';
export const SECRET_KEY = 'rustfssecret';
export const REGION = 'us-east-1';

/** Repository root, from this file's compiled location `dist/test/helpers/server.js`. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MAIN_JS = join(REPO_ROOT, 'dist', 'src', 'main.js');

// aws-sdk-js v3 warns once per process that its releases after January 2027 need Node >= 22; in a
// test run that is one 8-line block per test file, which buries real failures. The SDK's own switch
// turns off exactly that warning (every integration test imports this module before making a client).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

export interface StartServerOptions {
  /** Extra command-line arguments after `--address … --data …`. */
  args?: string[];
  /** Extra environment variables (on top of process.env). */
  env?: Record<string, string>;
  /**
   * Use this existing data directory (several servers on one directory: --shared); stop() then
   * leaves it in place for the caller to remove. Default: a new temp directory, removed by stop().
   */
  dataDir?: string;
  /**
   * Several drives (an erasure set, docs/drives.md): passed as `--data a,b,…`, in this order;
   * `dataDir` is then the first. Like `dataDir`, stop() leaves them for the caller to remove.
   */
  data?: string[];
  /** The server serves HTTPS (pass --certs or --tls-cert/--tls-key in `args`): the url is https://. */
  tls?: boolean;
  /**
   * Users to create through the admin API once the server listens (each with a generated access
   * key and the named managed policies attached, which must exist: none do at start), so a test
   * has a second and a third identity: `server.users[0]`, `server.users[1]`.
   */
  users?: Array<string | { name: string; policies?: string[] }>;
  /**
   * Start with the built-in key service: true generates a root key (`strata-test:<32 random bytes>`),
   * a string is passed as it is (`--kms-secret-key`); `server.kmsKey` gives it back for a restart.
   */
  kms?: boolean | string;
  /** Serve the web console on 127.0.0.1:0 (`server.consoleUrl`); default: `--console-address off`. */
  console?: boolean;
  /** How long to wait for `listening` (default 15 s; a gateway that migrates PostgreSQL on a busy machine may need more). */
  startTimeoutMs?: number;
}

/** A fresh key service root key in MinIO's form NAME:BASE64 (default key id `name`). */
export function newKmsKey(name = 'strata-test'): string {
  return `${name}:${randomBytes(32).toString('base64')}`;
}

export interface RunningServer {
  /** `http://host:port` (`https://` with the tls option), no trailing slash. */
  url: string;
  port: number;
  host: string;
  dataDir: string;
  /** The server process's pid: the cluster primary with --workers N ≥ 2 (the default on a multi-core machine). */
  pid: number;
  /** The pids of the processes that serve requests: the workers (children of `pid`), or `pid` itself with --workers 1. */
  workerPids: () => number[];
  /** Everything the server wrote to stdout and stderr so far. */
  logs: () => string;
  /** What the server wrote to stderr alone (the human start line, fatal errors). */
  stderr: () => string;
  /** Settles when the process has exited (for tests that stop it themselves, e.g. by signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * The access-log lines written after offset `from` of logs(), once the output has been quiet for
   * 100 ms (at most 3 s): a request's line is written after its response (one stdout write per
   * event-loop turn), so it can reach us after the client has its answer.
   */
  accessLog: (from?: number) => Promise<AccessLine[]>;
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the data dir. Idempotent. */
  stop: () => Promise<void>;
  /** The users made for `opts.users`, in order, with their access keys. */
  users: TestUser[];
  /** The admin API's access-log lines (msg "admin") after offset `from` of logs(), settled like accessLog. */
  adminLog: (from?: number) => Promise<AdminLine[]>;
  /** The key service's root key text (`--kms-secret-key`) when started with `kms`. */
  kmsKey?: string;
  /** `http://127.0.0.1:port` of the web console when started with `console` (`https://` with `tls`). */
  consoleUrl?: string;
}

/** One admin access-log line. */
export interface AdminLine {
  op: string;
  method: string;
  path: string;
  status: number;
  adminCode?: string;
  principal?: { kind: string; accessKey: string; user?: string };
  /** Why the authorizer refused (an AccessDenied). */
  denied?: string;
}

/** One access-log line (the fields tests look at). */
export interface AccessLine {
  op: string;
  method: string;
  key?: string;
  status: number;
  /** The S3 error code of a failed request. */
  s3Code?: string;
  /** A refusal by the authorize stage: which action, on which kind of resource, for which principal kind, why. */
  denied?: { by: string; action: string; resource: string; principal: string; reason: string };
  /** Body bytes received. */
  bytesIn?: number;
  bytesOut?: number;
  remoteAddress?: string;
  userAgent?: string;
}

const QUIET_MS = 100;
const SETTLE_LIMIT_MS = 3000;

export async function startServer(opts: StartServerOptions = {}): Promise<RunningServer> {
  const ownDir = opts.dataDir === undefined && opts.data === undefined;
  const dataDir = opts.data?.[0] ?? opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'strata-test-')));
  const host = '127.0.0.1';
  const kmsKey = opts.kms === true ? newKmsKey() : opts.kms || undefined;
  const args = [
    MAIN_JS,
    '--address',
    `${host}:0`,
    // A test that gives its own --data in args gets only that one (a repeated --data adds drives).
    ...(opts.args?.includes('--data') ? [] : ['--data', opts.data ? opts.data.join(',') : dataDir]),
    ...(kmsKey !== undefined ? ['--kms-secret-key', kmsKey] : []),
    '--console-address',
    opts.console ? `${host}:0` : 'off',
    ...(opts.args ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, ...(opts.env ?? {}) };
  if (opts.env?.STRATA_LOG_LEVEL === undefined) env.STRATA_LOG_LEVEL = 'info';

  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let output = '';
  let errOutput = '';
  const logs = () => output;
  let exited = false;
  let exitInfo = '';
  let exitStatus: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitInfo = `exit code ${code}, signal ${signal}`;
      exitStatus = { code, signal };
      resolve();
    });
  });
  child.stderr!.on('data', (chunk: Buffer | string) => {
    errOutput += chunk.toString();
  });

  let port: number;
  let consolePort: number | undefined;
  try {
    ({ port, consolePort } = await waitForListening(
      child,
      (chunk) => {
        output += chunk;
      },
      () => exitInfo,
      logs,
      opts.startTimeoutMs,
    ));
  } catch (err) {
    if (!exited) child.kill('SIGKILL');
    await exitPromise;
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, STOP_TIMEOUT_MS);
        await exitPromise;
        clearTimeout(timer);
      }
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const linesOf = async <T>(from: number, msg: string): Promise<T[]> => {
    const deadline = Date.now() + SETTLE_LIMIT_MS;
    for (let seen = -1; output.length !== seen && Date.now() < deadline; ) {
      seen = output.length;
      await new Promise((r) => setTimeout(r, QUIET_MS));
    }
    return output
      .slice(from)
      .split('\n')
      .filter((l) => l.includes(`"msg":"${msg}"`))
      .map((l) => JSON.parse(l) as T);
  };
  const accessLog = (from = 0) => linesOf<AccessLine>(from, 'request');
  const adminLog = (from = 0) => linesOf<AdminLine>(from, 'admin');

  const exitedWith = exitPromise.then(() => exitStatus);
  const url = `${opts.tls ? 'https' : 'http'}://${host}:${port}`;
  const users: TestUser[] = [];
  try {
    const flag = (name: string) => {
      const i = (opts.args ?? []).indexOf(name);
      return i >= 0 ? opts.args![i + 1] : undefined;
    };
    const root = {
      accessKey: flag('--access-key') ?? env.STRATA_ACCESS_KEY ?? ACCESS_KEY,
      secretKey: flag('--secret-key') ?? env.STRATA_SECRET_KEY ?? SECRET_KEY,
    };
    for (const u of opts.users ?? []) {
      const spec = typeof u === 'string' ? { name: u } : u;
      users.push(await createUser(url, root, spec.name, spec.policies));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    port,
    host,
    dataDir,
    pid: child.pid!,
    workerPids: () => {
      const kids = childPids(child.pid!);
      return kids.length > 0 ? kids : [child.pid!];
    },
    logs,
    stderr: () => errOutput,
    exited: exitedWith,
    accessLog,
    adminLog,
    stop,
    users,
    ...(kmsKey !== undefined && { kmsKey }),
    ...(consolePort !== undefined && { consoleUrl: `${opts.tls ? 'https' : 'http'}://${host}:${consolePort}` }),
  };
}

/** The live child processes of `pid` (Linux: /proc/<pid>/task/<tid>/children); [] once it is gone. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const p of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (p.trim() !== '') out.push(Number(p));
    }
  } catch {
    // the process (or a thread) ended while we looked
  }
  return out;
}

/** Reads the child's output line by line until a pino line `{"msg":"listening","port":N}` shows up. */
function waitForListening(
  child: ChildProcess,
  collect: (chunk: string) => void,
  exitInfo: () => string,
  logs: () => string,
  timeoutMs = START_TIMEOUT_MS,
): Promise<{ port: number; consolePort?: number }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let pending = '';
    const finish = (err: Error | null, ports?: { port: number; consolePort?: number }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', onError);
      if (err) reject(err);
      else resolve(ports!);
    };
    const onLine = (line: string) => {
      const trimmed = line.trim();
      if (!trimmed.startsWith('{')) return;
      try {
        const rec = JSON.parse(trimmed) as { msg?: unknown; port?: unknown; consolePort?: unknown };
        if (rec.msg === 'listening' && typeof rec.port === 'number' && rec.port > 0)
          finish(null, { port: rec.port, ...(typeof rec.consolePort === 'number' && { consolePort: rec.consolePort }) });
      } catch {
        /* not JSON: ignore */
      }
    };
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      collect(chunk);
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr!.on('data', (chunk: string) => collect(chunk));
    const onExit = () => {
      // Let the last output chunks arrive before reporting.
      setImmediate(() => finish(new Error(`strata server exited before listening (${exitInfo()}); output:\n${logs()}`)));
    };
    const onError = (err: Error) => finish(new Error(`could not spawn strata server: ${err.message}\n${logs()}`));
    child.once('exit', onExit);
    child.once('error', onError);
    const timer = setTimeout(() => {
      finish(new Error(`strata server did not log "listening" within ${timeoutMs} ms; output:\n${logs()}`));
    }, timeoutMs);
  });
}

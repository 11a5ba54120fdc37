// Paths of the real S3 clients the integration tests drive, a spawn-without-shell helper and
// unique bucket names. scripts/test.sh installs these clients; a missing one fails its tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_KEY, REGION, REPO_ROOT, SECRET_KEY } from './server.js';

/** Newest boto3/botocore, installed by scripts/test.sh into the repository's .venv. */
export const VENV_PYTHON = join(REPO_ROOT, '.venv', 'bin', 'python');
/** Debian's python with python3-boto3 1.26 (an "old client" control). */
export const DEBIAN_PYTHON = '/usr/bin/python3';
/** Debian awscli v2 (absolute: another `aws` may come earlier on PATH). */
export const AWS_CLI = '/usr/bin/aws';
export const CURL = '/usr/bin/curl';
export const S3CMD = '/usr/bin/s3cmd';
export const RCLONE = '/usr/bin/rclone';

/** Python test programs (sources; they are not compiled). */
export const PYTHON_TEST_DIR = join(REPO_ROOT, 'test', 'integration', 'python');

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. Without it stdin is empty (never inherited). */
  input?: string | Buffer;
  /** Kill with SIGKILL after this long (default 120 s); the result then has code null. */
  timeoutMs?: number;
  cwd?: string;
}

export interface RunResult {
  /** Exit code, or null if killed by a signal (including the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a program without a shell and collects its output. Never rejects for a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    child.stdin.on('error', () => {
      /* the program may exit without reading stdin */
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Formats a RunResult for assertion messages. */
export function describeRun(what: string, r: RunResult): string {
  const status = r.timedOut ? 'timed out' : r.code === null ? `killed by ${r.signal}` : `exit code ${r.code}`;
  return `${what}: ${status}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/**
 * Writes a self-signed certificate for localhost / 127.0.0.1 into `certDir` in the MinIO/RustFS
 * layout (`public.crt`, `private.key`, what `--certs` reads), with Debian's openssl.
 */
export async function writeSelfSignedCert(certDir: string): Promise<void> {
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'];
  args.push('-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(certDir, 'private.key'), '-out', join(certDir, 'public.crt'));
  const r = await run('/usr/bin/openssl', args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describeRun('openssl req', r));
}

let counter = 0;

/**
 * A unique, valid S3 bucket name (3–63 chars of a-z0-9-, starting and ending alphanumeric):
 * `<prefix>-<pid36>-<counter>-<random>`, prefix sanitised and shortened as needed.
 */
export function newBucketName(prefix = 'test'): string {
  let p = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (p === '' || /^(xn--|sthree-|amzn-s3-demo-)/.test(p)) p = `t${p}`;
  counter += 1;
  const suffix = `${process.pid.toString(36)}-${counter.toString(36)}-${randomBytes(4).toString('hex')}`;
  p = p.slice(0, 63 - suffix.length - 1).replace(/-+$/g, '');
  return `${p || 't'}-${suffix}`;
}

/**
 * Environment for a client process: process.env without AWS_* / PYTHONPATH-style variables that
 * could redirect it (the developer's profile, endpoint, config), AWS config and credentials files
 * pointed at empty files, plus `extra`. Call `cleanup()` when done.
 */
export async function isolatedClientEnv(extra: Record<string, string> = {}): Promise<{
  env: NodeJS.ProcessEnv;
  dir: string;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-client-'));
  const config = join(dir, 'aws-config');
  const credentials = join(dir, 'aws-credentials');
  await writeFile(config, '');
  await writeFile(credentials, '');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('AWS_') || k === 'PYTHONPATH' || k === 'PYTHONHOME' || k === 'PYTHONSTARTUP') continue;
    env[k] = v;
  }
  Object.assign(env, {
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_EC2_METADATA_DISABLED: 'true',
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONIOENCODING: 'utf-8',
    ...extra,
  });
  return { env, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Where `awsCli` runs the CLI: read when each command runs (servers start in `before`). */
export interface AwsCliTarget {
  url: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The server's log, quoted on failure. */
  logs: () => string;
  timeoutMs: number;
}

/**
 * `aws <args> --endpoint-url <server>` (asserting exit 0, or non-zero with expectFailure) and
 * `s3api` with parsed JSON output, for the Debian AWS CLI.
 */
export function awsCli(target: () => AwsCliTarget) {
  async function aws(args: string[], opts: { expectFailure?: boolean } = {}): Promise<RunResult> {
    const t = target();
    const r = await run(AWS_CLI, [...args, '--endpoint-url', t.url], { env: t.env, timeoutMs: t.timeoutMs, cwd: t.cwd });
    if (opts.expectFailure) assert.notEqual(r.code, 0, describeRun(`aws ${args.join(' ')} (expected to fail)`, r));
    else assert.equal(r.code, 0, `${describeRun(`aws ${args.join(' ')}`, r)}\n--- server log (tail) ---\n${t.logs().slice(-3000)}`);
    return r;
  }
  async function s3api(args: string[]): Promise<Record<string, any>> {
    const r = await aws(['s3api', ...args, '--output', 'json']);
    return r.stdout.trim() === '' ? {} : JSON.parse(r.stdout);
  }
  return { aws, s3api };
}

/** The two boto3s every python check runs under: the newest from the .venv and Debian's 1.26. */
export const BOTO3_PYTHONS = [
  { label: 'boto3 newest (.venv)', python: VENV_PYTHON },
  { label: 'boto3 Debian (/usr/bin/python3)', python: DEBIAN_PYTHON },
] as const;

/** An isolated environment for the AWS CLI with the test server's credentials (see isolatedClientEnv). */
export async function awsCliEnv(access = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY, region: REGION }): Promise<{
  env: NodeJS.ProcessEnv;
  dir: string;
  cleanup: () => Promise<void>;
}> {
  return isolatedClientEnv({
    AWS_ACCESS_KEY_ID: access.accessKey,
    AWS_SECRET_ACCESS_KEY: access.secretKey,
    AWS_DEFAULT_REGION: access.region,
    AWS_PAGER: '',
    AWS_CLI_AUTO_PROMPT: 'off',
  });
}

/** What a python check needs of the server it runs against (a RunningServer is one). */
export interface PythonCheckTarget {
  url: string;
  /** The server's log, quoted on failure. */
  logs: () => string;
}

/**
 * Runs `test/integration/python/<script>` under `python` against the server with S3_ENDPOINT,
 * S3_ACCESS_KEY, S3_SECRET_KEY and S3_BUCKET (plus `env`) in an isolated environment, and asserts
 * it exits 0 (the failure quotes its output and the server log's tail). Returns the run: its first
 * stdout line (the client's version, by s3checks.py's convention) is for the test's diagnostic.
 */
export async function runPythonCheck(
  python: string,
  script: string,
  target: PythonCheckTarget,
  opts: { bucket: string; timeoutMs?: number; env?: Record<string, string>; accessKey?: string; secretKey?: string },
): Promise<RunResult> {
  const { env, cleanup } = await isolatedClientEnv({
    S3_ENDPOINT: target.url,
    S3_ACCESS_KEY: opts.accessKey ?? ACCESS_KEY,
    S3_SECRET_KEY: opts.secretKey ?? SECRET_KEY,
    S3_BUCKET: opts.bucket,
    ...opts.env,
  });
  try {
    const r = await run(python, [join(PYTHON_TEST_DIR, script)], { env, timeoutMs: opts.timeoutMs ?? 120_000 });
    assert.equal(r.code, 0, `${describeRun(`${python} ${script}`, r)}\n--- server log (tail) ---\n${target.logs().slice(-4000)}`);
    return r;
  } finally {
    await cleanup();
  }
}

/**
 * Writes an s3cmd configuration file for a test server at `host:port` (path-style, plain HTTP,
 * us-east-1) with the root keys unless `keys` are given, an STS session token (`access_token`) if
 * given; `signatureV2` picks s3cmd's SigV2 signing.
 */
export async function writeS3cmdConfig(
  path: string,
  server: { host: string; port: number },
  opts: { signatureV2?: boolean; accessKey?: string; secretKey?: string; sessionToken?: string } = {},
): Promise<void> {
  const hostPort = `${server.host}:${server.port}`;
  const lines = [
    '[default]',
    `access_key = ${opts.accessKey ?? ACCESS_KEY}`,
    `secret_key = ${opts.secretKey ?? SECRET_KEY}`,
    ...(opts.sessionToken !== undefined ? [`access_token = ${opts.sessionToken}`] : []),
    `host_base = ${hostPort}`,
    `host_bucket = ${hostPort}`,
    'use_https = False',
    `signature_v2 = ${opts.signatureV2 === true ? 'True' : 'False'}`,
    'bucket_location = us-east-1',
    '',
  ];
  await writeFile(path, lines.join('\n'));
}

/**
 * The environment that makes `strata:` an rclone remote for a test server (RCLONE_CONFIG_STRATA_*,
 * with `configPath`, an empty file, as rclone's config), signed with the root keys unless `keys`.
 */
export function rcloneRemoteEnv(
  url: string,
  configPath: string,
  provider: 'Minio' | 'Other' = 'Minio',
  keys: { accessKey: string; secretKey: string } = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
): Record<string, string> {
  return {
    RCLONE_CONFIG: configPath,
    RCLONE_CONFIG_STRATA_TYPE: 's3',
    RCLONE_CONFIG_STRATA_PROVIDER: provider,
    RCLONE_CONFIG_STRATA_ACCESS_KEY_ID: keys.accessKey,
    RCLONE_CONFIG_STRATA_SECRET_ACCESS_KEY: keys.secretKey,
    RCLONE_CONFIG_STRATA_ENDPOINT: url,
    RCLONE_CONFIG_STRATA_REGION: REGION,
  };
}

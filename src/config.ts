// Server configuration: one pure function from argv + environment to a frozen, typed config.
// Every flag has an environment twin; the flag table and the `--help` text are in config-flags.ts.
import { availableParallelism } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { parseEtcdEndpoints } from './config-etcd.js';
import { DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, FLAGS, helpText, MIN_SECRET_LENGTH } from './config-flags.js';
import { MetaConfigProblem, type PostgresMetaConfig, parseMetaConfig } from './config-meta.js';

/** More server processes than this is a typo (each costs tens of MiB), not a configuration. */
const MAX_WORKERS = 256;
/** A master key id of the key service (and the NAME of --kms-secret-key): what src/kms/ accepts. */
export const KMS_KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface Config {
  /** Interface to listen on ('' = all) and port. */
  host: string;
  port: number;
  /** Directory holding metadata and object data: the first of `dataDirs`. */
  dataDir: string;
  /**
   * The drives (--data: a list, the flag repeated, or MinIO's `/mnt/disk{1...6}`), in set order.
   * One: today's layout (DirDataStore); several: an erasure-coded drive set (docs/drives.md).
   */
  dataDirs: string[];
  /** --parity: STANDARD parity shards, when given (absent: the set's format file, else defaultParity). */
  parity?: number;
  /** --rrs-parity: REDUCED_REDUNDANCY parity shards, when given (absent: the format file, else defaultRrsParity). */
  rrsParity?: number;
  accessKey: string;
  secretKey: string;
  /** True when the operator did not set credentials and the built-in pair is in use. */
  defaultCredentials: boolean;
  /**
   * The key material that seals stored secrets (users' secret keys), as given: `NAME:BASE64`
   * (MinIO's form), BASE64 of 32 bytes, or a passphrase (e.g. a former root secret). Absent: the
   * root secret key is used (src/iam/secret-box.ts, docs/admin-api.md "Secrets at rest").
   */
  masterKey?: string;
  region: string;
  /** Base domains for virtual-hosted-style requests (bucket.<domain>). */
  domains: string[];
  logLevel: string;
  /** Idle time without bytes after which a connection is closed (ms). */
  idleTimeoutMs: number;
  /** Time a client has to send a request's complete headers (ms): bounds slowloris clients. */
  headersTimeoutMs: number;
  /**
   * Server-wide CORS default for buckets without their own configuration: allowed origins
   * (exact, one `*` wildcard each, or just `*`). Empty = off.
   */
  corsOrigins: string[];
  /** Objects up to this many bytes are stored inline in the metadata database (0: never). */
  inlineMax: number;
  /**
   * Several server processes share the data directory (one per core): the directory lock is taken
   * shared, frees wait freeGraceMs (docs/ARCHITECTURE.md, "Several processes on one directory").
   */
  shared: boolean;
  /** Shared mode: how long a replaced piece stays on disk at least, for readers in other processes (ms). */
  freeGraceMs: number;
  /**
   * Server processes serving the one listening socket: 1 = a single process (no cluster primary);
   * N ≥ 2 = a cluster primary and N workers (src/primary.ts, docs/ARCHITECTURE.md "Workers").
   * Default: the number of CPUs (os.availableParallelism()).
   */
  workers: number;
  /** Multipart uploads initiated longer ago than this are aborted by a background job (ms; 0: never). */
  abandonedUploadMs: number;
  /**
   * The length of a lifecycle "day" (ms): 86 400 000 normally; --lifecycle-day-seconds shortens it so
   * tests see rules with Days expire in seconds. The lifecycle job then runs every day/4 (at most hourly).
   */
  lifecycleDayMs: number;
  /**
   * With several drives: the scrub re-reads and checks every shard at this many bytes per second
   * (0: no scrub). Default 8 MiB/s (docs/drives.md, "Healing and scrub": why).
   */
  scrubRate: number;
  /** Serve HTTPS with this certificate chain and private key (PEM file paths); absent = plain HTTP. */
  tls?: { certFile: string; keyFile: string };
  /** A second listener (plain HTTP) that serves only the front endpoints (health); absent = none. */
  health?: { host: string; port: number };
  /**
   * The web console's listener (src/console/, docs/console.md): `explicit` when the address was
   * given (a bind failure then stops the start), false for the default `:9001` (a port already taken
   * is logged and the server runs without a console). Absent: `--console-address off`.
   */
  console?: { host: string; port: number; explicit: boolean };
  /** The S3 address presigned console links point at (--console-s3-url); absent: derived from the S3 listener. */
  consoleS3Url?: string;
  /** Where the console's built files are (--console-dir); absent: dist/console of the installation. */
  consoleDir?: string;
  /**
   * SSE-C over plain HTTP is refused as AWS refuses it (the key would cross the network in the
   * clear); true lets it through, for tests on a loopback (docs/encryption.md).
   */
  sseCOverHttp: boolean;
  /** Objects written without encryption headers to a bucket without default encryption get SSE-S3 (AWS's default since 2023). */
  sseByDefault: boolean;
  /**
   * The key service's root key (src/kms/builtin.ts, docs/encryption.md): given as text (already
   * checked: parseKmsSecretKey) or as a file that holds the same text (main.ts reads and checks it).
   * Absent: no key service (SSE-S3 and SSE-KMS requests are refused).
   */
  kms?: { secretKey: string } | { secretKeyFile: string };
  /**
   * Who may read /metrics (docs/metrics.md): anyone, a bearer token (given, or in a file serve.ts
   * reads), or a SigV4-signed request by root or a key allowed admin:Prometheus.
   */
  metrics: { auth: 'public' | 'bearer' | 'sigv4'; token?: string; tokenFile?: string };
  /** The audit log (src/audit/, docs/audit.md): a record per request to a rotated file and/or a webhook; absent = off. */
  audit?: AuditConfig;
  /** --etcd: etcd client URLs (http://HOST:PORT) for membership, the job leader and change notices (src/cluster/); absent = no etcd. */
  etcd?: string[];
  /**
   * --meta postgres://…: the metadata in PostgreSQL, shared by several gateways on one data
   * directory (src/config-meta.ts, docs/cluster.md); `shared` is then true. Absent: SQLite in the data directory.
   */
  meta?: PostgresMetaConfig;
}

export interface AuditConfig {
  /** PATH, rotated to PATH.1 … PATH.<keep> when the next record would take it past maxBytes. */
  file?: { path: string; maxBytes: number; keep: number };
  /** POSTed in batches (NDJSON), `Authorization: Bearer <token>` when given; retried with backoff. */
  webhook?: { url: string; token?: string; timeoutMs: number };
  /** Records each target holds in memory at most before dropping the oldest. */
  queueMax: number;
}

export class ConfigError extends Error {}

export type ParseResult = { help: true; text: string } | { help: false; config: Readonly<Config> };

/** Pure: parses argv (without node and script) and env. Throws ConfigError on bad input. */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParseResult {
  const given = new Map<string, string>();
  /** Every --data given (the flag may repeat: each adds drives). */
  const dataGiven: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!; // i < argv.length
    if (a === '--help' || a === '-h') return { help: true, text: helpText() };
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (!FLAGS.some((f) => f.flag === name)) throw new ConfigError(`unknown flag: --${name} (see --help)`);
    const value: string | undefined = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    given.set(name, value);
    if (name === 'data') dataGiven.push(value);
  }
  const get = (flag: string): string | undefined => {
    if (given.has(flag)) return given.get(flag);
    const spec = FLAGS.find((f) => f.flag === flag)!;
    for (const e of spec.env) if (env[e] !== undefined && env[e] !== '') return env[e];
    return spec.default;
  };

  const { host, port } = parseAddress(get('address')!);
  // A credential set to '' (a flag, or an environment variable present but empty, e.g. from an
  // unset shell variable) is a mistake, never a request for the well-known default pair.
  for (const flag of ['access-key', 'secret-key']) {
    const spec = FLAGS.find((f) => f.flag === flag)!;
    const empty = given.get(flag) === '' || (!given.has(flag) && spec.env.some((e) => env[e] === ''));
    if (empty)
      throw new ConfigError(`the ${flag.replace('-', ' ')} is set but empty (--${flag} / ${spec.env.join(', ')}); set it, or unset it to use the default pair`);
  }
  const accessKey = get('access-key');
  const secretKey = get('secret-key');
  if ((accessKey === undefined) !== (secretKey === undefined)) {
    throw new ConfigError('set both the access key and the secret key, or neither');
  }
  if (secretKey !== undefined && secretKey.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`the secret key must be at least ${MIN_SECRET_LENGTH} characters long`);
  }
  if (accessKey !== undefined && !/^[\x21-\x7e]{3,128}$/.test(accessKey)) {
    throw new ConfigError('the access key must be 3 to 128 printable ASCII characters without spaces');
  }
  const region = get('region')!;
  if (!/^[a-z0-9-]{1,64}$/.test(region)) throw new ConfigError(`invalid region name: ${region}`);
  const idle = Number(get('idle-timeout'));
  if (!Number.isFinite(idle) || idle <= 0) throw new ConfigError('--idle-timeout must be a positive number of seconds');
  const headerTimeout = Number(get('header-timeout'));
  if (!Number.isFinite(headerTimeout) || headerTimeout <= 0) throw new ConfigError('--header-timeout must be a positive number of seconds');
  const inlineMax = Number(get('inline-max'));
  if (!Number.isInteger(inlineMax) || inlineMax < 0 || inlineMax > 1024 * 1024) {
    throw new ConfigError('--inline-max must be a whole number of bytes from 0 to 1048576');
  }
  const sharedText = get('shared')!.toLowerCase();
  if (!['yes', 'no', 'true', 'false', '1', '0'].includes(sharedText)) throw new ConfigError('--shared must be yes or no');
  const workersText = get('workers');
  const workers = workersText === undefined ? Math.max(1, availableParallelism()) : Number(workersText);
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) throw new ConfigError(`--workers must be a whole number from 1 to ${MAX_WORKERS}`);
  const freeGrace = Number(get('free-grace'));
  if (!Number.isFinite(freeGrace) || freeGrace <= 0) throw new ConfigError('--free-grace must be a positive number of seconds');
  const abortAfter = Number(get('abort-uploads-after'));
  if (!Number.isFinite(abortAfter) || abortAfter < 0) throw new ConfigError('--abort-uploads-after must be a number of days (0: never)');
  const lifecycleDay = Number(get('lifecycle-day-seconds'));
  if (!Number.isFinite(lifecycleDay) || lifecycleDay < 1 || lifecycleDay > 86_400) {
    throw new ConfigError('--lifecycle-day-seconds must be a number of seconds from 1 to 86400');
  }
  const scrubRate = parseByteRate(get('scrub-rate')!);
  const yesNo = (flag: string): boolean => {
    const text = get(flag)!.toLowerCase();
    if (!['yes', 'no', 'true', 'false', '1', '0'].includes(text)) throw new ConfigError(`--${flag} must be yes or no`);
    return ['yes', 'true', '1'].includes(text);
  };
  const sseDefault = get('sse-default')!;
  if (!['AES256', 'none', ''].includes(sseDefault)) throw new ConfigError('--sse-default must be AES256 or none');
  const logLevel = get('log-level')!;
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    throw new ConfigError(`invalid log level: ${logLevel}`);
  }
  const dataDirs = parseDataDirs(dataGiven.length > 0 ? dataGiven : [get('data')!]);
  const parities = parseParities(dataDirs.length, get('parity'), get('rrs-parity'));
  // Several drives keep copies of the metadata database, chosen and rebuilt by the one process that
  // starts first (store/meta/mirror.ts): servers sharing the drives would each do it.
  if (dataDirs.length > 1 && ['yes', 'true', '1'].includes(sharedText)) {
    throw new ConfigError('--shared works with one --data directory: several drives are served by one server (use --workers for every core)');
  }
  let meta: PostgresMetaConfig | undefined;
  try {
    const sharedSpec = FLAGS.find((f) => f.flag === 'shared')!;
    const sharedGiven = given.get('shared') ?? sharedSpec.env.map((e) => env[e]).find((v) => v !== undefined && v !== '');
    meta = parseMetaConfig({ meta: get('meta'), pool: get('meta-pool'), wait: get('meta-wait'), drives: dataDirs.length, sharedGiven });
  } catch (err) {
    throw err instanceof MetaConfigProblem ? new ConfigError(err.message) : err;
  }
  const config: Config = {
    host,
    port,
    dataDir: dataDirs[0]!,
    dataDirs,
    ...parities,
    accessKey: accessKey ?? DEFAULT_ACCESS_KEY,
    secretKey: secretKey ?? DEFAULT_SECRET_KEY,
    defaultCredentials: accessKey === undefined,
    region,
    domains: get('domain')!
      .split(',')
      .map((d) =>
        d
          .trim()
          .toLowerCase()
          .replace(/^\.+|\.+$/g, ''),
      )
      .filter(Boolean),
    logLevel,
    idleTimeoutMs: Math.round(idle * 1000),
    headersTimeoutMs: Math.round(headerTimeout * 1000),
    corsOrigins: parseCorsOrigins(get('cors-origins')!),
    inlineMax,
    // Gateways on PostgreSQL always follow the shared rules (write intents, frees after the grace, pins).
    shared: meta !== undefined || ['yes', 'true', '1'].includes(sharedText),
    freeGraceMs: Math.round(freeGrace * 1000),
    workers,
    abandonedUploadMs: Math.round(abortAfter * 86_400_000),
    lifecycleDayMs: Math.round(lifecycleDay * 1000),
    scrubRate,
    sseCOverHttp: yesNo('sse-c-over-http'),
    sseByDefault: sseDefault === 'AES256',
    metrics: parseMetricsAuth(get('metrics-auth')!, get('metrics-token') || undefined, get('metrics-token-file') || undefined),
  };
  const nonEmpty = (flag: string) => get(flag) || undefined;
  const masterKey = nonEmpty('master-key');
  if (masterKey !== undefined) {
    if (masterKey.length < MIN_SECRET_LENGTH) throw new ConfigError(`the master key must be at least ${MIN_SECRET_LENGTH} characters long`);
    const named = /^([A-Za-z0-9_.-]+):(.+)$/.exec(masterKey);
    if (named && Buffer.from(named[2]!, 'base64').length !== 32)
      throw new ConfigError('the master key NAME:BASE64 must hold 32 bytes of base64 after the colon');
    config.masterKey = masterKey;
  }
  const tls = parseTls(nonEmpty('certs'), nonEmpty('tls-cert'), nonEmpty('tls-key'));
  if (tls) config.tls = tls;
  const health = nonEmpty('health-address');
  if (health !== undefined) config.health = parseAddress(health);
  const consoleAddress = get('console-address')!;
  if (consoleAddress !== 'off') {
    const explicit = given.has('console-address') || (env.STRATA_CONSOLE_ADDRESS ?? '') !== '';
    config.console = { ...parseAddress(consoleAddress), explicit };
  }
  const consoleS3Url = nonEmpty('console-s3-url');
  if (consoleS3Url !== undefined) {
    if (!/^https?:\/\/[^/?#]+\/?$/.test(consoleS3Url)) throw new ConfigError(`invalid --console-s3-url: ${consoleS3Url} (expected http(s)://HOST[:PORT])`);
    config.consoleS3Url = consoleS3Url.replace(/\/$/, '');
  }
  const consoleDir = nonEmpty('console-dir');
  if (consoleDir !== undefined) config.consoleDir = consoleDir;
  const kmsKey = nonEmpty('kms-secret-key');
  const kmsKeyFile = nonEmpty('kms-secret-key-file');
  if (kmsKey !== undefined && kmsKeyFile !== undefined) throw new ConfigError('give either --kms-secret-key or --kms-secret-key-file, not both');
  if (kmsKey !== undefined) {
    parseKmsSecretKey(kmsKey, '--kms-secret-key');
    config.kms = { secretKey: kmsKey };
  } else if (kmsKeyFile !== undefined) config.kms = { secretKeyFile: kmsKeyFile };
  // SSE-S3 for every write without headers needs the key service: without it every such PUT would be refused.
  if (config.sseByDefault && config.kms === undefined)
    throw new ConfigError('--sse-default AES256 needs the key service (--kms-secret-key or --kms-secret-key-file)');
  const audit = parseAudit(nonEmpty);
  if (audit) config.audit = audit;
  const etcd = nonEmpty('etcd');
  if (etcd !== undefined)
    config.etcd = parseEtcdEndpoints(etcd, (m) => {
      throw new ConfigError(m);
    });
  if (meta) config.meta = meta;
  return { help: false, config: Object.freeze(config) };
}

/** Drives in one set at most (MinIO's erasure set limit): more is refused until sets of sets exist. */
export const MAX_DRIVES = 16;

/**
 * --data values (or STRATA_DATA) → the drive paths in set order: each value a comma-separated list
 * whose items may hold MinIO's ellipses (`/mnt/disk{1...4}`, `{01...16}` zero-padded, several per
 * item). The same path twice, or one inside another, is refused.
 */
export function parseDataDirs(values: readonly string[]): string[] {
  const dirs: string[] = [];
  for (const value of values) {
    for (const item of value.split(',').map((s) => s.trim())) {
      if (item === '') throw new ConfigError(`--data ${JSON.stringify(value)} has an empty path in its list`);
      dirs.push(...expandEllipses(item));
    }
  }
  if (dirs.length > MAX_DRIVES) throw new ConfigError(`--data names ${dirs.length} drives; at most ${MAX_DRIVES} are supported (one erasure set)`);
  const seen = new Map<string, string>();
  for (const d of dirs) {
    const abs = resolve(d);
    const before = seen.get(abs);
    if (before !== undefined) throw new ConfigError(`--data names the drive ${abs} twice (${before} and ${d})`);
    seen.set(abs, d);
  }
  const abs = [...seen.keys()];
  for (const a of abs) {
    const outer = abs.find((b) => b !== a && a.startsWith(b.endsWith(sep) ? b : b + sep));
    if (outer !== undefined) throw new ConfigError(`--data: the drive ${a} is inside the drive ${outer}; give separate directories`);
  }
  return dirs;
}

/**
 * MinIO's ellipses: every `{A...B}` (decimal, A ≤ B) becomes the numbers A to B, zero-padded to B's
 * width when A or B is written with a leading zero (`{01...16}`). Several in one path expand to every
 * combination, the first varying fastest, as MinIO orders them (`/d{1...2}/e{1...2}` → /d1/e1,
 * /d2/e1, /d1/e2, /d2/e2). A brace or `...` that is not such a range is refused (a typo, not a name).
 */
export function expandEllipses(path: string): string[] {
  if (!path.includes('{') && !path.includes('}') && !path.includes('...')) return [path];
  const bad = (why: string) =>
    new ConfigError(`--data ${path}: ${why} (ellipses are written {N...M}, N ≤ M whole numbers, e.g. /mnt/disk{1...6} or /mnt/disk{01...16})`);
  // Literal text and ranges, alternating: text0 range0 text1 range1 … textN.
  const texts: string[] = [];
  const ranges: string[][] = [];
  const re = /\{([0-9]+)\.\.\.([0-9]+)\}/g;
  let last = 0;
  for (let m = re.exec(path); m !== null; m = re.exec(path)) {
    texts.push(path.slice(last, m.index));
    const [from, to] = [m[1]!, m[2]!];
    const [a, b] = [Number(from), Number(to)];
    if (a > b) throw bad(`the range {${from}...${to}} runs backwards`);
    if (b - a >= MAX_DRIVES * MAX_DRIVES) throw bad(`the range {${from}...${to}} is too long`);
    const pad = (from.length > 1 && from.startsWith('0')) || to.startsWith('0') ? to.length : 0;
    const seq: string[] = [];
    for (let i = a; i <= b; i++) seq.push(String(i).padStart(pad, '0'));
    ranges.push(seq);
    last = m.index + m[0].length;
  }
  texts.push(path.slice(last));
  if (ranges.length === 0 || texts.some((t) => t.includes('{') || t.includes('}') || t.includes('...'))) throw bad('not a valid ellipsis');
  // Odometer: the first range turns fastest.
  const out: string[] = [];
  const at = ranges.map(() => 0);
  for (;;) {
    let s = texts[0]!;
    for (let r = 0; r < ranges.length; r++) s += ranges[r]![at[r]!]! + texts[r + 1]!;
    out.push(s);
    if (out.length > MAX_DRIVES) break; // refused by the caller with the count
    let r = 0;
    while (r < ranges.length && ++at[r]! === ranges[r]!.length) at[r++] = 0;
    if (r === ranges.length) break;
  }
  return out;
}

/** Default STANDARD parity of a set of `drives` (RustFS/MinIO): 2–3 mirroring, 4–5 → 2, 6–7 → 3, 8–16 → 4. */
export function defaultParity(drives: number): number {
  if (drives <= 1) return 0;
  if (drives <= 3) return drives - 1;
  if (drives <= 5) return 2;
  if (drives <= 7) return 3;
  return 4;
}

/** Default REDUCED_REDUNDANCY parity: min(2, STANDARD), at least 1. */
export function defaultRrsParity(parity: number): number {
  return Math.max(1, Math.min(2, parity));
}

/**
 * Why `parity` shards cannot protect a set of `drives` (undefined: it can): from 1 to half the
 * drives (k ≥ m), or drives − 1 (mirroring: one data shard, as the 2–3 drive default).
 */
export function parityProblem(drives: number, parity: number, what = '--parity'): string | undefined {
  const half = Math.floor(drives / 2);
  if (Number.isInteger(parity) && ((parity >= 1 && parity <= half) || (drives >= 2 && parity === drives - 1))) return undefined;
  const mirror = drives - 1 > half ? `, or ${drives - 1} (mirroring)` : '';
  return `${what} must be from 1 to ${half}${mirror} for ${drives} drives (data shards k = drives − parity must be at least the parity)`;
}

/** --parity and --rrs-parity: only with several drives; checked against the drive count. */
function parseParities(drives: number, parityText: string | undefined, rrsText: string | undefined): { parity?: number; rrsParity?: number } {
  const out: { parity?: number; rrsParity?: number } = {};
  if (parityText === undefined && rrsText === undefined) return out;
  if (drives < 2) throw new ConfigError('--parity and --rrs-parity need several drives (--data DIR1,DIR2,… or /mnt/disk{1...4})');
  if (parityText !== undefined) {
    const p = Number(parityText);
    const problem = parityProblem(drives, p);
    if (problem) throw new ConfigError(problem);
    out.parity = p;
  }
  if (rrsText !== undefined) {
    const r = Number(rrsText);
    const standard = out.parity ?? defaultParity(drives);
    if (!Number.isInteger(r) || r < 1 || r > standard)
      throw new ConfigError(`--rrs-parity must be from 1 to the STANDARD parity (${standard} for ${drives} drives)`);
    out.rrsParity = r;
  }
  return out;
}

/** The audit flags: absent unless --audit-file or --audit-webhook is given. */
function parseAudit(get: (flag: string) => string | undefined): AuditConfig | undefined {
  const whole = (flag: string, min: number, max: number): number => {
    const n = Number(get(flag));
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${flag} must be a whole number from ${min} to ${max}`);
    return n;
  };
  const path = get('audit-file');
  const url = get('audit-webhook');
  const token = get('audit-webhook-token');
  if (token !== undefined && url === undefined) throw new ConfigError('--audit-webhook-token needs --audit-webhook');
  if (path === undefined && url === undefined) return undefined;
  const audit: AuditConfig = { queueMax: whole('audit-queue', 100, 10_000_000) };
  if (path !== undefined) audit.file = { path, maxBytes: whole('audit-file-max-bytes', 1024, 2 ** 50), keep: whole('audit-file-keep', 1, 1000) };
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      // refused below
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw new ConfigError('--audit-webhook must be an http:// or https:// URL');
    if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) throw new ConfigError('--audit-webhook-token must be printable ASCII without spaces');
    const timeout = Number(get('audit-webhook-timeout'));
    if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 3600)
      throw new ConfigError('--audit-webhook-timeout must be a number of seconds from 0 to 3600');
    audit.webhook = { url, ...(token !== undefined && { token }), timeoutMs: Math.round(timeout * 1000) };
  }
  return audit;
}

/**
 * The key service's root key from its text, MinIO's single-key form `NAME:BASE64` (32 bytes of
 * standard base64 after the colon; surrounding white space ignored, as a file's final newline):
 * NAME is the default key's id. Anything else is a ConfigError naming `source` but never the text.
 */
export function parseKmsSecretKey(text: string, source: string): { name: string; key: Buffer } {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const name = colon < 0 ? '' : trimmed.slice(0, colon);
  const b64 = trimmed.slice(colon + 1);
  const form = 'NAME:BASE64, e.g. my-key:$(openssl rand -base64 32)';
  if (colon < 0 || !KMS_KEY_ID.test(name))
    throw new ConfigError(`${source} must be ${form}, NAME 1-64 characters of A-Z a-z 0-9 _ . - (starting with a letter or digit)`);
  const key = Buffer.from(b64, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || key.length !== 32 || key.toString('base64') !== b64)
    throw new ConfigError(`${source} must be ${form}: the part after the colon must be standard base64 of exactly 32 bytes`);
  return { name, key };
}

/** --metrics-auth and its token: bearer needs exactly one of the token and its file; the others none. */
function parseMetricsAuth(mode: string, token: string | undefined, tokenFile: string | undefined): Config['metrics'] {
  if (mode !== 'public' && mode !== 'bearer' && mode !== 'sigv4') throw new ConfigError('--metrics-auth must be public, bearer or sigv4');
  if (mode !== 'bearer') {
    if (token !== undefined || tokenFile !== undefined) throw new ConfigError('--metrics-token and --metrics-token-file go with --metrics-auth bearer');
    return { auth: mode };
  }
  if ((token === undefined) === (tokenFile === undefined))
    throw new ConfigError('--metrics-auth bearer needs --metrics-token or --metrics-token-file (one of them)');
  if (token !== undefined && !/^[\x21-\x7e]{8,}$/.test(token))
    throw new ConfigError('--metrics-token must be at least 8 printable ASCII characters without spaces');
  return token !== undefined ? { auth: mode, token } : { auth: mode, tokenFile: tokenFile! };
}

/** `a,b` or `*`: each origin printable ASCII without spaces and with at most one `*`. */
function parseCorsOrigins(value: string): string[] {
  const origins = value
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const o of origins) {
    if (!/^[\x21-\x7e]+$/.test(o) || o.indexOf('*') !== o.lastIndexOf('*')) {
      throw new ConfigError(`invalid CORS origin: ${o} (expected e.g. https://app.example.com, https://*.example.com or *)`);
    }
  }
  return origins.includes('*') ? ['*'] : origins;
}

/** --certs DIR (MinIO/RustFS layout: DIR/public.crt, DIR/private.key) or --tls-cert + --tls-key. */
function parseTls(dir: string | undefined, cert: string | undefined, key: string | undefined): Config['tls'] {
  if (dir !== undefined && (cert !== undefined || key !== undefined)) {
    throw new ConfigError('give either --certs or --tls-cert/--tls-key, not both');
  }
  if (dir !== undefined) return { certFile: join(dir, 'public.crt'), keyFile: join(dir, 'private.key') };
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError('--tls-cert and --tls-key go together');
  return cert !== undefined && key !== undefined ? { certFile: cert, keyFile: key } : undefined;
}

function parseAddress(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr) ?? /^()()(\d+)$/.exec(addr);
  if (!m) throw new ConfigError(`invalid address: ${addr} (expected HOST:PORT or :PORT)`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`invalid port: ${m[3]}`);
  return { host: m[1] ?? m[2] ?? '', port };
}

/** --scrub-rate: a whole number of bytes per second, with an optional K, M or G (binary: KiB, MiB, GiB; "/s" allowed). */
export function parseByteRate(text: string): number {
  const m = /^\s*(\d+)\s*(?:([KMG])(?:i?B)?|B)?(?:\/s)?\s*$/i.exec(text);
  const n = m ? Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] ?? ' ').toUpperCase()) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new ConfigError(`--scrub-rate must be a number of bytes per second, e.g. 8M (0: off), not ${text}`);
  return n;
}

// The server's flags: one row per flag (name, environment twins, argument, doc, default) read by
// parseConfig in config.ts, and the `--help` text printed from the same table.
import { DEFAULT_META_POOL, DEFAULT_META_WAIT_S } from './config-meta.js';

export const DEFAULT_ACCESS_KEY = 'rustfsadmin';
export const DEFAULT_SECRET_KEY = 'rustfssecret';
export const MIN_SECRET_LENGTH = 8;

interface FlagSpec {
  flag: string;
  env: string[];
  arg: string;
  doc: string;
  default?: string;
}

export const FLAGS: FlagSpec[] = [
  { flag: 'address', env: ['STRATA_ADDRESS'], arg: 'HOST:PORT', doc: 'address to listen on', default: ':9000' },
  {
    flag: 'data',
    env: ['STRATA_DATA'],
    arg: 'DIR[,DIR…]',
    doc: 'directory for metadata and object data; several (a list, the flag repeated, or /mnt/disk{1...6}): erasure-coded drives',
    default: './data',
  },
  {
    flag: 'parity',
    env: ['STRATA_PARITY'],
    arg: 'N',
    doc: 'with several drives: parity shards of STANDARD objects (default 2–3 drives: mirroring, 4–5: 2, 6–7: 3, 8–16: 4)',
  },
  {
    flag: 'rrs-parity',
    env: ['STRATA_RRS_PARITY'],
    arg: 'N',
    doc: 'with several drives: parity shards of REDUCED_REDUNDANCY objects (default min(2, --parity))',
  },
  { flag: 'access-key', env: ['STRATA_ACCESS_KEY', 'RUSTFS_ACCESS_KEY'], arg: 'KEY', doc: `access key id (default ${DEFAULT_ACCESS_KEY}, with a warning)` },
  {
    flag: 'secret-key',
    env: ['STRATA_SECRET_KEY', 'RUSTFS_SECRET_KEY'],
    arg: 'SECRET',
    doc: `secret access key, ${MIN_SECRET_LENGTH}+ characters (default ${DEFAULT_SECRET_KEY}, with a warning)`,
  },
  {
    flag: 'master-key',
    env: ['STRATA_MASTER_KEY'],
    arg: 'KEY',
    doc: 'key that encrypts stored secrets: NAME:BASE64 or BASE64 of 32 bytes (default: derived from the secret key)',
  },
  { flag: 'region', env: ['STRATA_REGION'], arg: 'NAME', doc: 'region this server answers for', default: 'us-east-1' },
  { flag: 'domain', env: ['STRATA_DOMAIN'], arg: 'D1,D2', doc: 'base domains for virtual-hosted-style requests (bucket.D1)', default: '' },
  { flag: 'log-level', env: ['STRATA_LOG_LEVEL'], arg: 'LEVEL', doc: 'trace, debug, info, warn, error or silent', default: 'info' },
  { flag: 'idle-timeout', env: ['STRATA_IDLE_TIMEOUT'], arg: 'SECONDS', doc: 'close connections idle this long, also mid-request', default: '120' },
  { flag: 'header-timeout', env: ['STRATA_HEADER_TIMEOUT'], arg: 'SECONDS', doc: 'time a client has to send complete request headers', default: '70' },
  { flag: 'cors-origins', env: ['STRATA_CORS_ORIGINS'], arg: 'O1,O2|*', doc: 'CORS for buckets without their own configuration: allowed origins', default: '' },
  {
    flag: 'inline-max',
    env: ['STRATA_INLINE_MAX'],
    arg: 'BYTES',
    doc: 'store objects up to this size inside the metadata database (0: never)',
    default: '131072',
  },
  {
    flag: 'meta',
    env: ['STRATA_META'],
    arg: 'sqlite|URL',
    doc: 'metadata store: SQLite in the data directory, or postgres://USER@HOST:PORT/DB shared by several gateways (docs/cluster.md)',
    default: 'sqlite',
  },
  {
    flag: 'meta-pool',
    env: ['STRATA_META_POOL'],
    arg: 'N',
    doc: `with --meta postgres: connections per server process (each worker its own pool; default ${DEFAULT_META_POOL})`,
  },
  {
    flag: 'meta-wait',
    env: ['STRATA_META_WAIT'],
    arg: 'SECONDS',
    doc: `with --meta postgres: how long a start waits for PostgreSQL to answer (default ${DEFAULT_META_WAIT_S})`,
  },
  { flag: 'shared', env: ['STRATA_SHARED'], arg: 'yes|no', doc: 'share the data directory with other Strata processes (one per core)', default: 'no' },
  {
    flag: 'workers',
    env: ['STRATA_WORKERS'],
    arg: 'N',
    doc: 'server processes serving the port, default one per CPU (1: a single process, no cluster primary)',
  },
  {
    flag: 'free-grace',
    env: ['STRATA_FREE_GRACE'],
    arg: 'SECONDS',
    doc: 'with --shared: keep replaced data this long for readers in other processes',
    default: '60',
  },
  {
    flag: 'abort-uploads-after',
    env: ['STRATA_ABORT_UPLOADS_AFTER'],
    arg: 'DAYS',
    doc: 'abort multipart uploads abandoned this long (0: never)',
    default: '0',
  },
  {
    flag: 'lifecycle-day-seconds',
    env: ['STRATA_LIFECYCLE_DAY_SECONDS'],
    arg: 'SECONDS',
    doc: "length of a lifecycle rule's day; shorter for tests only",
    default: '86400',
  },
  {
    flag: 'scrub-rate',
    env: ['STRATA_SCRUB_RATE'],
    arg: 'BYTES/s',
    doc: 'with several drives: re-verify every shard at this rate (K, M, G suffixes: KiB, MiB, GiB; 0: off)',
    default: '8M',
  },
  { flag: 'certs', env: ['STRATA_CERTS'], arg: 'DIR', doc: 'serve HTTPS with DIR/public.crt and DIR/private.key' },
  { flag: 'tls-cert', env: ['STRATA_TLS_CERT'], arg: 'FILE', doc: 'serve HTTPS with this PEM certificate (chain); needs --tls-key' },
  { flag: 'tls-key', env: ['STRATA_TLS_KEY'], arg: 'FILE', doc: 'PEM private key for --tls-cert' },
  { flag: 'health-address', env: ['STRATA_HEALTH_ADDRESS'], arg: 'HOST:PORT', doc: 'also serve the health endpoints (only) here, plain HTTP' },
  { flag: 'console-address', env: ['STRATA_CONSOLE_ADDRESS'], arg: 'HOST:PORT|off', doc: 'serve the web console here (off: no console)', default: ':9001' },
  { flag: 'console-s3-url', env: ['STRATA_CONSOLE_S3_URL'], arg: 'URL', doc: "the S3 URL the console's share links use (default: from --address)" },
  { flag: 'console-dir', env: ['STRATA_CONSOLE_DIR'], arg: 'DIR', doc: "the console's built files (default: dist/console)" },
  {
    flag: 'sse-c-over-http',
    env: ['STRATA_SSE_C_OVER_HTTP'],
    arg: 'yes|no',
    doc: 'accept SSE-C keys over plain HTTP (for tests on a loopback only)',
    default: 'no',
  },
  {
    flag: 'sse-default',
    env: ['STRATA_SSE_DEFAULT'],
    arg: 'AES256|none',
    doc: 'encrypt new objects without encryption headers with SSE-S3 (needs the key service)',
    default: 'none',
  },
  {
    flag: 'kms-secret-key',
    env: ['STRATA_KMS_SECRET_KEY', 'MINIO_KMS_SECRET_KEY'],
    arg: 'NAME:BASE64',
    doc: 'root key of the built-in key service (SSE-S3, SSE-KMS): 32 bytes of base64; NAME is the default key',
  },
  { flag: 'kms-secret-key-file', env: ['STRATA_KMS_SECRET_KEY_FILE'], arg: 'FILE', doc: 'read the key service root key (NAME:BASE64) from FILE' },
  { flag: 'audit-file', env: ['STRATA_AUDIT_FILE'], arg: 'PATH', doc: 'write an audit record per request to PATH (JSON lines), rotated by size' },
  {
    flag: 'audit-file-max-bytes',
    env: ['STRATA_AUDIT_FILE_MAX_BYTES'],
    arg: 'BYTES',
    doc: 'rotate the audit file before it passes this size',
    default: '104857600',
  },
  { flag: 'audit-file-keep', env: ['STRATA_AUDIT_FILE_KEEP'], arg: 'N', doc: 'rotated audit files kept (PATH.1 … PATH.N)', default: '5' },
  { flag: 'audit-webhook', env: ['STRATA_AUDIT_WEBHOOK'], arg: 'URL', doc: 'POST the audit records in batches (NDJSON) to this http(s) URL' },
  { flag: 'audit-webhook-token', env: ['STRATA_AUDIT_WEBHOOK_TOKEN'], arg: 'TOKEN', doc: 'send Authorization: Bearer TOKEN to the audit webhook' },
  {
    flag: 'audit-webhook-timeout',
    env: ['STRATA_AUDIT_WEBHOOK_TIMEOUT'],
    arg: 'SECONDS',
    doc: 'a webhook POST not answered in this time is retried',
    default: '10',
  },
  {
    flag: 'audit-queue',
    env: ['STRATA_AUDIT_QUEUE'],
    arg: 'N',
    doc: 'audit records held in memory per target before the oldest are dropped',
    default: '10000',
  },
  {
    flag: 'metrics-auth',
    env: ['STRATA_METRICS_AUTH'],
    arg: 'public|bearer|sigv4',
    doc: 'who may read /metrics: anyone, a bearer token, or a SigV4 key allowed admin:Prometheus',
    default: 'sigv4',
  },
  { flag: 'metrics-token', env: ['STRATA_METRICS_TOKEN'], arg: 'TOKEN', doc: 'with --metrics-auth bearer: the token' },
  { flag: 'metrics-token-file', env: ['STRATA_METRICS_TOKEN_FILE'], arg: 'FILE', doc: 'with --metrics-auth bearer: read the token from FILE' },
  { flag: 'etcd', env: ['STRATA_ETCD'], arg: 'URL1,URL2', doc: 'etcd endpoints (http://HOST:PORT): gateway membership, job leader, change notices' },
];

export function helpText(): string {
  const lines = [
    'Usage: strata [flags]   (npm start -- [flags])',
    '       strata admin …   manage users, groups, policies and keys of a running server (strata admin --help)',
    '',
    'Flags (each also read from the environment variables shown):',
  ];
  for (const f of FLAGS) {
    const left = `  --${f.flag} ${f.arg}`;
    const def = f.default !== undefined && f.default !== '' ? ` (default ${f.default})` : '';
    lines.push(`${left.padEnd(28)} ${f.doc}${def}  [${f.env.join(', ')}]`);
  }
  lines.push(`  ${'--help'.padEnd(26)} print this help`);
  return lines.join('\n') + '\n';
}

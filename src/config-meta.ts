// Where the metadata lives (--meta, docs/cluster.md): the embedded SQLite database in the data
// directory (the default, as always), or a PostgreSQL database shared by several gateways
// (`--meta postgres://…`). A sibling of config.ts (which declares the flags and calls this): the
// checks of the PostgreSQL flags and how they combine with --data and --shared.
//
// Pool sizes: every gateway process (each worker of a `--workers N` gateway) opens its own pool of
// `--meta-pool` connections (default DEFAULT_META_POOL), plus one LISTEN connection and, for the
// migration at start, one more for an instant. A deployment needs
//   gateways × workers × (pool + 1) + a margin for the operator's own sessions ≤ max_connections.
// PostgreSQL's default max_connections is 100: two gateways of four workers with the default pool
// (2 × 4 × 11 = 88) fit; more need a smaller pool, a larger max_connections, or a pooler in front.

/** Connections in each gateway process's pool when --meta-pool is not given. */
export const DEFAULT_META_POOL = 10;
/** More connections than this per process is a typo: PostgreSQL pays a process per connection. */
export const MAX_META_POOL = 200;
/** How long a start waits for PostgreSQL to answer before it gives up (default, seconds). */
export const DEFAULT_META_WAIT_S = 30;

/** The metadata store a server uses: absent in Config = SQLite in the data directory. */
export interface PostgresMetaConfig {
  kind: 'postgres';
  /** The connection URL as given (postgres:// or postgresql://); it may hold a password: never logged whole (redactedUrl). */
  url: string;
  /** Connections in this process's pool (--meta-pool). */
  poolSize: number;
  /** How long a start retries an unreachable PostgreSQL before it fails (ms; --meta-wait). */
  startWaitMs: number;
}

/** A problem with the --meta flags, turned into a ConfigError by config.ts. */
export class MetaConfigProblem extends Error {}

/**
 * --meta (URL or `sqlite`/empty: the default), --meta-pool and --meta-wait, checked against the
 * drives and --shared. `sharedGiven`: the value of --shared when the operator gave it (flag or
 * environment), undefined when it is the default.
 */
export function parseMetaConfig(o: {
  meta: string | undefined;
  pool: string | undefined;
  wait: string | undefined;
  drives: number;
  sharedGiven: string | undefined;
}): PostgresMetaConfig | undefined {
  const meta = (o.meta ?? '').trim();
  if (meta === '' || meta.toLowerCase() === 'sqlite') {
    if (o.pool !== undefined) throw new MetaConfigProblem('--meta-pool goes with --meta postgres://… (the SQLite store has no pool)');
    if (o.wait !== undefined) throw new MetaConfigProblem('--meta-wait goes with --meta postgres://…');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(meta);
  } catch {
    throw new MetaConfigProblem(`--meta must be sqlite or a PostgreSQL URL postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, not ${redactedUrl(meta)}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new MetaConfigProblem(`--meta must be sqlite or a postgres:// (postgresql://) URL, not a ${url.protocol.replace(/:$/, '')} URL`);
  if (url.hostname === '' && !url.searchParams.has('host')) throw new MetaConfigProblem('--meta postgres://…: the URL names no host');
  if (o.drives > 1)
    throw new MetaConfigProblem(
      '--meta postgres://… works with one --data directory (shared by every gateway): several drives with PostgreSQL are not supported yet (docs/cluster.md)',
    );
  const shared = o.sharedGiven?.toLowerCase();
  if (shared !== undefined && ['no', 'false', '0'].includes(shared))
    throw new MetaConfigProblem('--shared no contradicts --meta postgres://…: gateways on PostgreSQL always share the data directory (leave --shared out)');
  const poolText = o.pool ?? String(DEFAULT_META_POOL);
  const poolSize = Number(poolText);
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > MAX_META_POOL)
    throw new MetaConfigProblem(`--meta-pool must be a whole number of connections from 1 to ${MAX_META_POOL}`);
  const wait = Number(o.wait ?? String(DEFAULT_META_WAIT_S));
  if (!Number.isFinite(wait) || wait < 0 || wait > 3600) throw new MetaConfigProblem('--meta-wait must be a number of seconds from 0 to 3600');
  return { kind: 'postgres', url: meta, poolSize, startWaitMs: Math.round(wait * 1000) };
}

/** The URL with its password (and a `password` query parameter) replaced by `***`: for logs and messages. */
export function redactedUrl(text: string): string {
  return text.replace(/(\/\/[^:/?#@]*:)[^@/?#]*@/, '$1***@').replace(/([?&]password=)[^&]*/i, '$1***');
}

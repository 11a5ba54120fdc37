// What a server does before it serves, shared by the single process and the cluster primary
// (main.ts dispatches): read the TLS and key-service files (a bad one stops the start with its
// name), open the stores and, once the data-directory lock is held, the startup sweeps, the check
// of stored secrets' key and the seeding of the canned policies; the human start line.
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { type Config, ConfigError, parseKmsSecretKey } from './config.js';
import { seedCannedPolicies } from './iam/canned-policies.js';
import { SecretBox } from './iam/secret-box.js';
import type { RootKey } from './kms/builtin.js';
import { DirDataStore } from './store/data/dir.js';
import type { OpenedDriveSet } from './store/data/erasure/drives.js';
import { metaDriveBoard } from './store/drive-board.js';
import { HealSink } from './store/heal-queue.js';
import { SqliteMetaStore } from './store/meta/sqlite.js';
import type { MetaStore } from './store/types.js';
import { Store } from './store/store.js';

/**
 * Opens the stores of `dataDir` (its lock already held). `alone` (the directory is this server's
 * alone: no --shared, not a worker): what other processes left in the metadata store is stale and
 * every temp file is a leftover, so both go. Not for a worker (`prepare` false), whose primary did
 * it: users' secrets sealed under another key stop the start, and the canned policies are seeded.
 * With `freeGraceMs` > 0 the store follows the shared rules (frees wait, docs/ARCHITECTURE.md).
 */
export async function openStore(
  config: Config,
  dataDir: string,
  log: Logger,
  opts: { alone: boolean; prepare: boolean; freeGraceMs: number; lockDrive?: (path: string) => void },
): Promise<{ store: Store; box: SecretBox; drives?: OpenedDriveSet }> {
  // Several drives: the drive set (format files checked, states kept) and the erasure-coded data
  // store over it (docs/drives.md); the metadata database copied on the first m+1 drives.
  const drives = config.dataDirs.length > 1 ? await openDrives(config, log, opts.lockDrive, opts.prepare) : undefined;
  // Alone on the directory, no other connection commits: cached rows need no data_version check.
  const hot = { othersMayWrite: !opts.alone };
  // --meta postgres://…: the metadata in PostgreSQL (startup-cluster.ts), the directory holds no meta.db.
  const meta: MetaStore = config.meta
    ? await (await import('./startup-cluster.js')).openPostgresMeta(config.meta, dataDir, log)
    : drives
      ? await openCopies(drives, opts.prepare, hot, log)
      : SqliteMetaStore.open(join(dataDir, 'meta.db'), { hot });
  // The drive states are shared through the metadata store (several workers see and act on the
  // same states); the process that opens the set first records its view, a worker applies it.
  if (drives)
    await drives.share(
      metaDriveBoard(
        meta,
        drives.drives.map((d) => d.id),
      ),
      opts.prepare,
    );
  // The erasure modules load only for several drives (a one-directory server does not pay for them).
  // Degraded shards (missing or corrupt at a read, a write short of a drive) go to the heal queue.
  const data = drives
    ? await (await import('./store/data/erasure/store.js')).ErasureDataStore.open(drives, { log, sink: new HealSink(meta.healQueue, log) })
    : await DirDataStore.open(dataDir);
  const store = new Store(meta, data, log, { inlineMax: config.inlineMax, freeGraceMs: opts.freeGraceMs });
  // Users' secrets are sealed with a key from --master-key or, without one, the root secret.
  const box = new SecretBox({ masterKey: config.masterKey, rootSecret: config.secretKey });
  if (!opts.prepare) return { store, box, ...(drives && { drives }) };
  try {
    if (opts.alone) {
      // Shared: the jobs runner removes only old temp files (write intents).
      await store.takeOverAlone();
      const swept = await store.sweepTemp();
      if (swept > 0) log.info({ files: swept }, 'removed leftovers of interrupted uploads');
    }
    // A stored secret sealed under another key makes the start fail, loudly (docs/admin-api.md).
    const foreign = store.identities.secretKeyIds().filter((id) => id !== box.keyId);
    if (foreign.length > 0) {
      throw new Error(
        `stored access-key secrets were sealed with key ${foreign.join(', ')} but this server's key is ${box.keyId}: ` +
          'the secret key changed without a --master-key. Start with the former root secret key as --master-key (STRATA_MASTER_KEY) to read them.',
      );
    }
    // The canned managed policies MinIO users know (readonly, readwrite, writeonly, diagnostics,
    // consoleAdmin) exist by name from the first start: `strata admin user add NAME --policy readonly`.
    await seedCannedPolicies(store.identities, Date.now());
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return { store, box, ...(drives && { drives }) };
}

/**
 * The metadata database and its copies on the set's first m+1 drives (store/meta/mirror.ts): the
 * process that opens the set first chooses the freshest copy and rebuilds the others; a worker
 * follows it. A copy that fails is reported to the drive set (which takes a failed drive offline
 * and probes it); when a copy drive is back (or replaced and adopted), any process gives it a
 * fresh copy and re-admits it while the server runs.
 */
async function openCopies(drives: OpenedDriveSet, start: boolean, hot: { othersMayWrite: boolean }, log: Logger): Promise<SqliteMetaStore> {
  const { MIRRORS, openMirroredMeta } = await import('./store/meta/mirror.js');
  const dirs = await metaDirsOf(drives);
  const driveAt = (dir: string) => drives.drives.find((d) => d.path === dir);
  const meta = await openMirroredMeta(dirs, {
    start,
    hot,
    log,
    createDirs: false,
    copyFailed: (dir, err) => {
      const d = driveAt(dir);
      if (d) drives.failed(d.index, err);
    },
  });
  const mirror = MIRRORS.get(meta);
  if (mirror)
    drives.onChange((d) => {
      const slot = dirs.indexOf(d.path);
      if (slot < 0) return;
      if (d.state === 'offline') {
        const why = drives.drives[d.index]?.reason || 'offline';
        mirror.dropCopy(slot, why).catch((err: unknown) => log.warn({ err, drive: d.path }, 'metadata copy could not be dropped now'));
        return;
      }
      mirror
        .readmit([slot])
        .catch((err: unknown) =>
          log.warn({ err, drive: d.path }, 'metadata copy not rebuilt now; retried when the drive changes state again or at the next start'),
        );
    });
  return meta;
}

/** The drives that hold a copy of the metadata database: the first m+1 (store/meta/mirror.ts). */
async function metaDirsOf(set: OpenedDriveSet): Promise<string[]> {
  const { metaCopyDirs } = await import('./store/meta/mirror.js');
  return metaCopyDirs(
    set.drives.map((d) => d.path),
    set.parity,
  );
}

/**
 * Opens the drive set of --data's drives. The metadata database has a copy on each of the first
 * m+1 drives: an existing set where none of them holds one while shards remain elsewhere must not
 * start over with an empty database (every object would vanish and the orphan sweep would delete
 * their shards), so that start is refused. `first`: this process opens the set first (it warns
 * about drives sharing a file system).
 */
async function openDrives(config: Config, log: Logger, lockDrive: ((path: string) => void) | undefined, first: boolean): Promise<OpenedDriveSet> {
  const { DriveSetError, drivesSharingDevice, openDriveSet } = await import('./store/data/erasure/drives.js');
  const paths = config.dataDirs.map((d) => resolve(d));
  const set = await openDriveSet(paths, {
    log,
    ...(config.parity !== undefined && { parity: config.parity }),
    ...(config.rrsParity !== undefined && { rrsParity: config.rrsParity }),
    ...(lockDrive && { lockDrive }),
  });
  if (!set.created && (await anyShards(set))) {
    const copies = await metaDirsOf(set);
    const held = set.drives.filter((d, i) => i < copies.length && d.state !== 'offline' && existsSync(join(d.path, 'meta.db')));
    if (held.length === 0) {
      set.close();
      throw new DriveSetError(
        `no copy of the metadata database is available (it is kept on ${copies.join(', ')}) while the other drives hold shards: ` +
          "more drives were lost than the set's parity allows, and the objects' metadata with them; put one of those drives back",
      );
    }
  }
  // Once per start (the process that opens the set first): drives meant to be disks that are not.
  const shared = first ? await drivesSharingDevice(set.drives.map((d) => d.path)) : [];
  if (shared.length > 0)
    log.warn(
      { groups: shared },
      'several drives share a file system: the set survives damaged shards, not the loss of that disk, and every metadata write goes to it once per copy; give each drive its own disk (docs/drives.md)',
    );
  return set;
}

/** Whether any available drive holds a shard directory with something in it. */
async function anyShards(set: OpenedDriveSet): Promise<boolean> {
  for (const d of set.drives) {
    if (d.state === 'offline') continue;
    const prefixes = await readdir(join(d.path, 'shards')).catch(() => [] as string[]);
    for (const p of prefixes) if ((await readdir(join(d.path, 'shards', p)).catch(() => [])).length > 0) return true;
  }
  return false;
}

/** `EC k+m` of the set's STANDARD objects, for the start line and the `listening` log. */
export function erasureText(set: OpenedDriveSet): string {
  return `EC ${set.drives.length - set.parity}+${set.parity}`;
}

/**
 * The start line: `Strata is serving S3 at http://127.0.0.1:9000 — data in /abs/dir` (a wildcard
 * address becomes 127.0.0.1, the address a client on this machine uses), plus the warning when the
 * default credentials are in use. On stdout when it is a terminal (the JSON lines are then for the
 * eye too), else on stderr, so that a log collector reading stdout gets only JSON.
 */
/** The URL of a listener for a person or a link: 127.0.0.1 when it listens on every interface. */
export function listenerUrl(host: string, port: number, tls: boolean): string {
  const wildcard = host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
  const h = wildcard ? '127.0.0.1' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${h}:${port}`;
}

export function writeStartLine(o: {
  host: string;
  port: number;
  tls: boolean;
  dataDir: string;
  defaultCredentials: boolean;
  /** The console's listener, when it runs. */
  console?: { host: string; port: number };
  /** Several drives: their paths and `EC k+m`. */
  drives?: { paths: readonly string[]; erasure: string };
}): void {
  const where = o.drives ? `data on ${o.drives.paths.length} drives, ${o.drives.erasure}: ${o.drives.paths.join(', ')}` : `data in ${o.dataDir}`;
  let line = `Strata is serving S3 at ${listenerUrl(o.host, o.port, o.tls)} — ${where}\n`;
  if (o.console) line += `The web console is at ${listenerUrl(o.console.host, o.console.port, o.tls)}\n`;
  if (o.defaultCredentials) {
    line +=
      'WARNING: default credentials in use (access key rustfsadmin, secret key rustfssecret): anyone who knows them can read and write every bucket. Set --access-key/--secret-key for anything but a local test.\n';
  }
  const humanOut = process.stdout.isTTY ? process.stdout : process.stderr;
  humanOut.on('error', () => undefined); // a closed stderr (EPIPE) must not stop the server
  humanOut.write(line);
}

/** The PEM files named by --certs / --tls-cert / --tls-key; a missing file stops the start with its name. */
export function readTlsFiles(files: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return { cert: read('certificate', files.certFile), key: read('private key', files.keyFile) };
}

/** The key service's root key, from --kms-secret-key (checked by parseConfig) or the file --kms-secret-key-file names. */
export function readKmsRootKey(kms: NonNullable<Config['kms']>): RootKey {
  try {
    if ('secretKey' in kms) return parseKmsSecretKey(kms.secretKey, '--kms-secret-key');
    let text: string;
    try {
      text = readFileSync(kms.secretKeyFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read the KMS root key file ${kms.secretKeyFile}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return parseKmsSecretKey(text, `the KMS root key file ${kms.secretKeyFile}`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`strata: ${err.message}\n`);
    process.exit(2);
  }
}

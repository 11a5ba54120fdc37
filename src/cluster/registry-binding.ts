// A data directory belongs to one metadata database (docs/cluster.md, "The data location"): the
// database's namespace id (strata_namespace, migration 0006-gateways) is written into the directory
// (`namespace.json`) by the first gateway, and a gateway whose database holds another id — or a
// directory holding a SQLite metadata database (meta.db: a server without --meta) — is refused
// before it serves. Without this, a gateway pointed at the wrong (or an empty) database would see
// none of the directory's pieces referenced and its orphan sweep would delete every object's data.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syncDir } from '../store/data/erasure/drive-format.js';
import type { PgDb } from '../store/meta/postgres/db.js';

export const NAMESPACE_FILE = 'namespace.json';

export class NamespaceMismatchError extends Error {}

/** Refuses a directory with a SQLite meta.db (no database is touched): before PostgreSQL is opened. */
export function refuseSqliteDir(dataDir: string): void {
  if (existsSync(join(dataDir, 'meta.db')))
    throw new NamespaceMismatchError(
      `the data directory ${dataDir} holds a SQLite metadata database (meta.db): it belongs to a server without --meta. ` +
        'Gateways on PostgreSQL need a data directory of their own (moving a SQLite server to PostgreSQL is not supported yet: docs/cluster.md)',
    );
}

/**
 * Checks (and on the first start records) that `dataDir` belongs to the database `db`. Throws
 * NamespaceMismatchError when it belongs to another.
 */
export async function bindNamespace(db: PgDb, dataDir: string): Promise<string> {
  const [row] = await db.query<{ id: string }>('SELECT id FROM strata_namespace');
  if (!row) throw new NamespaceMismatchError('the database has no namespace id (strata_namespace is empty): was migration 0006-gateways undone?');
  const file = join(dataDir, NAMESPACE_FILE);
  const recorded = await readFile(file, 'utf8').then(
    (text) => (JSON.parse(text) as { namespace?: string }).namespace,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    },
  );
  if (recorded === undefined) {
    await writeDurably(file, `${JSON.stringify({ namespace: row.id, meta: 'postgres' })}\n`);
    return row.id;
  }
  if (recorded !== row.id)
    throw new NamespaceMismatchError(
      `the data directory ${dataDir} belongs to another metadata database (namespace ${recorded}; this database's is ${row.id}): ` +
        'check --meta (or STRATA_META) — a gateway on the wrong database would take every stored object for an orphan',
    );
  return row.id;
}

/** Writes a small file whole or not at all: a temp file fsynced, renamed over, the directory fsynced. */
async function writeDurably(file: string, text: string): Promise<void> {
  const tmp = `${file}.${randomUUID()}.tmp`;
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(file));
}

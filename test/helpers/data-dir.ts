// A look into a test server's data directory from the outside, for tests that damage stored data:
// the piece files of an object, read from the metadata with a read-only SQLite connection (a WAL
// reader does not disturb the running server).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** The piece files of the latest version of `bucket/key`, in order (none for an inline object). */
export function pieceFiles(server: { dataDir: string }, bucket: string, key: string): string[] {
  const db = new Database(join(server.dataDir, 'meta.db'), { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    const row = db.prepare('SELECT data FROM objects WHERE bucket = ? AND key = ? AND is_latest = 1').get(bucket, Buffer.from(key)) as
      | { data: string }
      | undefined;
    assert.ok(row, `no record for ${bucket}/${key}`);
    return (JSON.parse(row.data) as Array<{ id: string }>).map((d) => join(server.dataDir, 'objects', d.id.slice(0, 2), d.id));
  } finally {
    db.close();
  }
}

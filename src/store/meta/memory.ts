// The metadata store for tests that need no file: SqliteMetaStore on an in-memory database (no
// WAL file, no fsync, writes synchronous), so tests run the one real implementation. It replaced a
// hand-written in-memory MetaStore that had to be kept in step with SQLite (issue 10).
import { SqliteMetaStore } from './sqlite.js';

/** A fresh, empty metadata store in memory (one private SQLite database per call). */
export function memoryMetaStore(): SqliteMetaStore {
  return SqliteMetaStore.open(':memory:');
}

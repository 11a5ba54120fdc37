// The SQLite store keeps SQLite's temporary files in memory (temp_store = MEMORY; docs/performance.md,
// "Savepoint journals"). Each object write of a batch runs in a savepoint; with temporary files on
// disk its sub-journal spilled to an unlinked file past 64 KiB, a few pwrite calls per 4 KiB PUT.
// A child process writes batches of 64 inline 4 KiB PUTs with SQLITE_TMPDIR pointed at a watched
// directory: nothing may be created there.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const CHILD = `
const { SqliteMetaStore } = await import(${JSON.stringify(new URL('./sqlite.js', import.meta.url).href)});
const { objectRecord } = await import(${JSON.stringify(new URL('../contract.js', import.meta.url).href)});
const s = SqliteMetaStore.open(process.argv[1]);
await s.createBucket({ name: 'b', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
const body = Buffer.alloc(4096, 7);
for (let round = 0; round < 20; round++)
  await Promise.all(Array.from({ length: 64 }, (_, i) => s.putObject(objectRecord('b', 'k' + (i * 7919 + round) % 1280, { size: 4096, data: [], inline: body }))));
s.close();
`;

describe('SqliteMetaStore temporary files', () => {
  it('batches of 64 savepointed 4 KiB PUTs create no temporary file (temp_store = MEMORY)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-sqlite-temp-'));
    const tmp = join(dir, 'tmp');
    await mkdir(tmp);
    const created: string[] = [];
    const watcher = watch(tmp, (_event, name) => created.push(String(name)));
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, join(dir, 'meta.db')], {
          env: { ...process.env, SQLITE_TMPDIR: tmp },
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        child.on('error', reject);
        child.on('exit', resolve);
      });
      assert.equal(code, 0);
      // inotify events arrive asynchronously: give them a moment.
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(created, [], 'temporary files were created');
    } finally {
      watcher.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

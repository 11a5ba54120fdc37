#!/usr/bin/env node
// In-process: µs per metadata read of the small-request path, without the hot-row cache, with it
// and a data_version check per read (several processes), and with it alone on the directory
// (docs/performance.md, "Round two: the small-request path"). The variants alternate in rounds; the
// figure is each one's median round.   node dist/bench/hot-micro.js [CALLS=20000] [ROUNDS=7]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { SqliteMetaStore } from '../src/store/meta/sqlite.js';
import { ACCESS_CONFIG_NAMES } from '../src/s3/bucket-access.js';

const calls = Math.max(1, Number(process.argv[2] ?? 20_000));
const rounds = Math.max(1, Number(process.argv[3] ?? 7));
const dir = mkdtempSync(join(os.tmpdir(), 'strata-hot-micro-'));
const path = join(dir, 'meta.db');
const variants = {
  'no cache': SqliteMetaStore.open(path, { hot: { limits: false } }),
  'cache, data_version check per request': SqliteMetaStore.open(path),
  'cache, alone on the directory': SqliteMetaStore.open(path, { hot: { othersMayWrite: false } }),
};
const first = Object.values(variants)[0]!;
await first.createBucket({ name: 'bench', region: 'us-east-1', createdAt: 1, versioning: '', owner: 'root', objectLock: false });
const body = Buffer.alloc(4096, 7);
await first.putObject({
  bucket: 'bench',
  key: 'k',
  versionId: 'null',
  isLatest: true,
  isDeleteMarker: false,
  size: body.length,
  etag: '"x"',
  lastModified: 1,
  storageClass: 'STANDARD',
  meta: { contentType: 'application/octet-stream', user: {} },
  data: [],
  inline: body,
});
const reads = {
  'GET (bucket, record + inline bytes)': (m: SqliteMetaStore) => {
    m.requestArrived();
    m.getBucket('bench');
    m.getObject('bench', 'k');
  },
  'HEAD (bucket, record)': (m: SqliteMetaStore) => {
    m.requestArrived();
    m.getBucket('bench');
    m.getObject('bench', 'k', undefined, false);
  },
  'bucket with access documents (a user)': (m: SqliteMetaStore) => {
    m.requestArrived();
    m.getBucketWithConfigs('bench', ACCESS_CONFIG_NAMES);
  },
};
for (const [what, read] of Object.entries(reads)) {
  const times = new Map<string, number[]>(Object.keys(variants).map((v) => [v, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, m] of Object.entries(variants)) {
      for (let i = 0; i < 1000; i++) read(m);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) read(m);
      times.get(name)!.push(Number(process.hrtime.bigint() - t0) / calls / 1000);
    }
  }
  const line = [...times].map(([name, t]) => `${name} ${t.sort((a, b) => a - b)[t.length >> 1]!.toFixed(2)} µs`).join('; ');
  process.stdout.write(`${what}: ${line}\n`);
}
for (const m of Object.values(variants)) await m.close();
rmSync(dir, { recursive: true, force: true });

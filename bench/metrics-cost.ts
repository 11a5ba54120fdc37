#!/usr/bin/env node
// In-process: what the metrics cost per request (docs/performance.md, "Metrics"): ns per
// MetricsRecorder.request (the pipeline's last stage) and per performance.now(); and µs and WAL bytes
// per PutObject metadata write with the usage counters (format 10) against a build without them
// (BASELINE_DIST: another checkout's dist/, e.g. the main branch's), one transaction per write.
// The variants alternate in rounds; each figure is its median round.
//   node dist/bench/metrics-cost.js [CALLS=200000] [ROUNDS=7] [BASELINE_DIST]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { SqliteMetaStore } from '../src/store/meta/sqlite.js';

const calls = Math.max(1, Number(process.argv[2] ?? 200_000));
const rounds = Math.max(1, Number(process.argv[3] ?? 9));
const baselineDist = process.argv[4];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// 1. The recorder: a mix of operations, statuses and latencies like a small-object workload.
const ops = ['GetObject', 'PutObject', 'HeadObject', 'ListObjectsV2', 'DeleteObject'];
const recorder = new MetricsRecorder('bench');
const perCall: number[] = [];
const nowCost: number[] = [];
const dateCost: number[] = [];
let sink = 0;
for (let r = 0; r < rounds; r++) {
  let t = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) recorder.request(ops[i % 5]!, i % 17 === 0 ? 404 : 200, i & 1023, 1024, (i % 100) / 20_000);
  perCall.push(Number(process.hrtime.bigint() - t) / calls);
  t = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) sink += performance.now();
  nowCost.push(Number(process.hrtime.bigint() - t) / calls);
  t = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) sink += Date.now();
  dateCost.push(Number(process.hrtime.bigint() - t) / calls);
}
console.log(`MetricsRecorder.request: ${median(perCall).toFixed(0)} ns per call (median of ${rounds} rounds of ${calls})`);
console.log(`performance.now(): ${median(nowCost).toFixed(0)} ns per call; Date.now(): ${median(dateCost).toFixed(0)} ns${sink < 0 ? '' : ''}`);

// 2. PutObject's metadata write with and without the usage counters.
type Meta = { putObject(rec: unknown): unknown; createBucket(b: unknown): unknown; close(): unknown };
type Opener = { open(path: string, opts: { durability: 'none' }): Meta };
const variants: Array<[string, Opener]> = [['with usage counters', SqliteMetaStore as unknown as Opener]];
if (baselineDist) {
  const mod = (await import(join(baselineDist, 'src/store/meta/sqlite.js'))) as { SqliteMetaStore: Opener };
  variants.push(['baseline (BASELINE_DIST)', mod.SqliteMetaStore]);
}
// Few enough writes that the WAL never reaches its checkpoint (1000 pages): its growth is then every frame written.
const writes = 120;
const dir = mkdtempSync(join(os.tmpdir(), 'strata-metrics-cost-'));
const results = new Map<string, { us: number[]; walBytes: number[] }>();
for (let r = 0; r < rounds; r++) {
  for (const [name, Store] of variants) {
    const path = join(dir, `${r}-${name.replace(/\W+/g, '-')}.db`);
    const s = Store.open(path, { durability: 'none' });
    await s.createBucket({ name: 'bench', region: 'us-east-1', createdAt: 1, versioning: '', owner: 'root', objectLock: false });
    const wal0 = statSync(`${path}-wal`).size;
    const t = process.hrtime.bigint();
    for (let i = 0; i < writes; i++) {
      await s.putObject({
        bucket: 'bench',
        key: `k${i % 500}`,
        versionId: 'null',
        isLatest: true,
        isDeleteMarker: false,
        size: 1024,
        etag: '"e"',
        lastModified: i,
        storageClass: 'STANDARD',
        meta: {},
        data: [{ id: `d${r}-${i}`, size: 1024 }],
      });
    }
    const us = Number(process.hrtime.bigint() - t) / 1000 / writes;
    const walBytes = (statSync(`${path}-wal`).size - wal0) / writes;
    await s.close();
    const e = results.get(name) ?? { us: [], walBytes: [] };
    e.us.push(us);
    e.walBytes.push(walBytes);
    results.set(name, e);
  }
}
for (const [name, e] of results)
  console.log(
    `PutObject metadata write, ${name}: ${median(e.us).toFixed(1)} µs, WAL ${median(e.walBytes).toFixed(0)} bytes (${(median(e.walBytes) / 4120).toFixed(2)} pages) per write, one transaction each`,
  );
rmSync(dir, { recursive: true, force: true });

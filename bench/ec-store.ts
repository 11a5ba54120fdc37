#!/usr/bin/env node
// What erasure coding costs the data store itself (docs/performance.md, "Erasure-coded store"):
// in-process, no HTTP. For a 64 MiB piece: write and read through DirDataStore (one directory) and
// through ErasureDataStore at 4+2 over six directories of the same disk, plus a read with one data
// shard missing (rebuilt from parity). Reported per operation: CPU (user + system of this process,
// process.cpuUsage) — load-independent, unlike the wall time, shown for reference — and the
// event loop's longest stall (perf_hooks.monitorEventLoopDelay), the figure that says whether
// encoding and hashing should leave the event loop. Rounds alternate the stores; medians.
//   node dist/bench/ec-store.js [ROUNDS=5] [MiB=64]
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DirDataStore } from '../src/store/data/dir.js';
import { ErasureDataStore } from '../src/store/data/erasure/store.js';
import type { DriveSet } from '../src/store/data/erasure/types.js';
import type { DataRef, DataStore } from '../src/store/types.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const MIB = Number(process.argv[3] ?? 64);
const SIZE = MIB * 1024 * 1024;
const CHUNK = 64 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const body = Buffer.allocUnsafe(SIZE);
for (let i = 0; i < SIZE; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);

async function* source(): AsyncGenerator<Buffer> {
  for (let off = 0; off < SIZE; off += CHUNK) yield body.subarray(off, off + CHUNK);
}

interface Sample {
  cpuMs: number;
  wallMs: number;
  stallMs: number;
}

async function measure(fn: () => Promise<void>): Promise<Sample> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs, stallMs: h.max / 1e6 };
}

async function drain(it: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const c of it) n += c.length;
  return n;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(os.tmpdir(), 'strata-ec-bench-'));
  try {
    const dir = await DirDataStore.open(join(root, 'dir'));
    const drives = [];
    for (let i = 0; i < 6; i++) {
      await mkdir(join(root, `d${i}`));
      drives.push({ index: i, path: join(root, `d${i}`), id: `d${i}`, state: 'online' as const });
    }
    const set: DriveSet = { id: 'bench', drives, parityFor: () => 2, failed: () => {}, healed: async () => undefined };
    const ec = await ErasureDataStore.open(set);
    const stores: Array<[string, DataStore]> = [
      ['dir', dir],
      ['ec 4+2', ec],
    ];
    const results = new Map<string, Sample[]>();
    const note = (name: string, s: Sample) => results.set(name, [...(results.get(name) ?? []), s]);
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? stores : [...stores].reverse();
      for (const [name, store] of order) {
        let ref: DataRef | undefined;
        note(`${name} write`, await measure(async () => void (ref = await store.write(source()))));
        note(`${name} read`, await measure(async () => void (await drain(store.read(ref!)))));
        if (store === ec) {
          unlinkSync(join(root, 'd1', 'shards', ref!.id.slice(0, 2), ref!.id));
          note(`${name} read, shard 1 missing`, await measure(async () => void (await drain(store.read(ref!)))));
        }
        await store.remove(ref!.id);
      }
    }
    console.log(`${MIB} MiB piece, ${ROUNDS} rounds, medians (CPU = user + system of this process)`);
    console.log('operation                      CPU ms   CPU ms/MiB   wall ms   longest event-loop stall ms');
    for (const [name, samples] of results) {
      const cpu = median(samples.map((s) => s.cpuMs));
      console.log(
        `${name.padEnd(30)} ${cpu.toFixed(0).padStart(6)}   ${(cpu / MIB).toFixed(2).padStart(10)}   ${median(samples.map((s) => s.wallMs))
          .toFixed(0)
          .padStart(7)}   ${median(samples.map((s) => s.stallMs)).toFixed(1)}`,
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();

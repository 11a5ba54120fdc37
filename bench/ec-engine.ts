// The erasure coding engine's microbenchmark (`npm run bench:ec`): encode and reconstruct GiB/s of
// block data for 4+2, 8+4 and the mirroring layouts 1+1 and 1+2, per block size, for every coder
// candidate side by side; then the block hash candidates' GiB/s on shard-sized buffers; then the
// event-loop time per 1 MiB block of the chosen coder (what a 64 MiB PUT spends on it).
//
// In process, single-threaded, many iterations per cell (each cell runs for EC_BENCH_MS, default
// 400 ms, after a warm-up), so it depends little on the load of the machine; still, take it on a
// quiet machine. Candidates that are not the project's dependencies are loaded from the directory
// EC_BENCH_MODULES names (a scratch `npm install` of them, e.g. /tmp/ecx/node_modules) and skipped
// when absent: `EC_BENCH_MODULES=/tmp/ecx/node_modules npm run bench:ec`.
//   @ronomon/reed-solomon               native addon (C, built from source by node-gyp), libuv threadpool
//   @digitaldefiance/reed-solomon-erasure.wasm   the Rust reed-solomon-erasure crate built to wasm
//   @subspace/reed-solomon-erasure.wasm         the same crate, the original (older) wasm build
//     (these two only when EC_BENCH_WASM lists them, comma-separated: a crash in one can take the
//     wasm memory of the package down for the rest of the run)
//   hash-wasm, @node-rs/xxhash          block hash candidates (BLAKE3, xxh3-128)
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createCodec } from '../src/store/data/erasure/codec.js';
import { codingMatrix, combine, invert } from '../src/store/data/erasure/gf256.js';
import { BLOCK_HASH } from '../src/store/data/erasure/block-hash.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const CELL_MS = Number(process.env.EC_BENCH_MS ?? 400);
const LAYOUTS: [number, number][] = [
  [4, 2],
  [8, 4],
  [1, 1],
  [1, 2],
];
const BLOCKS = [256 * KiB, MiB, 4 * MiB];

/** One coder under test: encode k shards to m parity; rebuild the shards marked missing. */
interface Candidate {
  name: string;
  /** Why it cannot run a layout (undefined: it can). */
  cannot?(k: number, m: number, shardLen: number): string | undefined;
  encode(k: number, m: number, data: Buffer[]): Promise<unknown> | unknown;
  reconstruct(k: number, m: number, shards: (Buffer | null)[]): Promise<unknown> | unknown;
}

const extRequire = process.env.EC_BENCH_MODULES ? createRequire(join(process.env.EC_BENCH_MODULES, 'x.js')) : undefined;
const ownRequire = createRequire(import.meta.url);
/** A candidate package: from EC_BENCH_MODULES, else from the project's own dependencies (hash-wasm). */
function load<T>(pkg: string): T | undefined {
  for (const req of [extRequire, ownRequire])
    try {
      if (req) return req(pkg) as T;
    } catch {}
  console.log(`(${pkg} not installed: skipped)`);
  return undefined;
}

/** The same coder with its products in the plain JavaScript loop (gf256.ts `combine`): what SIMD gains. */
function scalarRows(rows: Uint8Array[], inputs: readonly Buffer[], len: number): Buffer[] {
  return rows.map((row) => {
    const out = Buffer.allocUnsafeSlow(len);
    combine(row, inputs, out, len);
    return out;
  });
}

const candidates: Candidate[] = [
  {
    name: 'strata codec.ts (wasm SIMD)',
    encode: (k, m, data) => createCodec(k, m).encode(data),
    reconstruct: (k, m, shards) => createCodec(k, m).reconstruct(shards),
  },
  {
    name: 'strata gf256.ts (JS loop)',
    encode: (k, m, data) => scalarRows(codingMatrix(k, m).slice(k), data, data[0]!.length),
    // The bench loses data shards 0..m-1: rebuild them from the first k present (as codec.ts does).
    reconstruct: (k, m, shards) => {
      const use = shards.flatMap((s, i) => (s ? [i] : [])).slice(0, k);
      const inverse = invert(use.map((i) => codingMatrix(k, m)[i]!));
      const lost = shards.flatMap((s, i) => (s || i >= k ? [] : [i]));
      return scalarRows(
        lost.map((i) => inverse[i]!),
        use.map((i) => shards[i]!),
        shards[use[0]!]!.length,
      );
    },
  },
];

interface Ronomon {
  MAX_K: number;
  MAX_M: number;
  create(k: number, m: number): unknown;
  encode(
    ctx: unknown,
    sources: number,
    targets: number,
    buf: Buffer,
    bo: number,
    bs: number,
    par: Buffer,
    po: number,
    ps: number,
    cb: (e?: Error) => void,
  ): void;
}
const ronomon = load<Ronomon>('@ronomon/reed-solomon');
if (ronomon) {
  const ctxs = new Map<string, unknown>();
  const ctx = (k: number, m: number): unknown => {
    const key = `${k}+${m}`;
    if (!ctxs.has(key)) ctxs.set(key, ronomon.create(k, m));
    return ctxs.get(key);
  };
  // Its shards lie back to back in one data buffer and one parity buffer: the copy in and out is
  // part of what a store with separate shard buffers would pay, so it is timed.
  const run = (k: number, m: number, shards: (Buffer | null)[], targets: number): Promise<void> => {
    const len = shards.find((s) => s)!.length;
    const data = Buffer.allocUnsafe(k * len);
    const parity = Buffer.allocUnsafe(m * len);
    let sources = 0;
    shards.forEach((s, i) => {
      if (!s) return;
      sources |= 1 << i;
      s.copy(i < k ? data : parity, (i < k ? i : i - k) * len);
    });
    return new Promise((resolve, reject) =>
      ronomon.encode(ctx(k, m), sources, targets, data, 0, data.length, parity, 0, parity.length, (e) => (e ? reject(e) : resolve())),
    );
  };
  candidates.push({
    name: 'ronomon (native, threadpool)',
    cannot: (k, m, len) =>
      k > ronomon.MAX_K || m > ronomon.MAX_M ? `k ≤ ${ronomon.MAX_K}, m ≤ ${ronomon.MAX_M}` : len % 8 ? 'shard length not a multiple of 8' : undefined,
    encode: (k, m, data) => {
      let targets = 0;
      for (let i = k; i < k + m; i++) targets |= 1 << i;
      return run(k, m, [...data, ...new Array<null>(m).fill(null)], targets);
    },
    reconstruct: (k, m, shards) => {
      let targets = 0;
      shards.forEach((s, i) => (targets |= s ? 0 : 1 << i));
      return run(k, m, shards, targets);
    },
  });
}

interface RsWasm {
  encode(shards: Uint8Array, k: number, m: number): number;
  reconstruct(shards: Uint8Array, k: number, m: number, available: boolean[]): number;
}
for (const pkg of (process.env.EC_BENCH_WASM ?? '').split(',').filter(Boolean)) {
  const mod = load<{ ReedSolomonErasure: { fromBytes(b: Uint8Array): RsWasm } }>(pkg);
  if (!mod) continue;
  const wasmPath = (extRequire ?? ownRequire).resolve(pkg).replace(/index\.js$/, 'reed_solomon_erasure_bg.wasm');
  const rs = mod.ReedSolomonErasure.fromBytes(readFileSync(wasmPath));
  // Its shards lie back to back in one buffer (copied into wasm memory and back by the package).
  const pack = (shards: (Buffer | null)[]): Uint8Array => {
    const len = shards.find((s) => s)!.length;
    const all = new Uint8Array(len * shards.length);
    shards.forEach((s, i) => s && all.set(s, i * len));
    return all;
  };
  candidates.push({
    name: `${pkg.split('/')[0]} crate (wasm)`,
    encode: (k, m, data) => rs.encode(pack([...data, ...new Array<null>(m).fill(null)]), k, m),
    reconstruct: (k, m, shards) =>
      rs.reconstruct(
        pack(shards),
        k,
        m,
        shards.map((s) => s !== null),
      ),
  });
}

/**
 * Runs `op` for about CELL_MS after a warm-up; answers CPU seconds per call (user + system of the
 * whole process, so a coder's own threads count too): on a loaded machine wall time measures the
 * others' load, CPU time much less so.
 */
async function time(op: () => unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await op();
  let n = 0;
  const cpu0 = process.cpuUsage();
  const until = process.hrtime.bigint() + BigInt(CELL_MS) * 1_000_000n;
  do {
    await op();
    n++;
  } while (process.hrtime.bigint() < until);
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1e6 / n;
}

const gibs = (bytes: number, s: number): string => (bytes / s / GiB).toFixed(2);

async function coders(): Promise<void> {
  console.log(`\n## Reed–Solomon: GiB/s of block data (encode: k data shards in, m parity out; reconstruct: the m first data shards lost)\n`);
  console.log(`| coder | k+m | block | encode | reconstruct |`);
  console.log(`| --- | --- | --- | --- | --- |`);
  for (const [k, m] of LAYOUTS)
    for (const block of BLOCKS) {
      const len = Math.ceil(block / k);
      const data = Array.from({ length: k }, () => randomBytes(len));
      const parity = await createCodec(k, m).encode(data);
      const lost = [...data, ...parity].map((s, i) => (i < m ? null : s));
      for (const c of candidates) {
        const why = c.cannot?.(k, m, len);
        if (why) {
          console.log(`| ${c.name} | ${k}+${m} | ${block / KiB} KiB | — (${why}) | — |`);
          continue;
        }
        const cell = async (op: () => unknown): Promise<string> => {
          try {
            return gibs(block, await time(op));
          } catch (e) {
            return `failed: ${(e as Error).message.split('\n')[0]}`;
          }
        };
        console.log(
          `| ${c.name} | ${k}+${m} | ${block / KiB} KiB | ${await cell(() => c.encode(k, m, data))} | ${await cell(() => c.reconstruct(k, m, lost))} |`,
        );
      }
    }
}

async function hashes(): Promise<void> {
  const list: [string, (b: Buffer) => unknown][] = [
    ['sha256 (node:crypto)', (b) => createHash('sha256').update(b).digest()],
    ['sha512-256 (node:crypto)', (b) => createHash('sha512-256').update(b).digest()],
    ['blake2b512 (node:crypto)', (b) => createHash('blake2b512').update(b).digest()],
    ['md5 (node:crypto, for scale)', (b) => createHash('md5').update(b).digest()],
  ];
  const hw = load<{ createBLAKE3(): Promise<WasmHasher>; createXXHash128(): Promise<WasmHasher> }>('hash-wasm');
  if (hw) {
    const b3 = await hw.createBLAKE3();
    const x128 = await hw.createXXHash128();
    list.push(['blake3 (hash-wasm)', (b) => b3.init().update(b).digest('binary')]);
    list.push(['xxh3-128 (hash-wasm)', (b) => x128.init().update(b).digest('binary')]);
  }
  const nrs = load<{ xxh3: { xxh128(b: Buffer): bigint } }>('@node-rs/xxhash');
  if (nrs) list.push(['xxh3-128 (@node-rs/xxhash, native)', (b) => nrs.xxh3.xxh128(b)]);
  console.log(`\n## Block hash: GiB/s on one shard\n`);
  const sizes = [64 * KiB, 256 * KiB, MiB];
  console.log(`| hash | ${sizes.map((s) => `${s / KiB} KiB`).join(' | ')} |`);
  console.log(`| --- |${sizes.map(() => ' --- |').join('')}`);
  for (const [name, f] of list) {
    const cells: string[] = [];
    for (const size of sizes) {
      const b = randomBytes(size);
      cells.push(gibs(size, await time(() => f(b))));
    }
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
}

interface WasmHasher {
  init(): WasmHasher;
  update(b: Uint8Array): WasmHasher;
  digest(f: 'binary'): Uint8Array;
}

/** Event-loop time of one 1 MiB block as the store would spend it: encode, then hash the k + m shards. */
async function eventLoop(): Promise<void> {
  const hashers: [string, (b: Buffer) => unknown][] = [
    ['sha256', (b) => createHash('sha256').update(b).digest()],
    ['BLOCK_HASH', (b) => BLOCK_HASH.digest(b)],
  ];
  const hw = load<{ createXXHash128(): Promise<WasmHasher> }>('hash-wasm');
  if (hw && BLOCK_HASH.name !== 'xxh3-128') {
    const x128 = await hw.createXXHash128();
    hashers.push(['xxh3-128', (b) => x128.init().update(b).digest('binary')]);
  }
  console.log(`\n## Event-loop time per 1 MiB block (the store's write path: encode, then hash each shard; BLOCK_HASH = ${BLOCK_HASH.name})\n`);
  console.log(`| k+m | encode µs | ${hashers.map(([n]) => `hash µs (${n}, k+m shards)`).join(' | ')} | encode + BLOCK_HASH µs | × 64 for a 64 MiB PUT (ms) |`);
  console.log(`| --- | --- |${hashers.map(() => ' --- |').join('')} --- | --- |`);
  for (const [k, m] of LAYOUTS) {
    const len = Math.ceil(MiB / k);
    const data = Array.from({ length: k }, () => randomBytes(len));
    const codec = createCodec(k, m);
    const enc = await time(() => codec.encode(data));
    const shards = [...data, ...(await codec.encode(data))];
    const hash: number[] = [];
    for (const [, f] of hashers)
      hash.push(
        await time(() => {
          for (const s of shards) f(s);
        }),
      );
    const total = (enc + hash[1]!) * 1e6;
    console.log(
      `| ${k}+${m} | ${(enc * 1e6).toFixed(0)} | ${hash.map((h) => (h * 1e6).toFixed(0)).join(' | ')} | ${total.toFixed(0)} | ${((total * 64) / 1000).toFixed(0)} |`,
    );
  }
}

const only = process.argv[2];
if (!only || only === 'coders') await coders();
if (!only || only === 'hashes') await hashes();
if (!only || only === 'loop') await eventLoop();

// The Reed–Solomon coder of the erasure store (ErasureCodec, types.ts): k data shards and m parity
// shards of one block, any k of them rebuilding the others. The matrix is systematic (data shards
// are the block's bytes as they are) and the one of Backblaze's, klauspost's and the
// reed-solomon-erasure crate's coders (gf256.ts), so parity written here is theirs byte for byte;
// with k = 1 the parity shards are copies (mirroring). The products run in WebAssembly SIMD
// (gf256-simd.ts; docs/performance.md, "Erasure coding engine"), or in plain JavaScript where wasm
// SIMD is missing and for mirroring (copies). Coders are cached per (k, m). Synchronous: a 1 MiB
// block at 4+2 is a fraction of a millisecond of CPU, less than a round trip to a worker thread.
import { takeBlock } from '../block-pool.js';
import type { ErasureCodec } from './types.js';
import { type Matrix, codingMatrix, combine, invert } from './gf256.js';
import { nibbleTables, simdAvailable, simdRows } from './gf256-simd.js';

/** Inverses (and row tables) kept per coder: one per pattern of missing shards met; few happen at once. */
const MAX_CACHED = 64;

/** Rows of a matrix product, with their SIMD tables. */
interface Rows {
  rows: Matrix;
  tables?: Uint8Array;
}

const withTables = (rows: Matrix, k: number): Rows => ({ rows, tables: simdAvailable() && k > 1 ? nibbleTables(rows) : undefined });

class ReedSolomon implements ErasureCodec {
  private readonly matrix: Matrix;
  private readonly parityRows: Rows;
  /** Rows rebuilding some shards from the k shards used, keyed by both. */
  private readonly cached = new Map<string, Rows>();

  constructor(
    readonly k: number,
    readonly m: number,
  ) {
    this.matrix = codingMatrix(k, m);
    this.parityRows = withTables(this.matrix.slice(k), k);
  }

  encode(data: readonly Buffer[]): Buffer[] {
    if (data.length !== this.k) throw new RangeError(`encode: ${data.length} data shards given, ${this.k} expected`);
    const len = sameLength(data);
    return this.rows(this.parityRows, data, len);
  }

  reconstruct(shards: readonly (Buffer | null)[]): Buffer[] {
    return this.rebuild(shards, true);
  }

  reconstructData(shards: readonly (Buffer | null)[]): Buffer[] {
    return this.rebuild(shards, false).slice(0, this.k);
  }

  /** The shards with the missing data shards rebuilt, and the missing parity too when `parity`. */
  private rebuild(shards: readonly (Buffer | null)[], parity: boolean): Buffer[] {
    const { k, m } = this;
    if (shards.length !== k + m) throw new RangeError(`reconstruct: ${shards.length} shards given, ${k + m} expected`);
    const present: number[] = [];
    for (let i = 0; i < shards.length; i++) if (shards[i]) present.push(i);
    if (present.length < k) throw new RangeError(`reconstruct: ${present.length} shards present, at least ${k} needed`);
    const len = sameLength(present.map((i) => shards[i]!));
    if (present.length === k + m) return shards.slice() as Buffer[];
    const out = shards.slice() as (Buffer | null)[];
    const lostData: number[] = [];
    for (let i = 0; i < k; i++) if (!out[i]) lostData.push(i);
    if (lostData.length > 0) {
      const use = present.slice(0, k);
      // Each rebuilt data shard in a buffer of its own from the block pool: a GET sends it, then
      // hands it back (block-pool.ts).
      const rebuilt = this.rows(
        this.decoding(use, lostData),
        use.map((i) => shards[i]!),
        len,
        true,
      );
      lostData.forEach((i, n) => (out[i] = rebuilt[n]!));
    }
    const lostParity: number[] = [];
    if (parity) for (let i = k; i < k + m; i++) if (!out[i]) lostParity.push(i);
    if (lostParity.length > 0) {
      const rebuilt = this.rows(
        this.cache(`p:${lostParity}`, () => lostParity.map((i) => this.matrix[i]!)),
        out.slice(0, k) as Buffer[],
        len,
      );
      lostParity.forEach((i, n) => (out[i] = rebuilt[n]!));
    }
    return out as Buffer[];
  }

  /** Rows rebuilding data shards `lost` from shards `use` (k of them): those rows of the inverse of `use`'s rows. */
  private decoding(use: number[], lost: number[]): Rows {
    return this.cache(`d:${use}:${lost}`, () => {
      const inverse = invert(use.map((i) => this.matrix[i]!));
      return lost.map((i) => inverse[i]!);
    });
  }

  private cache(key: string, make: () => Matrix): Rows {
    let r = this.cached.get(key);
    if (!r) {
      r = withTables(make(), this.k);
      if (this.cached.size >= MAX_CACHED) this.cached.delete(this.cached.keys().next().value!);
      this.cached.set(key, r);
    }
    return r;
  }

  /** One output shard per row: row · inputs. The outputs share one allocation (`pooled`: each its own, from the block pool). */
  private rows({ rows, tables }: Rows, inputs: readonly Buffer[], len: number, pooled = false): Buffer[] {
    let outs: Buffer[];
    if (pooled) outs = rows.map(() => takeBlock(len));
    else {
      const slab = Buffer.allocUnsafeSlow(rows.length * len);
      outs = rows.map((_, r) => slab.subarray(r * len, (r + 1) * len));
    }
    if (tables) simdRows(tables, rows.length, inputs, outs, len);
    else rows.forEach((row, r) => combine(row, inputs, outs[r]!, len));
    return outs;
  }
}

function sameLength(shards: readonly Buffer[]): number {
  const len = shards[0]?.length ?? 0;
  for (const s of shards) if (s.length !== len) throw new RangeError(`shards of different lengths (${len} and ${s.length})`);
  return len;
}

const codecs = new Map<string, ErasureCodec>();

/** The coder of k data and m parity shards (1 ≤ k, 0 ≤ m, k + m ≤ 256), one per (k, m). */
export function createCodec(k: number, m: number): ErasureCodec {
  if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 0 || k + m > 256) throw new RangeError(`erasure codec: bad k=${k}, m=${m}`);
  const key = `${k}+${m}`;
  let c = codecs.get(key);
  if (!c) codecs.set(key, (c = new ReedSolomon(k, m)));
  return c;
}

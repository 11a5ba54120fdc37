// The Reed–Solomon coder of the erasure store (ErasureCodec, types.ts): k data shards and m parity
// shards of one block, any k of them rebuilding the others. The matrix is systematic (data shards
// are the block's bytes as they are) and the one of Backblaze's, klauspost's and the
// reed-solomon-erasure crate's coders (gf256.ts), so parity written here is theirs byte for byte;
// with k = 1 the parity shards are copies (mirroring). Coders are cached per (k, m).
import type { ErasureCodec } from './types.js';
import { type Matrix, codingMatrix, combine, invert } from './gf256.js';

/** Inverses kept per coder (one per pattern of missing shards met; few patterns happen at once). */
const MAX_INVERSES = 64;

class ReedSolomon implements ErasureCodec {
  private readonly matrix: Matrix;
  private readonly parityRows: Matrix;
  /** Rows rebuilding the data shards from the k present shards named by the key. */
  private readonly inverses = new Map<string, Matrix>();

  constructor(
    readonly k: number,
    readonly m: number,
  ) {
    this.matrix = codingMatrix(k, m);
    this.parityRows = this.matrix.slice(k);
  }

  encode(data: readonly Buffer[]): Buffer[] {
    if (data.length !== this.k) throw new RangeError(`encode: ${data.length} data shards given, ${this.k} expected`);
    const len = sameLength(data);
    return this.rows(this.parityRows, data, len);
  }

  reconstruct(shards: readonly (Buffer | null)[]): Buffer[] {
    const { k, m } = this;
    if (shards.length !== k + m) throw new RangeError(`reconstruct: ${shards.length} shards given, ${k + m} expected`);
    const present: number[] = [];
    for (let i = 0; i < shards.length; i++) if (shards[i]) present.push(i);
    if (present.length < k) throw new RangeError(`reconstruct: ${present.length} shards present, at least ${k} needed`);
    const len = sameLength(present.map((i) => shards[i]!));
    if (present.length === k + m) return shards as Buffer[];
    const out = shards.slice() as (Buffer | null)[];
    const lostData: number[] = [];
    for (let i = 0; i < k; i++) if (!out[i]) lostData.push(i);
    if (lostData.length > 0) {
      const use = present.slice(0, k);
      const decode = this.inverse(use);
      const rebuilt = this.rows(
        lostData.map((i) => decode[i]!),
        use.map((i) => shards[i]!),
        len,
      );
      lostData.forEach((i, n) => (out[i] = rebuilt[n]!));
    }
    const lostParity: number[] = [];
    for (let i = k; i < k + m; i++) if (!out[i]) lostParity.push(i);
    if (lostParity.length > 0) {
      const rebuilt = this.rows(
        lostParity.map((i) => this.matrix[i]!),
        out.slice(0, k) as Buffer[],
        len,
      );
      lostParity.forEach((i, n) => (out[i] = rebuilt[n]!));
    }
    return out as Buffer[];
  }

  /** The inverse of the coding matrix's rows `use` (k shard indexes): data = inverse · those shards. */
  private inverse(use: number[]): Matrix {
    const key = use.join(',');
    let d = this.inverses.get(key);
    if (!d) {
      d = invert(use.map((i) => this.matrix[i]!));
      if (this.inverses.size >= MAX_INVERSES) this.inverses.delete(this.inverses.keys().next().value!);
      this.inverses.set(key, d);
    }
    return d;
  }

  /** One output shard per row: row · inputs. The outputs share one allocation. */
  private rows(rows: Matrix, inputs: readonly Buffer[], len: number): Buffer[] {
    const slab = Buffer.allocUnsafeSlow(rows.length * len);
    return rows.map((row, r) => {
      const out = slab.subarray(r * len, (r + 1) * len);
      combine(row, inputs, out, len);
      return out;
    });
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

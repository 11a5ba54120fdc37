// The Reed–Solomon coder (codec.ts): encode, then rebuild from every pattern of up to m missing
// shards; mirroring; bad input; known answers pinning the matrix (parity is on disk: it must never
// change) and the block hash.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { BLOCK_HASH, blockHashNamed } from './block-hash.js';
import { giveBack, pooledLent } from '../block-pool.js';
import { createCodec } from './codec.js';
import { codingMatrix, combine, invert, mul, multiply, identity } from './gf256.js';
import { nibbleTables, simdAvailable, simdRows } from './gf256-simd.js';

/** Deterministic bytes (SHAKE-256 of the seed: failures reproduce). */
const bytes = (len: number, seed: number): Buffer => createHash('shake256', { outputLength: len }).update(`codec ${seed}`).digest();

/** Every subset of {0..n-1} with at most `max` members. */
function subsets(n: number, max: number): number[][] {
  const out: number[][] = [];
  for (let mask = 0; mask < 1 << n; mask++) {
    const s: number[] = [];
    for (let i = 0; i < n; i++) if (mask & (1 << i)) s.push(i);
    if (s.length <= max) out.push(s);
  }
  return out;
}

async function roundTrip(k: number, m: number, len: number, lost: number[][]): Promise<void> {
  const codec = createCodec(k, m);
  const data = Array.from({ length: k }, (_, i) => bytes(len, k * 100 + m * 10 + i));
  const parity = await codec.encode(data);
  assert.equal(parity.length, m);
  for (const p of parity) assert.equal(p.length, len);
  const all = [...data, ...parity];
  for (const missing of lost) {
    const given = all.map((s, i) => (missing.includes(i) ? null : Buffer.from(s)));
    const out = await codec.reconstruct(given);
    assert.equal(out.length, k + m);
    for (let i = 0; i < k + m; i++) assert.ok(out[i]!.equals(all[i]!), `${k}+${m}, lost [${missing}]: shard ${i} differs`);
  }
}

describe('erasure codec', () => {
  it('4+2: every pattern of up to 2 missing shards rebuilds all six (odd length too)', async () => {
    await roundTrip(4, 2, 4096, subsets(6, 2));
    await roundTrip(4, 2, 1001, subsets(6, 2));
  });

  it('8+4: patterns of up to 4 missing shards, data and parity, rebuild all twelve', async () => {
    const lost = subsets(12, 4).filter((_, i) => i % 7 === 0);
    lost.push([0, 1, 2, 3], [8, 9, 10, 11], [0, 5, 9, 11], [7]);
    await roundTrip(8, 4, 3000, lost);
    // More parity rows than one kernel call computes (4), and the widest set (16 drives).
    await roundTrip(10, 6, 513, [
      [0, 1, 2, 3, 4, 5],
      [10, 11, 12, 13, 14, 15],
      [1, 3, 5, 10, 12, 14],
    ]);
    await roundTrip(8, 8, 100, [
      [0, 1, 2, 3, 4, 5, 6, 7],
      [2, 9],
    ]);
  });

  it('1+1 and 1+2 are mirroring: parity shards are copies of the data', async () => {
    for (const m of [1, 2]) {
      const data = bytes(777, m);
      const parity = await createCodec(1, m).encode([data]);
      for (const p of parity) assert.ok(p.equals(data));
      await roundTrip(1, m, 777, subsets(1 + m, m));
    }
  });

  it('m = 0 encodes nothing; empty shards are fine; codecs are cached per (k, m)', async () => {
    assert.deepEqual(await createCodec(3, 0).encode([bytes(5, 1), bytes(5, 2), bytes(5, 3)]), []);
    const empty = await createCodec(2, 1).encode([Buffer.alloc(0), Buffer.alloc(0)]);
    assert.equal(empty[0]!.length, 0);
    assert.equal(createCodec(4, 2), createCodec(4, 2));
    assert.notEqual(createCodec(4, 2), createCodec(2, 4));
  });

  it('fewer than k present, wrong counts or lengths, and bad (k, m) throw', async () => {
    const codec = createCodec(4, 2);
    const data = Array.from({ length: 4 }, (_, i) => bytes(64, i));
    const all = [...data, ...(await codec.encode(data))];
    assert.throws(() => codec.reconstruct([null, null, null, all[3]!, all[4]!, all[5]!]), /3 shards present, at least 4/);
    assert.throws(() => codec.reconstruct(all.slice(0, 5)), /5 shards given, 6 expected/);
    assert.throws(() => codec.reconstruct([...all.slice(0, 5), Buffer.alloc(63)]), /different lengths/);
    assert.throws(() => codec.encode(data.slice(0, 3)), /3 data shards given, 4 expected/);
    assert.throws(() => codec.encode([...data.slice(0, 3), Buffer.alloc(1)]), /different lengths/);
    for (const [k, m] of [
      [0, 2],
      [2, -1],
      [200, 57],
      [1.5, 1],
    ] as const)
      assert.throws(() => createCodec(k, m), /bad k/);
  });

  it('reconstruct gives back the present shards as they are and does not change its input', async () => {
    const codec = createCodec(4, 2);
    const data = Array.from({ length: 4 }, (_, i) => bytes(100, 50 + i));
    const all = [...data, ...(await codec.encode(data))];
    const given = [all[0]!, null, all[2]!, all[3]!, null, all[5]!];
    const out = await codec.reconstruct(given);
    assert.equal(out[0], all[0]);
    assert.equal(given[1], null);
  });

  it('reconstructData answers the k data shards only (present ones as given, lost ones rebuilt into pooled buffers)', async () => {
    const codec = createCodec(4, 2);
    const len = 256 * 1024;
    const data = Array.from({ length: 4 }, (_, i) => bytes(len, 30 + i));
    const parity = await codec.encode(data);
    const before = pooledLent();
    const out = await codec.reconstructData([data[0]!, null, data[2]!, data[3]!, parity[0]!, null]);
    assert.equal(out.length, 4);
    assert.equal(out[0], data[0]);
    assert.equal(out[3], data[3]);
    assert.ok(out[1]!.equals(data[1]!));
    // The rebuilt shard is a loan of the block pool (a GET hands it back once sent).
    assert.equal(pooledLent(), before + 1);
    giveBack(out[1]!);
    const full = await codec.reconstruct([data[0]!, null, data[2]!, data[3]!, parity[0]!, null]);
    assert.ok(full[5]!.equals(parity[1]!));
  });

  it('answers are fresh buffers: later calls (which reuse the wasm memory) leave them as they were', async () => {
    const codec = createCodec(4, 2);
    const a = Array.from({ length: 4 }, (_, i) => bytes(40_000, 70 + i));
    const b = Array.from({ length: 4 }, (_, i) => bytes(40_000, 80 + i));
    const pa = await codec.encode(a);
    const copy = pa.map((p) => Buffer.from(p));
    const ra = await codec.reconstruct([null, a[1]!, a[2]!, a[3]!, null, pa[1]!]);
    await codec.encode(b);
    await codec.reconstruct([null, null, b[2]!, b[3]!, ...(await codec.encode(b))]);
    pa.forEach((p, i) => assert.ok(p.equals(copy[i]!), `parity ${i} changed`));
    assert.ok(ra[0]!.equals(a[0]!) && ra[4]!.equals(copy[0]!));
  });

  it('known answers: the field, the 4+2 matrix and its parity (parity is on disk: it must never change)', async () => {
    assert.equal(mul(2, 0x80), 0x1d);
    assert.equal(mul(3, 7), 9);
    const rows = codingMatrix(4, 2).map((r) => Buffer.from(r).toString('hex'));
    assert.deepEqual(rows.slice(0, 4), ['01000000', '00010000', '00000100', '00000001']);
    // The parity rows of the Vandermonde-derived matrix (checked against the reed-solomon-erasure crate's 4+2, built to wasm).
    assert.deepEqual(rows.slice(4), ['1b1c1214', '1c1b1412']);
    const m = codingMatrix(8, 4);
    assert.deepEqual(multiply(invert(m.slice(2, 10)), m.slice(2, 10)), identity(8));
    const data = [0, 1, 2, 3].map((i) => Buffer.from([i + 1, 0x10 * i, 0xff, i]));
    const parity = await createCodec(4, 2).encode(data);
    assert.deepEqual(
      parity.map((p) => p.toString('hex')),
      [PARITY_0, PARITY_1],
    );
  });

  it('known answers at 8+4, 6+3 and 10+6: the parity of the reed-solomon-erasure crate (its wasm build), byte for byte', async () => {
    const want: Record<string, string> = {
      '8+4': '4b43ac1d309a3c50ecbb29a6f94ec3bb57fc8f536c3756a6c80b6a6caa3dcbb8',
      '6+3': 'eb65320a825156c45c68959c28ad962f4a186250cd0cff2da1bbbc94e84e4b71',
      '10+6': '57ca826ebdcd691a959e5ece1be21bc1f6b68bf9a7c1d44b936a4cd94b6a7385',
    };
    for (const [k, m] of [
      [8, 4],
      [6, 3],
      [10, 6],
    ] as const) {
      const data = Array.from({ length: k }, (_, i) => bytes(1000, 900 + i));
      const parity = await createCodec(k, m).encode(data);
      // SHA-256 of the m parity shards back to back.
      assert.equal(createHash('sha256').update(Buffer.concat(parity)).digest('hex'), want[`${k}+${m}`], `${k}+${m}`);
    }
  });

  it('the wasm SIMD kernel equals the JavaScript loop for 1 to 9 rows, any coefficients, any length (strips included)', () => {
    assert.ok(simdAvailable(), 'Node 20 has wasm SIMD: the fast path must be the one tested');
    let seed = 1;
    for (const n of [1, 2, 3, 5, 8, 17])
      for (const nRows of [1, 2, 3, 4, 5, 6, 9])
        for (const len of [0, 1, 15, 16, 33, 4096, 32 * 1024 + 7, 100_000]) {
          const rows = Array.from({ length: nRows }, () => bytes(n, seed++));
          rows[0]![0] = 0;
          if (n > 1) rows[nRows - 1]![1] = 1;
          const inputs = Array.from({ length: n }, () => bytes(len, seed++));
          const outs = rows.map(() => Buffer.alloc(len, 0xaa));
          simdRows(nibbleTables(rows), nRows, inputs, outs, len);
          rows.forEach((row, r) => {
            const want = Buffer.alloc(len);
            combine(row, inputs, want, len);
            assert.ok(outs[r]!.equals(want), `n=${n} rows=${nRows} len=${len}: row ${r} differs`);
          });
        }
  });

  it('the block hash is XXH3-128: known answers (canonical digests of the xxHash spec), name, size; SHA-256 still named', () => {
    assert.equal(BLOCK_HASH.name, 'xxh3-128');
    assert.equal(BLOCK_HASH.size, 16);
    assert.equal(BLOCK_HASH.digest(Buffer.alloc(0)).toString('hex'), '99aa06d3014798d86001c324468d497f');
    // Checked against @node-rs/xxhash (the xxHash C library) for the same inputs.
    assert.equal(BLOCK_HASH.digest(Buffer.from('abc')).toString('hex'), '06b05ab6733a618578af5f94892f3950');
    assert.equal(BLOCK_HASH.digest(Buffer.from('x'.repeat(1000))).toString('hex'), '50a1af5a5f2dcf01c0a4877b962cba82');
    const big = bytes(1 << 20, 9);
    const d = BLOCK_HASH.digest(big);
    assert.equal(d.length, 16);
    assert.ok(d.equals(BLOCK_HASH.digest(Buffer.from(big))), 'deterministic');
    big[12345]! ^= 1;
    assert.ok(!d.equals(BLOCK_HASH.digest(big)), 'one flipped bit changes the digest');
    assert.equal(blockHashNamed('xxh3-128'), BLOCK_HASH);
    const sha = blockHashNamed('sha256')!;
    assert.equal(sha.size, 32);
    assert.equal(sha.digest(Buffer.from('abc')).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.ok(sha.digest(big).equals(createHash('sha256').update(big).digest()));
    assert.equal(blockHashNamed('md5'), undefined);
  });
});

/** The crate's parity of those four 4-byte shards (its wasm build, @digitaldefiance/reed-solomon-erasure.wasm 1.0.2). */
const PARITY_0 = '4540ff04';
const PARITY_1 = '5e50ff05';

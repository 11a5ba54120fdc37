// The Reed–Solomon coder (codec.ts): encode, then rebuild from every pattern of up to m missing
// shards; mirroring; bad input; known answers pinning the matrix (parity is on disk: it must never
// change) and the block hash.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { BLOCK_HASH } from './block-hash.js';
import { createCodec } from './codec.js';
import { codingMatrix, invert, mul, multiply, identity } from './gf256.js';

/** Deterministic bytes (a seeded generator: failures reproduce). */
function bytes(len: number, seed: number): Buffer {
  const b = Buffer.alloc(len);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

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

  it('the block hash is SHA-256: known answer and name', () => {
    assert.equal(BLOCK_HASH.name, 'sha256');
    assert.equal(BLOCK_HASH.size, 32);
    assert.equal(BLOCK_HASH.digest(Buffer.from('abc')).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const big = bytes(1 << 20, 9);
    assert.ok(BLOCK_HASH.digest(big).equals(createHash('sha256').update(big).digest()));
  });
});

/** The crate's parity of those four 4-byte shards (its wasm build, @digitaldefiance/reed-solomon-erasure.wasm 1.0.2). */
const PARITY_0 = '4540ff04';
const PARITY_1 = '5e50ff05';

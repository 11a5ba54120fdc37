// The hot loop of the Reed–Solomon coder in WebAssembly SIMD: one output shard = Σ c_j · input_j
// over GF(2^8), 16 bytes at a time, with the split-nibble method (a product c·x is c·(x & 15) XOR
// c·(x >> 4 << 4); each half is one 16-entry table lookup, which `i8x16.swizzle` does for 16 bytes
// at once — the PSHUFB technique of ISA-L, klauspost/reedsolomon and the reed-solomon-simd crate).
// The module (functions computing 1 to 4 output rows at once) is assembled below from its instructions: no toolchain, no
// binary blob. Its memory holds the tables, the inputs and the outputs of one call; the caller
// copies shards in and out (memcpy speed), since wasm code reads only its own memory.
import { mul } from './gf256.js';

// --- the module's bytes -------------------------------------------------------------------------
const I32 = 0x7f;
const V128 = 0x7b;
const SIMD = 0xfd;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, d],
  brIf: (d: number) => [0x0d, d],
  get: (l: number) => [0x20, l],
  set: (l: number) => [0x21, l],
  tee: (l: number) => [0x22, l],
  i32: (n: number) => [0x41, ...sleb(n)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  geU: [0x4f],
  eqz: [0x45],
  /** v128.load / v128.store with alignment hint 0 and a byte offset. */
  load: (off = 0) => [SIMD, 0x00, 0, ...uleb(off)],
  store: (off = 0) => [SIMD, 0x0b, 0, ...uleb(off)],
  v128: (bytes: number[]) => [SIMD, 0x0c, ...bytes],
  swizzle: [SIMD, 0x0e],
  and: [SIMD, 0x4e],
  xor: [SIMD, 0x51],
  shrU8: [SIMD, 0x6d],
};

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s)];

/** Most output rows one call computes (each input vector is loaded and split once for all of them). */
const MAX_ROWS = 4;

// rowsR(tab, src, stride, n, dst, len), one function per R = 1..MAX_ROWS: for i in [0, len) by 32
// (two vectors per turn: each table is loaded once for both), for each output row r < R: the 32
// bytes at dst + r·stride + i receive the XOR over j < n of swizzle(lo_jr, in_j & 15) ^
// swizzle(hi_jr, in_j >> 4), where in_j = the bytes at src + j·stride + i and lo_jr, hi_jr are the
// 32 bytes at tab + 32·(j·R + r) (rows interleaved per input: their offsets are constants).
const [TAB, SRC, STRIDE, N, DST, LEN, I, J, P, T] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const [LO0, HI0, LO1, HI1, TL, TH, MASK, ACC] = [10, 11, 12, 13, 14, 15, 16, 17];
function kernelBody(rows: number): number[] {
  const acc = (r: number, half: number): number => ACC + 2 * r + half;
  const perRow: number[] = [];
  for (let r = 0; r < rows; r++) {
    perRow.push(...op.get(T), ...op.load(r * 32), ...op.set(TL), ...op.get(T), ...op.load(r * 32 + 16), ...op.set(TH));
    for (const [half, lo, hi] of [
      [0, LO0, HI0],
      [1, LO1, HI1],
    ] as const)
      perRow.push(
        ...op.get(acc(r, half)),
        ...[...op.get(TL), ...op.get(lo), ...op.swizzle, ...op.xor],
        ...[...op.get(TH), ...op.get(hi), ...op.swizzle, ...op.xor],
        ...op.set(acc(r, half)),
      );
  }
  const zero: number[] = [];
  const store: number[] = [];
  for (let r = 0; r < rows; r++)
    for (let half = 0; half < 2; half++) {
      zero.push(...op.v128(new Array(16).fill(0)), ...op.set(acc(r, half)));
      store.push(
        ...op.get(DST),
        ...op.get(I),
        ...op.add,
        ...op.get(STRIDE),
        ...op.i32(r),
        ...op.mul,
        ...op.add,
        ...op.get(acc(r, half)),
        ...op.store(half * 16),
      );
    }
  const split = (off: number, lo: number, hi: number): number[] => [
    ...[...op.get(P), ...op.load(off), ...op.get(MASK), ...op.and, ...op.set(lo)],
    ...[...op.get(P), ...op.load(off), ...op.i32(4), ...op.shrU8, ...op.set(hi)],
  ];
  return [
    ...[2, ...uleb(4), I32, ...uleb(7 + 2 * rows), V128], // locals: i, j, p, t (i32); lo0, hi0, lo1, hi1, tl, th, mask, acc_r,half (v128)
    ...[...op.v128(new Array(16).fill(0x0f)), ...op.set(MASK)],
    ...op.block,
    ...op.loop,
    ...[...op.get(I), ...op.get(LEN), ...op.geU, ...op.brIf(1)],
    ...zero,
    ...[...op.get(SRC), ...op.get(I), ...op.add, ...op.set(P)],
    ...[...op.get(TAB), ...op.set(T)],
    ...[...op.get(N), ...op.set(J)],
    ...op.block,
    ...op.loop,
    ...[...op.get(J), ...op.eqz, ...op.brIf(1)],
    ...split(0, LO0, HI0),
    ...split(16, LO1, HI1),
    ...perRow,
    ...[...op.get(P), ...op.get(STRIDE), ...op.add, ...op.set(P)],
    ...[...op.get(T), ...op.i32(32 * rows), ...op.add, ...op.set(T)],
    ...[...op.get(J), ...op.i32(1), ...op.sub, ...op.set(J)],
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...store,
    ...[...op.get(I), ...op.i32(32), ...op.add, ...op.set(I)],
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...op.end,
  ];
}
const kernels = Array.from({ length: MAX_ROWS }, (_, r) => kernelBody(r + 1));
const MODULE = Uint8Array.from([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(1, [1, 0x60, 6, I32, I32, I32, I32, I32, I32, 0]),
  ...section(2, [1, ...name('e'), ...name('m'), 0x02, 0x00, 1]),
  ...section(3, [MAX_ROWS, ...kernels.map(() => 0)]),
  ...section(7, [MAX_ROWS, ...kernels.flatMap((_, r) => [...name(`rows${r + 1}`), 0x00, r])]),
  ...section(10, [MAX_ROWS, ...kernels.flatMap((k) => [...uleb(k.length), ...k])]),
]);

// --- running it ---------------------------------------------------------------------------------
const PAGE = 65536;
type Rows = (tab: number, src: number, stride: number, n: number, dst: number, len: number) => void;
let memory: WebAssembly.Memory | undefined;
/** kernel[R - 1] computes R rows. */
let kernel: Rows[] | undefined;
try {
  memory = new WebAssembly.Memory({ initial: 1 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE), { e: { m: memory } });
  kernel = kernels.map((_, r) => instance.exports[`rows${r + 1}`] as Rows);
} catch {
  // No WebAssembly SIMD here: the coder stays on its JavaScript loop (gf256.ts `combine`).
  memory = undefined;
}

/** Whether the SIMD kernel runs in this process. */
export const simdAvailable = (): boolean => kernel !== undefined;

/**
 * The 32 table bytes (products by the 16 low nibbles, then by the 16 high ones) of each coefficient,
 * in the order the kernels read them: the rows in groups of MAX_ROWS, each group's tables
 * interleaved per input (input j's tables of the group's rows side by side).
 */
export function nibbleTables(rows: readonly Uint8Array[]): Uint8Array {
  const n = rows[0]?.length ?? 0;
  const out = new Uint8Array(rows.length * n * 32);
  for (let g = 0; g < rows.length; g += MAX_ROWS) {
    const size = Math.min(MAX_ROWS, rows.length - g);
    for (let j = 0; j < n; j++)
      for (let r = 0; r < size; r++) {
        const c = rows[g + r]![j]!;
        const base = (g * n + j * size + r) * 32;
        for (let x = 0; x < 16; x++) {
          out[base + x] = mul(c, x);
          out[base + 16 + x] = mul(c, x << 4);
        }
      }
  }
  return out;
}

const round16 = (n: number): number => (n + 15) & ~15;
const round32 = (n: number): number => (n + 31) & ~31;

/**
 * Bytes of each shard per pass: the strips of the inputs and outputs of one pass (12 × 32 KiB at
 * 8+4) stay in the CPU's cache between the copy in, the products and the copy out, and the wasm
 * memory stays small whatever the block size.
 */
const STRIP = 32 * 1024;

/**
 * outputs[r] = rows[r] · inputs for every row (the k inputs and the outputs of `len` bytes).
 * `tables` = nibbleTables(rows). The outputs are written into `outputs` (Buffers of ≥ len bytes).
 */
export function simdRows(tables: Uint8Array, nRows: number, inputs: readonly Uint8Array[], outputs: readonly Uint8Array[], len: number): void {
  const n = inputs.length;
  const srcAt = round16(tables.length);
  const dstAt = srcAt + n * STRIP;
  const need = dstAt + nRows * STRIP;
  const mem = memory!;
  if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / PAGE));
  const heap = new Uint8Array(mem.buffer);
  heap.set(tables, 0);
  for (let off = 0; off < len; off += STRIP) {
    const w = Math.min(STRIP, len - off);
    for (let j = 0; j < n; j++) heap.set(inputs[j]!.subarray(off, off + w), srcAt + j * STRIP);
    for (let r = 0; r < nRows; r += MAX_ROWS) kernel![Math.min(MAX_ROWS, nRows - r) - 1]!(r * n * 32, srcAt, STRIP, n, dstAt + r * STRIP, round32(w));
    for (let r = 0; r < nRows; r++) outputs[r]!.set(heap.subarray(dstAt + r * STRIP, dstAt + r * STRIP + w), off);
  }
}

// Arithmetic in GF(2^8) (the field of Reed–Solomon over bytes: reducing polynomial x^8+x^4+x^3+x^2+1,
// 0x11d, generator 2 — the field of Backblaze's, klauspost's and the reed-solomon-erasure crate's
// coders) and the small matrices the codec builds from it: the coding matrix and the inverses that
// rebuild lost shards. Slices of bytes are multiplied through a 64 KiB product table (one row of 256
// products per coefficient).

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
}

export function mul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!;
}

export function inv(a: number): number {
  if (a === 0) throw new RangeError('gf256: 0 has no inverse');
  return EXP[255 - LOG[a]!]!;
}

/** a^n (with 0^0 = 1, as a Vandermonde matrix wants). */
export function pow(a: number, n: number): number {
  if (n === 0) return 1;
  if (a === 0) return 0;
  return EXP[(LOG[a]! * n) % 255]!;
}

/** MUL[c * 256 + x] = c·x: the products by c are the 256 bytes from c * 256. */
const MUL = new Uint8Array(256 * 256);
for (let c = 0; c < 256; c++) for (let x = 0; x < 256; x++) MUL[c * 256 + x] = mul(c, x);

/** A matrix over the field: rows of bytes. */
export type Matrix = Uint8Array[];

export function identity(n: number): Matrix {
  return Array.from({ length: n }, (_, r) => {
    const row = new Uint8Array(n);
    row[r] = 1;
    return row;
  });
}

export function multiply(a: Matrix, b: Matrix): Matrix {
  const inner = b.length;
  const cols = b[0]!.length;
  return a.map((ar) => {
    const out = new Uint8Array(cols);
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let i = 0; i < inner; i++) s ^= mul(ar[i]!, b[i]![c]!);
      out[c] = s;
    }
    return out;
  });
}

/** The inverse of a square matrix (Gauss–Jordan); a singular one throws. */
export function invert(a: Matrix): Matrix {
  const n = a.length;
  const m = a.map((r) => Uint8Array.from(r));
  const out = identity(n);
  for (let col = 0; col < n; col++) {
    let p = col;
    while (p < n && m[p]![col] === 0) p++;
    if (p === n) throw new RangeError('gf256: singular matrix');
    [m[col], m[p]] = [m[p]!, m[col]!];
    [out[col], out[p]] = [out[p]!, out[col]!];
    const f = inv(m[col]![col]!);
    for (let c = 0; c < n; c++) {
      m[col]![c] = mul(m[col]![c]!, f);
      out[col]![c] = mul(out[col]![c]!, f);
    }
    for (let r = 0; r < n; r++) {
      const g = m[r]![col]!;
      if (r === col || g === 0) continue;
      for (let c = 0; c < n; c++) {
        m[r]![c]! ^= mul(g, m[col]![c]!);
        out[r]![c]! ^= mul(g, out[col]![c]!);
      }
    }
  }
  return out;
}

/**
 * The systematic coding matrix of k data and m parity shards: (k+m)×k, the identity on top, parity
 * rows below. Built as V·V_top⁻¹ from the Vandermonde matrix V[r][c] = r^c (Backblaze's and the
 * reed-solomon-erasure crate's construction): any k rows of V are a Vandermonde matrix on distinct
 * points, so invertible, and stay so after the product — any k shards rebuild the others. With
 * k = 1 every parity row is [1]: the parity shards are copies (mirroring).
 */
export function codingMatrix(k: number, m: number): Matrix {
  const v: Matrix = Array.from({ length: k + m }, (_, r) => Uint8Array.from({ length: k }, (_, c) => pow(r, c)));
  return multiply(v, invert(v.slice(0, k)));
}

/**
 * out = Σ coef[j]·inputs[j] over bytes [0, len) — one output row of a matrix product over shards.
 * The first nonzero term is written, the others added (XOR); a coefficient of 1 is a plain XOR.
 */
export function combine(coef: Uint8Array, inputs: readonly Uint8Array[], out: Uint8Array, len: number): void {
  let first = true;
  for (let j = 0; j < inputs.length; j++) {
    const c = coef[j]!;
    if (c === 0) continue;
    const d = inputs[j]!;
    if (first) {
      if (c === 1) out.set(d.subarray(0, len));
      else {
        const t = MUL.subarray(c * 256, c * 256 + 256);
        for (let i = 0; i < len; i++) out[i] = t[d[i]!]!;
      }
      first = false;
    } else if (c === 1) xorInto(out, d, len);
    else {
      const t = MUL.subarray(c * 256, c * 256 + 256);
      for (let i = 0; i < len; i++) out[i]! ^= t[d[i]!]!;
    }
  }
  if (first) out.fill(0, 0, len);
}

/** out ^= d over [0, len), four bytes at a time where both are aligned. */
function xorInto(out: Uint8Array, d: Uint8Array, len: number): void {
  let i = 0;
  if (out.byteOffset % 4 === 0 && d.byteOffset % 4 === 0) {
    const n = len >>> 2;
    const o32 = new Uint32Array(out.buffer, out.byteOffset, n);
    const d32 = new Uint32Array(d.buffer, d.byteOffset, n);
    for (let w = 0; w < n; w++) o32[w]! ^= d32[w]!;
    i = n << 2;
  }
  for (; i < len; i++) out[i]! ^= d[i]!;
}

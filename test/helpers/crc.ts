// Table-driven CRC32, CRC32C and CRC64NVME written for the tests, independent of the server's
// checksum code (src/s3/checksums.ts and the libraries it uses), so expected checksums are never
// computed by the code under test. Checked against the standard "123456789" check values
// (CRC32 cbf43926, CRC32C e3069283, CRC64/NVME ae8b14860a799888) by checkCrcVectors().
import assert from 'node:assert/strict';

function table32(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

const CRC32_TABLE = table32(0xedb88320); // reflected 0x04C11DB7
const CRC32C_TABLE = table32(0x82f63b78); // reflected 0x1EDC6F41 (Castagnoli)

function crc32With(table: Uint32Array, data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones) as two 32-bit halves. */
const CRC64_TABLE = (() => {
  const hi = new Uint32Array(256);
  const lo = new Uint32Array(256);
  const P_HI = 0x9a6c9329;
  const P_LO = 0xac4bc9b5;
  for (let n = 0; n < 256; n++) {
    let h = 0;
    let l = n;
    for (let k = 0; k < 8; k++) {
      const bit = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (bit) {
        h = (h ^ P_HI) >>> 0;
        l = (l ^ P_LO) >>> 0;
      }
    }
    hi[n] = h;
    lo[n] = l;
  }
  return { hi, lo };
})();

function crc64nvme(data: Uint8Array): Buffer {
  let h = 0xffffffff;
  let l = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    const idx = (l ^ data[i]!) & 0xff;
    // (crc >>> 8) ^ table[idx], on a 64-bit value split into h:l
    const nl = ((l >>> 8) | ((h & 0xff) << 24)) >>> 0;
    const nh = h >>> 8;
    l = (nl ^ CRC64_TABLE.lo[idx]!) >>> 0;
    h = (nh ^ CRC64_TABLE.hi[idx]!) >>> 0;
  }
  const out = Buffer.alloc(8);
  out.writeUInt32BE((h ^ 0xffffffff) >>> 0, 0);
  out.writeUInt32BE((l ^ 0xffffffff) >>> 0, 4);
  return out;
}

export type CrcAlgorithm = 'crc32' | 'crc32c' | 'crc64nvme';

/** The checksum's bytes, big-endian (as S3 base64-encodes them). */
export function crcBytes(alg: CrcAlgorithm, data: Uint8Array): Buffer {
  if (alg === 'crc64nvme') return crc64nvme(data);
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32With(alg === 'crc32' ? CRC32_TABLE : CRC32C_TABLE, data), 0);
  return out;
}

/** The checksum as S3 sends it (base64 of the big-endian bytes). */
export const crcBase64 = (alg: CrcAlgorithm, data: Uint8Array): string => crcBytes(alg, data).toString('base64');

/** S3's COMPOSITE multipart checksum: the algorithm over the concatenated part checksums, then -N. */
export function compositeBase64(alg: CrcAlgorithm, parts: Uint8Array[]): string {
  return `${crcBase64(alg, Buffer.concat(parts.map((p) => crcBytes(alg, p))))}-${parts.length}`;
}

/** Asserts the standard check values, so a wrong table here cannot agree with a wrong server. */
export function checkCrcVectors(): void {
  const v = Buffer.from('123456789');
  assert.equal(crcBytes('crc32', v).toString('hex'), 'cbf43926');
  assert.equal(crcBytes('crc32c', v).toString('hex'), 'e3069283');
  assert.equal(crcBytes('crc64nvme', v).toString('hex'), 'ae8b14860a799888');
}

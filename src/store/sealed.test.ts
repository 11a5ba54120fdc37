// The sealed-piece format (sealed.ts): sizes both ways, round trips of every range across package
// boundaries, and every kind of tampering — a flipped byte anywhere, packages swapped, a piece cut
// short or lengthened, another key, another piece's header — refused with DataCorrupt.
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { StoreError } from './errors.js';
import { openSealed, openSealedBuffer, plainSize, SEALED_HEADER_BYTES, SEALED_TAG_BYTES, sealBuffer, sealedSize, sealStream } from './sealed.js';

const KEY = randomBytes(32);
const LOG2 = 10; // 1 KiB packages: many boundaries with small buffers
const PKG = 1024;

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(c);
  return Buffer.concat(out);
}

/** A reader over a buffer that yields [from, to] in uneven chunks, as a file read may. */
function reader(buf: Buffer): (from: number, to: number) => AsyncIterable<Buffer> {
  return async function* (from, to) {
    let at = from;
    let step = 7;
    while (at <= to) {
      const n = Math.min(step, to - at + 1);
      yield buf.subarray(at, at + n);
      at += n;
      step = (step * 3) % 1500 || 1;
    }
  };
}

async function* chunks(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

const isCorrupt = (err: unknown): boolean => err instanceof StoreError && err.code === 'DataCorrupt';

describe('sealed pieces', () => {
  it('sizes: sealedSize and plainSize are inverse; sizes between are no sealed size', () => {
    for (const n of [0, 1, PKG - 1, PKG, PKG + 1, 3 * PKG, 3 * PKG + 5]) {
      const s = sealedSize(n, LOG2);
      assert.equal(s, SEALED_HEADER_BYTES + n + SEALED_TAG_BYTES * Math.max(1, Math.ceil(n / PKG)));
      assert.equal(plainSize(s, LOG2), n);
    }
    assert.equal(plainSize(SEALED_HEADER_BYTES + PKG + SEALED_TAG_BYTES + 5, LOG2), -1, 'a package of 5 bytes with no tag');
    assert.equal(plainSize(10, LOG2), -1);
  });

  it('streamed and buffered sealing give pieces of the same size that open to the plaintext', async () => {
    for (const n of [0, 1, PKG - 1, PKG, PKG + 1, 5 * PKG + 17]) {
      const plain = randomBytes(n);
      for (const chunk of [1, 100, PKG, 4096]) {
        const sealed = await collect(sealStream(chunks(plain, chunk), KEY, 'piece-1', LOG2));
        assert.equal(sealed.length, sealedSize(n, LOG2), `n=${n} chunk=${chunk}`);
        if (n > 0) assert.deepEqual(await collect(openSealed(reader(sealed), n, KEY, 'piece-1', 0, n - 1, 'p', LOG2)), plain);
      }
      const buffered = sealBuffer(plain, KEY, LOG2);
      assert.equal(buffered.length, sealedSize(n, LOG2));
      assert.notDeepEqual(buffered.subarray(SEALED_HEADER_BYTES, SEALED_HEADER_BYTES + n), plain.length > 8 ? plain : Buffer.alloc(1), 'not plaintext');
    }
  });

  it('every range across package boundaries reads exactly its bytes', async () => {
    const n = 4 * PKG + 100;
    const plain = randomBytes(n);
    const sealed = sealBuffer(plain, KEY, LOG2);
    const points = [0, 1, PKG - 1, PKG, PKG + 1, 2 * PKG - 1, 2 * PKG, 3 * PKG + 7, 4 * PKG, n - 1];
    for (const start of points) {
      for (const end of points) {
        if (end < start) continue;
        assert.deepEqual(await collect(openSealed(reader(sealed), n, KEY, '', start, end, 'p', LOG2)), plain.subarray(start, end + 1), `${start}-${end}`);
      }
    }
  });

  it('a flipped byte anywhere in the piece is refused, for a read covering it', async () => {
    const n = 3 * PKG + 10;
    const plain = randomBytes(n);
    const sealed = sealBuffer(plain, KEY, LOG2);
    for (let at = 0; at < sealed.length; at += 37) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x01;
      await assert.rejects(collect(openSealed(reader(bad), n, KEY, '', 0, n - 1, 'p', LOG2)), isCorrupt, `byte ${at}`);
    }
  });

  it('packages swapped, a piece cut or lengthened, another key or another header → DataCorrupt', async () => {
    const n = 3 * PKG;
    const plain = randomBytes(n);
    const sealed = sealBuffer(plain, KEY, LOG2);
    const stride = PKG + SEALED_TAG_BYTES;
    const swapped = Buffer.from(sealed);
    sealed.copy(swapped, SEALED_HEADER_BYTES, SEALED_HEADER_BYTES + stride, SEALED_HEADER_BYTES + 2 * stride);
    sealed.copy(swapped, SEALED_HEADER_BYTES + stride, SEALED_HEADER_BYTES, SEALED_HEADER_BYTES + stride);
    await assert.rejects(collect(openSealed(reader(swapped), n, KEY, '', 0, n - 1, 'p', LOG2)), isCorrupt);
    // The piece cut after two whole packages: read as a piece of 2 packages, the second is not marked last.
    const cut = sealed.subarray(0, SEALED_HEADER_BYTES + 2 * stride);
    await assert.rejects(collect(openSealed(reader(cut), 2 * PKG, KEY, '', 0, 2 * PKG - 1, 'p', LOG2)), isCorrupt);
    // Read as longer than it is: the reader ends early.
    await assert.rejects(collect(openSealed(reader(sealed.subarray(0, sealed.length - 1)), n, KEY, '', 0, n - 1, 'p', LOG2)), isCorrupt);
    await assert.rejects(collect(openSealed(reader(sealed), n, randomBytes(32), '', 0, n - 1, 'p', LOG2)), isCorrupt);
    const other = sealBuffer(plain, KEY, LOG2);
    const mixed = Buffer.concat([other.subarray(0, SEALED_HEADER_BYTES), sealed.subarray(SEALED_HEADER_BYTES)]);
    await assert.rejects(
      collect(openSealed(reader(mixed), n, KEY, '', PKG, PKG + 5, 'p', LOG2)),
      isCorrupt,
      'a range read past the first package checks the header too',
    );
    assert.throws(() => openSealedBuffer(sealed.subarray(1), n, KEY, 0, 1, 'p', LOG2), isCorrupt);
    assert.throws(() => openSealedBuffer(swapped, n, KEY, PKG, PKG + 1, 'p', LOG2), isCorrupt);
    assert.deepEqual(openSealedBuffer(sealed, n, KEY, PKG - 1, 2 * PKG, 'p', LOG2), plain.subarray(PKG - 1, 2 * PKG + 1));
  });

  it('a damaged package fails only the reads that cover it: ranges elsewhere still read right', async () => {
    const n = 4 * PKG + 3;
    const plain = randomBytes(n);
    const sealed = sealBuffer(plain, KEY, LOG2);
    const bad = Buffer.from(sealed);
    bad[SEALED_HEADER_BYTES + 2 * (PKG + SEALED_TAG_BYTES) + 5]! ^= 0x80; // package 2
    for (const [a, b] of [
      [0, 2 * PKG - 1],
      [3 * PKG, n - 1],
      [PKG + 1, PKG + 1],
    ] as Array<[number, number]>) {
      assert.deepEqual(await collect(openSealed(reader(bad), n, KEY, '', a, b, 'p', LOG2)), plain.subarray(a, b + 1), `${a}-${b}`);
    }
    for (const [a, b] of [
      [2 * PKG, 2 * PKG],
      [2 * PKG - 1, 2 * PKG],
      [0, n - 1],
    ] as Array<[number, number]>) {
      await assert.rejects(collect(openSealed(reader(bad), n, KEY, '', a, b, 'p', LOG2)), isCorrupt, `${a}-${b}`);
    }
    // Bytes up to the damaged package are yielded before it is refused, never a byte of it.
    const got: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of openSealed(reader(bad), n, KEY, '', 0, n - 1, 'p', LOG2)) got.push(c);
      })(),
      isCorrupt,
    );
    assert.deepEqual(Buffer.concat(got), plain.subarray(0, 2 * PKG));
  });

  it('every piece has its own key: the same plaintext under the same data key seals to other bytes', () => {
    const plain = Buffer.alloc(3 * PKG, 0x61);
    const a = sealBuffer(plain, KEY, LOG2);
    const b = sealBuffer(plain, KEY, LOG2);
    assert.notDeepEqual(a.subarray(8, SEALED_HEADER_BYTES), b.subarray(8, SEALED_HEADER_BYTES), 'salts differ');
    assert.notDeepEqual(a.subarray(SEALED_HEADER_BYTES), b.subarray(SEALED_HEADER_BYTES));
    // No plaintext run survives in the sealed bytes.
    assert.equal(a.indexOf(Buffer.alloc(16, 0x61)), -1);
  });

  it('an empty piece is authenticated too; a header changed in its reserved bytes, version or package size → DataCorrupt', async () => {
    const empty = sealBuffer(Buffer.alloc(0), KEY, LOG2);
    assert.equal(empty.length, sealedSize(0, LOG2));
    assert.equal(openSealedBuffer(empty, 0, KEY, 0, 0, 'p', LOG2).length, 0);
    const flipped = Buffer.from(empty);
    flipped[SEALED_HEADER_BYTES + 3]! ^= 0x01;
    assert.throws(() => openSealedBuffer(flipped, 0, KEY, 0, 0, 'p', LOG2), isCorrupt);
    assert.throws(() => openSealedBuffer(empty, 0, randomBytes(32), 0, 0, 'p', LOG2), isCorrupt);
    const n = 2 * PKG + 1;
    const sealed = sealBuffer(randomBytes(n), KEY, LOG2);
    for (const at of [0, 4, 5, 6, 7, 20]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x01;
      await assert.rejects(collect(openSealed(reader(bad), n, KEY, '', PKG + 1, n - 1, 'p', LOG2)), isCorrupt, `header byte ${at}`);
      assert.throws(() => openSealedBuffer(bad, n, KEY, 0, 0, 'p', LOG2), isCorrupt, `header byte ${at} (buffer)`);
    }
  });

  it('a reader yielding more than the range asked for → DataCorrupt, not another package tried', async () => {
    const n = 2 * PKG;
    const sealed = sealBuffer(randomBytes(n), KEY, LOG2);
    const longer = (from: number, to: number) => reader(Buffer.concat([sealed, sealed]))(from, to + PKG);
    await assert.rejects(collect(openSealed(longer, n, KEY, '', 0, PKG - 1, 'p', LOG2)), isCorrupt);
  });

  it('a streamed piece opens only under its own id: two pieces of one data key and one size exchanged → DataCorrupt', async () => {
    const n = 2 * PKG + 9;
    const a = randomBytes(n);
    const b = randomBytes(n);
    const pa = await collect(sealStream(chunks(a, 500), KEY, 'id-a', LOG2));
    const pb = await collect(sealStream(chunks(b, 500), KEY, 'id-b', LOG2));
    assert.deepEqual(await collect(openSealed(reader(pa), n, KEY, 'id-a', 0, n - 1, 'p', LOG2)), a);
    // pb's file where pa's was (a multipart upload's two parts swapped on disk): refused, whole and ranged.
    await assert.rejects(collect(openSealed(reader(pb), n, KEY, 'id-a', 0, n - 1, 'p', LOG2)), isCorrupt);
    await assert.rejects(collect(openSealed(reader(pb), n, KEY, 'id-a', PKG + 1, PKG + 2, 'p', LOG2)), isCorrupt);
    await assert.rejects(collect(openSealed(reader(pa), n, KEY, '', 0, 0, 'p', LOG2)), isCorrupt, 'nor as an inline piece');
  });

  it('the format as documented: HKDF-SHA256 piece key, AES-256-GCM per package, nonce = index, AAD = header | last', async () => {
    const n = 2 * PKG + 3;
    const plain = randomBytes(n);
    const sealed = await collect(sealStream(chunks(plain, 700), KEY, 'piece-7', LOG2));
    const header = sealed.subarray(0, SEALED_HEADER_BYTES);
    assert.deepEqual([...header.subarray(0, 8)], [...Buffer.from('STRS'), 1, LOG2, 0, 0]);
    const key = Buffer.from(hkdfSync('sha256', KEY, header.subarray(8), 'strata sealed piece v1\0piece-7', 32));
    const opened: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const at = SEALED_HEADER_BYTES + i * (PKG + SEALED_TAG_BYTES);
      const len = Math.min(PKG, n - i * PKG);
      const iv = Buffer.alloc(12);
      iv.writeUInt32BE(i, 8);
      const d = createDecipheriv('aes-256-gcm', key, iv);
      d.setAAD(Buffer.concat([header, Buffer.from([i === 2 ? 1 : 0])]));
      d.setAuthTag(sealed.subarray(at + len, at + len + SEALED_TAG_BYTES));
      opened.push(d.update(sealed.subarray(at, at + len)), d.final());
    }
    assert.deepEqual(Buffer.concat(opened), plain);
  });

  it("inline pieces (sealBuffer) as documented: version 2, the data key itself, nonce = the header's 12-byte base with the index XORed into its last 4 bytes, 12 zero bytes, AAD = header | last", async () => {
    const n = 2 * PKG + 3;
    const plain = randomBytes(n);
    const sealed = sealBuffer(plain, KEY, LOG2);
    const header = sealed.subarray(0, SEALED_HEADER_BYTES);
    assert.deepEqual([...header.subarray(0, 8)], [...Buffer.from('STRS'), 2, LOG2, 0, 0]);
    assert.deepEqual([...header.subarray(20)], new Array(12).fill(0));
    const opened: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const at = SEALED_HEADER_BYTES + i * (PKG + SEALED_TAG_BYTES);
      const len = Math.min(PKG, n - i * PKG);
      const iv = Buffer.from(header.subarray(8, 20));
      iv.writeUInt32BE((iv.readUInt32BE(8) ^ i) >>> 0, 8);
      const d = createDecipheriv('aes-256-gcm', KEY, iv);
      d.setAAD(Buffer.concat([header, Buffer.from([i === 2 ? 1 : 0])]));
      d.setAuthTag(sealed.subarray(at + len, at + len + SEALED_TAG_BYTES));
      opened.push(d.update(sealed.subarray(at, at + len)), d.final());
    }
    assert.deepEqual(Buffer.concat(opened), plain);
    // A version 2 piece never opens as a data file's (a piece id given), nor with its reserved bytes set.
    await assert.rejects(collect(openSealed(reader(sealed), n, KEY, 'piece-1', 0, n - 1, 'p', LOG2)), isCorrupt);
    const reserved = Buffer.from(sealed);
    reserved[31]! ^= 1;
    assert.throws(() => openSealedBuffer(reserved, n, KEY, 0, n - 1, 'p', LOG2), isCorrupt);
  });

  it('inline pieces written before version 2 (version 1: HKDF piece key of id "", nonce = index) still open, whole and ranged, and refuse damage', () => {
    for (const n of [0, 5, PKG, 2 * PKG + 3]) {
      const plain = randomBytes(n);
      const header = Buffer.alloc(SEALED_HEADER_BYTES);
      Buffer.from('STRS').copy(header);
      header[4] = 1;
      header[5] = LOG2;
      randomBytes(24).copy(header, 8);
      const key = Buffer.from(hkdfSync('sha256', KEY, header.subarray(8), 'strata sealed piece v1\0', 32));
      const parts: Buffer[] = [header];
      const count = Math.max(1, Math.ceil(n / PKG));
      for (let i = 0; i < count; i++) {
        const iv = Buffer.alloc(12);
        iv.writeUInt32BE(i, 8);
        const c = createCipheriv('aes-256-gcm', key, iv);
        c.setAAD(Buffer.concat([header, Buffer.from([i === count - 1 ? 1 : 0])]));
        parts.push(c.update(plain.subarray(i * PKG, (i + 1) * PKG)), c.final(), c.getAuthTag());
      }
      const v1 = Buffer.concat(parts);
      assert.equal(v1.length, sealedSize(n, LOG2));
      if (n === 0) {
        assert.equal(openSealedBuffer(v1, 0, KEY, 0, 0, 'p', LOG2).length, 0);
        continue;
      }
      assert.deepEqual(openSealedBuffer(v1, n, KEY, 0, n - 1, 'p', LOG2), plain);
      assert.deepEqual(openSealedBuffer(v1, n, KEY, 1, n - 2 || 1, 'p', LOG2), plain.subarray(1, (n - 2 || 1) + 1));
      const bad = Buffer.from(v1);
      bad[SEALED_HEADER_BYTES + 1]! ^= 0x80;
      assert.throws(() => openSealedBuffer(bad, n, KEY, 0, n - 1, 'p', LOG2), isCorrupt);
    }
  });

  it('large reads: ranges opened from chunks of many packages; sealing yields few large buffers', async () => {
    const n = 40 * PKG + 100;
    const plain = randomBytes(n);
    const parts: Buffer[] = [];
    for await (const c of sealStream(chunks(plain, 100), KEY, 'p1', LOG2)) parts.push(c);
    // Header and 16 packages per buffer: what the data store writes stays large.
    assert.equal(parts.length, 3);
    const sealed = Buffer.concat(parts);
    assert.equal(sealed.length, sealedSize(n, LOG2));
    const whole = async function* (from: number, to: number) {
      yield sealed.subarray(from, to + 1);
    };
    const by3000 = (from: number, to: number) => chunks(sealed.subarray(from, to + 1), 3000);
    for (const read of [whole, by3000]) {
      for (const [start, end] of [
        [0, n - 1],
        [1, n - 2],
        [PKG - 1, 5 * PKG],
        [7 * PKG + 3, 7 * PKG + 3],
        [39 * PKG, n - 1],
      ] as const) {
        assert.deepEqual(await collect(openSealed(read, n, KEY, 'p1', start, end, 'p', LOG2)), plain.subarray(start, end + 1), `${start}-${end}`);
      }
    }
    // A flipped byte in the fifth package of one big chunk: nothing of that chunk is yielded.
    const bad = Buffer.from(sealed);
    bad[SEALED_HEADER_BYTES + 4 * (PKG + SEALED_TAG_BYTES) + 10]! ^= 0x80;
    let yielded = 0;
    await assert.rejects(
      (async () => {
        const one = async function* (from: number, to: number) {
          yield bad.subarray(from, to + 1);
        };
        for await (const c of openSealed(one, n, KEY, 'p1', 0, n - 1, 'p', LOG2)) yielded += c.length;
      })(),
      isCorrupt,
    );
    assert.equal(yielded, 0);
  });
});

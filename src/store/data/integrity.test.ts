// Piece format 1 and verified reads of DirDataStore: the file layout, damage of every kind
// (truncated, extended, a flipped byte in data / header / footer, deleted) refused with PieceError
// before a damaged block is yielded, ranges that do or do not touch a damaged block, legacy pieces.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, open, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { PieceError, type PieceFault } from '../errors.js';
import type { DataRef } from '../types.js';
import { setHashOffload } from '../hash-offload.js';
import { DirDataStore } from './dir.js';
import { XXH3_128 } from './erasure/block-hash.js';
import { BLOCK_SIZE, BlockHasher, HEADER_SIZE, PIECE_MAGIC, footerSize, pieceFileSize } from './piece-format.js';

const MiB = 1024 * 1024;

function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + (i >> 12)) & 0xff;
  return b;
}

async function* chunks(buf: Buffer, size = 65_536): AsyncGenerator<Buffer> {
  for (let off = 0; off < buf.length; off += size) yield buf.subarray(off, off + size);
}

async function readAll(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(c);
  return Buffer.concat(out);
}

/** Reads, collecting what was yielded before the failure; resolves with the PieceError's fault. */
async function failure(it: AsyncIterable<Buffer>): Promise<{ fault: PieceFault; message: string; yielded: Buffer }> {
  const out: Buffer[] = [];
  try {
    for await (const c of it) out.push(c);
  } catch (err) {
    assert.ok(err instanceof PieceError, `expected a PieceError, got ${String(err)}`);
    return { fault: err.fault, message: err.message, yielded: Buffer.concat(out) };
  }
  assert.fail(`the read succeeded (${Buffer.concat(out).length} bytes) instead of failing`);
}

async function flipByte(file: string, position: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, position);
    b[0]! ^= 0x01;
    await fh.write(b, 0, 1, position);
  } finally {
    await fh.close();
  }
}

describe('DirDataStore piece format 1 and verified reads', () => {
  let root: string;
  let store: DirDataStore;
  const fileOf = (ref: DataRef) => join(root, 'objects', ref.id.slice(0, 2), ref.id);
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'strata-integrity-'));
    store = await DirDataStore.open(root);
  });
  afterEach(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  it('Write › file = header (block hash 2: XXH3-128), the bytes, one 16-byte digest per 1 MiB block, length, footer checksum', async () => {
    const body = pattern(2 * MiB + 100);
    const ref = await store.write(chunks(body, 65_537));
    assert.equal(ref.size, body.length);
    const file = await readFile(fileOf(ref));
    assert.equal(file.length, pieceFileSize(body.length));
    assert.equal(file.length, HEADER_SIZE + body.length + 3 * 16 + 8 + 32);
    assert.ok(file.subarray(0, 16).equals(PIECE_MAGIC));
    assert.deepEqual([file.readUInt32BE(16), file.readUInt32BE(20), file.readUInt32BE(24), file.readUInt32BE(28)], [1, BLOCK_SIZE, 2, 0]);
    assert.ok(file.subarray(HEADER_SIZE, HEADER_SIZE + body.length).equals(body));
    // Block checksums from the whole block in one call (the hash itself is checked against known
    // answers of the xxHash spec in erasure/codec.test.ts); the writer hashed 64 KiB chunks.
    const footer = file.subarray(HEADER_SIZE + body.length);
    for (let i = 0; i < 3; i++) {
      const block = body.subarray(i * MiB, (i + 1) * MiB);
      assert.equal(footer.subarray(i * 16, (i + 1) * 16).toString('hex'), XXH3_128.digest(block).toString('hex'), `block ${i}`);
    }
    assert.equal(footer.readBigUInt64BE(48), BigInt(body.length));
    const self = createHash('sha256').update(file.subarray(0, HEADER_SIZE)).update(footer.subarray(0, 56)).digest();
    assert.ok(footer.subarray(56).equals(self));
    assert.ok((await readAll(store.read(ref))).equals(body));
  });

  it('Write › with the offload on, a piece keeps SHA-256 (block hash 1, 32-byte digests), computed independently here; it reads back', async () => {
    setHashOffload(true);
    try {
      const body = pattern(2 * MiB + 100);
      const ref = await store.write(chunks(body, 65_537));
      const file = await readFile(fileOf(ref));
      assert.equal(file.readUInt32BE(24), 1);
      assert.equal(file.length, HEADER_SIZE + body.length + 3 * 32 + 8 + 32);
      const footer = file.subarray(HEADER_SIZE + body.length);
      for (let i = 0; i < 3; i++) {
        const block = body.subarray(i * MiB, (i + 1) * MiB);
        assert.equal(footer.subarray(i * 32, (i + 1) * 32).toString('hex'), createHash('sha256').update(block).digest('hex'), `block ${i}`);
      }
      assert.ok((await readAll(store.read(ref))).equals(body));
    } finally {
      setHashOffload(false);
    }
  });

  it('Write › an empty piece has a header and a footer without digests; it reads as 0 bytes', async () => {
    const ref = await store.write(chunks(Buffer.alloc(0)));
    assert.equal((await stat(fileOf(ref))).size, HEADER_SIZE + footerSize(0));
    assert.equal((await readAll(store.read(ref))).length, 0);
  });

  it('BlockHasher › digests do not depend on how the bytes were chunked', () => {
    const body = pattern(3 * MiB + 5);
    const whole = new BlockHasher();
    whole.update(body);
    const expected = whole.finish().map((d) => d.toString('hex'));
    assert.equal(expected.length, 4);
    for (const size of [1, 4096, 65_537, MiB, MiB + 1]) {
      const h = new BlockHasher();
      for (let off = 0; off < body.length; off += size * 97) h.update(body.subarray(off, off + size * 97));
      assert.deepEqual(
        h.finish().map((d) => d.toString('hex')),
        expected,
        `chunks of ${size * 97}`,
      );
    }
  });

  it('Read › whole and ranged reads yield verified bytes in block-sized chunks; ranges mid-block', async () => {
    const body = pattern(3 * MiB + 17);
    const ref = await store.write(chunks(body));
    const sizes: number[] = [];
    for await (const c of store.read(ref)) sizes.push(c.length);
    assert.deepEqual(sizes, [MiB, MiB, MiB, 17]);
    for (const [s, e] of [
      [0, 0],
      [MiB - 1, MiB],
      [MiB + 5, 2 * MiB + 5],
      [3 * MiB, 3 * MiB + 16],
      [10, 3 * MiB + 16],
    ] as const) {
      assert.ok((await readAll(store.read(ref, { start: s, end: e }))).equals(body.subarray(s, e + 1)), `range ${s}-${e}`);
    }
  });

  it('Read › truncated file (one byte short, or half) → PieceError length before any byte', async () => {
    const body = pattern(2 * MiB);
    for (const cut of [1, MiB]) {
      const ref = await store.write(chunks(body));
      await truncate(fileOf(ref), pieceFileSize(body.length) - cut);
      const f = await failure(store.read(ref));
      assert.equal(f.fault, 'length');
      assert.equal(f.yielded.length, 0);
      assert.match(f.message, new RegExp(ref.id));
    }
  });

  it('Read › truncated to exactly its data (footer lost) or extended → PieceError length', async () => {
    const body = pattern(MiB + 1);
    const a = await store.write(chunks(body));
    await truncate(fileOf(a), HEADER_SIZE + body.length);
    assert.equal((await failure(store.read(a))).fault, 'length');
    const b = await store.write(chunks(body));
    await appendFile(fileOf(b), 'more');
    assert.equal((await failure(store.read(b))).fault, 'length');
  });

  it('Read › a flipped data byte → PieceError checksum; the blocks before it are served, never the damaged one', async () => {
    const body = pattern(3 * MiB);
    const ref = await store.write(chunks(body));
    await flipByte(fileOf(ref), HEADER_SIZE + MiB + 12345); // in block 1
    const f = await failure(store.read(ref));
    assert.equal(f.fault, 'checksum');
    assert.match(f.message, /block 1 /);
    assert.ok(f.yielded.equals(body.subarray(0, MiB)), 'only block 0 was yielded');
    // A range that does not touch block 1 is served; one that touches a single byte of it is not.
    assert.ok((await readAll(store.read(ref, { start: 0, end: MiB - 1 }))).equals(body.subarray(0, MiB)));
    assert.ok((await readAll(store.read(ref, { start: 2 * MiB + 3, end: 3 * MiB - 1 }))).equals(body.subarray(2 * MiB + 3)));
    assert.equal((await failure(store.read(ref, { start: MiB - 10, end: MiB }))).fault, 'checksum');
    assert.equal((await failure(store.read(ref, { start: 2 * MiB - 1, end: 2 * MiB - 1 }))).fault, 'checksum');
  });

  it('Read › a flipped byte in the header or in the checksum table → PieceError (length or format)', async () => {
    const body = pattern(MiB + 3);
    const cases: Array<[number, PieceFault]> = [
      [0, 'length'], // magic gone: read as a legacy piece, whose length is then wrong
      [17, 'format'], // format number
      [21, 'format'], // block size: no longer a power of two
      [27, 'format'], // hash algorithm
      [HEADER_SIZE + body.length + 5, 'format'], // a block digest: the footer checksum catches it
      [HEADER_SIZE + body.length + 64 + 2, 'format'], // the data length
      [pieceFileSize(body.length) - 1, 'format'], // the footer checksum itself
    ];
    for (const [pos, fault] of cases) {
      const ref = await store.write(chunks(body));
      await flipByte(fileOf(ref), pos);
      const f = await failure(store.read(ref));
      assert.equal(f.fault, fault, `byte ${pos}: ${f.message}`);
      assert.equal(f.yielded.length, 0);
    }
  });

  it('Read › a tiny piece truncated to exactly its record size (inside the magic) → PieceError format, never its header as data', async () => {
    const ref = await store.write(chunks(Buffer.from('0123456789')));
    await truncate(fileOf(ref), 10);
    const f = await failure(store.read(ref));
    assert.equal(f.fault, 'format');
    assert.equal(f.yielded.length, 0);
  });

  it('Read › deleted piece → PieceError missing, naming ENOENT and the piece', async () => {
    const ref = await store.write(chunks(pattern(10)));
    await unlink(fileOf(ref));
    const f = await failure(store.read(ref));
    assert.equal(f.fault, 'missing');
    assert.match(f.message, /ENOENT/);
    assert.match(f.message, new RegExp(ref.id));
  });

  it('Read › a record whose size differs from the piece → PieceError length (the record is what the client was told)', async () => {
    const ref = await store.write(chunks(pattern(1000)));
    assert.equal((await failure(store.read({ id: ref.id, size: 999 }))).fault, 'length');
    assert.equal((await failure(store.read({ id: ref.id, size: 1001 }))).fault, 'length');
  });

  it('Legacy piece (written before format 1: raw bytes) → still reads, ranges too; its length is checked', async () => {
    const body = pattern(2 * MiB + 9, 3);
    const id = 'ab'.repeat(16);
    await mkdir(join(root, 'objects', 'ab'), { recursive: true });
    await writeFile(join(root, 'objects', 'ab', id), body);
    const ref = { id, size: body.length };
    assert.ok((await readAll(store.read(ref))).equals(body));
    assert.ok((await readAll(store.read(ref, { start: MiB - 2, end: 2 * MiB + 2 }))).equals(body.subarray(MiB - 2, 2 * MiB + 3)));
    await truncate(join(root, 'objects', 'ab', id), body.length - 1);
    assert.equal((await failure(store.read(ref))).fault, 'length');
    await appendFile(join(root, 'objects', 'ab', id), 'xy');
    assert.equal((await failure(store.read(ref))).fault, 'length');
  });
});

// The frames of the current WAL generation that one process copied to the metadata copies
// (mirror.ts), kept at their own offsets in one buffer, so that when the generation ends the
// copies' switch (applying it to their databases) needs no read of a copy's whole WAL: only the
// ranges other processes copied meanwhile are read, from the copy being switched.
import { type WalContents, readAll, readRange, readWalContents } from './wal-frames.js';

/** Beyond this, a generation is not kept (a WAL that a long reader let grow): the switch reads the copy's WAL. */
const HOLD_LIMIT = 64 << 20;

export class HeldFrames {
  private buf = Buffer.alloc(0);
  /** The generation held: its salts (the WAL header's bytes 16–23). */
  private salts: Buffer | undefined;
  /** Bytes [0, end) are held, except `gaps` (ranges other processes copied). */
  private end = 0;
  private gaps: Array<[number, number]> = [];
  private lost = false;

  /** A new generation: the previous one is forgotten. */
  reset(salts: Buffer): void {
    this.salts = salts;
    this.end = 0;
    this.gaps = [];
    this.lost = false;
  }

  /**
   * Reads bytes [from, to) of the primary's WAL `fd` (committed frames of the generation, read
   * under the write lock) and keeps them; answers them (a view, valid until the next call).
   */
  read(fd: number, from: number, to: number): Buffer {
    if (to > HOLD_LIMIT) this.lost = true;
    if (this.lost) return readAll(fd, from, to);
    if (from > this.end) this.gaps.push([this.end, from]);
    this.ensure(to);
    const n = readRange(fd, this.buf, from, to);
    this.end = Math.max(this.end, from + n);
    return this.buf.subarray(from, from + n);
  }

  /**
   * The generation `salts` held, as far as `upTo` (how far the copies hold it, if known, else 0),
   * its gaps read from the WAL `fd` of a copy whose header names that generation (the same bytes at
   * the same offsets: every round writes every member alike): the bytes and their frames, or
   * undefined when not held (another generation, nothing of it copied by this process, over the
   * limit, or the bytes do not end at a commit).
   */
  complete(salts: Buffer, fd: number, upTo: number): { buf: Buffer; wal: WalContents } | undefined {
    if (this.lost || this.end === 0 || !this.salts?.equals(salts) || upTo > HOLD_LIMIT) return undefined;
    if (upTo > this.end) {
      this.gaps.push([this.end, upTo]);
      this.ensure(upTo);
      this.end = upTo;
    }
    for (const [a, b] of this.gaps) {
      if (readRange(fd, this.buf, a, b) !== b - a) {
        this.lost = true;
        return undefined;
      }
    }
    this.gaps = [];
    const buf = this.buf.subarray(0, this.end);
    const wal = readWalContents(buf, true);
    if (!wal || wal.end !== this.end || !wal.header.salts.equals(salts)) {
      this.lost = true;
      return undefined;
    }
    return { buf, wal };
  }

  private ensure(size: number): void {
    if (this.buf.length >= size) return;
    const next = Buffer.allocUnsafe(Math.max(size, Math.min(HOLD_LIMIT, this.buf.length * 2), 1 << 20));
    this.buf.copy(next, 0, 0, this.end);
    this.buf = next;
  }
}

// The shards of one piece as a reader sees them: opened lazily (the data shards first, parity
// only when a data shard is missing, truncated, corrupt or on a failing drive), each block read
// from k good shards, checked against its digests, and rebuilt by the codec when a data shard is
// bad. Bad shards are reported once to the degraded sink (and I/O errors to the drive set).
import { open, type FileHandle } from 'node:fs/promises';
import { PieceError, StoreError } from '../../errors.js';
import { readAt } from '../piece-reader.js';
import { giveBack, takeBlock } from '../block-pool.js';
import { SHARD_HEADER_SIZE, ShardLayout, parseShardHeader, type ShardHeader } from './shard-format.js';
import { shardPath } from './shard-writer.js';
import type { BlockHash, DegradedReason, DegradedSink, DriveSet, ErasureCodec } from './types.js';

/** What a piece reader needs from its store. */
export interface ReadContext {
  readonly set: DriveSet;
  readonly sink: DegradedSink;
  codecFor(k: number, m: number): ErasureCodec;
  hashFor(name: string): BlockHash | undefined;
}

/** Why a shard cannot be used: missing/corrupt are reported to the sink; offline/error are drive trouble. */
export type ShardFault = 'missing' | 'corrupt' | 'offline' | 'error';

interface GoodShard {
  fh: FileHandle;
  header: ShardHeader;
}

type Slot = { ok: GoodShard } | { fault: ShardFault; detail: string };

const errCode = (err: unknown): string | undefined => (err as { code?: string } | null)?.code;

export class PieceShards {
  private readonly slots: Array<Promise<Slot> | undefined>;
  private readonly faults = new Map<number, { fault: ShardFault; detail: string }>();
  private geometry?: { header: ShardHeader; layout: ShardLayout; hash: BlockHash; codec: ErasureCodec };
  /** Bytes read from shard files (verifyPiece reports them). */
  bytesRead = 0;

  /**
   * `expectedSize`: the piece's size from its record (read), or undefined (verify, heal: the
   * headers say it). `report`: whether bad shards go to the sink (the read path) or are only
   * collected (verifyPiece's caller decides).
   */
  constructor(
    private readonly ctx: ReadContext,
    readonly id: string,
    private readonly expectedSize: number | undefined,
    private readonly report = true,
  ) {
    this.slots = new Array(ctx.set.drives.length).fill(undefined);
  }

  get width(): number {
    return this.slots.length;
  }

  /** The piece's header fields, layout, hash and codec (after init()). */
  get geo(): { header: ShardHeader; layout: ShardLayout; hash: BlockHash; codec: ErasureCodec } {
    return this.geometry!;
  }

  /** Shards found bad so far, by index. */
  bad(): Map<number, { fault: ShardFault; detail: string }> {
    return this.faults;
  }

  private markBad(index: number, fault: ShardFault, detail: string, err?: unknown): void {
    if (this.faults.has(index)) return;
    this.faults.set(index, { fault, detail });
    // A missing shard file (ENOENT) goes to the set too: it takes the drive offline when its root
    // vanished with it (an unmounted or removed drive), which logs the drive by name.
    if (fault === 'error' || (fault === 'missing' && err !== undefined)) this.ctx.set.failed(index, err);
    if (this.report && (fault === 'missing' || fault === 'corrupt')) this.ctx.sink.degraded(this.id, [index], fault as DegradedReason);
  }

  private openSlot(index: number): Promise<Slot> {
    let p = this.slots[index];
    if (!p) {
      p = this.openShard(index).then((slot) => {
        if ('fault' in slot) this.markBad(index, slot.fault, slot.detail, (slot as { err?: unknown }).err);
        return slot;
      });
      this.slots[index] = p;
    }
    return p;
  }

  private async openShard(index: number): Promise<Slot & { err?: unknown }> {
    const drive = this.ctx.set.drives[index]!;
    if (drive.state === 'offline') return { fault: 'offline', detail: 'drive offline' };
    const path = shardPath(drive.path, this.id);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (errCode(err) === 'ENOENT') return { fault: 'missing', detail: 'no shard file', err };
      return { fault: 'error', detail: String(err), err };
    }
    try {
      const length = (await fh.stat()).size;
      const buf = Buffer.alloc(SHARD_HEADER_SIZE);
      const got = await readAt(fh, buf, 0);
      this.bytesRead += got;
      const header = parseShardHeader(buf.subarray(0, got));
      let bad: string | undefined;
      if ('error' in header) bad = header.error;
      else if (header.id !== this.id) bad = `header names piece ${header.id}`;
      else if (header.index !== index) bad = `header says shard ${header.index}`;
      else if (header.k + header.m !== this.width) bad = `header says ${header.k}+${header.m} shards, the set has ${this.width} drives`;
      if (bad !== undefined || 'error' in header) {
        await fh.close();
        return { fault: 'corrupt', detail: bad! };
      }
      if (this.expectedSize !== undefined && header.size !== this.expectedSize) {
        await fh.close();
        throw new PieceError('length', this.id, path, `the shard header says ${header.size} bytes, the record ${this.expectedSize}`);
      }
      const g = this.geometry;
      if (g && (header.k !== g.header.k || header.blockSize !== g.header.blockSize || header.hash !== g.header.hash || header.size !== g.header.size)) {
        await fh.close();
        return { fault: 'corrupt', detail: 'header disagrees with the piece’s other shards' };
      }
      const hash = this.ctx.hashFor(header.hash);
      if (!hash) {
        await fh.close();
        return { fault: 'corrupt', detail: `unknown block hash ${header.hash}` };
      }
      const layout = g?.layout ?? new ShardLayout(header.size, header.k, header.blockSize, hash.size);
      if (length !== layout.fileLength()) {
        await fh.close();
        return { fault: 'corrupt', detail: `shard file of ${length} bytes, ${layout.fileLength()} expected (truncated or extended)` };
      }
      this.geometry ??= { header, layout, hash, codec: this.ctx.codecFor(header.k, header.m) };
      return { ok: { fh, header } };
    } catch (err) {
      await fh.close().catch(() => {});
      if (err instanceof PieceError) throw err;
      return { fault: 'error', detail: String(err), err };
    }
  }

  /**
   * Opens shards until one good header gives the piece's geometry: the first `guessK` (the data
   * shards of the set's usual parity) at once, then the others if needed; then any further data
   * shards the real k asks for. Throws PieceError('missing') when no drive has a shard of the
   * piece, PieceError('length') when the headers give another size than the record, and the
   * "fewer than k" error when too few shards are usable.
   */
  async init(guessK: number): Promise<void> {
    const n = this.width;
    await Promise.all(Array.from({ length: Math.min(guessK, n) }, (_, i) => this.openSlot(i)));
    if (!this.geometry) await Promise.all(Array.from({ length: n }, (_, i) => this.openSlot(i)));
    if (!this.geometry) {
      const faults = [...this.faults.values()];
      if (faults.every((f) => f.fault === 'missing'))
        throw new PieceError('missing', this.id, `shards/${this.id.slice(0, 2)}/${this.id}`, 'no drive holds a shard of the piece');
      throw this.tooFew(-1);
    }
    await Promise.all(Array.from({ length: this.geometry.header.k }, (_, i) => this.openSlot(i)));
  }

  /** Fewer than k usable shards: the error a reader gets (S3: 503 SlowDown), naming every shard's state. */
  tooFew(block: number): StoreError {
    const states = this.slots.map((_, i) => {
      const f = this.faults.get(i);
      return `${i}:${f ? `${f.fault} (${f.detail})` : 'ok'}`;
    });
    const k = this.geometry?.header.k;
    const where = block >= 0 ? ` for block ${block}` : '';
    return new StoreError('Unavailable', `piece ${this.id}: fewer than ${k ?? 'k'} usable shards${where}; shards ${states.join(', ')}`);
  }

  /**
   * Block `b` of shard `index`, checked against its digest (`check`), or null after marking the
   * shard bad (missing, truncated, corrupt, I/O error).
   */
  private async readShardBlock(index: number, b: number, check: boolean): Promise<Buffer | null> {
    if (this.faults.has(index)) return null;
    const slot = await this.openSlot(index);
    if (!('ok' in slot) || this.faults.has(index)) return null;
    const { layout, hash } = this.geometry!;
    const len = layout.shardLength(b);
    const buf = takeBlock(len + hash.size);
    let got: number;
    try {
      got = await readAt(slot.ok.fh, buf, layout.offset(b));
    } catch (err) {
      this.markBad(index, 'error', String(err), err);
      return null;
    }
    this.bytesRead += got;
    if (got !== buf.length) {
      this.markBad(index, 'corrupt', `the file ended inside block ${b}`);
      return null;
    }
    const data = buf.subarray(0, len);
    if (check && !hash.digest(data).equals(buf.subarray(len))) {
      this.markBad(index, 'corrupt', `block ${b} does not match its checksum`);
      return null;
    }
    return data;
  }

  /**
   * All k + m shards of block `b` when `all` (heal), else the k data shards (read): from the
   * first k good shards in index order (data shards first), rebuilt when any data shard is bad.
   */
  async readBlock(b: number, check: boolean, all = false): Promise<Buffer[]> {
    const { k } = this.geometry!.header;
    const n = this.width;
    const got: (Buffer | null)[] = new Array(n).fill(null);
    let good = 0;
    let next = 0;
    while (good < k) {
      const batch: number[] = [];
      while (good + batch.length < k && next < n) {
        const i = next++;
        if (!this.faults.has(i)) batch.push(i);
      }
      if (batch.length === 0) throw this.tooFew(b);
      const res = await Promise.all(batch.map((i) => this.readShardBlock(i, b, check)));
      batch.forEach((i, j) => {
        if (res[j]) {
          got[i] = res[j]!;
          good++;
        }
      });
    }
    let complete = true;
    for (let i = 0; i < (all ? n : k); i++) if (!got[i]) complete = false;
    if (complete) return (all ? got : got.slice(0, k)) as Buffer[];
    if (all) return this.geometry!.codec.reconstruct(got);
    // A read: only the data shards are rebuilt (no parity it would not send), and the parity
    // shards read for it go back to the block pool once the rebuild has used them.
    const data = await this.geometry!.codec.reconstructData(got);
    for (let i = k; i < n; i++) if (got[i]) giveBack(got[i]!);
    return data;
  }

  /** Reads and checks block `b` of every shard not yet known bad (verifyPiece). */
  async checkAll(b: number): Promise<void> {
    const read = await Promise.all(this.slots.map((_, i) => this.readShardBlock(i, b, true)));
    // Only checked, never passed on: back to the block pool (the scrub reads every shard this way).
    for (const r of read) if (r) giveBack(r);
  }

  /** Opens every shard (verify and heal look at all of them). */
  async openAll(): Promise<void> {
    await Promise.all(this.slots.map((_, i) => this.openSlot(i)));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async (p) => {
        const slot = await p?.catch(() => undefined);
        if (slot && 'ok' in slot) await slot.ok.fh.close().catch(() => {});
      }),
    );
  }
}

// The storage engine's façade: buckets and objects as records and byte streams, over a MetaStore
// and a DataStore. It owns the write protocol: data durable first, then one metadata commit (the
// moment the object exists), then the replaced data freed.
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { StoreError } from './errors.js';
import type { BucketRecord, DataRef, DataStore, ListPage, ListQuery, MetaStore, ObjectRecord, WriteCondition } from './types.js';
import { listPage } from './listing.js';

export class Store {
  /** The orphan sweep only takes pieces older than this: no write of this process can be in flight for them. */
  private readonly startedAt = Date.now();

  constructor(
    readonly meta: MetaStore,
    readonly data: DataStore,
    private readonly log?: Logger,
  ) {}

  // ---- buckets -------------------------------------------------------------------------------

  async createBucket(name: string, region: string): Promise<void> {
    await this.meta.createBucket({ name, region, createdAt: Date.now(), versioning: '' });
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    return this.meta.getBucket(name);
  }

  /** The bucket, or StoreError('NoSuchBucket'). */
  async requireBucket(name: string): Promise<BucketRecord> {
    const b = await this.meta.getBucket(name);
    if (!b) throw new StoreError('NoSuchBucket');
    return b;
  }

  async listBuckets(): Promise<BucketRecord[]> {
    return this.meta.listBuckets();
  }

  async deleteBucket(name: string): Promise<void> {
    await this.meta.deleteBucket(name);
  }

  // ---- objects -------------------------------------------------------------------------------

  /** Writes bytes durably; they belong to no object until commitObject. */
  async writeData(source: AsyncIterable<Buffer>, signal?: AbortSignal): Promise<DataRef> {
    return this.data.write(source, signal);
  }

  /**
   * The commit point: makes `record` the current version of its key. If the commit fails (missing
   * bucket, failed condition), the record's new data is removed and the error rethrown. Data of the
   * replaced version is freed after the commit; a crash before that leaves an orphan for the sweep.
   */
  async commitObject(record: ObjectRecord, cond?: WriteCondition): Promise<void> {
    let replaced: DataRef[];
    try {
      replaced = await this.meta.putObject(record, cond);
    } catch (err) {
      await this.freeData(record.data);
      throw err;
    }
    await this.freeData(replaced);
  }

  async getObject(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    const rec = await this.meta.getObject(bucket, key);
    return rec && !rec.isDeleteMarker ? rec : undefined;
  }

  /** Removes the current version; true if there was one. */
  async deleteObject(bucket: string, key: string): Promise<boolean> {
    const removed = await this.meta.deleteObject(bucket, key);
    if (!removed) return false;
    await this.freeData(removed.data);
    return true;
  }

  async list(q: ListQuery): Promise<ListPage> {
    return listPage(this.meta, q);
  }

  /** Streams bytes [start, end] (inclusive) of an object across its pieces. */
  openRead(record: ObjectRecord, range?: { start: number; end: number }): Readable {
    const start = range?.start ?? 0;
    const end = range?.end ?? record.size - 1;
    const data = this.data;
    async function* pieces(): AsyncGenerator<Buffer> {
      let offset = 0;
      for (const ref of record.data) {
        const pieceStart = offset;
        const pieceEnd = offset + ref.size - 1;
        offset += ref.size;
        if (pieceEnd < start || ref.size === 0) continue;
        if (pieceStart > end) break;
        const from = Math.max(start, pieceStart) - pieceStart;
        const to = Math.min(end, pieceEnd) - pieceStart;
        for await (const chunk of data.read(ref.id, { start: from, end: to })) yield chunk as Buffer;
      }
    }
    return Readable.from(pieces(), { objectMode: false, highWaterMark: 256 * 1024 });
  }

  // ---- housekeeping --------------------------------------------------------------------------

  private async freeData(refs: DataRef[]): Promise<void> {
    for (const ref of refs) {
      try {
        await this.data.remove(ref.id);
      } catch (err) {
        // Not fatal for the request: the orphan sweep at the next start removes it.
        this.log?.warn({ err, dataId: ref.id }, 'could not free data');
      }
    }
  }

  /** Startup: remove temp files (synchronously awaited, cheap). */
  async sweepTemp(): Promise<number> {
    return this.data.sweepTemp();
  }

  /**
   * Removes committed pieces that no metadata references and that predate this process (so no
   * write of ours is in flight for them): left by a crash between rename and metadata commit, or
   * between commit and freeing replaced data. Runs in the background after startup.
   */
  async sweepOrphans(signal?: AbortSignal): Promise<number> {
    let removed = 0;
    for await (const id of this.data.listIds(this.startedAt)) {
      if (signal?.aborted) break;
      if (!(await this.meta.isDataReferenced(id))) {
        await this.data.remove(id);
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    await this.data.close();
    await this.meta.close();
  }
}

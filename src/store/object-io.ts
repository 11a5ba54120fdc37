// The byte paths behind the Store façade (store.ts): an object's bytes taken in (kept inline up to
// the limit, else written as one piece), a version read and pinned against concurrent frees, and
// its pieces streamed out under that pin. Store's methods of the same names document the contracts.
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { closeSource, nextOrAbort } from './abort.js';
import type { PieceKeeper } from './piece-keeper.js';
import { sealBuffer } from './sealed.js';
import type { ObjectBytes } from './store-types.js';
import type { DataRef, DataStore, MetaStore, ObjectRecord } from './types.js';
import { checkInline, openInline, readObjectPieces } from './verified-read.js';

const isThenable = <T>(v: T | Promise<T>): v is Promise<T> => typeof (v as { then?: unknown } | undefined)?.then === 'function';

const sameData = (a: ObjectRecord, b: ObjectRecord): boolean => a.data.length === b.data.length && a.data.every((d, i) => d.id === b.data[i]!.id);

/**
 * Store.writeObjectData: up to `inlineMax` bytes come back as `inline` (sealed with `sealKey` when
 * given); more go to `writePiece` as one stream (the bytes read so far first). Nothing is returned
 * for an empty object. The source is closed when reading or writing throws.
 */
export async function takeObjectBytes(
  source: AsyncIterable<Buffer>,
  signal: AbortSignal | undefined,
  sealKey: Buffer | undefined,
  inlineMax: number,
  writePiece: (all: AsyncIterable<Buffer>) => Promise<DataRef>,
): Promise<ObjectBytes> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      // Not a plain it.next(): a client that stops sending must not hold us past the abort.
      const next = await nextOrAbort(it, signal);
      if (next.done) {
        if (size === 0) return { data: [] };
        const inline = head.length === 1 ? head[0]! : Buffer.concat(head, size);
        return { data: [], inline: sealKey === undefined ? inline : sealBuffer(inline, sealKey) };
      }
      head.push(next.value);
      size += next.value.length;
      if (size > inlineMax) break;
    }
    async function* all(): AsyncGenerator<Buffer> {
      yield* head.splice(0);
      for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
    }
    return { data: [await writePiece(all())] };
  } catch (err) {
    // The source's own cleanup must run (an unread request body is let flow away).
    closeSource(it);
    throw err;
  }
}

/** Store.getObject: the version read, then its pieces pinned, re-read while a free came in between. */
export async function readPinned(
  meta: MetaStore,
  keeper: PieceKeeper,
  bucket: string,
  key: string,
  withBytes: boolean,
  versionId: string | undefined,
): Promise<ObjectRecord | undefined> {
  // Before the read: a free recorded by another process after it waits the whole grace period from here on.
  const readAt = Date.now();
  let gen = keeper.freeGen;
  const first = meta.getObject(bucket, key, versionId, withBytes);
  // A synchronous meta store (SQLite, memory) is read and pinned in one turn of the event loop:
  // no free can come in between. An asynchronous one is checked below.
  let rec = isThenable(first) ? await first : first;
  for (;;) {
    if (!rec || rec.isDeleteMarker) return undefined;
    const release = keeper.pin(rec.data);
    if (keeper.freeGen === gen) return keeper.lease(rec, release, readAt);
    // Some piece was removed between the read and the pin: maybe one of ours (its version was
    // replaced meanwhile). Re-read: pieces the current version still references cannot have been
    // freed, and from now on they are pinned.
    gen = keeper.freeGen;
    const again = await meta.getObject(bucket, key, versionId, withBytes);
    if (again && !again.isDeleteMarker && sameData(again, rec)) return keeper.lease(again, release, readAt);
    release();
    rec = again;
  }
}

/** What openObjectRead needs of the Store. */
export interface ObjectReadDeps {
  keeper: PieceKeeper;
  data: DataStore;
  log: Logger | undefined;
  readLeaseMs: number;
}

/**
 * Store.openRead: bytes [start, end] of an inline object from its record, or of an object kept in
 * pieces streamed one piece at a time under the record's pin (taken over, or taken now), released
 * when the stream closes; a stream nobody starts reading within the read lease is destroyed.
 */
export function openObjectRead(deps: ObjectReadDeps, record: ObjectRecord, range?: { start: number; end: number }, key?: Buffer): Readable {
  const start = range?.start ?? 0;
  const end = range?.end ?? record.size - 1;
  if (record.inline !== undefined) {
    if (record.sse === undefined) checkInline(record, deps.log);
    const bytes = openInline(record, key, deps.log)!;
    return Readable.from([range ? bytes.subarray(start, end + 1) : bytes], { objectMode: false });
  }
  if (record.sse !== undefined && key === undefined) throw new Error(`openRead: ${record.bucket}/${record.key} is sealed and was read without its key`);
  if (record.size > 0 && record.data.length === 0) throw new Error('openRead: an inline object read without its bytes (getObject withBytes false)');
  const { keeper } = deps;
  const lease = keeper.takeLease(record);
  const release = lease?.release ?? keeper.pin(record.data);
  const readAt = lease?.readAt ?? Date.now();
  let started = false;
  let idle: NodeJS.Timeout | undefined;
  const onStart = () => {
    started = true;
    clearTimeout(idle);
  };
  const stream = Readable.from(readObjectPieces(deps.data, record, start, end, deps.log, onStart, record.sse === undefined ? undefined : key), {
    objectMode: false,
    highWaterMark: 256 * 1024,
  });
  // Readable.from emits 'close' only after the generator has finished (its finally ran, the
  // current piece's stream is destroyed): no piece is opened after the release.
  stream.once('close', () => {
    clearTimeout(idle);
    release();
  });
  // Other processes' frees: a pin row while the stream outlasts a quarter of the grace period.
  keeper.holdWhileStreaming(record.data, readAt, stream);
  if (!started) {
    idle = setTimeout(() => {
      if (!started) stream.destroy();
    }, deps.readLeaseMs);
    idle.unref();
  }
  return stream;
}

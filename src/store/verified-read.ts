// The bytes of one object read across its pieces, verified: each piece must yield exactly the bytes
// its record promises, inline bytes must match the ETag; failures are logged with the object and
// become StoreError('DataCorrupt'). Used by Store.openRead (docs/on-disk-format.md, Data pieces).
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { PieceError, StoreError } from './errors.js';
import { openSealed, openSealedBuffer, sealedSize } from './sealed.js';
import type { DataRef, DataStore, ObjectRecord } from './types.js';

/** Sealed pieces are read without block checks: each package's GCM tag authenticates its bytes (and the header) before any is used. */
const SEALED_READ = { blockChecks: false } as const;

/** The log message of every refused read of damaged data (operators and tests look for it). */
export const DAMAGED = 'object data damaged: not served';

/**
 * Bytes [start, end] (inclusive) of `record` across its pieces, one piece at a time. The data store
 * verifies lengths and block checksums; this also holds for a data store that would not: a piece
 * that yields fewer or more bytes than asked is an error, never a short body under a full
 * Content-Length. `onStart` runs when the first byte is asked for.
 */
export async function* readObjectPieces(
  data: DataStore,
  record: ObjectRecord,
  start: number,
  end: number,
  log: Logger | undefined,
  onStart: () => void,
  sealKey?: Buffer,
): AsyncGenerator<Buffer> {
  onStart();
  /** Logs a failed read with the object it belongs to; a PieceError becomes StoreError('DataCorrupt'). */
  const damaged = (err: unknown, ref: DataRef): unknown => {
    const fields = { bucket: record.bucket, key: record.key, versionId: record.versionId, dataId: ref.id };
    if (err instanceof PieceError) {
      log?.error({ ...fields, file: err.file, fault: err.fault, detail: err.message }, DAMAGED);
      return new StoreError('DataCorrupt', `${record.bucket}/${record.key}: ${err.message}`);
    }
    if (err instanceof StoreError && err.code === 'DataCorrupt') {
      // A sealed package that does not authenticate (sealed.ts).
      log?.error({ ...fields, fault: 'sealed', detail: err.message }, DAMAGED);
      return err;
    }
    log?.error({ ...fields, err }, 'object data unreadable');
    return err;
  };
  let offset = 0;
  let total = 0;
  for (const ref of record.data) {
    const pieceStart = offset;
    const pieceEnd = offset + ref.size - 1;
    offset += ref.size;
    if (pieceEnd < start || ref.size === 0) continue;
    if (pieceStart > end) break;
    const from = Math.max(start, pieceStart) - pieceStart;
    const to = Math.min(end, pieceEnd) - pieceStart;
    const want = to - from + 1;
    let got = 0;
    try {
      const bytes =
        sealKey === undefined
          ? data.read(ref, { start: from, end: to })
          : openSealed(
              (a, b) => data.read({ id: ref.id, size: sealedSize(ref.size) }, { start: a, end: b }, SEALED_READ),
              ref.size,
              sealKey,
              ref.id,
              from,
              to,
              `piece ${ref.id}`,
            );
      for await (const chunk of bytes) {
        got += chunk.length;
        total += chunk.length;
        if (got > want) throw new PieceError('length', ref.id, `piece ${ref.id}`, `yielded more than the ${want} bytes asked for`);
        yield chunk;
      }
      if (got !== want) throw new PieceError('short-read', ref.id, `piece ${ref.id}`, `yielded ${got} of the ${want} bytes asked for`);
    } catch (err) {
      throw damaged(err, ref);
    }
  }
  if (total !== end - start + 1) {
    // The record's pieces do not add up to its size (a damaged metadata row).
    log?.error(
      { bucket: record.bucket, key: record.key, versionId: record.versionId, size: record.size, pieces: record.data.length },
      'object record damaged: its pieces do not add up to its size',
    );
    throw new StoreError('DataCorrupt', `${record.bucket}/${record.key}: pieces add up to ${total} of the ${end - start + 1} bytes read`);
  }
}

/**
 * Inline bytes have no block checksums (SQLite does not checksum page contents), but an inline
 * object is never multipart, so its ETag is the MD5 of its bytes. Store.openRead — the copy paths;
 * GET answers inline bytes without it (an MD5 per small GET) — checks it, so a copy never launders
 * damaged inline bytes into an object with a fresh ETag. Throws StoreError('DataCorrupt').
 */
export function checkInline(record: ObjectRecord, log: Logger | undefined): void {
  const bytes = record.inline!;
  const m = /^"([0-9a-f]{32})"$/.exec(record.etag);
  if (bytes.length === record.size && (!m || createHash('md5').update(bytes).digest('hex') === m[1])) return;
  log?.error({ bucket: record.bucket, key: record.key, versionId: record.versionId, inline: true, size: record.size, bytes: bytes.length }, DAMAGED);
  throw new StoreError('DataCorrupt', `${record.bucket}/${record.key}: inline bytes do not match the object's size or ETag`);
}

/**
 * The plaintext of an inline object (a record read with its bytes), opened with `key` when sealed
 * (store/sealed.ts); undefined when it is not inline. Sealed bytes that do not open are logged as
 * damage and become StoreError('DataCorrupt'); a sealed record read without its key is a bug.
 */
export function openInline(record: ObjectRecord, key: Buffer | undefined, log: Logger | undefined): Buffer | undefined {
  if (record.inline === undefined) return undefined;
  if (record.sse === undefined) return record.inline;
  if (key === undefined) throw new Error(`inlineBytes: ${record.bucket}/${record.key} is sealed and was read without its key`);
  try {
    return openSealedBuffer(record.inline, record.size, key, 0, Math.max(0, record.size - 1), `${record.bucket}/${record.key} (inline)`);
  } catch (err) {
    log?.error({ bucket: record.bucket, key: record.key, versionId: record.versionId, inline: true, err }, DAMAGED);
    throw err;
  }
}

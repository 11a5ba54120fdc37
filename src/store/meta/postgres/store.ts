// The PostgreSQL metadata store (`--meta postgres://…`, docs/cluster.md): the MetaStore contract on
// PostgreSQL, so that several gateways share one namespace; its bucket half (bucket rows,
// configuration documents, the runners) is bucket-side.ts. Semantics mirror the SQLite store
// (sqlite.ts); the SQL is in core-sql.ts, the schema in schema-core.ts. Rules:
// - every read of objects, versions, uploads and listings goes to PostgreSQL (no cache): strongly
//   consistent across gateways; bucket rows and their configuration documents are cached
//   (bucket-cache.ts: invalidated through the change feed within a second, at once for own writes);
// - PostgreSQL's commit is the commit point (it fsyncs its WAL before answering COMMIT);
// - an unconditional write of a version is ONE statement (WRITE_VERSION_SQL, one round trip);
//   conditional writes, completions, removals and other read-check-write steps run in a
//   SERIALIZABLE transaction (PgDb.tx, retried on 40001/40P01) with row locks where they help;
// - a write that collides with a racing writer of the same key (unique violation, 23505) is run
//   again as a transaction, which sees the winner and applies its checks to it.
import { randomInt } from 'node:crypto';
import { StoreError } from '../../errors.js';
import { checkRemovable } from '../../object-lock.js';
import { applyObjectPatch } from '../patches.js';
import type { Coordination } from '../../coord.js';
import type { HealQueueStore } from '../../heal-queue.js';
import type { IdentityStore } from '../../identities.js';
import type { KmsKeyStore } from '../../kms-keys.js';
import type { BucketUsage, UsageReader } from '../../usage.js';
import {
  type CompletedUpload,
  type DataRef,
  type ListedObject,
  type ListedVersion,
  type LockCheck,
  META_FORMAT_VERSION,
  type MetaStore,
  NULL_VERSION,
  type ObjectPatch,
  type ObjectRecord,
  type PartRecord,
  type UploadListQuery,
  type UploadRecord,
  type WriteCondition,
} from '../../types.js';
import { unpackListing } from '../sqlite-listing.js';
import { byteSuccessor, extrasJson, parseExtras, toBytes, partParams, uploadParams } from '../sqlite-sql.js';
import {
  DELETE_VERSION_SQL,
  LISTING,
  type ListingRow,
  OBJ_COLS,
  type ObjectRow,
  PACKED_LISTING,
  type PackedListingRow,
  STALE_WRITE,
  PART_COLS,
  PROBE_SQL,
  type PartRow,
  SCAN,
  UNREFERENCED_SQL,
  UPLOAD_COLS,
  UPLOADS,
  type UploadRow,
  VERSIONS,
  WRITE_VERSION_SQL,
  checkInline,
  hasCondition,
  pageOf,
  toListed,
  toListedVersion,
  toPart,
  toRecord,
  toUpload,
} from './core-sql.js';
import { PgBucketSide, type Runner, code } from './bucket-side.js';
import type { PgClient, PgDb } from './db.js';
import type { ChangeFeed } from './snapshot.js';
import { USAGE_SHARDS } from './schema-core.js';

/** The sub-stores PgMetaStore serves as its own (built by open.ts). */
export interface PgSubStores {
  coord: Coordination;
  identities: IdentityStore;
  kmsKeys: KmsKeyStore;
  healQueue: HealQueueStore;
  /** The process's change feed: with it, bucket rows are cached (bucket-cache.ts); without, never. */
  feed?: ChangeFeed;
}

export class PgMetaStore extends PgBucketSide implements MetaStore {
  readonly coord: Coordination;
  readonly identities: IdentityStore;
  readonly kmsKeys: KmsKeyStore;
  readonly healQueue: HealQueueStore;
  readonly usage: UsageReader;

  constructor(db: PgDb, sub: PgSubStores) {
    super(db, sub.feed);
    this.coord = sub.coord;
    this.identities = sub.identities;
    this.kmsKeys = sub.kmsKeys;
    this.healQueue = sub.healQueue;
    this.usage = { listUsage: () => this.listUsage() };
  }

  // ---- object versions ----------------------------------------------------------------------

  /**
   * One statement: the version's row (with its inline bytes unless `withBytes` is false), read with
   * the bucket's row: no bucket (deleted through another gateway, maybe still cached here while its
   * notification travels) clears the bucket cache, so the request after this one sees NoSuchBucket.
   */
  async getObject(bucket: string, key: string, versionId?: string, withBytes = true): Promise<ObjectRecord | undefined> {
    const cols = withBytes ? `${OBJ_COLS}, inline` : OBJ_COLS;
    const which = versionId === undefined ? 'is_latest' : 'version_id = $3';
    const [row] = await this.q<ObjectRow>(
      `SELECT o.* FROM buckets b LEFT JOIN LATERAL (SELECT ${cols} FROM objects WHERE bucket = $1 AND key = $2 AND ${which}) o ON true WHERE b.name = $1`,
      versionId === undefined ? [bucket, toBytes(key)] : [bucket, toBytes(key), versionId],
    );
    if (row === undefined) {
      this.buckets?.clear();
      return undefined;
    }
    return row.version_id === null ? undefined : toRecord(row);
  }

  async putObject(rec: ObjectRecord, cond?: WriteCondition, lock?: LockCheck): Promise<DataRef[]> {
    checkInline(rec);
    if (!hasCondition(cond)) {
      // The common case: one statement, no transaction block (a race on the key: as a transaction).
      try {
        return await this.writeVersion(rec, false, this.db.pool);
      } catch (err) {
        const stale = err instanceof StoreError && err.message === STALE_WRITE;
        if (!stale && code(err) !== '23505' && code(err) !== '40P01') throw err;
      }
    }
    return this.tx(async (c) => {
      await this.checkWrite(c, rec, cond, lock);
      return this.writeVersion(rec, true, c);
    });
  }

  /** Checks the bucket, `cond` and object lock for a write of `rec` (in its transaction). */
  private async checkWrite(c: PgClient, rec: ObjectRecord, cond: WriteCondition | undefined, lock: LockCheck | undefined): Promise<void> {
    const [p] = await this.q<{ bucket: boolean; etag: string | null; is_delete_marker: boolean | null; same: boolean; same_extra: string | null }>(
      PROBE_SQL,
      [rec.bucket, toBytes(rec.key), rec.versionId],
      c,
    );
    if (!p?.bucket) throw new StoreError('NoSuchBucket');
    if (hasCondition(cond)) {
      const current = p.etag !== null && p.is_delete_marker === false ? p.etag : undefined;
      if (cond.mustNotExist && current !== undefined) throw new StoreError('PreconditionFailed', 'If-None-Match');
      if (cond.mustExist && current === undefined) throw new StoreError('NoSuchKey');
      if (cond.etagMatches !== undefined) {
        if (current === undefined) throw new StoreError('NoSuchKey');
        if (current !== cond.etagMatches) throw new StoreError('PreconditionFailed', 'If-Match');
      }
    }
    if (p.same && p.same_extra !== null) checkRemovable(parseExtras(p.same_extra), lock);
  }

  /** WRITE_VERSION_SQL for `rec`; `checked`: a protected version of the same id may go (the caller checked it). */
  private async writeVersion(rec: ObjectRecord, checked: boolean, on: Runner, completed?: { uploadId: string; partChecksums: string }): Promise<DataRef[]> {
    const ids = rec.data.map((d) => d.id);
    try {
      const rows = await this.q<{ id: string; size: number }>(
        WRITE_VERSION_SQL,
        [
          rec.bucket,
          toBytes(rec.key),
          rec.versionId,
          rec.isDeleteMarker,
          rec.size,
          rec.etag,
          rec.lastModified,
          rec.storageClass,
          JSON.stringify(rec.meta),
          Object.keys(rec.meta.checksums ?? {}).join(','),
          JSON.stringify(rec.data.map((d) => ({ id: d.id, size: d.size }))),
          ids.length > 0 ? ids : null,
          rec.parts === undefined ? null : JSON.stringify(rec.parts),
          META_FORMAT_VERSION,
          extrasJson(rec),
          rec.inline !== undefined && rec.inline.length > 0 ? rec.inline : null,
          randomInt(USAGE_SHARDS),
          completed?.uploadId ?? null,
          completed?.partChecksums ?? null,
          checked,
          !checked, // the guard: on the one-statement path only (see WRITE_VERSION_SQL)
        ],
        on,
      );
      if (rows.length === 1 && rows[0]!.id === STALE_WRITE) throw new StoreError('PreconditionFailed', STALE_WRITE);
      return rows.map((r) => ({ id: r.id, size: r.size }));
    } catch (err) {
      if (code(err) === '23503') throw new StoreError('NoSuchBucket');
      throw err;
    }
  }

  deleteObject(
    bucket: string,
    key: string,
    versionId: string = NULL_VERSION,
    lock?: LockCheck,
    expectLastModified?: number,
  ): Promise<ObjectRecord | undefined> {
    const kb = toBytes(key);
    return this.tx(async (c) => {
      const [row] = await this.q<ObjectRow>(
        `SELECT ${OBJ_COLS} FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3 FOR UPDATE`,
        [bucket, kb, versionId],
        c,
      );
      if (row === undefined) {
        if ((await this.q('SELECT 1 FROM buckets WHERE name = $1', [bucket], c)).length === 0) throw new StoreError('NoSuchBucket');
        return undefined;
      }
      // The lifecycle job removes the version it evaluated, never one that replaced it meanwhile.
      if (expectLastModified !== undefined && row.last_modified !== expectLastModified) throw new StoreError('PreconditionFailed');
      const rec = toRecord(row);
      checkRemovable(rec, lock);
      await this.q(DELETE_VERSION_SQL, [bucket, kb, versionId, randomInt(USAGE_SHARDS)], c);
      return rec;
    });
  }

  async scanVersions(bucket: string, prefix: string, keyMarker: string, versionIdMarker: string, limit: number, from?: string): Promise<ListedVersion[]> {
    const pb = toBytes(prefix);
    const mb = toBytes(keyMarker);
    let marker: { last_modified: number; version_id: string } | undefined;
    if (versionIdMarker !== '')
      [marker] = await this.q<{ last_modified: number; version_id: string }>(
        'SELECT last_modified, version_id FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3',
        [bucket, mb, versionIdMarker],
      );
    let lower = Buffer.compare(mb, pb) > 0 ? mb : pb;
    if (from !== undefined && Buffer.compare(toBytes(from), lower) > 0) lower = toBytes(from);
    const upper = pb.length > 0 ? byteSuccessor(pb) : undefined;
    const params = [bucket, lower, mb, marker?.last_modified ?? null, marker?.version_id ?? null, Math.max(limit, 0)];
    const rows = await this.q<ListingRow>(upper ? VERSIONS.bounded : VERSIONS.open, upper ? [...params, upper] : params);
    return pageOf(rows).map(toListedVersion);
  }

  updateObject(bucket: string, key: string, versionId: string | undefined, patch: ObjectPatch): Promise<ObjectRecord | undefined> {
    const kb = toBytes(key);
    return this.tx(async (c) => {
      const where = versionId === undefined ? 'is_latest' : 'version_id = $3';
      const [row] = await this.q<ObjectRow & { exists: boolean }>(
        `SELECT b.name IS NOT NULL AS exists, o.* FROM (SELECT 1) one LEFT JOIN buckets b ON b.name = $1
           LEFT JOIN LATERAL (SELECT ${OBJ_COLS} FROM objects WHERE bucket = $1 AND key = $2 AND ${where} FOR UPDATE) o ON true`,
        versionId === undefined ? [bucket, kb] : [bucket, kb, versionId],
        c,
      );
      if (!row?.exists) throw new StoreError('NoSuchBucket');
      if (row.version_id === null || row.is_delete_marker) return undefined;
      const rec = toRecord(row);
      applyObjectPatch(rec, patch);
      await this.q(
        'UPDATE objects SET meta = $4, checksum_algorithms = $5, extra = $6 WHERE bucket = $1 AND key = $2 AND version_id = $3',
        [bucket, kb, row.version_id, JSON.stringify(rec.meta), Object.keys(rec.meta.checksums ?? {}).join(','), extrasJson(rec)],
        c,
      );
      return rec;
    });
  }

  /** `after` and `from` may be raw byte strings (Buffers), as in the SQLite store. */
  async scanObjects(bucket: string, prefix: string, after: string | Buffer, limit: number, from?: string | Buffer): Promise<ObjectRecord[]> {
    return pageOf(await this.scan(SCAN, bucket, prefix, after, limit, from)).map((r) => toRecord(r as unknown as ObjectRow));
  }

  /** One packed row (PACKED_LISTING); the rare batch it cannot carry (see unpackListing) as rows. */
  async scanListing(bucket: string, prefix: string, after: string | Buffer, limit: number, from?: string | Buffer): Promise<ListedObject[]> {
    const [p] = (await this.scan(PACKED_LISTING, bucket, prefix, after, limit, from)) as unknown as PackedListingRow[];
    if (p === undefined) throw new StoreError('NoSuchBucket');
    const unpacked = unpackListing([p.n, p.k, p.s, p.e, p.m, p.x, p.v]);
    if (unpacked !== undefined) return unpacked;
    return pageOf(await this.scan(LISTING, bucket, prefix, after, limit, from)).map(toListed);
  }

  private scan(
    sql: { open: string; bounded: string },
    bucket: string,
    prefix: string,
    after: string | Buffer,
    limit: number,
    from?: string | Buffer,
  ): Promise<ListingRow[]> {
    const pb = toBytes(prefix);
    let lower = pb;
    if (from !== undefined && Buffer.compare(toBytes(from), lower) > 0) lower = toBytes(from);
    const upper = pb.length > 0 ? byteSuccessor(pb) : undefined;
    const params = [bucket, lower, toBytes(after), Math.max(limit, 0)];
    return this.q<ListingRow>(upper ? sql.bounded : sql.open, upper ? [...params, upper] : params);
  }

  // ---- multipart uploads --------------------------------------------------------------------

  async createUpload(u: UploadRecord): Promise<void> {
    try {
      await this.q(`INSERT INTO uploads (${UPLOAD_COLS}, format) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, uploadParams(u));
    } catch (err) {
      if (code(err) === '23503') throw new StoreError('NoSuchBucket');
      throw err;
    }
  }

  async getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord | undefined> {
    const [row] = await this.q<UploadRow>(`SELECT ${UPLOAD_COLS} FROM uploads WHERE bucket = $1 AND key = $2 AND upload_id = $3`, [
      bucket,
      toBytes(key),
      uploadId,
    ]);
    return row && toUpload(row);
  }

  putPart(bucket: string, key: string, uploadId: string, part: PartRecord): Promise<DataRef[]> {
    const kb = toBytes(key);
    return this.tx(async (c) => {
      // The upload's row, locked against a completion or abort, and the part it replaces.
      const [u] = await this.q<{ data_id: string | null; size: number | null }>(
        `SELECT p.data_id, p.size FROM uploads u LEFT JOIN upload_parts p
           ON p.bucket = u.bucket AND p.key = u.key AND p.upload_id = u.upload_id AND p.part_number = $4
         WHERE u.bucket = $1 AND u.key = $2 AND u.upload_id = $3 FOR UPDATE OF u`,
        [bucket, kb, uploadId, part.partNumber],
        c,
      );
      if (u === undefined) throw new StoreError('NoSuchUpload');
      await this.q(
        `INSERT INTO upload_parts (bucket, key, upload_id, ${PART_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (bucket, key, upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag,
           last_modified = excluded.last_modified, data_id = excluded.data_id, checksums = excluded.checksums`,
        partParams(bucket, kb, uploadId, part),
        c,
      );
      return u.data_id === null ? [] : this.unreferenced(c, [{ id: u.data_id, size: u.size ?? 0 }]);
    });
  }

  async listParts(bucket: string, key: string, uploadId: string, afterPartNumber: number, limit: number): Promise<PartRecord[]> {
    const rows = await this.q<PartRow>(
      `SELECT p.* FROM uploads u LEFT JOIN LATERAL (
         SELECT ${PART_COLS} FROM upload_parts WHERE bucket = u.bucket AND key = u.key AND upload_id = u.upload_id AND part_number > $4
         ORDER BY part_number LIMIT $5) p ON true
       WHERE u.bucket = $1 AND u.key = $2 AND u.upload_id = $3`,
      [bucket, toBytes(key), uploadId, afterPartNumber, Math.max(limit, 0)],
    );
    if (rows.length === 0) throw new StoreError('NoSuchUpload');
    return rows.filter((r) => r.part_number !== null).map(toPart);
  }

  async listUploads(q: UploadListQuery): Promise<UploadRecord[]> {
    const pb = toBytes(q.prefix);
    const mb = toBytes(q.keyMarker);
    const upper = pb.length > 0 ? byteSuccessor(pb) : undefined;
    const params = [q.bucket, Buffer.compare(mb, pb) > 0 ? mb : pb, mb, q.uploadIdMarker, Math.max(q.limit, 0)];
    const rows = await this.q<UploadRow>(upper ? UPLOADS.bounded : UPLOADS.open, upper ? [...params, upper] : params);
    return pageOf(rows).map(toUpload);
  }

  completeUpload(bucket: string, key: string, uploadId: string, rec: ObjectRecord, cond?: WriteCondition, lock?: LockCheck): Promise<DataRef[]> {
    if (rec.bucket !== bucket || rec.key !== key) throw new Error('completeUpload: the record is for another key');
    const kb = toBytes(key);
    return this.tx(async (c) => {
      const rows = await this.q<PartRow>(
        `SELECT p.data_id, p.size, p.checksums FROM uploads u LEFT JOIN upload_parts p
           ON p.bucket = u.bucket AND p.key = u.key AND p.upload_id = u.upload_id
         WHERE u.bucket = $1 AND u.key = $2 AND u.upload_id = $3 ORDER BY p.part_number FOR UPDATE OF u`,
        [bucket, kb, uploadId],
        c,
      );
      if (rows.length === 0) throw new StoreError('NoSuchUpload');
      await this.checkWrite(c, rec, cond, lock);
      const partRows = rows.filter((r) => r.data_id !== null);
      const parts = partRows.map((r) => ({ id: r.data_id, size: r.size }));
      // The record may only point at this upload's pieces: anything else could be freed under it.
      const partIds = new Set(parts.map((d) => d.id));
      for (const d of rec.data) if (!partIds.has(d.id)) throw new Error(`completeUpload: data ${d.id} is not a part of upload ${uploadId}`);
      const checksumsById = new Map(partRows.map((r) => [r.data_id, r.checksums === null ? {} : (JSON.parse(r.checksums) as Record<string, string>)]));
      const partChecksums = rec.data.map((d) => checksumsById.get(d.id) ?? {});
      await this.q('DELETE FROM uploads WHERE bucket = $1 AND key = $2 AND upload_id = $3', [bucket, kb, uploadId], c); // cascades to upload_parts
      const replaced = await this.writeVersion(rec, true, c, { uploadId, partChecksums: JSON.stringify(partChecksums) });
      return [...replaced, ...(await this.unreferenced(c, parts))];
    });
  }

  async getCompletedUpload(bucket: string, key: string): Promise<CompletedUpload | undefined> {
    const [row] = await this.q<{ version_id: string | null; is_delete_marker: boolean | null; upload_id: string | null; part_checksums: string | null }>(
      `SELECT o.version_id, o.is_delete_marker, o.upload_id, o.part_checksums FROM buckets b
         LEFT JOIN objects o ON o.bucket = b.name AND o.key = $2 AND o.is_latest WHERE b.name = $1`,
      [bucket, toBytes(key)],
    );
    if (row === undefined) throw new StoreError('NoSuchBucket');
    if (row.version_id === null || row.is_delete_marker || row.upload_id === null || row.part_checksums === null) return undefined;
    return { versionId: row.version_id, uploadId: row.upload_id, partChecksums: JSON.parse(row.part_checksums) as CompletedUpload['partChecksums'] };
  }

  abortUpload(bucket: string, key: string, uploadId: string): Promise<DataRef[]> {
    const kb = toBytes(key);
    return this.tx(async (c) => {
      const rows = await this.q<{ data_id: string | null; size: number | null }>(
        `SELECT p.data_id, p.size FROM uploads u LEFT JOIN upload_parts p ON p.bucket = u.bucket AND p.key = u.key AND p.upload_id = u.upload_id
         WHERE u.bucket = $1 AND u.key = $2 AND u.upload_id = $3 FOR UPDATE OF u`,
        [bucket, kb, uploadId],
        c,
      );
      if (rows.length === 0) throw new StoreError('NoSuchUpload');
      await this.q('DELETE FROM uploads WHERE bucket = $1 AND key = $2 AND upload_id = $3', [bucket, kb, uploadId], c); // cascades to upload_parts
      return this.unreferenced(
        c,
        rows.filter((r) => r.data_id !== null).map((r) => ({ id: r.data_id!, size: r.size ?? 0 })),
      );
    });
  }

  /** The refs (deduplicated) nothing references any more (in the transaction, after its writes). */
  private async unreferenced(c: PgClient, refs: DataRef[]): Promise<DataRef[]> {
    if (refs.length === 0) return [];
    const free = new Set((await this.q<{ id: string }>(UNREFERENCED_SQL, [refs.map((r) => r.id)], c)).map((r) => r.id));
    const seen = new Set<string>();
    return refs.filter((d) => {
      if (seen.has(d.id) || !free.has(d.id)) return false;
      seen.add(d.id);
      return true;
    });
  }

  // ---- background jobs' state ---------------------------------------------------------------

  async getJobState(name: string): Promise<string | undefined> {
    const [row] = await this.q<{ value: string }>('SELECT value FROM job_state WHERE name = $1', [name]);
    return row?.value;
  }

  async putJobState(name: string, value: string | undefined): Promise<void> {
    if (value === undefined) await this.q('DELETE FROM job_state WHERE name = $1', [name]);
    else await this.q('INSERT INTO job_state (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value]);
  }

  // ---- usage, references, close -------------------------------------------------------------

  private listUsage(): Promise<BucketUsage[]> {
    return this.q<BucketUsage>(
      `SELECT b.name AS bucket, coalesce(sum(u.objects), 0)::bigint AS objects, coalesce(sum(u.versions), 0)::bigint AS versions,
         coalesce(sum(u.delete_markers), 0)::bigint AS "deleteMarkers", coalesce(sum(u.bytes), 0)::bigint AS bytes
       FROM buckets b LEFT JOIN bucket_usage u ON u.bucket = b.name GROUP BY b.name ORDER BY b.name`,
      [],
    );
  }

  async isDataReferenced(dataId: string): Promise<boolean> {
    const [row] = await this.q<{ ref: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM objects WHERE data_ids @> ARRAY[$1::text] AND data_ids IS NOT NULL)
         OR EXISTS (SELECT 1 FROM upload_parts WHERE data_id = $1) AS ref`,
      [dataId],
    );
    return row?.ref === true;
  }

  /** Closes the sub-stores that have something to close, then the pool. */
  async close(): Promise<void> {
    await this.closeBuckets();
    for (const s of [this.healQueue, this.kmsKeys, this.identities, this.coord] as unknown as Array<{ close?: () => unknown } | undefined>) await s?.close?.();
    await this.db.close();
  }
}

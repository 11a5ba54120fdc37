// scanListing's query in packed form: a whole batch of listing rows comes back from SQLite as ONE
// row of a few long strings, unpacked here into ListedObjects. Why: better-sqlite3 makes a JS value
// per column of every row through the V8 API, which cost ~2.5 µs per listed object on the test VM
// (7 values; the B-tree walk itself is ~0.15 µs), more than half of a 1000-key page's server CPU.
// SQLite's own string building (group_concat) plus one String.split per column costs about half
// of that (docs/performance.md, "Round two: listing").
//
// The rows are those of LISTING_SQL (same WHERE, same access paths, same order); only their
// transport changes:
// - count(*), and one group_concat per column, joined by U+001E (the record separator). Only a key
//   can contain that character (sizes and dates are numbers, ETags are the server's quoted hex):
//   when a split does not give exactly count pieces, the caller reads the batch as rows instead.
// - What nearly every row has in common (storage class STANDARD, no checksums in `meta`, and in a
//   bucket that never had versioning the version 'null') comes back as an empty piece; any other
//   row carries a small JSON array [version id | null, storage class | null, checksums | null].
//   In versioned buckets the version ids have a column of their own.
// - group_concat has no documented order, though it runs over the subquery's rows as the
//   subquery yields them (ORDER BY key): the keys are checked to be ascending, and a batch that
//   does not look so is read as rows (this also happens, harmlessly, for keys whose UTF-8 and
//   UTF-16 orders differ: characters above U+FFFF next to U+E000–U+FFFF).
import { NULL_VERSION, type ListedObject } from '../types.js';
import { scanShapes } from './sqlite-sql.js';

const SEP = '\x1e';

/** The extras JSON for a row that has any (`withVersion`: the version id is one of them). */
const extrasSql = (withVersion: boolean) =>
  `CASE WHEN ${withVersion ? "version_id <> 'null' OR " : ''}storage_class <> 'STANDARD' OR instr(meta, '"checksums"') > 0 ` +
  `THEN json_array(${withVersion ? "NULLIF(version_id, 'null')" : 'NULL'}, NULLIF(storage_class, 'STANDARD'), json_extract(meta, '$.checksums')) ELSE '' END AS x`;

const COLUMNS =
  'count(*), group_concat(k, char(30)), group_concat(s, char(30)), group_concat(e, char(30)), group_concat(m, char(30)), group_concat(x, char(30))';

type Shapes = Record<keyof ReturnType<typeof scanShapes>, string>;

const packed = (shapes: Shapes, outer: string): Shapes =>
  Object.fromEntries(Object.entries(shapes).map(([name, inner]) => [name, `SELECT ${outer} FROM (${inner})`])) as Shapes;

/**
 * The four scan shapes of LISTING_SQL, packed (same access paths). `byKey` serves buckets that
 * never had versioning, where every version id is 'null': a version id, if any, travels in the
 * extras. `latest` serves the others, where every row has one: the version ids get a column of
 * their own (a JSON array per row would cost what the packing saves).
 */
export const PACKED_LISTING_SQL = {
  latest: packed(
    scanShapes(`CAST(key AS TEXT) AS k, size AS s, etag AS e, last_modified AS m, version_id AS v, ${extrasSql(false)}`),
    `${COLUMNS}, group_concat(v, char(30))`,
  ),
  byKey: packed(scanShapes(`CAST(key AS TEXT) AS k, size AS s, etag AS e, last_modified AS m, ${extrasSql(true)}`, 'NOT INDEXED'), COLUMNS),
} as const;

export type PackedRow = [
  count: number,
  keys: string | null,
  sizes: string | null,
  etags: string | null,
  dates: string | null,
  extras: string | null,
  versions?: string | null,
];

/** The batch as ListedObjects, or undefined when it must be read as rows instead (see above). */
export function unpackListing(row: PackedRow): ListedObject[] | undefined {
  const [count, k, s, e, m, x, v] = row;
  if (count === 0) return [];
  if (k === null || s === null || e === null || m === null || x === null || v === null) return undefined;
  const keys = k.split(SEP);
  const sizes = s.split(SEP);
  const etags = e.split(SEP);
  const dates = m.split(SEP);
  const extras = x.split(SEP);
  const versions = v?.split(SEP);
  if (keys.length !== count || sizes.length !== count || etags.length !== count || dates.length !== count || extras.length !== count) return undefined;
  if (versions !== undefined && versions.length !== count) return undefined;
  const out: ListedObject[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const key = keys[i]!;
    if (i > 0 && !(keys[i - 1]! < key)) return undefined;
    const more = extras[i]!;
    if (more === '') {
      out[i] = {
        key,
        versionId: versions?.[i] ?? NULL_VERSION,
        size: Number(sizes[i]),
        etag: etags[i]!,
        lastModified: Number(dates[i]),
        storageClass: 'STANDARD',
        checksumAlgorithms: '',
      };
    } else {
      // (The checksums: their object in SQLite's meta JSON, the algorithm names in PostgreSQL's column.)
      const [ver, c, sums] = JSON.parse(more) as [string | null, string | null, Record<string, string> | string | null];
      out[i] = {
        key,
        versionId: ver ?? versions?.[i] ?? NULL_VERSION,
        size: Number(sizes[i]),
        etag: etags[i]!,
        lastModified: Number(dates[i]),
        storageClass: c ?? 'STANDARD',
        checksumAlgorithms: sums === null ? '' : typeof sums === 'string' ? sums : Object.keys(sums).join(','),
      };
    }
  }
  return out;
}

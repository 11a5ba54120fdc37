// `strata admin heal status` for a person: the admin API's heal status (docs/admin-api.md, "Heal
// status") as a table of drives, then the queue, what was healed and the scrub.

interface Rebuild {
  phase: string;
  piecesDone: number;
  piecesTotal: number;
  bytes: number;
  failed: number;
}
interface DriveRow {
  index: number;
  path: string;
  id: string;
  state: string;
  queuedShards: number;
  freeBytes?: number | null;
  rebuild?: Rebuild;
}
interface Degraded {
  pieceId: string;
  drives: number[];
  reason: string;
  attempts: number;
  nextTry: string | null;
  bucket?: string;
  key?: string;
  versionId?: string;
}
interface Pass {
  startedAt: string | null;
  endedAt: string | null;
  pieces: number;
  bytes: number;
  badPieces: number;
}
export interface HealStatusJson {
  drives: DriveRow[];
  metadataCopies?: { epoch: number; copies: Array<{ path: string; state: string }> };
  queue: { shards: number; pieces: number; oldest: string | null; degraded: Degraded[]; truncated: boolean };
  healed: { bytes: number; shards: number; pieces: number; failures: number; lastHealAt: string | null };
  scrub: { rateBytesPerSecond: number; position: string | null; currentPass: Pass | null; lastFullPass: Pass | null; nextPassAt: string | null };
}

/** 1536 → "1.5 KiB". */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Rows as left-aligned columns, two spaces apart. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`).join('');
}

const percent = (done: number, total: number): string => (total === 0 ? '100%' : `${Math.floor((100 * Math.min(done, total)) / total)}%`);

function driveState(d: DriveRow): string {
  if (d.state !== 'healing' || !d.rebuild) return d.state;
  const r = d.rebuild;
  if (r.phase === 'counting') return `healing (counting pieces: ${r.piecesTotal})`;
  return `healing ${percent(r.piecesDone, r.piecesTotal)} (${r.piecesDone}/${r.piecesTotal} pieces, ${humanBytes(r.bytes)}${r.failed ? `, ${r.failed} failed` : ''})`;
}

const passLine = (p: Pass): string => `${p.pieces} pieces, ${humanBytes(p.bytes)} read, ${p.badPieces} with bad shards`;

export function healStatusText(s: HealStatusJson): string {
  let out = table([
    ['DRIVE', 'STATE', 'QUEUED', 'FREE', 'PATH', 'ID'],
    ...s.drives.map((d) => [
      String(d.index),
      driveState(d),
      String(d.queuedShards),
      typeof d.freeBytes === 'number' ? humanBytes(d.freeBytes) : '-',
      d.path,
      d.id,
    ]),
  ]);
  const mc = s.metadataCopies;
  if (mc) {
    const state = (c: { state: string }) => (c.state === 'out' ? 'out (rebuilt when its drive is back, or at the next start)' : c.state);
    out += `Metadata copies (epoch ${mc.epoch}): ${mc.copies.map((c) => `${c.path} ${state(c)}`).join(', ')}\n`;
  }
  out += `\nDegraded: ${s.queue.pieces} piece${s.queue.pieces === 1 ? '' : 's'} (${s.queue.shards} shard${s.queue.shards === 1 ? '' : 's'}) queued for healing${s.queue.oldest ? `, oldest since ${s.queue.oldest}` : ''}\n`;
  if (s.queue.degraded.length > 0) {
    out += table([
      ['OBJECT', 'DRIVES', 'REASON', 'ATTEMPTS', 'NEXT TRY'],
      ...s.queue.degraded.map((p) => [
        p.bucket !== undefined ? `${p.bucket}/${p.key}${p.versionId && p.versionId !== 'null' ? ` (${p.versionId})` : ''}` : `piece ${p.pieceId}`,
        p.drives.join(','),
        p.reason,
        String(p.attempts),
        p.nextTry ?? '',
      ]),
    ]);
    if (s.queue.truncated) out += '(more not shown: --json has the first 100)\n';
  }
  out += `Healed: ${humanBytes(s.healed.bytes)} in ${s.healed.shards} shards of ${s.healed.pieces} pieces${s.healed.failures ? ` (${s.healed.failures} failed attempts, retried)` : ''}${s.healed.lastHealAt ? `, last at ${s.healed.lastHealAt}` : ''}\n`;
  const sc = s.scrub;
  if (sc.rateBytesPerSecond === 0) out += 'Scrub: off (--scrub-rate 0)\n';
  else {
    out += `Scrub: ${humanBytes(sc.rateBytesPerSecond)}/s; `;
    out += sc.currentPass
      ? `pass in progress since ${sc.currentPass.startedAt}: ${passLine(sc.currentPass)}, at piece ${sc.position}\n`
      : `next pass at ${sc.nextPassAt ?? 'the next round'}\n`;
    out += sc.lastFullPass
      ? `Last full pass: ${sc.lastFullPass.startedAt} to ${sc.lastFullPass.endedAt}: ${passLine(sc.lastFullPass)}\n`
      : 'Last full pass: none yet\n';
  }
  return out;
}

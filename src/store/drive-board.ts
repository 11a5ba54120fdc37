// The drive states shared by the processes of one server (several workers on one erasure set,
// docs/drives.md "Several processes"): each drive's last state change (online, offline, healing,
// with why and when) as a small JSON entry of the metadata store's job state, `drive-state:<id>`.
// The drive set of every process records its own changes here and applies the newer ones the
// others recorded (drives.ts, DriveStateBoard), so the jobs' process rebuilds a drive another
// worker adopted, and every worker answers the heal status alike.
import type { DriveStateBoard, DriveStateRecord } from './data/erasure/drives.js';
import type { DriveState } from './data/erasure/types.js';
import type { MetaStore } from './types.js';

const STATES: ReadonlySet<string> = new Set<DriveState>(['online', 'offline', 'healing']);

/** The job-state name of a drive's entry. */
export const driveStateName = (id: string): string => `drive-state:${id}`;

function parse(id: string, text: string | undefined): DriveStateRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<DriveStateRecord>;
    if (typeof v.state === 'string' && STATES.has(v.state) && typeof v.at === 'number') return { id, state: v.state, reason: String(v.reason ?? ''), at: v.at };
  } catch {
    // unreadable: as if none (the next change rewrites it)
  }
  return undefined;
}

/** The board of the drives `ids` over `meta`. A record older than the one stored is not written (the latest change wins). */
export function metaDriveBoard(meta: Pick<MetaStore, 'getJobState' | 'putJobState'>, ids: readonly string[]): DriveStateBoard {
  const get = async (id: string) => parse(id, await meta.getJobState(driveStateName(id)));
  return {
    async read() {
      return (await Promise.all(ids.map(get))).filter((r): r is DriveStateRecord => r !== undefined);
    },
    async write(r) {
      const stored = await get(r.id);
      if (stored && stored.at >= r.at) return;
      await meta.putJobState(driveStateName(r.id), JSON.stringify({ state: r.state, reason: r.reason, at: r.at }));
    },
  };
}

// The housekeeping behind the Store façade's takeOverAlone and sweepOrphans (store.ts, run at
// startup and by src/jobs/): a dead process's coordination rows cleared and its due frees done, and
// committed pieces that nothing references and no write in progress may commit freed.
import type { PieceKeeper } from './piece-keeper.js';
import type { DataStore, MetaStore } from './types.js';
import type { WriteIntents } from './write-intents.js';

/** Rows of due frees taken per query at a takeover. */
const TAKEOVER_BATCH = 500;

/** Store.takeOverAlone: every lease, intent and pin cleared, every recorded free unlinked now. Returns how many. */
export async function takeOverDirectory(meta: MetaStore, intents: WriteIntents, keeper: PieceKeeper): Promise<number> {
  await meta.coord.clearProcesses();
  intents.aloneSince = Date.now();
  let n = 0;
  for (;;) {
    const ids = await meta.coord.takeDueFrees(Number.MAX_SAFE_INTEGER, Date.now(), TAKEOVER_BATCH, () => false);
    for (const id of ids) await keeper.removeNow(id);
    n += ids.length;
    if (ids.length < TAKEOVER_BATCH) return n;
  }
}

/** Store.sweepOrphans: yields after each piece examined (true: it was an orphan, now freed). */
export async function* sweepOrphanPieces(
  meta: MetaStore,
  data: DataStore,
  intents: WriteIntents,
  keeper: PieceKeeper,
  signal?: AbortSignal,
): AsyncGenerator<boolean> {
  const cutoff = await intents.sweepCutoff();
  for await (const id of data.listIds(cutoff)) {
    if (signal?.aborted) return;
    const orphan = !(await meta.isDataReferenced(id));
    if (orphan) {
      if (keeper.freeGraceMs === 0) await keeper.deferOrRemove(id);
      else await keeper.free([{ id, size: 0 }]);
    }
    yield orphan;
  }
}

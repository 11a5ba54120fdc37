// A resumable walk over the erasure store's piece ids (ErasureMaintenance.pieceIds: ascending
// order), taken a few at a time by bounded job steps: the scrub and the drive rebuild keep the
// last id done as their cursor (in their job state) and, after a restart, walk on after it.
import type { ErasureMaintenance } from '../store/data/erasure/types.js';

export class PieceWalk {
  private it: AsyncIterator<string> | undefined;
  private last: string;

  /** A walk of the ids after `cursor` ('' = from the start). */
  constructor(
    private readonly m: ErasureMaintenance,
    cursor: string,
  ) {
    this.last = cursor;
  }

  /** The next id, or undefined at the end of the walk. */
  async next(): Promise<string | undefined> {
    this.it ??= this.m.pieceIds(undefined, this.last === '' ? undefined : this.last)[Symbol.asyncIterator]();
    for (;;) {
      const r = await this.it.next();
      if (r.done) {
        this.it = undefined;
        return undefined;
      }
      // Ids up to the cursor are done (an implementation that does not honour `after` lists them again).
      if (this.last !== '' && r.value <= this.last) continue;
      this.last = r.value;
      return r.value;
    }
  }

  /** Stops the walk (the directory listing behind it is released). */
  close(): void {
    void this.it?.return?.();
    this.it = undefined;
  }
}

// A fake erasure store for the heal, scrub and rebuild jobs' unit tests: pieces with a size and a
// set of bad shards, drives whose state the test sets, and a record of what the jobs asked.
// Test support only (imported by *.test.ts).
import type { Drive, DriveSet, DriveState, ErasureMaintenance, PieceCheck } from '../store/data/erasure/types.js';
import type { Job } from './runner.js';

/** Runs one round of `job` (steps until it says done, at most 10 000). Answers the steps taken. */
export async function round(job: Job, signal = new AbortController().signal): Promise<number> {
  for (let steps = 1; steps <= 10_000; steps++) if (!(await job.step(signal))) return steps;
  throw new Error(`${job.name}: a round did not end`);
}

class FakeDrive implements Drive {
  constructor(
    readonly index: number,
    readonly path: string,
    readonly id: string,
    public state: DriveState,
  ) {}
}

export class FakeDriveSet implements DriveSet {
  readonly id = 'set-1';
  readonly drives: FakeDrive[];
  /** Drives marked healed (DriveSet.healed), in order. */
  readonly healedCalls: number[] = [];
  constructor(width: number) {
    this.drives = Array.from({ length: width }, (_, i) => new FakeDrive(i, `/drives/d${i + 1}`, `drive-${i}`, 'online'));
  }
  parityFor(): number {
    return 2;
  }
  failed(index: number): void {
    this.drives[index]!.state = 'offline';
  }
  async healed(index: number): Promise<void> {
    this.healedCalls.push(index);
    this.drives[index]!.state = 'online';
  }
  set(index: number, state: DriveState): void {
    this.drives[index]!.state = state;
  }
}

interface FakePiece {
  /** Bytes of one shard. */
  shardSize: number;
  bad: Set<number>;
}

export class FakeErasure implements ErasureMaintenance {
  readonly drives: FakeDriveSet;
  readonly pieces = new Map<string, FakePiece>();
  readonly verified: string[] = [];
  readonly healCalls: string[] = [];
  /** healPiece throws for these piece ids (as with fewer than k healthy shards). */
  readonly unhealable = new Set<string>();
  /** Called at the start of each healPiece (a test may report the piece again meanwhile). */
  onHeal?: (pieceId: string) => void;

  constructor(width = 6) {
    this.drives = new FakeDriveSet(width);
  }

  add(id: string, shardSize: number, bad: number[] = []): void {
    this.pieces.set(id, { shardSize, bad: new Set(bad) });
  }

  async verifyPiece(pieceId: string): Promise<PieceCheck | undefined> {
    this.verified.push(pieceId);
    const p = this.pieces.get(pieceId);
    if (!p) return undefined;
    const bad = [...p.bad].sort((a, b) => a - b);
    // An offline drive's shard cannot be read either.
    for (const d of this.drives.drives) if (d.state === 'offline' && !p.bad.has(d.index)) bad.push(d.index);
    const readable = this.drives.drives.length - bad.length;
    return { bad: bad.sort((a, b) => a - b), bytesRead: readable * p.shardSize };
  }

  async healPiece(pieceId: string): Promise<{ healed: readonly number[]; bytesWritten: number } | undefined> {
    this.healCalls.push(pieceId);
    this.onHeal?.(pieceId);
    const p = this.pieces.get(pieceId);
    if (!p) return undefined;
    if (this.unhealable.has(pieceId)) throw new Error(`piece ${pieceId}: fewer than k healthy shards`);
    const healed = [...p.bad].filter((d) => this.drives.drives[d]!.state !== 'offline').sort((a, b) => a - b);
    for (const d of healed) p.bad.delete(d);
    return { healed, bytesWritten: healed.length * p.shardSize };
  }

  async *pieceIds(_index?: number, after?: string): AsyncIterable<string> {
    for (const id of [...this.pieces.keys()].sort()) {
      if (after !== undefined && id <= after) continue;
      yield id;
    }
  }
}

// The in-memory Coordination (see ../coord.ts): the same rules as sqlite-coord.ts for one process's
// tests; two MemoryMetaStores never share it.
import type { Coordination } from '../coord.js';

export class MemoryCoordination implements Coordination {
  private readonly leases = new Map<string, { owner: string; expires: number }>();
  private readonly intents = new Map<string, { started: number; expires: number }>();
  private readonly frees = new Map<string, number>();
  private readonly pins = new Map<string, { ids: string[]; expires: number }>();

  constructor(private readonly isReferenced: (id: string) => boolean) {}

  async tryLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const l = this.leases.get(name);
    if (l && l.owner !== owner && l.expires > now) return false;
    this.leases.set(name, { owner, expires: now + ttlMs });
    return true;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    if (this.leases.get(name)?.owner === owner) this.leases.delete(name);
  }

  async leaseHolder(name: string, now: number): Promise<string | undefined> {
    const l = this.leases.get(name);
    return l && l.expires > now ? l.owner : undefined;
  }

  async clearProcesses(): Promise<void> {
    this.leases.clear();
    this.intents.clear();
    this.pins.clear();
  }

  async addIntent(id: string, _owner: string, now: number, ttlMs: number): Promise<void> {
    this.intents.set(id, { started: now, expires: now + ttlMs });
  }

  async renewIntents(ids: string[], now: number, ttlMs: number): Promise<void> {
    for (const id of ids) {
      const i = this.intents.get(id);
      if (i) i.expires = now + ttlMs;
    }
  }

  async removeIntent(id: string): Promise<void> {
    this.intents.delete(id);
  }

  async oldestIntent(now: number): Promise<number | undefined> {
    let oldest: number | undefined;
    for (const i of this.intents.values()) if (i.expires > now && (oldest === undefined || i.started < oldest)) oldest = i.started;
    return oldest;
  }

  async addPendingFrees(ids: string[], now: number): Promise<void> {
    for (const id of ids) if (!this.frees.has(id)) this.frees.set(id, now);
  }

  async takeDueFrees(dueBefore: number, now: number, limit: number, keep: (id: string) => boolean): Promise<string[]> {
    const pinned = new Set<string>();
    for (const p of this.pins.values()) if (p.expires > now) p.ids.forEach((id) => pinned.add(id));
    const out: string[] = [];
    for (const [id, at] of this.frees) {
      if (out.length >= limit) break;
      if (at > dueBefore || pinned.has(id) || keep(id)) continue;
      this.frees.delete(id);
      if (!this.isReferenced(id)) out.push(id);
    }
    return out;
  }

  async pendingFrees(): Promise<number> {
    return this.frees.size;
  }

  async pin(pinId: string, ids: string[], expiresAt: number): Promise<void> {
    this.pins.set(pinId, { ids, expires: expiresAt });
  }

  async unpin(pinId: string): Promise<void> {
    this.pins.delete(pinId);
  }
}

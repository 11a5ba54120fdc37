// Exact figures across the workers of a cluster: every count lives in the process that served the
// request, so whichever worker answers /metrics (or the admin API's history and jobs) asks the
// primary, the primary asks every worker for its snapshot over the cluster IPC channel, merges them
// (with its own process figures and what workers that died had counted) and answers. The primary
// also keeps the history (history.ts), sampled the same way.
//
//   worker → primary  {strata:'metrics:ask', id, what:'snapshot'|'history', minutes?}
//   primary → worker  {strata:'metrics:collect', id, usage}   worker → primary {strata:'metrics:part', id, part}
//   primary → worker  {strata:'metrics:answer', id, snapshot? | history? | error?}
import type { Worker } from 'node:cluster';
import type { HistoryAnswer } from './history.js';
import { countersOf, emptySnapshot, mergeInto, mergeSnapshots, type Snapshot } from './snapshot.js';

/** How long the primary waits for the workers' parts, and a worker for the primary's answer. */
const COLLECT_WAIT_MS = 3000;
const ASK_WAIT_MS = 8000;

/** A worker's part of a collection: its snapshot, and the store's usage totals when asked. */
export interface Part {
  snapshot: Snapshot;
  usage?: { objects: number; bytes: number };
}

type Message =
  | { strata: 'metrics:ask'; id: number; what: 'snapshot' | 'history'; minutes?: number }
  | { strata: 'metrics:collect'; id: number; usage: boolean }
  | { strata: 'metrics:part'; id: number; part: Part }
  | { strata: 'metrics:answer'; id: number; snapshot?: Snapshot; history?: HistoryAnswer; error?: string };

const isMetricsMessage = (m: unknown): m is Message =>
  typeof (m as { strata?: unknown })?.strata === 'string' && (m as { strata: string }).strata.startsWith('metrics:');

/** The primary's side: collects the workers' parts and answers their questions. */
export class MetricsHub {
  private readonly workers = new Map<Worker, { listening: boolean; last?: Snapshot }>();
  /** Counters of workers that exited (their last part), so the server's counters do not go back. */
  private retired = emptySnapshot();
  private nextId = 1;
  private readonly pending = new Map<number, { parts: Part[]; waiting: Set<Worker>; done: () => void }>();
  /** The history, once the primary has one (history.ts). */
  history?: (minutes: number) => HistoryAnswer;

  /** `own`: the primary's own process figures. */
  constructor(private readonly own: () => Snapshot) {}

  /** A new worker: its parts and questions are handled from now on; its counters kept when it exits. */
  attach(w: Worker): void {
    const state: { listening: boolean; last?: Snapshot } = { listening: false };
    this.workers.set(w, state);
    w.on('message', (m: unknown) => {
      if ((m as { strata?: string })?.strata === 'listening') state.listening = true;
      if (!isMetricsMessage(m)) return;
      if (m.strata === 'metrics:part') this.received(w, m.id, m.part);
      else if (m.strata === 'metrics:ask') void this.answer(w, m);
    });
    w.once('exit', () => {
      if (state.last) this.retired = mergeInto(this.retired, countersOf(state.last));
      this.workers.delete(w);
      for (const p of this.pending.values()) if (p.waiting.delete(w) && p.waiting.size === 0) p.done();
    });
  }

  private received(w: Worker, id: number, part: Part): void {
    const p = this.pending.get(id);
    const state = this.workers.get(w);
    if (state) state.last = part.snapshot;
    if (!p || !p.waiting.delete(w)) return;
    p.parts.push(part);
    if (p.waiting.size === 0) p.done();
  }

  /**
   * Every listening worker's part (those that do not answer within COLLECT_WAIT_MS are left out);
   * `usage`: the first worker also reads the store's usage totals.
   */
  async collect(usage = false): Promise<{ snapshot: Snapshot; usage?: Part['usage'] }> {
    const id = this.nextId++;
    const targets = [...this.workers].filter(([w, s]) => s.listening && w.isConnected()).map(([w]) => w);
    const parts: Part[] = [];
    if (targets.length > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, COLLECT_WAIT_MS);
        this.pending.set(id, {
          parts,
          waiting: new Set(targets),
          done: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        // A worker gone meanwhile: the send fails in its callback (without one, the error event would
        // end the primary) and its exit removes it from the waiting set.
        targets.forEach((w, i) => sendQuietly(w, { strata: 'metrics:collect', id, usage: usage && i === 0 }));
      });
      this.pending.delete(id);
    }
    const snapshot = mergeSnapshots([this.own(), this.retired, ...parts.map((p) => p.snapshot)]);
    return { snapshot, usage: parts.find((p) => p.usage)?.usage };
  }

  private async answer(w: Worker, m: Extract<Message, { strata: 'metrics:ask' }>): Promise<void> {
    let reply: Message;
    try {
      if (m.what === 'history') {
        if (!this.history) throw new Error('no history yet');
        reply = { strata: 'metrics:answer', id: m.id, history: this.history(m.minutes ?? 60) };
      } else reply = { strata: 'metrics:answer', id: m.id, snapshot: (await this.collect()).snapshot };
    } catch (err) {
      reply = { strata: 'metrics:answer', id: m.id, error: err instanceof Error ? err.message : String(err) };
    }
    sendQuietly(w, reply);
  }
}

/** Sends to a worker; a closed channel is not an error here (the worker's exit is handled apart). */
function sendQuietly(w: Worker, m: Message): void {
  if (!w.isConnected()) return;
  try {
    w.send(m, undefined, () => undefined);
  } catch {
    // the channel closed between the check and the send
  }
}

/** A worker's side: answers the primary's collections, asks it for the server's figures. */
export class WorkerLink {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (m: Extract<Message, { strata: 'metrics:answer' }>) => void; timer: NodeJS.Timeout }>();

  constructor(
    /** This worker's snapshot. */
    private readonly part: () => Snapshot,
    /** The store's usage totals (asked of one worker per history sample). */
    private readonly usage: () => Promise<{ objects: number; bytes: number }>,
    private readonly channel: { send?: (m: unknown) => unknown; on(ev: 'message', f: (m: unknown) => void): unknown } = process,
  ) {
    channel.on('message', (m: unknown) => {
      if (!isMetricsMessage(m)) return;
      if (m.strata === 'metrics:collect') void this.reply(m.id, m.usage);
      else if (m.strata === 'metrics:answer') {
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        clearTimeout(w.timer);
        w.resolve(m);
      }
    });
  }

  private async reply(id: number, withUsage: boolean): Promise<void> {
    const part: Part = { snapshot: this.part() };
    if (withUsage) part.usage = await this.usage().catch(() => undefined);
    this.channel.send?.({ strata: 'metrics:part', id, part } satisfies Message);
  }

  private ask(what: 'snapshot' | 'history', minutes?: number): Promise<Extract<Message, { strata: 'metrics:answer' }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error('the cluster primary did not answer'));
      }, ASK_WAIT_MS);
      this.waiting.set(id, { resolve, timer });
      this.channel.send?.({ strata: 'metrics:ask', id, what, ...(minutes !== undefined && { minutes }) } satisfies Message);
    });
  }

  /** The server's snapshot: every process's figures, merged by the primary. */
  async snapshot(): Promise<Snapshot> {
    const a = await this.ask('snapshot');
    if (!a.snapshot) throw new Error(a.error ?? 'no snapshot');
    return a.snapshot;
  }

  async history(minutes: number): Promise<HistoryAnswer> {
    const a = await this.ask('history', minutes);
    if (!a.history) throw new Error(a.error ?? 'no history');
    return a.history;
  }
}

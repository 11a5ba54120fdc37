// The gateway registry (docs/cluster.md, "Gateways"): each gateway process says it is alive —
// registers once, then heartbeats — and anyone lists the gateways with when each was last seen.
// Two implementations behind this one small interface: a PostgreSQL table with a heartbeat
// (registry-pg.ts, the default with --meta postgres) and, with --etcd, keys bound to an etcd lease
// (the etcd slice). `keepRegistered` runs the heartbeat loop of either.
import type { Logger } from 'pino';

/** What a gateway process says about itself when it registers. */
export interface GatewaySelf {
  /** Unique per process and start: the Store's owner name (the jobs lease holder is this id). */
  id: string;
  /** Where it serves S3, as a client reaches it (http(s)://host:port). */
  address: string;
  /** The machine's host name. */
  hostname: string;
  pid: number;
}

/** A registered gateway as listed. Times are epoch milliseconds by the registry's clock. */
export interface GatewayEntry extends GatewaySelf {
  startedAt: number;
  lastSeen: number;
  /** Seen within the registry's liveness window (a few heartbeats). */
  live: boolean;
}

export interface GatewayRegistry {
  /** 'postgres' or 'etcd': shown by the cluster status. */
  readonly kind: string;
  /** Registers this process (again after a loss: idempotent). */
  register(self: GatewaySelf): Promise<void>;
  /** This process is still alive (re-registers when its entry was lost, e.g. PostgreSQL restored from a backup). */
  heartbeat(): Promise<void>;
  /** Every gateway known, live ones and recently gone ones, by start time. */
  list(): Promise<GatewayEntry[]>;
  /** Removes this process's entry (a clean stop) and releases what the registry holds. */
  close(): Promise<void>;
}

/** Heartbeat period: a gateway unseen for LIVE_WINDOW_MS is listed as not live. */
export const HEARTBEAT_MS = 2_000;
export const LIVE_WINDOW_MS = 3 * HEARTBEAT_MS + 1_000;

/**
 * Registers `self` and heartbeats every `everyMs` until `signal` aborts (then deregisters). A
 * registry that does not answer (PostgreSQL down) is logged once per outage and retried at the next
 * beat; the gateway serves on regardless. Resolves once the first registration was tried.
 */
export async function keepRegistered(registry: GatewayRegistry, self: GatewaySelf, o: { log: Logger; signal: AbortSignal; everyMs?: number }): Promise<void> {
  let registered = false;
  let failing = false;
  const beat = async (): Promise<void> => {
    try {
      if (registered) await registry.heartbeat();
      else await registry.register(self);
      registered = true;
      if (failing) o.log.info({ registry: registry.kind }, 'gateway registry reachable again');
      failing = false;
    } catch (err) {
      if (!failing)
        o.log.warn({ err: err instanceof Error ? err.message : String(err), registry: registry.kind }, 'gateway registry: heartbeat failed (retried)');
      failing = true;
    }
  };
  await beat();
  const timer = setInterval(() => void beat(), o.everyMs ?? HEARTBEAT_MS);
  timer.unref();
  o.signal.addEventListener(
    'abort',
    () => {
      clearInterval(timer);
    },
    { once: true },
  );
}

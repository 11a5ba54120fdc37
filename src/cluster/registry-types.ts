// The gateway registry's interface — the same shape as slice gateway's src/cluster/registry.ts
// (GatewaySelf, GatewayEntry, GatewayRegistry), copied here because that file is not on this branch:
// when both are merged, this file goes and etcd-registry.ts imports registry.ts instead.

/** What a gateway process says about itself when it registers. */
export interface GatewaySelf {
  /** Unique per process and start: the Store's owner name. */
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
  /** Seen within the registry's liveness window. */
  live: boolean;
}

export interface GatewayRegistry {
  /** 'postgres' or 'etcd': shown by the cluster status. */
  readonly kind: string;
  /** Registers this process (again after a loss: idempotent). */
  register(self: GatewaySelf): Promise<void>;
  /** This process is still alive (re-registers when its entry was lost). */
  heartbeat(): Promise<void>;
  /** Every gateway known, by start time. */
  list(): Promise<GatewayEntry[]>;
  /** Removes this process's entry (a clean stop) and releases what the registry holds. */
  close(): Promise<void>;
}

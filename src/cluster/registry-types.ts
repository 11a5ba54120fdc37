// The gateway registry's interface (the etcd slice's copy: slice gateway defines the same shape in
// src/cluster/registry.ts; the lead keeps one). Each gateway process registers itself and keeps its
// entry alive; anyone lists the live ones (`strata admin cluster status`).

/** One gateway process as it registered. */
export interface GatewayInfo {
  /** Unique per process (e.g. host:port/pid or a random id). */
  id: string;
  /** Where it serves S3 (HOST:PORT or a URL). */
  address: string;
  pid: number;
  /** When it started (ISO 8601). */
  started: string;
  /** When the registry last heard from it (ISO 8601), when the registry knows (PostgreSQL heartbeats); etcd leases do not say. */
  lastSeen?: string;
}

export interface GatewayRegistry {
  /** Registers this process and keeps the entry alive until close() (re-registering after an outage). */
  register(self: GatewayInfo): Promise<void>;
  /** Renews the entry now (the registry also renews it on its own). */
  heartbeat(): Promise<void>;
  /** The live gateways, by id. */
  list(): Promise<GatewayInfo[]>;
  /** Removes this process's entry and stops renewing it. */
  close(): Promise<void>;
}

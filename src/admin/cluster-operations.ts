// The admin API's cluster status (docs/admin-api.md "Cluster status", docs/cluster.md): the
// gateways sharing this server's PostgreSQL metadata and data directory, the job leader,
// PostgreSQL's and etcd's health, as src/cluster/registry-status.ts assembles them (wired by
// serve.ts with --meta postgres). Action admin:ServerInfo, as the other read-only server figures.
import { AdminError, type AdminRoute, type Json } from './operations.js';

/** What the cluster route reads; absent on a server whose metadata is SQLite in its data directory. */
export interface AdminCluster {
  status(): Promise<Json>;
}

export const CLUSTER_ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: ['cluster', 'status'],
    action: 'admin:ServerInfo',
    run: async (c) => {
      if (!c.cluster)
        throw new AdminError(
          'NotImplemented',
          501,
          'This server keeps its metadata in SQLite in its data directory: it is not a cluster of gateways (start with --meta postgres://…, docs/cluster.md).',
        );
      return c.cluster.status();
    },
  },
];

// Which leader elector a process uses for the job runner (docs/cluster.md "Which elector"):
// --etcd → etcd (leader-etcd.ts); PostgreSQL metadata without etcd → PostgreSQL advisory locks
// (leader-pg.ts); otherwise (SQLite, one machine) none: the runner keeps the metadata store's lease row.
import type { EtcdCluster } from './etcd.js';
import type { LeaderElector } from './leader.js';
import { PgElector } from './leader-pg.js';

export interface ElectorChoice {
  /** The process's etcd cluster (--etcd), when given. */
  etcd?: EtcdCluster;
  /** The PostgreSQL metadata URL (--meta postgres://…), when the metadata store is PostgreSQL. */
  postgresUrl?: string;
  owner: string;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** The elector for the `jobs` election, or undefined: the runner then takes the store's lease (`leases`). */
export function jobElector(c: ElectorChoice): LeaderElector | undefined {
  if (c.etcd) return c.etcd.elector({ name: 'jobs' });
  if (c.postgresUrl) return new PgElector({ url: c.postgresUrl, owner: c.owner, name: 'jobs', log: c.log });
  return undefined;
}

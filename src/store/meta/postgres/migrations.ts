// Every migration of the PostgreSQL metadata schema, in one list (db.ts applies them in id order).
// Each domain keeps its DDL in its own module and adds its steps here; ids are never renumbered and
// a step once released is never edited (a change is a new step).
import { COORD_MIGRATION } from './coord.js';
import type { Migration } from './db.js';
import { HEAL_MIGRATION } from './heal.js';
import { IDENTITIES_MIGRATION } from './identities.js';
import { KMS_MIGRATION } from './kms.js';
import { CORE_MIGRATION } from './schema-core.js';

/**
 * The gateway registry (src/cluster/registry-pg.ts: a row per gateway process, its heartbeat) and
 * the namespace id that binds a data directory to this database (src/cluster/registry-binding.ts).
 */
const GATEWAYS_MIGRATION: Migration = {
  id: '0006-gateways',
  up: `
CREATE TABLE strata_gateways (
  id text PRIMARY KEY,
  address text NOT NULL,
  hostname text NOT NULL,
  pid integer NOT NULL,
  started_at timestamptz NOT NULL,
  last_seen timestamptz NOT NULL
);
CREATE TABLE strata_namespace (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  id text NOT NULL
);
INSERT INTO strata_namespace (id) VALUES (gen_random_uuid()::text);`,
};

/**
 * The generation of bucket rows and configuration documents: every write of them bumps it and
 * notifies it, so that each process's bucket cache (bucket-cache.ts) drops what it holds.
 */
const BUCKET_GENERATION_MIGRATION: Migration = {
  id: '0007-bucket-generation',
  up: `INSERT INTO strata_generations (name, value) VALUES ('buckets', 0) ON CONFLICT (name) DO NOTHING;`,
};

export const MIGRATIONS: readonly Migration[] = [
  CORE_MIGRATION,
  COORD_MIGRATION,
  IDENTITIES_MIGRATION,
  KMS_MIGRATION,
  HEAL_MIGRATION,
  GATEWAYS_MIGRATION,
  BUCKET_GENERATION_MIGRATION,
];

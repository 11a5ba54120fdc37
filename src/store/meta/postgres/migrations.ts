// Every migration of the PostgreSQL metadata schema, in one list (db.ts applies them in id order).
// Each domain keeps its DDL in its own module and adds its steps here; ids are never renumbered and
// a step once released is never edited (a change is a new step).
import { COORD_MIGRATION } from './coord.js';
import type { Migration } from './db.js';
import { HEAL_MIGRATION } from './heal.js';
import { IDENTITIES_MIGRATION } from './identities.js';
import { KMS_MIGRATION } from './kms.js';
import { CORE_MIGRATION } from './schema-core.js';

export const MIGRATIONS: readonly Migration[] = [CORE_MIGRATION, COORD_MIGRATION, IDENTITIES_MIGRATION, KMS_MIGRATION, HEAL_MIGRATION];

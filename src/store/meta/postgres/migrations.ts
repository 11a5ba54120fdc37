// Every migration of the PostgreSQL metadata schema, in one list (db.ts applies them in id order).
// Each domain keeps its DDL in its own module and adds its steps here; ids are never renumbered and
// a step once released is never edited (a change is a new step).
import type { Migration } from './db.js';
import { CORE_MIGRATION } from './schema-core.js';

export const MIGRATIONS: readonly Migration[] = [CORE_MIGRATION];

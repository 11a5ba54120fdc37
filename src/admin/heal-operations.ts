// The admin API's heal status (docs/admin-api.md, "Heal status"): drive states, the heal queue,
// bytes healed and the scrub's position, as jobs/heal-status.ts reads them (wired by serve.ts when
// the data store is erasure-coded). Action admin:Heal, MinIO's name for its heal calls.
import { AdminError, type AdminRoute, type Json } from './operations.js';

/** What the heal routes read; absent on a one-drive server. */
export interface AdminHeal {
  status(): Promise<Json>;
}

export const HEAL_ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: ['heal', 'status'],
    action: 'admin:Heal',
    run: async (c) => {
      if (!c.heal) throw new AdminError('NotImplemented', 501, 'This server keeps its data on one drive: there is no erasure coding to heal (docs/drives.md).');
      return c.heal.status();
    },
  },
];

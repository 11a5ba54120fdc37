// A background job's resumable state as versioned JSON in the store's job state (Store.getJobState):
// what the scrub, heal and drive-rebuild jobs (and the heal status) read back after a restart.
import type { Store } from '../store/store.js';

type Log = { warn(obj: object, msg: string): void };

/** The stored state of `name` when it is JSON of version `v`; undefined when none (or unreadable: logged). */
export async function loadJobState<T extends { v: number }>(store: Store, name: string, v: number, log?: Log): Promise<T | undefined> {
  const saved = await store.getJobState(name);
  if (saved === undefined) return undefined;
  try {
    const parsed = JSON.parse(saved) as T;
    if (parsed?.v === v) return parsed;
  } catch {
    // below
  }
  log?.warn({ job: name, saved: saved.slice(0, 200) }, 'unreadable saved job state, starting afresh');
  return undefined;
}

/** Stores the state (undefined: removes it). */
export async function saveJobState(store: Store, name: string, state: object | undefined): Promise<void> {
  await store.putJobState(name, state === undefined ? undefined : JSON.stringify(state));
}

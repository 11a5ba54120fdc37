// The erasure-coding sides of `npm run bench` (issue 16; docs/performance.md, "Erasure coding"):
// Strata on six directories of the same file system at EC 4+2 (`strata-ec`), and the same with one
// drive gone while it serves (`strata-ec-1down`). They run the core cells marked `ec` (64 MiB PUT
// and GET, 4 KiB GET and PUT) beside the one-directory Strata in the same rounds; the targets ask
// 64 MiB at ≥ 0.6× the one-directory server, the 4 KiB cells unchanged (≥ 0.9×: they are inline)
// and, with a drive down, 64 MiB GET at ≥ 0.5×.
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Credentials } from './sign.js';
import { type RunningStrata, startStrata } from './servers.js';

export const STRATA_EC = 'strata-ec';
export const STRATA_EC_DOWN = 'strata-ec-1down';
export const EC_DRIVES = 6;
export const EC_PARITY = 2;
/**
 * The drive taken away from `strata-ec-1down` (1-based, in `--data` order): the fourth, which holds
 * data shard 3 of every piece (shard i lives on drive i), so every GET rebuilds a shard from parity,
 * and no copy of the metadata database (those are on the first m+1 drives: 3 at EC 4+2).
 */
export const EC_DOWN_DRIVE = 4;

/** Which EC sides run a core cell: every EC side, or also the one with a drive down. */
export function ecSidesOf(id: string): 'ec' | 'ec+down' | undefined {
  if (id === 'get-64m-c2') return 'ec+down';
  if (id === 'put-64m-c2' || id === 'get-4k-c64' || id === 'put-4k-distinct-c64') return 'ec';
  return undefined;
}

/** The checks of the EC sides against the one-directory Strata, by core cell. */
export function ecChecks(id: string): Record<string, number> | undefined {
  const sides = ecSidesOf(id);
  if (!sides) return undefined;
  const min = id.includes('-64m-') ? 0.6 : 0.9;
  return sides === 'ec+down' ? { [STRATA_EC]: min, [STRATA_EC_DOWN]: 0.5 } : { [STRATA_EC]: min };
}

export interface EcSide {
  name: string;
  server: RunningStrata;
  creds: S3Credentials;
}

/**
 * Starts the EC servers in `root`: six directories each, `--data` in MinIO's ellipsis form. The
 * second one loses its last drive once it serves: the directory is renamed away, so its files
 * vanish under the running server as a pulled disk's would.
 */
export async function startEcSides(
  root: string,
  args: readonly string[],
  nodeArgs: readonly string[] | undefined,
  log: (s: string) => void,
): Promise<RunningStrata[]> {
  const out: RunningStrata[] = [];
  for (const name of [STRATA_EC, STRATA_EC_DOWN]) {
    const dir = join(root, `${name}-data`);
    for (let i = 1; i <= EC_DRIVES; i++) mkdirSync(join(dir, `d${i}`), { recursive: true });
    const s = await startStrata({
      dataDir: join(dir, `d{1...${EC_DRIVES}}`),
      logFile: join(root, `${name}.log`),
      args: [...args, '--parity', String(EC_PARITY)],
      nodeArgs: nodeArgs ? [...nodeArgs] : undefined,
    });
    out.push(s);
    if (name === STRATA_EC_DOWN) {
      renameSync(join(dir, `d${EC_DOWN_DRIVE}`), join(dir, `d${EC_DOWN_DRIVE}.pulled`));
      log(`${name}: drive d${EC_DOWN_DRIVE} of ${EC_DRIVES} taken away (renamed) after the start`);
    }
  }
  return out;
}

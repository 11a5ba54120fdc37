// The reliability harness of issue 17 (docs/cluster.md): a throw-away PostgreSQL (startPostgres), an
// etcd of 1 or 3 members (startEtcd) and N gateways (real `strata` processes, --workers 1) on one
// shared data directory, all on loopback, plus the random front (test/helpers/front.ts) that clients
// talk to. Gateways can be SIGKILLed and restarted (a new port; the front follows); PostgreSQL and
// etcd members can be stopped and started through `pg` and `etcd`. Everything is stopped and removed
// by stop(), also after a failed start.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminCall } from './admin.js';
import { type EtcdCluster, startEtcd } from './etcd.js';
import { type Front, type FrontMode, startFront } from './front.js';
import { type PostgresCluster, startPostgres } from './postgres.js';
import { ACCESS_KEY, type RunningServer, SECRET_KEY, startServer } from './server.js';

/** The bound of a gateway's start (the test machine may be busy: several clusters run side by side). */
const GATEWAY_START_MS = 60_000;

export interface ClusterOptions {
  /** Gateways (default 3). */
  gateways?: number;
  /** etcd members: 0 (none: the job leader through PostgreSQL), 1 or 3 (default 1). */
  etcdMembers?: 0 | 1 | 3;
  /** The front's balancing: per request (default) or per connection. */
  front?: FrontMode;
  /** Extra arguments for every gateway. */
  args?: string[];
  env?: Record<string, string>;
}

export interface Gateway {
  slot: number;
  /** The running process, undefined between kill() and restart(). */
  server: RunningServer | undefined;
  /** Its own URL (bypassing the front); throws when it is down. */
  url(): string;
  /** Sends `signal` (default SIGKILL) and waits for the exit; the front stops sending it requests first. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same data directory and metadata (a new port), back in the front. */
  restart(): Promise<void>;
}

export interface Incarnation {
  slot: number;
  pid: number;
  logs: () => string;
  killedAt?: number;
}

export interface Cluster {
  /** The front's URL: what clients use. */
  url: string;
  host: string;
  port: number;
  front: Front;
  pg: PostgresCluster;
  /** The gateways' --meta URL. */
  metaUrl: string;
  etcd: EtcdCluster | undefined;
  dataDir: string;
  gateways: Gateway[];
  /** Every gateway's output so far (killed incarnations included), each line prefixed `[gN] `. */
  logs(): string;
  /** Every gateway process started so far, in start order, with the time it was killed (ms since the epoch). */
  incarnations(): Incarnation[];
  /** Everything stopped and removed. Idempotent. */
  stop(): Promise<void>;
}

/** The gateway command line (after --address/--data, which startServer adds). */
function gatewayArgs(metaUrl: string, etcd: EtcdCluster | undefined, extra: string[]): string[] {
  return ['--meta', metaUrl, ...(etcd ? ['--etcd', etcd.endpoints.join(',')] : []), '--workers', '1', ...extra];
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const n = opts.gateways ?? 3;
  const members = opts.etcdMembers ?? 1;
  const front = await startFront(opts.front ?? 'request');
  const dataDir = await mkdtemp(join(tmpdir(), 'strata-cluster-'));
  let pg: PostgresCluster | undefined;
  let etcd: EtcdCluster | undefined;
  const gateways: Gateway[] = [];
  const pastLogs: string[] = [];
  const incarnations: Incarnation[] = [];
  let stopping: Promise<void> | undefined;

  const stop = () => {
    stopping ??= (async () => {
      await front.close().catch(() => undefined);
      await Promise.all(gateways.map((g) => g.server?.stop()));
      await etcd?.dispose().catch(() => undefined);
      await pg?.dispose().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    [pg, etcd] = await Promise.all([startPostgres(), members > 0 ? startEtcd({ members: members as 1 | 3 }) : undefined]);
    const metaUrl = await pg.createDatabase();
    const args = gatewayArgs(metaUrl, etcd, opts.args ?? []);
    const launch = async (g: Gateway) => {
      const s = await startServer({ dataDir, args, startTimeoutMs: GATEWAY_START_MS, ...(opts.env && { env: opts.env }) });
      g.server = s;
      incarnations.push({ slot: g.slot, pid: s.pid, logs: s.logs });
      front.setBackend(g.slot, { host: s.host, port: s.port });
    };
    for (let slot = 0; slot < n; slot++) {
      const g: Gateway = {
        slot,
        server: undefined,
        url() {
          if (!g.server) throw new Error(`gateway ${slot} is down`);
          return g.server.url;
        },
        async kill(signal = 'SIGKILL') {
          const s = g.server;
          if (!s) return;
          front.setBackend(slot, undefined);
          const inc = incarnations.find((i) => i.pid === s.pid && i.killedAt === undefined);
          if (inc) inc.killedAt = Date.now();
          process.kill(s.pid, signal);
          await s.exited;
          pastLogs.push(prefixed(slot, s.logs()));
          g.server = undefined;
          await s.stop();
        },
        async restart() {
          if (g.server) throw new Error(`gateway ${slot} is running`);
          await launch(g);
        },
      };
      gateways.push(g);
    }
    // The first one migrates the schema; then the others at once (the registry takes concurrent joins).
    await launch(gateways[0]!);
    await Promise.all(gateways.slice(1).map(launch));
    return {
      url: front.url,
      host: front.host,
      port: front.port,
      front,
      pg,
      metaUrl,
      etcd,
      dataDir,
      gateways,
      incarnations: () => incarnations.map((i) => ({ ...i })),
      logs: () => [...pastLogs, ...gateways.flatMap((g) => (g.server ? [prefixed(g.slot, g.server.logs())] : []))].join('\n'),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function prefixed(slot: number, text: string): string {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `[g${slot}] ${l}`)
    .join('\n');
}

/** What tests read of GET /_strata/admin/v1/cluster/status (docs/admin-api.md). */
export interface ClusterStatus {
  leader: { id: string | null; by?: string };
  gateways: Array<{ id: string; live: boolean; pid: number; leader: boolean }>;
}

/** The cluster status as the gateway at `url` answers it (root keys), or undefined when it does not within 5 s. */
export async function clusterStatus(url: string): Promise<ClusterStatus | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 5000)));
  const call = adminCall(url, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, 'GET', 'cluster/status').catch(() => undefined);
  const r = await Promise.race([call, late]);
  clearTimeout(timer);
  return r?.status === 200 ? (r.body as unknown as ClusterStatus) : undefined;
}

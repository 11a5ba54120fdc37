// A throw-away etcd cluster for tests: Debian's `/usr/bin/etcd` (package `etcd-server`, installed by
// scripts/test.sh), one or three members on free loopback ports, data directories in tmp, removed
// afterwards. Never a server started by hand.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres.js';

export interface EtcdCluster {
  /** Client URLs of the members (http://127.0.0.1:PORT), in member order. */
  endpoints: string[];
  /** SIGKILLs member `i` (its data stays, restart(i) brings it back). */
  kill(i: number): Promise<void>;
  /** Starts member `i` again on its ports and data; resolves when it answers /health. */
  restart(i: number): Promise<void>;
  /** Index of the member that is the raft leader now (asks the live members), or -1 when none knows one. */
  leaderIndex(): Promise<number>;
  /** Kills every member and removes the data directories. */
  dispose(): Promise<void>;
}

const ETCD = '/usr/bin/etcd';

interface Member {
  name: string;
  dir: string;
  client: string;
  peer: string;
  proc?: ChildProcess;
}

async function health(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

async function memberStatus(url: string): Promise<{ leader?: string; header?: { member_id?: string } } | undefined> {
  try {
    const res = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
    if (!res.ok) return undefined;
    return (await res.json()) as { leader?: string; header?: { member_id?: string } };
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `members` etcd members (1 or 3) and waits until the cluster answers healthy. */
export async function startEtcd(opts: { members?: 1 | 3 } = {}): Promise<EtcdCluster> {
  const n = opts.members ?? 1;
  const root = mkdtempSync(join(tmpdir(), 'strata-etcd-'));
  const members: Member[] = [];
  for (let i = 0; i < n; i++) {
    members.push({
      name: `m${i}`,
      dir: join(root, `m${i}`),
      client: `http://127.0.0.1:${await freePort()}`,
      peer: `http://127.0.0.1:${await freePort()}`,
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(',');

  const launch = (m: Member): void => {
    const log = openSync(join(root, `${m.name}.log`), 'a');
    const args = [
      `--name=${m.name}`,
      `--data-dir=${m.dir}`,
      `--listen-client-urls=${m.client}`,
      `--advertise-client-urls=${m.client}`,
      `--listen-peer-urls=${m.peer}`,
      `--initial-advertise-peer-urls=${m.peer}`,
      `--initial-cluster=${initialCluster}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=strata-test-${process.pid}`,
      '--logger=zap',
      '--log-level=warn',
    ];
    m.proc = spawn(ETCD, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    const proc = m.proc;
    proc.once('exit', () => {
      if (m.proc === proc) m.proc = undefined;
    });
  };

  const waitHealthy = async (urls: string[], what: string): Promise<void> => {
    for (let attempt = 0; attempt < 300; attempt++) {
      const ok = await Promise.all(urls.map(health));
      if (ok.every(Boolean)) return;
      await sleep(100);
    }
    throw new Error(`etcd: ${what} not healthy after 30 s (logs in ${root})`);
  };

  const killAll = (): void => {
    for (const m of members) m.proc?.kill('SIGKILL');
  };
  process.once('exit', killAll);

  for (const m of members) launch(m);
  try {
    await waitHealthy(
      members.map((m) => m.client),
      'cluster',
    );
  } catch (err) {
    killAll();
    throw err;
  }

  const stopped = (m: Member): Promise<void> =>
    new Promise((resolve) => {
      const p = m.proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
    });

  return {
    endpoints: members.map((m) => m.client),
    async kill(i) {
      const m = members[i]!;
      const done = stopped(m);
      m.proc?.kill('SIGKILL');
      await done;
      m.proc = undefined;
    },
    async restart(i) {
      const m = members[i]!;
      if (m.proc) throw new Error(`etcd member ${i} is running`);
      launch(m);
      await waitHealthy([m.client], `member ${i}`);
    },
    async leaderIndex() {
      for (const m of members) {
        if (!m.proc) continue;
        const s = await memberStatus(m.client);
        if (!s?.leader || s.leader === '0') continue;
        // Ask each live member for its own id to map the leader's id to an index.
        for (let j = 0; j < members.length; j++) {
          if (!members[j]!.proc) continue;
          const sj = await memberStatus(members[j]!.client);
          if (sj?.header?.member_id === s.leader) return j;
        }
      }
      return -1;
    },
    async dispose() {
      process.removeListener('exit', killAll);
      await Promise.all(
        members.map(async (m) => {
          const done = stopped(m);
          m.proc?.kill('SIGKILL');
          await done;
        }),
      );
      rmSync(root, { recursive: true, force: true });
    },
  };
}

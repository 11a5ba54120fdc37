// `strata admin cluster status` in human form: the gateways (a row each), the job leader, and
// PostgreSQL's and etcd's health, from the admin API's answer (src/cluster/registry-status.ts).

export interface ClusterStatusJson {
  registry: string;
  gateways: Array<{
    id: string;
    address: string;
    hostname: string;
    pid: number;
    started: string;
    lastSeen: string;
    live: boolean;
    self: boolean;
    leader: boolean;
  }>;
  gatewaysError?: string;
  leader: { id: string | null; by: string; address?: string | null; error?: string };
  postgres: { reachable: boolean; roundTripMs?: number; serverVersion?: string; migrationLevel?: string; error?: string };
  etcd: Record<string, unknown>;
}

/** Columns padded to their widest cell. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function clusterStatusText(s: ClusterStatusJson): string {
  let out = `Gateways (registry: ${s.registry})\n`;
  if (s.gatewaysError) out += `  not listed: ${s.gatewaysError}\n`;
  else if (s.gateways.length === 0) out += '  none registered\n';
  else {
    const rows = [['ID', 'ADDRESS', 'HOST', 'PID', 'STARTED', 'LAST SEEN', 'STATE']];
    for (const g of s.gateways) {
      const state = [g.live ? 'live' : 'gone', ...(g.leader ? ['leader'] : []), ...(g.self ? ['(this one)'] : [])].join(' ');
      rows.push([g.id, g.address, g.hostname, String(g.pid), g.started, g.lastSeen, state]);
    }
    out += table(rows).replace(/^/gm, '  ');
  }
  const l = s.leader;
  out += `Job leader (${l.by}): ${l.error ? `unknown: ${l.error}` : l.id === null ? 'none' : `${l.id}${l.address ? ` at ${l.address}` : ''}`}\n`;
  const p = s.postgres;
  out += p.reachable
    ? `PostgreSQL: reachable, round trip ${p.roundTripMs} ms, version ${p.serverVersion}, migration ${p.migrationLevel ?? 'none'}\n`
    : `PostgreSQL: UNREACHABLE: ${p.error ?? 'unknown'}\n`;
  const e = s.etcd;
  out += e.configured === false ? 'etcd: not configured\n' : `etcd: ${JSON.stringify(e)}\n`;
  return out;
}

// --etcd (env STRATA_ETCD): the etcd endpoints of a cluster of gateways (src/cluster/, docs/cluster.md).
// A sibling of config.ts, which calls it: a comma-separated list of `http://HOST:PORT` (the scheme may
// be left out), normalised to `http://HOST:PORT` each, in the order given.

/** The endpoints of `--etcd`, normalised; `fail(message)` is called (and throws) on a bad list. */
export function parseEtcdEndpoints(value: string, fail: (message: string) => never): string[] {
  const out: string[] = [];
  for (const raw of value.split(',').map((s) => s.trim())) {
    if (raw === '') fail(`--etcd ${JSON.stringify(value)} has an empty item in its list`);
    if (/^https:\/\//i.test(raw)) fail(`--etcd ${raw}: TLS to etcd is not supported yet (give http:// endpoints)`);
    const m = /^(?:http:\/\/)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/i.exec(raw);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) fail(`invalid --etcd endpoint ${JSON.stringify(raw)} (expected http://HOST:PORT)`);
    const url = `http://${m[1]!.toLowerCase()}:${port}`;
    if (!out.includes(url)) out.push(url);
  }
  return out;
}

// A small load balancer for the cluster tests (test/helpers/cluster.ts): one loopback port in the
// test process that sends every request (mode 'request', an HTTP proxy: keep-alive clients too) or
// every new connection (mode 'connection', a raw TCP relay) to a gateway chosen at random among the
// live ones, so unmodified real clients exercise all gateways. The request is passed through as the
// client sent it (Host header included: SigV4 signs it; `Expect: 100-continue` answered by the
// gateway), hop-by-hop headers aside. A gateway marked down gets nothing new; a gateway that fails
// before answering gives the client 502 (what a load balancer answers) and a closed connection; a
// failure after the answer started cuts the client's connection, as a real balancer does; the rest
// of a body the gateway answered before reading is dropped, the client's connection kept.
import http from 'node:http';
import net from 'node:net';

export interface Backend {
  host: string;
  port: number;
}

export type FrontMode = 'request' | 'connection';

/** One request (or connection) the front has forwarded and not finished. */
export interface InFlight {
  slot: number;
  method: string;
  url: string;
  /** Request body bytes passed to the gateway so far. */
  bytesUp: number;
}

export interface Front {
  url: string;
  host: string;
  port: number;
  mode: FrontMode;
  /** Points slot `i` at a gateway, or marks it down (nothing new is sent there). */
  setBackend(slot: number, backend: Backend | undefined): void;
  /** Requests (or connections) sent to each slot so far. */
  counts(): number[];
  /** Answers the front itself gave because no gateway could (502/503). */
  frontErrors(): number;
  inFlight(): InFlight[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** rawHeaders without the hop-by-hop ones (and those named by Connection). */
function endToEnd(raw: string[]): string[] {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') for (const n of raw[i + 1]!.split(',')) named.add(n.trim().toLowerCase());
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    if (!HOP_BY_HOP.has(k) && !named.has(k)) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

export async function startFront(mode: FrontMode = 'request'): Promise<Front> {
  const backends: Array<Backend | undefined> = [];
  const agents: Array<http.Agent | undefined> = [];
  const counts: number[] = [];
  const inFlight = new Set<InFlight>();
  let errors = 0;

  /** A random live slot, or undefined when every gateway is down. */
  const pick = (): number | undefined => {
    const live = backends.flatMap((b, i) => (b ? [i] : []));
    if (live.length === 0) return undefined;
    const slot = live[Math.floor(Math.random() * live.length)]!;
    counts[slot] = (counts[slot] ?? 0) + 1;
    return slot;
  };

  const sockets = new Set<net.Socket>();
  let server: net.Server;

  if (mode === 'connection') {
    server = net.createServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      const slot = pick();
      if (slot === undefined) {
        errors++;
        client.destroy();
        return;
      }
      const b = backends[slot]!;
      const entry: InFlight = { slot, method: 'CONNECT', url: `${b.host}:${b.port}`, bytesUp: 0 };
      inFlight.add(entry);
      const up = net.connect(b.port, b.host);
      sockets.add(up);
      const done = () => {
        inFlight.delete(entry);
        sockets.delete(up);
        client.destroy();
        up.destroy();
      };
      client.on('data', (c: Buffer) => (entry.bytesUp += c.length));
      client.pipe(up);
      up.pipe(client);
      client.on('error', done);
      up.on('error', done);
      client.on('close', done);
      up.on('close', done);
    });
  } else {
    const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const slot = pick();
      if (slot === undefined) {
        errors++;
        res.writeHead(503, { 'content-type': 'text/plain', connection: 'close' });
        res.end('no gateway up\n');
        req.resume();
        return;
      }
      const b = backends[slot]!;
      const entry: InFlight = { slot, method: req.method ?? '', url: req.url ?? '', bytesUp: 0 };
      inFlight.add(entry);
      const up = http.request({
        host: b.host,
        port: b.port,
        method: req.method,
        path: req.url,
        headers: endToEnd(req.rawHeaders),
        setHost: false,
        agent: agents[slot],
      });
      let finished = false;
      const finish = () => {
        finished = true;
        inFlight.delete(entry);
      };
      up.on('continue', () => res.writeContinue());
      up.on('response', (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEnd(upRes.rawHeaders));
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
        // The gateway died in the middle of the body: the client must see a cut, not a short body.
        upRes.on('aborted', () => res.destroy());
        upRes.on('close', () => {
          if (!upRes.complete) res.destroy();
        });
      });
      up.on('error', () => {
        if (finished) return;
        finish();
        if (!res.headersSent) {
          errors++;
          res.writeHead(502, { 'content-type': 'text/plain', connection: 'close' });
          res.end('gateway failed\n');
          res.on('finish', () => req.socket.destroy());
        } else res.destroy();
      });
      res.on('close', () => {
        finish();
        // The client went away (or its answer is complete): nothing more to send upstream.
        if (!res.writableFinished) up.destroy();
      });
      // An early answer (a gateway's error before it read the body, then its connection closed):
      // the rest of the client's body is read and dropped, as the gateway itself does, so the
      // client's next request on this kept-alive connection is parsed. Left unread, it waited
      // behind the body until the client gave up.
      res.on('finish', () => {
        if (req.complete) return;
        req.unpipe(up);
        req.resume();
      });
      req.on('data', (c: Buffer) => (entry.bytesUp += c.length));
      req.pipe(up);
      req.on('aborted', () => up.destroy());
    };
    // An idle client connection stays open 65 s, as Strata's own server and load balancers keep it
    // (with Node's 5 s default, a client reusing a connection the front was closing saw a reset).
    const srv = http.createServer({ keepAliveTimeout: 65_000 }, handle);
    // Expect: 100-continue goes to the gateway, which decides (its 100 or its final answer comes back).
    srv.on('checkContinue', handle);
    srv.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    srv.on('clientError', (_e, s: net.Socket) => s.destroy());
    server = srv;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    mode,
    setBackend(slot, backend) {
      backends[slot] = backend;
      agents[slot]?.destroy();
      agents[slot] = backend ? new http.Agent({ keepAlive: true, maxSockets: 64 }) : undefined;
      counts[slot] ??= 0;
    },
    counts: () => backends.map((_, i) => counts[i] ?? 0),
    frontErrors: () => errors,
    inFlight: () => [...inFlight].map((e) => ({ ...e })),
    async close() {
      for (const a of agents) a?.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

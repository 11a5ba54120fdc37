// A small HTTP/1.1 keep-alive client on raw sockets, for what wrk cannot do (HEAD: wrk waits for
// the Content-Length body a HEAD answer announces; mixed methods; multipart; listing) and as the
// load generator when wrk is missing. Requests are pre-serialised Buffers, one request in flight
// per connection, responses parsed just enough (status, Content-Length or chunked) and discarded
// unless asked for. Every wait is bounded by a timeout.
import net from 'node:net';

export interface HttpRequest {
  /** Request line, headers and the empty line, ready to write. */
  head: Buffer;
  /** Body buffers written after the head (the same Buffer may appear several times). */
  body?: readonly Buffer[];
  /** HEAD request: the response has no body whatever its Content-Length says. */
  isHead?: boolean;
  /** Collect the response body (listing XML); otherwise it is only counted. */
  keepBody?: boolean;
}

export interface HttpResponse {
  status: number;
  bodyBytes: number;
  body?: Buffer;
  /** Raw header block (only with keepBody). */
  headerText?: string;
}

/** Serialises a request head. `contentLength` adds Content-Length (also 0). */
export function buildHead(method: string, target: string, host: string, headers: Record<string, string> = {}, contentLength?: number): Buffer {
  let s = `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  if (contentLength !== undefined) s += `Content-Length: ${contentLength}\r\n`;
  return Buffer.from(`${s}\r\n`, 'latin1');
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 64 * 1024;

type Phase = 'idle' | 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'until-close';

interface Pending {
  req: HttpRequest;
  resolve: (r: HttpResponse) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One keep-alive connection with at most one request in flight. */
export class Connection {
  private phase: Phase = 'idle';
  private headBuf: Buffer = Buffer.alloc(0);
  private lineBuf = '';
  private remaining = 0;
  private status = 0;
  private bodyBytes = 0;
  private bodyParts: Buffer[] = [];
  private headerText = '';
  private closeAfter = false;
  private pending: Pending | undefined;
  private dead = false;

  private constructor(
    private readonly socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => {
      if (this.phase === 'until-close') this.finish();
      this.fail(new Error('connection closed'));
    });
  }

  static connect(host: string, port: number, timeoutMs = 30_000): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(
        () => {
          socket.destroy();
          reject(new Error(`connect to ${host}:${port} timed out`));
        },
        Math.min(timeoutMs, 10_000),
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Connection(socket, timeoutMs));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get usable(): boolean {
    return !this.dead;
  }

  close(): void {
    this.dead = true;
    this.socket.destroy();
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    if (this.dead) return Promise.reject(new Error('connection is closed'));
    if (this.pending) return Promise.reject(new Error('a request is already in flight'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`request timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending = { req, resolve, reject, timer };
      this.phase = 'head';
      this.headBuf = Buffer.alloc(0);
      this.bodyBytes = 0;
      this.bodyParts = [];
      this.closeAfter = false;
      const s = this.socket;
      s.cork();
      s.write(req.head);
      if (req.body) for (const b of req.body) s.write(b);
      s.uncork();
    });
  }

  private fail(err: Error): void {
    this.dead = true;
    this.socket.destroy();
    const p = this.pending;
    if (p) {
      this.pending = undefined;
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  private finish(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.phase = 'idle';
    clearTimeout(p.timer);
    const res: HttpResponse = { status: this.status, bodyBytes: this.bodyBytes };
    if (p.req.keepBody) {
      res.body = Buffer.concat(this.bodyParts);
      res.headerText = this.headerText;
    }
    this.bodyParts = [];
    if (this.closeAfter) {
      this.dead = true;
      this.socket.destroy();
    }
    p.resolve(res);
  }

  private takeBody(chunk: Buffer): void {
    this.bodyBytes += chunk.length;
    if (this.pending?.req.keepBody) this.bodyParts.push(chunk);
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0) {
      switch (this.phase) {
        case 'idle':
          this.fail(new Error('unexpected bytes from the server'));
          return;
        case 'head': {
          const joined = this.headBuf.length === 0 ? buf : Buffer.concat([this.headBuf, buf]);
          const end = joined.indexOf(CRLFCRLF);
          if (end < 0) {
            if (joined.length > MAX_HEADER_BYTES) return this.fail(new Error('response header too large'));
            this.headBuf = joined;
            return;
          }
          this.headBuf = Buffer.alloc(0);
          this.parseHead(joined.toString('latin1', 0, end));
          buf = joined.subarray(end + 4);
          if ((this.phase as Phase) === 'idle') this.finish(); // parseHead moved on
          break;
        }
        case 'length': {
          const n = Math.min(this.remaining, buf.length);
          this.takeBody(buf.subarray(0, n));
          this.remaining -= n;
          buf = buf.subarray(n);
          if (this.remaining === 0) this.finish();
          break;
        }
        case 'until-close':
          this.takeBody(buf);
          return;
        case 'chunk-size':
        case 'trailer': {
          const nl = buf.indexOf(10);
          if (nl < 0) {
            this.lineBuf += buf.toString('latin1');
            if (this.lineBuf.length > 4096) return this.fail(new Error('chunk line too long'));
            return;
          }
          const line = (this.lineBuf + buf.toString('latin1', 0, nl)).replace(/\r$/, '');
          this.lineBuf = '';
          buf = buf.subarray(nl + 1);
          if (this.phase === 'trailer') {
            if (line === '') this.finish();
          } else {
            const size = parseInt(line.split(';')[0]!, 16);
            if (!Number.isFinite(size) || size < 0) return this.fail(new Error(`bad chunk size ${JSON.stringify(line)}`));
            if (size === 0) this.phase = 'trailer';
            else {
              this.remaining = size;
              this.phase = 'chunk-data';
            }
          }
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.remaining, buf.length);
          this.takeBody(buf.subarray(0, n));
          this.remaining -= n;
          buf = buf.subarray(n);
          if (this.remaining === 0) {
            this.phase = 'chunk-crlf';
            this.remaining = 2;
          }
          break;
        }
        case 'chunk-crlf': {
          const n = Math.min(this.remaining, buf.length);
          this.remaining -= n;
          buf = buf.subarray(n);
          if (this.remaining === 0) this.phase = 'chunk-size';
          break;
        }
      }
    }
  }

  private parseHead(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) return this.fail(new Error(`bad status line ${JSON.stringify(lines[0])}`));
    this.status = Number(m[1]);
    if (this.pending?.req.keepBody) this.headerText = text;
    let length: number | undefined;
    let chunked = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).toLowerCase();
      if (name === 'content-length') length = Number(line.slice(colon + 1).trim());
      else if (name === 'transfer-encoding') chunked = /chunked/i.test(line.slice(colon + 1));
      else if (name === 'connection') this.closeAfter = /close/i.test(line.slice(colon + 1));
    }
    const noBody = this.pending?.req.isHead || this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200);
    if (noBody) this.phase = 'idle';
    else if (chunked) this.phase = 'chunk-size';
    else if (length !== undefined && Number.isFinite(length)) {
      this.remaining = length;
      this.phase = length === 0 ? 'idle' : 'length';
    } else {
      this.phase = 'until-close';
      this.closeAfter = true;
    }
  }
}

/** One request on a fresh connection, closed afterwards (control requests). */
export async function requestOnce(host: string, port: number, req: HttpRequest, timeoutMs = 120_000): Promise<HttpResponse> {
  const c = await Connection.connect(host, port, timeoutMs);
  try {
    return await c.request(req);
  } finally {
    c.close();
  }
}

export interface LoadOptions {
  host: string;
  port: number;
  /**
   * Several servers of one namespace (gateways): connection i goes to ports[i % ports.length]
   * (and reconnects there), so the load is spread evenly without a proxy in between. Default [port].
   */
  ports?: readonly number[];
  concurrency: number;
  /** Stop issuing requests after this long (ms). */
  durationMs: number;
  /** Stop after this many requests have been issued. */
  maxRequests: number;
  /** The i-th request, or undefined to stop. */
  next: (i: number) => HttpRequest | undefined;
  /** Bytes each request sends (for throughput), default 0. */
  timeoutMs?: number;
  onResponse?: (i: number, res: HttpResponse) => void;
}

export interface LoadResult {
  ops: number;
  elapsedS: number;
  /** Responses by status class ('2xx', '4xx', ...) plus 'error' for failed connections. */
  statuses: Record<string, number>;
  errors: number;
  bytesIn: number;
  latencyMs: { p50: number; p99: number };
  /** CPU seconds the client used (this process, or wrk's). */
  clientCpuS?: number;
  tool: 'node' | 'wrk' | 'dd';
  /** A request list ran out and was reused from the start. */
  wrapped?: boolean;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const MAX_LATENCY_SAMPLES = 200_000;
const MAX_RECONNECTS = 100;

/** Closed-loop load: `concurrency` connections, each sending its next request when the last one is answered. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const ports = o.ports && o.ports.length > 0 ? o.ports : [o.port];
  const portOf = (slot: number) => ports[slot % ports.length]!;
  const conns = await Promise.all(Array.from({ length: o.concurrency }, (_, slot) => Connection.connect(o.host, portOf(slot), timeoutMs)));
  const statuses: Record<string, number> = {};
  const lat = new Float64Array(Math.min(MAX_LATENCY_SAMPLES, Math.max(1, o.maxRequests)));
  let latN = 0;
  let issued = 0;
  let ops = 0;
  let errors = 0;
  let bytesIn = 0;
  let reconnects = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + o.durationMs;
  let tLast = t0;
  const worker = async (slot: number): Promise<void> => {
    let conn = conns[slot]!;
    while (issued < o.maxRequests && performance.now() < deadline) {
      const i = issued++;
      const req = o.next(i);
      if (req === undefined) break;
      const start = performance.now();
      try {
        if (!conn.usable) {
          if (++reconnects > MAX_RECONNECTS) throw new Error('too many reconnects');
          conn = conns[slot] = await Connection.connect(o.host, portOf(slot), timeoutMs);
        }
        const res = await conn.request(req);
        const end = performance.now();
        tLast = end;
        ops++;
        bytesIn += res.bodyBytes;
        const cls = `${Math.floor(res.status / 100)}xx`;
        statuses[cls] = (statuses[cls] ?? 0) + 1;
        if (res.status >= 400) errors++;
        if (latN < lat.length) lat[latN++] = end - start;
        o.onResponse?.(i, res);
      } catch (err) {
        errors++;
        statuses.error = (statuses.error ?? 0) + 1;
        if (reconnects > MAX_RECONNECTS) throw err;
      }
    }
  };
  try {
    await Promise.all(conns.map((_, slot) => worker(slot)));
  } finally {
    for (const c of conns) c.close();
  }
  const cpu = process.cpuUsage(cpu0);
  const sorted = lat.subarray(0, latN).sort();
  return {
    ops,
    elapsedS: Math.max(1e-6, (tLast - t0) / 1000),
    statuses,
    errors,
    bytesIn,
    latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
    clientCpuS: (cpu.user + cpu.system) / 1e6,
    tool: 'node',
  };
}

/**
 * The LoadResult of a sequential loop on one connection (listing pages): `ops` in the time since
 * `t0`, the client CPU since `cpu0`, median and p99 of the per-op latencies `lat` (ms; sorted here).
 */
export function sequentialResult(ops: number, t0: number, cpu0: NodeJS.CpuUsage, lat: number[], statuses: Record<string, number>, errors: number): LoadResult {
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  return {
    ops,
    elapsedS,
    statuses,
    errors,
    bytesIn: 0,
    latencyMs: { p50: lat[Math.floor(lat.length / 2)] ?? Number.NaN, p99: lat[Math.floor(lat.length * 0.99)] ?? Number.NaN },
    clientCpuS: (cpu.user + cpu.system) / 1e6,
    tool: 'node',
  };
}

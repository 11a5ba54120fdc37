// The HTTP server: node:http (or node:https when deps.tls is given) with timeouts suited to object
// storage, wired to the front router (front.ts: health endpoints) and the one S3 pipeline. No
// globals: everything comes in through `deps`, so tests can run several servers in one process.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { answerFront, frontPathBucketExists, frontRoute, isMetricsRequest, Readiness } from './front.js';
import { handleMetrics, type MetricsHttpDeps } from './metrics/http.js';
import type { MetricsService } from './metrics/service.js';
import type { KeyService } from './kms/kms.js';
import { BodyAborts, CountingIncomingMessage, createRequestHandler, newHostId, nextRequestId } from './http/pipeline.js';
import { rawErrorResponse } from './http/send.js';
import { S3Error } from './s3/errors.js';
import type { CredentialSource } from './iam/principal.js';
import type { Store } from './store/store.js';
import type { SecretBox } from './iam/secret-box.js';
import { type AdminDeps, handleAdmin, isAdminRequest } from './admin/http.js';
import type { AdminHeal } from './admin/heal-operations.js';
import type { AdminCluster } from './admin/cluster-operations.js';
import { SessionTokens } from './iam/sessions.js';
import { consoleHandler } from './console/console.js';
import { handleSts, isStsRequest, type StsDeps, stsMinDuration } from './sts/http.js';
import type { AuditLog } from './audit/audit.js';

export interface ServerDeps {
  store: Store;
  log: Logger;
  /** Where the access log (one `request` line per request) goes; default `log`. See BatchedLines. */
  accessLog?: Logger;
  credentials: CredentialSource;
  /** Seals users' secrets (main.ts): with it the admin API (src/admin/) is served under /_strata/admin/. */
  secrets?: SecretBox;
  /** PEM certificate (chain) and private key: serve HTTPS instead of HTTP (main.ts reads the files). */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** What /health/ready checks (front.ts); default: a metadata read and a file in `<config.dataDir>/tmp`. */
  readiness?: Readiness;
  /** The key service (src/kms/: main.ts opens it when a root key is configured); absent: SSE-S3/SSE-KMS refused (SSE-C works without it), admin kms calls 501. */
  kms?: KeyService;
  /** The audit log (src/audit/, docs/audit.md): S3, admin and STS requests each get a record; absent = off. */
  audit?: AuditLog;
  /** Counts requests and serves /metrics (src/metrics/); absent: neither. */
  metrics?: MetricsService;
  /** The heal status of an erasure-coded data store (jobs/heal-status.ts via serve.ts); absent: one drive. */
  heal?: AdminHeal;
  /** The cluster status with --meta postgres (src/cluster/registry-status.ts via serve.ts); absent: SQLite metadata. */
  cluster?: AdminCluster;
}

/** Request line plus headers Node parses at most (its default, pinned: a --max-http-header-size flag must not change it). */
export const MAX_HEADER_SIZE = 16 * 1024;

/**
 * A log destination that collects whole lines and hands them to `dest` in one write per turn of the
 * event loop (and when a megabyte has piled up, and at process exit). Meant for the access log:
 * process.stdout writes synchronously to files and pipes, and one write(2) per request line was
 * about a tenth of the server's CPU time per HEAD. The lines of one turn are written together,
 * whole, in order; the error and lifecycle lines (the main logger) are not delayed.
 */
export class BatchedLines {
  private buffered = '';
  private scheduled = false;
  private readonly flushSoon = (): void => {
    this.scheduled = false;
    this.flushSync();
  };

  constructor(
    private readonly dest: { write(chunk: string): unknown },
    private readonly maxBuffered = 1024 * 1024,
    /** Each write at most this long, cut after a line (a worker sharing a pipe: PIPE_BUF keeps lines whole). */
    private readonly maxWrite = Number.POSITIVE_INFINITY,
  ) {}

  /** Registers a flush at process exit (process.exit() runs no more turns of the loop). */
  flushOnExit(): this {
    process.once('exit', () => this.flushSync());
    return this;
  }

  write(line: string): boolean {
    this.buffered += line;
    if (this.buffered.length >= this.maxBuffered) this.flushSync();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushSoon);
    }
    return true;
  }

  /** Writes what is buffered now (pino's logger.flush() calls this). */
  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    cb?.();
  }

  flushSync(): void {
    if (this.buffered === '') return;
    let text = this.buffered;
    this.buffered = '';
    try {
      while (text.length > this.maxWrite) {
        // Cut after the last whole line that fits (a longer line goes alone); length counts UTF-16
        // units, bytes may be more: the limit leaves room for that in practice (access lines are ASCII).
        const nl = text.lastIndexOf('\n', this.maxWrite - 1);
        const end = nl >= 0 ? nl + 1 : text.indexOf('\n') + 1 || text.length;
        this.dest.write(text.slice(0, end));
        text = text.slice(end);
      }
      if (text !== '') this.dest.write(text);
    } catch {
      // A log destination that throws (closed, full) must not take the server down from a timer.
    }
  }
}

/**
 * The open connections of a server, so that a shutdown can close at once every connection that is
 * not serving a request — idle keep-alive connections, and connections that were opened but never
 * sent a complete request (Node's closeIdleConnections() leaves those to the header timeout) — and
 * close the others as soon as their response is done. Whether a connection serves a request is
 * Node's own `_httpMessage` (the response being written on it), set before any request event, so
 * this holds however the request reaches the pipeline ('request', 'checkContinue'...).
 */
class ConnectionTracker {
  /** Sockets HTTP is spoken on (TLSSocket for HTTPS). */
  private readonly sockets = new Set<Socket>();
  /** HTTPS: TCP sockets whose TLS handshake has not completed. */
  private readonly handshaking = new Set<Socket>();

  constructor(server: http.Server, tls: boolean) {
    const track = (set: Set<Socket>, socket: Socket) => {
      set.add(socket);
      socket.once('close', () => set.delete(socket));
    };
    if (!tls) {
      server.on('connection', (socket: Socket) => track(this.sockets, socket));
      return;
    }
    server.on('connection', (socket: Socket) => track(this.handshaking, socket));
    server.on('secureConnection', (socket: Socket) => {
      // Node's TLSSocket keeps the TCP socket it wraps as `_parent`.
      const raw = (socket as unknown as { _parent?: Socket })._parent;
      if (raw) this.handshaking.delete(raw);
      track(this.sockets, socket);
    });
  }

  /** Closes the connections without a request in flight now, the others once their response is done. */
  drain(): void {
    for (const socket of this.handshaking) socket.destroy();
    for (const socket of this.sockets) {
      const res = (socket as unknown as { _httpMessage?: http.ServerResponse })._httpMessage;
      if (!res || res.writableFinished) socket.destroy();
      // After the response is done it is all with the OS: end() sends it, then FIN (TLS: close_notify).
      else res.once('close', () => socket.end());
    }
  }
}

const trackers = new WeakMap<http.Server, ConnectionTracker>();

/**
 * Shutdown: call after server.close(). Connections without a request in flight close now (idle
 * keep-alive ones, and ones that never sent a request); the others close when their response is
 * done. server.close()'s callback then runs as soon as the last in-flight request has finished.
 */
export function drainConnections(server: http.Server): void {
  trackers.get(server)?.drain();
  server.closeIdleConnections();
}

/** The S3 error for a request Node's HTTP parser refused (its `clientError` codes). */
function clientErrorAnswer(err: NodeJS.ErrnoException): S3Error {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new S3Error('RequestHeaderSectionTooLarge', undefined, { MaxSizeAllowed: MAX_HEADER_SIZE });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new S3Error('RequestTimeout');
    case 'HPE_INVALID_METHOD':
      return new S3Error('BadRequest', 'The HTTP method is not valid.');
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return new S3Error('BadRequest', 'The Content-Length header is not valid.');
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return new S3Error('BadRequest', 'The chunked transfer encoding is not valid.');
    default:
      return new S3Error('BadRequest', 'The HTTP request could not be parsed.');
  }
}

/** The admin API's dependencies from the server's (undefined without a secret box: no admin API). */
function adminDepsOf(config: Config, deps: ServerDeps): AdminDeps | undefined {
  return (
    deps.secrets && {
      identities: deps.store.identities,
      box: deps.secrets,
      credentials: deps.credentials,
      rootAccessKey: config.accessKey,
      region: config.region,
      log: deps.log,
      accessLog: deps.accessLog,
      kms: deps.kms,
      audit: deps.audit,
      metrics: deps.metrics,
      heal: deps.heal,
      cluster: deps.cluster,
    }
  );
}

/** What /metrics needs (undefined when the server keeps no metrics): the S3 and the console listener serve it alike. */
function metricsHttpDepsOf(config: Config, deps: ServerDeps): MetricsHttpDeps | undefined {
  return (
    deps.metrics && {
      metrics: deps.metrics,
      credentials: deps.credentials,
      identities: deps.store.identities,
      region: config.region,
      log: deps.log,
    }
  );
}

/** The S3 pipeline of one listener (each listener its own: its body aborts are its own). */
function pipelineOf(config: Config, deps: ServerDeps, hostId: string, bodies: BodyAborts) {
  return createRequestHandler({
    config,
    store: deps.store,
    log: deps.log,
    accessLog: deps.accessLog,
    credentials: deps.credentials,
    kms: deps.kms,
    hostId,
    bodies,
    audit: deps.audit,
    metrics: deps.metrics?.recorder,
  });
}

export function createServer(config: Config, deps: ServerDeps): http.Server {
  const hostId = newHostId();
  const bodies = new BodyAborts();
  const handle = pipelineOf(config, deps, hostId, bodies);
  const readiness = deps.readiness ?? new Readiness({ meta: () => deps.store.getBucket(''), writableDir: join(config.dataDir, 'tmp') });
  const admin = adminDepsOf(config, deps);
  const bucketExists = async (name: string): Promise<boolean> => (await deps.store.getBucket(name)) !== undefined;
  const metrics = metricsHttpDepsOf(config, deps);
  // The STS endpoint (src/sts/): POST / naming no bucket, with the same identities and keys.
  const sts: StsDeps | undefined = deps.secrets && {
    identities: deps.store.identities,
    tokens: new SessionTokens(deps.secrets),
    credentials: deps.credentials,
    region: config.region,
    minDuration: stsMinDuration(),
    log: deps.log,
    accessLog: deps.accessLog,
    audit: deps.audit,
  };
  /** The front router first (front.ts: only unsigned GET/HEAD of its paths, when S3 has no such bucket), then the admin API and STS, else the S3 pipeline. */
  const serve = (req: http.IncomingMessage, res: http.ServerResponse, waitsForContinue: boolean): void => {
    // Reads for this request see whatever any process acknowledged before it arrived.
    deps.store.requestArrived();
    const endpoint = frontRoute(req, config.domains);
    const done =
      endpoint !== undefined
        ? // Bucket `health` (`minio`) exists: the request is S3's (a bucket policy may allow the anonymous read).
          frontPathBucketExists(req, bucketExists).then((exists) => (exists ? handle(req, res, waitsForContinue) : answerFront(endpoint, req, res, readiness)))
        : metrics !== undefined && isMetricsRequest(req, config.domains)
          ? // Bucket `metrics` exists: the request is S3's (ListObjects).
            bucketExists('metrics').then((exists) => (exists ? handle(req, res, waitsForContinue) : handleMetrics(req, res, metrics)))
          : admin !== undefined && isAdminRequest(req, config.domains)
            ? (waitsForContinue && res.writeContinue(), handleAdmin(req, res, admin))
            : sts !== undefined && isStsRequest(req, config.domains)
              ? (waitsForContinue && res.writeContinue(), handleSts(req, res, sts))
              : handle(req, res, waitsForContinue);
    done.catch((err) => {
      deps.log.error({ err }, 'unhandled error in request pipeline');
      res.destroy();
    });
  };
  return buildServer(config, deps, hostId, bodies, serve);
}

/**
 * A listener (the S3 address, the console's) around `serve`: node:http or node:https with the
 * timeouts, limits and connection handling below. `serve`'s third argument: the request came through
 * 'checkContinue' (Expect: 100-continue) and waits for the 100, which `serve` must send itself.
 */
function buildServer(
  config: Config,
  deps: ServerDeps,
  hostId: string,
  bodies: BodyAborts,
  serve: (req: http.IncomingMessage, res: http.ServerResponse, waitsForContinue: boolean) => void,
): http.Server {
  const options: https.ServerOptions = {
    // Node's default (5 min from the request's start) would cut slow large uploads; a socket
    // idle timeout below bounds stalled clients instead.
    requestTimeout: 0,
    // Longer than the idle times of common client pools (boto3, aws-sdk-js), so a reused
    // connection is not closed under the client's feet.
    keepAliveTimeout: 65_000,
    // Slowloris: a client must send its complete headers within this time (default 70 s, longer
    // than keepAliveTimeout as Node advises). Node checks it every connectionsCheckingInterval.
    headersTimeout: config.headersTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(config.headersTimeoutMs / 4))),
    // S3 allows 8 KiB of request headers; Node's 16 KiB (pinned) leaves room for long keys in the
    // request line.
    maxHeaderSize: MAX_HEADER_SIZE,
    // Counts the body bytes received, for the access log's bytesIn.
    IncomingMessage: CountingIncomingMessage,
  };
  const listener: http.RequestListener = (req, res) => serve(req, res, false);
  // Same handler and timeouts either way; https.Server is an http.Server for everything we use.
  const server: http.Server = deps.tls
    ? https.createServer({ ...options, cert: deps.tls.cert, key: deps.tls.key }, listener)
    : http.createServer(options, listener);
  trackers.set(server, new ConnectionTracker(server, deps.tls !== undefined));
  server.timeout = config.idleTimeoutMs;
  // Idle timeout (no byte either way for --idle-timeout). A request whose body stalled is answered
  // 400 RequestTimeout, as S3 does (SDKs retry it), and its partial data removed; the connection
  // closes after the answer (or at the next timeout if the client reads nothing). Anything else
  // idle (a keep-alive connection, a reader that stopped reading) is closed at once.
  server.on('timeout', (socket: Socket) => {
    const inFlight = (socket as unknown as { _httpMessage?: http.ServerResponse })._httpMessage;
    if (inFlight?.req && !inFlight.req.complete && !inFlight.headersSent && bodies.fail(inFlight, 'RequestTimeout')) {
      inFlight.setHeader('connection', 'close');
      return;
    }
    socket.destroy();
  });
  // An Expect other than 100-continue: S3 ignores it, so do we (Node would answer 417 itself).
  server.on('checkExpectation', listener);
  // Expect: 100-continue: Node would send 100 Continue at once; instead the pipeline sends it only
  // once the request is authenticated and its target checked (bucket, upload, write conditions), so
  // a refused upload's body is never sent: the error goes out instead and the connection is closed.
  server.on('checkContinue', (req, res) => serve(req, res, true));
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed HTTP, headers too large, the header timeout: an S3 XML error if nothing was answered
    // on this connection yet, then close; never crash. Never log err.rawPacket: it may hold the
    // Authorization header.
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const answer = clientErrorAnswer(err);
    const refuse = () => {
      if (!socket.writable) return socket.destroy();
      deps.log.info({ code: err.code, status: answer.status, s3Code: answer.code }, 'refused malformed request');
      socket.end(rawErrorResponse(answer, { reqId: nextRequestId(), hostId }));
      // A client that keeps sending must not hold the connection open.
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    // The response of the request being handled on this connection, if any (Node's own field).
    const inFlight = (socket as unknown as { _httpMessage?: http.ServerResponse })._httpMessage;
    if (!inFlight) return refuse();
    if (inFlight.req && !inFlight.req.complete) {
      // The request's own body broke off (the client half-closed early, bad chunked framing): fail
      // its body read, so the pipeline answers IncompleteBody on the still-open connection and
      // removes what it wrote; then the connection closes (at the latest after the idle timeout).
      if (!inFlight.headersSent) inFlight.setHeader('connection', 'close');
      if (!bodies.fail(inFlight)) socket.destroy();
      else setTimeout(() => socket.destroy(), config.idleTimeoutMs).unref();
      return;
    }
    // A pipelined request after a complete one: answer it after the current response, then close.
    if (inFlight.writableFinished) return refuse();
    inFlight.once('finish', refuse);
    inFlight.once('close', () => setImmediate(() => socket.destroyed || socket.writableEnded || socket.destroy()));
  });
  if (deps.tls) {
    // Failed handshakes (plain HTTP to the TLS port, untrusted certificates) are the client's
    // problem: note them quietly, never crash.
    server.on('tlsClientError', (err: Error) => deps.log.debug({ err: err.message }, 'TLS handshake failed'));
  }
  return server;
}

/**
 * The console's listener (--console-address; src/console/): its pages and API, the S3 and admin
 * APIs delegated as a session's principal to a pipeline and admin handler of the same server.
 * `urls.s3`: the S3 address presigned links point at; `urls.local`: the S3 listener as this process
 * reaches it (both known once the S3 listener is bound).
 */
export function createConsoleServer(config: Config, deps: ServerDeps, urls: { s3: () => string; local: () => string }): http.Server {
  if (deps.secrets === undefined) throw new Error('the console needs the secret box (its cookies are sealed with a key derived from it)');
  const hostId = newHostId();
  const bodies = new BodyAborts();
  const pipeline = pipelineOf(config, deps, hostId, bodies);
  const admin = adminDepsOf(config, deps);
  const metrics = metricsHttpDepsOf(config, deps);
  const handle = consoleHandler({
    config,
    store: deps.store,
    credentials: deps.credentials,
    box: deps.secrets,
    log: deps.log,
    tls: deps.tls !== undefined,
    s3Url: urls.s3,
    localS3Url: urls.local,
    s3: pipeline,
    ...(admin !== undefined && { admin: (req, res, delegated) => handleAdmin(req, res, admin, delegated) }),
    // /metrics on the console address too, with the same authentication as on the S3 address.
    ...(metrics !== undefined && { metrics: (req, res) => handleMetrics(req, res, metrics) }),
    audit: deps.audit,
  });
  return buildServer(config, deps, hostId, bodies, (req, res, waitsForContinue) => {
    deps.store.requestArrived();
    // The console has no reason to hold a body back: the 100 goes at once, as Node would send it.
    if (waitsForContinue) res.writeContinue();
    handle(req, res).catch((err) => {
      deps.log.error({ err }, 'unhandled error in console request');
      res.destroy();
    });
  });
}

// The HTTP server: node:http (or node:https when deps.tls is given) with timeouts suited to object
// storage, wired to the one pipeline. No globals: everything comes in through `deps`, so tests can
// run several servers in one process.
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createRequestHandler } from './http/pipeline.js';
import type { CredentialLookup } from './s3/auth/sigv4.js';
import type { Store } from './store/store.js';

export interface ServerDeps {
  store: Store;
  log: Logger;
  credentials: CredentialLookup;
  /** PEM certificate (chain) and private key: serve HTTPS instead of HTTP (main.ts reads the files). */
  tls?: { cert: Buffer | string; key: Buffer | string };
}

export function createServer(config: Config, deps: ServerDeps): http.Server {
  const handle = createRequestHandler({ config, store: deps.store, log: deps.log, credentials: deps.credentials });
  const options: https.ServerOptions = {
    // Node's default (5 min from the request's start) would cut slow large uploads; a socket
    // idle timeout below bounds stalled clients instead.
    requestTimeout: 0,
    // Longer than the idle times of common client pools (boto3, aws-sdk-js), so a reused
    // connection is not closed under the client's feet.
    keepAliveTimeout: 65_000,
    headersTimeout: 70_000,
    // S3 allows 8 KiB of request headers; Node's 16 KiB default is fine.
  };
  const listener: http.RequestListener = (req, res) => {
    handle(req, res).catch((err) => {
      deps.log.error({ err }, 'unhandled error in request pipeline');
      res.destroy();
    });
  };
  // Same handler and timeouts either way; https.Server is an http.Server for everything we use.
  const server: http.Server = deps.tls
    ? https.createServer({ ...options, cert: deps.tls.cert, key: deps.tls.key }, listener)
    : http.createServer(options, listener);
  server.timeout = config.idleTimeoutMs;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed HTTP: answer 400 if the socket is still writable, never crash.
    if (socket.writable && err.code !== 'ECONNRESET') {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    } else {
      socket.destroy();
    }
  });
  if (deps.tls) {
    // Failed handshakes (plain HTTP to the TLS port, untrusted certificates) are the client's
    // problem: note them quietly, never crash.
    server.on('tlsClientError', (err: Error) => deps.log.debug({ err: err.message }, 'TLS handshake failed'));
  }
  return server;
}

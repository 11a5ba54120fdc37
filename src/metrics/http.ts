// GET /metrics (Prometheus text format) on the S3 address (through the front router, src/front.ts)
// and on the console's (`handleMetrics`, mounted by the console server). Who may read it is
// --metrics-auth: `public` (anyone), `bearer` (Authorization: Bearer <--metrics-token>) or `sigv4`
// (a request signed by root or by a key whose policies allow admin:Prometheus). docs/metrics.md.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { authorizeAdmin } from '../admin/authorize.js';
import { authenticate } from '../admin/http.js';
import { AdminError } from '../admin/operations.js';
import type { CredentialSource } from '../iam/principal.js';
import type { IdentityStore } from '../store/identities.js';
import { CONTENT_TYPE } from './exposition.js';
import type { MetricsService } from './service.js';

export interface MetricsHttpDeps {
  metrics: MetricsService;
  /** sigv4 mode: who signed, and what they may do. */
  credentials: CredentialSource;
  identities: IdentityStore;
  region: string;
  log?: Logger;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function sendText(req: IncomingMessage, res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(text);
  res.writeHead(status, {
    'content-type': status === 200 ? CONTENT_TYPE : 'text/plain; charset=utf-8',
    'content-length': body.length,
    'cache-control': 'no-store',
    server: 'Strata',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Why the request may not read the metrics (status and text), or undefined when it may. */
async function refusal(req: IncomingMessage, deps: MetricsHttpDeps): Promise<{ status: number; text: string; headers?: Record<string, string> } | undefined> {
  const auth = deps.metrics.auth;
  if (auth.mode === 'public') return undefined;
  const header = req.headers.authorization;
  if (auth.mode === 'bearer') {
    const challenge = { 'www-authenticate': 'Bearer realm="strata metrics"' };
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return { status: 401, text: 'Unauthorized: send Authorization: Bearer <token>\n', headers: challenge };
    // Compared as digests: equal lengths, in constant time.
    if (!timingSafeEqual(digest(m[1]!), digest(auth.token ?? ''))) return { status: 403, text: 'Forbidden: wrong token\n' };
    return undefined;
  }
  if (header === undefined) return { status: 401, text: 'Unauthorized: sign the request with SigV4 (an access key allowed admin:Prometheus)\n' };
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const [rawPath, rawQuery] = q < 0 ? [url, ''] : [url.slice(0, q), url.slice(q + 1)];
  try {
    const { principal } = await authenticate(req, rawPath, rawQuery, deps);
    const why = authorizeAdmin(req, principal, 'admin:Prometheus', [], deps.identities);
    if (why !== undefined) return { status: 403, text: 'AccessDenied: this key is not allowed admin:Prometheus\n' };
  } catch (err) {
    if (err instanceof AdminError) return { status: err.status === 400 ? 400 : 403, text: `${err.code}: ${err.message}\n` };
    throw err;
  }
  return undefined;
}

/** Answers GET/HEAD /metrics (any path: the caller routed it); never throws. */
export async function handleMetrics(req: IncomingMessage, res: ServerResponse, deps: MetricsHttpDeps): Promise<void> {
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(req, res, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
    const refused = await refusal(req, deps);
    if (refused) return sendText(req, res, refused.status, refused.text, refused.headers);
    sendText(req, res, 200, await deps.metrics.exposition());
  } catch (err) {
    deps.log?.error({ err }, 'metrics: could not answer');
    if (!res.headersSent) sendText(req, res, 503, 'metrics unavailable\n');
    else res.destroy();
  }
}

/** `handleMetrics` bound to its dependencies: a `(req, res)` listener for another server (the console's). */
export function metricsHandler(deps: MetricsHttpDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return (req, res) => handleMetrics(req, res, deps);
}

// The console's listener (--console-address, docs/console.md): the console's static files, its
// session endpoints, and the S3 and admin APIs proxied as the session's principal through the very
// pipeline and admin handler the S3 address uses (authorization included: nothing here decides who
// may do what). The HTTP contract the page codes against is in docs/console.md.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { DelegatedAdminRequest } from '../admin/http.js';
import type { AuditLog } from '../audit/audit.js';
import { splitTarget } from '../http/host.js';
import { bytesIn, type DelegatedRequest } from '../http/pipeline.js';
import type { Principal } from '../iam/principal.js';
import { readSmallBody } from '../http/small-body.js';
import {
  type ConsoleSession,
  type ConsoleSessions,
  ConsoleError,
  COOKIE_NAME,
  cookieValue,
  describeSession,
  type LoginLimiter,
  sessionCookie,
} from './session.js';
import { SECURITY_HEADERS, serveStatic } from './static.js';

/** The header every API call but the session's own must carry (a cross-site form or image cannot set it). */
export const CSRF_HEADER = 'x-strata-console';
/** JSON bodies of the console's own endpoints are small. */
const MAX_JSON = 64 * 1024;

/** One of the console's own API endpoints (presign, zip, explain): answers for an authenticated session. */
export type ApiEndpoint = (req: IncomingMessage, res: ServerResponse, session: ConsoleSession, query: URLSearchParams) => Promise<void>;

export interface ConsoleDeps {
  sessions: ConsoleSessions;
  limiter: LoginLimiter;
  /** The S3 pipeline (http/pipeline.ts), for a request delegated by a session. */
  s3: (req: IncomingMessage, res: ServerResponse, waitsForContinue: boolean, delegated: DelegatedRequest) => Promise<void>;
  /** The admin API (admin/http.ts), for a request delegated by a session; absent: 501. */
  admin?: (req: IncomingMessage, res: ServerResponse, delegated: DelegatedAdminRequest) => Promise<void>;
  /** GET /metrics on the console address (the metrics module's handleMetrics, its own authentication); absent: 404. */
  metrics?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** The console's own endpoints by path (`/api/presign`…). */
  endpoints: ReadonlyMap<string, { method: string; run: ApiEndpoint }>;
  /** Where the built console is (dist/console). */
  dir: string;
  /** Served over TLS: the cookie is Secure. */
  tls: boolean;
  log: Logger;
  /** The audit log: the console's own routes (session, presign, zip, explain) each get a record; `/api/s3` and `/api/admin` are recorded by the pipeline and the admin API. */
  audit?: AuditLog | undefined;
}

/** What the audit record of one console request says beyond the request itself, filled in as it is handled. */
interface AuditNote {
  principal?: Principal;
  /** The access key a failed login named (never its secret). */
  claimedAccessKey?: string;
  errorCode?: string;
  /** Recorded by the S3 pipeline or the admin API instead (the request was handed over). */
  delegated?: boolean;
}

/** The audit operation name of a console route. */
function consoleOperation(method: string, rawPath: string): string {
  if (rawPath === '/api/session') return method === 'POST' ? 'console:CreateSession' : method === 'DELETE' ? 'console:DeleteSession' : 'console:GetSession';
  const name = rawPath.slice('/api/'.length);
  return /^[a-z]+$/.test(name) ? `console:${name[0]!.toUpperCase()}${name.slice(1)}` : 'console:Unknown';
}

/** A JSON answer of the console (errors are `{code, message}`), never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = status === 204 ? undefined : Buffer.from(`${JSON.stringify(body)}\n`);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'cache-control': 'no-store',
    ...(text && { 'content-type': 'application/json', 'content-length': String(text.length) }),
    ...headers,
  });
  res.end(text);
}

export function sendConsoleError(res: ServerResponse, err: ConsoleError, headers: Record<string, string> = {}): void {
  sendJson(res, err.status, { code: err.code, message: err.message }, headers);
}

/** A JSON object body (ConsoleError 400 otherwise). */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readSmallBody(req, MAX_JSON, () => new ConsoleError(413, 'EntityTooLarge', `A console request body is at most ${MAX_JSON} bytes.`));
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ConsoleError(400, 'MalformedJSON', 'The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ConsoleError(400, 'MalformedJSON', 'The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

/**
 * A request whose Origin (browsers send it on every POST, PUT and DELETE) is not this listener's
 * own host is refused: with SameSite=Strict and the CSRF header a second line of defence.
 */
function foreignOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

const NO_SESSION = new ConsoleError(401, 'NoSession', 'Log in to the console first: there is no session, or it ended.');

export function createConsoleHandler(deps: ConsoleDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const cookie = (value: string, maxAgeS: number) => ({ 'set-cookie': sessionCookie(value, maxAgeS, deps.tls) });
  const clear = cookie('', 0);

  /** POST /api/session: log in. */
  const login = async (req: IncomingMessage, res: ServerResponse, note: AuditNote): Promise<void> => {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type))
      throw new ConsoleError(415, 'UnsupportedMediaType', 'Log in with a JSON body (Content-Type: application/json).');
    const body = await readJsonObject(req);
    const { accessKeyId, secretAccessKey, sessionToken } = body;
    if (typeof accessKeyId !== 'string' || accessKeyId === '' || typeof secretAccessKey !== 'string' || secretAccessKey === '')
      throw new ConsoleError(400, 'InvalidArgument', 'Give accessKeyId and secretAccessKey (strings).');
    if (sessionToken !== undefined && (typeof sessionToken !== 'string' || sessionToken === ''))
      throw new ConsoleError(400, 'InvalidArgument', 'sessionToken, when given, is a non-empty string.');
    note.claimedAccessKey = accessKeyId;
    const ip = req.socket.remoteAddress ?? '';
    if (deps.limiter.blocked(ip, accessKeyId)) throw new ConsoleError(429, 'SlowDown', 'Too many failed logins: wait a few minutes and try again.');
    try {
      const { session, cookie: value } = await deps.sessions.login(accessKeyId, secretAccessKey, sessionToken);
      deps.limiter.succeeded(accessKeyId);
      note.principal = session.principal;
      deps.log.info({ accessKeyId, kind: session.principal.kind, remoteAddress: ip }, 'console login');
      sendJson(res, 200, describeSession(session), cookie(value, (session.expires - Date.now()) / 1000));
    } catch (err) {
      if (err instanceof ConsoleError && err.status === 403) {
        deps.limiter.failed(ip, accessKeyId);
        deps.log.info({ accessKeyId, code: err.code, remoteAddress: ip }, 'console login refused');
      }
      throw err;
    }
  };

  /** 401 NoSession, clearing a cookie the request carried (it no longer opens). */
  const noSession = (req: IncomingMessage, res: ServerResponse, note: AuditNote): void => {
    note.errorCode = NO_SESSION.code;
    sendConsoleError(res, NO_SESSION, req.headers.cookie?.includes(`${COOKIE_NAME}=`) ? clear : {});
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, rawPath: string, rawQuery: string, note: AuditNote): Promise<void> => {
    const method = req.method ?? 'GET';
    // No page of another origin may load an API answer as an image, script or frame (no-cors loads).
    res.setHeader('cross-origin-resource-policy', 'same-origin');
    if (foreignOrigin(req)) throw new ConsoleError(403, 'ForeignOrigin', 'The console API answers only its own pages.');
    if (rawPath === '/api/session' && method === 'POST') return login(req, res, note);
    const session = await deps.sessions.open(cookieValue(req.headers.cookie, COOKIE_NAME));
    if (session !== undefined) note.principal = session.principal;
    if (rawPath === '/api/session') {
      if (method === 'DELETE') return sendJson(res, 204, undefined, clear);
      if (method !== 'GET') throw new ConsoleError(405, 'MethodNotAllowed', 'Use GET, POST or DELETE on /api/session.');
      if (session === undefined) return noSession(req, res, note);
      return sendJson(res, 200, describeSession(session));
    }
    if (session === undefined) return noSession(req, res, note);
    const toS3 = rawPath === '/api/s3' || rawPath.startsWith('/api/s3/');
    // Reads that the page opens as plain links (a download saved by the browser as it streams, not
    // buffered in the page) need no header: they change nothing, the cookie is SameSite=Strict, and
    // Cross-Origin-Resource-Policy keeps another origin's page from embedding them.
    const linkRead = (method === 'GET' || method === 'HEAD') && (toS3 || rawPath === '/api/zip');
    if (req.headers[CSRF_HEADER] !== '1' && !linkRead)
      throw new ConsoleError(403, 'MissingCsrfHeader', `Console API calls must carry the header ${CSRF_HEADER}: 1.`);
    if (toS3) {
      const target = (rawPath.slice('/api/s3'.length) || '/') + (rawQuery === '' ? '' : `?${rawQuery}`);
      note.delegated = true;
      return deps.s3(req, res, false, { target, principal: session.principal });
    }
    if (rawPath.startsWith('/api/admin/')) {
      if (deps.admin === undefined) throw new ConsoleError(501, 'NotImplemented', 'This server has no admin API.');
      const target = `/_strata/admin/${rawPath.slice('/api/admin/'.length)}${rawQuery === '' ? '' : `?${rawQuery}`}`;
      note.delegated = true;
      return deps.admin(req, res, { target, principal: session.principal });
    }
    const endpoint = deps.endpoints.get(rawPath);
    if (endpoint === undefined) throw new ConsoleError(404, 'NotFound', 'No such console API endpoint.');
    if (method !== endpoint.method) throw new ConsoleError(405, 'MethodNotAllowed', `Use ${endpoint.method} on ${rawPath}.`);
    return endpoint.run(req, res, session, new URLSearchParams(rawQuery));
  };

  /** The audit record of a console route, written when its answer is complete (or the connection closed). */
  const auditWhenDone = (req: IncomingMessage, res: ServerResponse, rawPath: string, note: AuditNote): void => {
    const audit = deps.audit;
    if (audit === undefined) return;
    const startedAt = Date.now();
    const written = req.socket.bytesWritten;
    const done = () => {
      if (note.delegated) return;
      const length = Number(res.getHeader('content-length'));
      audit.record({
        api: 'console',
        requestId: randomBytes(8).toString('hex').toUpperCase(),
        startedAt,
        operation: consoleOperation(req.method ?? 'GET', rawPath),
        method: req.method,
        ...(note.principal !== undefined ? { principal: note.principal } : note.claimedAccessKey !== undefined && { claimedAccessKey: note.claimedAccessKey }),
        sourceIp: req.socket.remoteAddress,
        userAgent: req.headers['user-agent'],
        path: rawPath,
        status: res.statusCode,
        ...(note.errorCode !== undefined && { errorCode: note.errorCode }),
        bytesIn: bytesIn(req),
        // A streamed answer (a zip) has no Content-Length: what went out on the socket meanwhile.
        bytesOut: Number.isFinite(length) ? length : Math.max(0, req.socket.bytesWritten - written),
        durationMs: Date.now() - startedAt,
      });
    };
    res.once('close', done);
  };

  return async (req, res) => {
    const { rawPath, rawQuery } = splitTarget(req.url ?? '/');
    const note: AuditNote = {};
    try {
      if (rawPath === '/api' || rawPath.startsWith('/api/')) {
        auditWhenDone(req, res, rawPath, note);
        return await handleApi(req, res, rawPath, rawQuery, note);
      }
      if (rawPath === '/metrics') {
        // ── /metrics on the console address (issue 15: served on both addresses) ── the metrics
        // module's handleMetrics, wired by server.ts's createConsoleServer as `metrics`.
        if (deps.metrics === undefined) throw new ConsoleError(404, 'NotFound', 'Metrics are not served by this server.');
        return await deps.metrics(req, res);
      }
      return await serveStatic(req, res, rawPath, deps.dir);
    } catch (err) {
      note.errorCode = err instanceof ConsoleError ? err.code : 'InternalError';
      if (err instanceof ConsoleError) sendConsoleError(res, err);
      else {
        deps.log.error({ err, path: rawPath }, 'console request failed');
        sendJson(res, 500, { code: 'InternalError', message: 'We encountered an internal error. Please try again.' });
      }
      // An unread body on an error answer: close the connection rather than read it.
      if (!req.complete) res.once('finish', () => req.destroy());
    }
  };
}

// The admin API over HTTP: JSON under ADMIN_PREFIX (a path S3 never routes: `_` cannot start a
// bucket name), authenticated with SigV4 like S3 (src/s3/auth), authorized per admin action through
// the one decision point (iam/authorize.ts: root always, a user what its policies allow — admin.ts
// here), every call in the access log with the acting principal and never a secret. The operations are in operations.ts; docs/admin-api.md documents both.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { bucketFromHost, splitTarget } from '../http/host.js';
import { readSmallBody } from '../http/small-body.js';
import { bytesIn } from '../http/pipeline.js';
import type { CredentialSource, Principal } from '../iam/principal.js';
import { SecretUnreadableError, type SecretBox } from '../iam/secret-box.js';
import { verifyWith } from '../s3/auth/authenticate.js';
import { hasSigV4Header, verifySigV4Header, type SignedRequest } from '../s3/auth/sigv4.js';
import { S3Error } from '../s3/errors.js';
import type { IdentityStore } from '../store/identities.js';
import { authorizeAdmin } from './authorize.js';
import { AdminError, adminErrorOf, type AdminContext, type Json, matchRoute, ROUTES } from './operations.js';
import { ROLE_ROUTES } from './role-operations.js';
import { KMS_ROUTES } from './kms-operations.js';
import { type AdminMetrics, USAGE_ROUTES } from './usage-operations.js';
import { type AdminHeal, HEAL_ROUTES } from './heal-operations.js';
import { type AdminCluster, CLUSTER_ROUTES } from './cluster-operations.js';
import type { KeyService } from '../kms/kms.js';
import type { AuditLog } from '../audit/audit.js';
import { type AccessFacts, factsOfAnswer } from '../audit/record.js';
import { principalSummary } from '../iam/principal-summary.js';
import { accessKeyHint } from '../s3/auth/authenticate.js';

/** Every admin route: users, groups, policies and keys (operations.ts), roles (role-operations.ts), the key service (kms-operations.ts). */
const ALL_ROUTES = [...ROUTES, ...ROLE_ROUTES, ...KMS_ROUTES, ...USAGE_ROUTES, ...HEAL_ROUTES, ...CLUSTER_ROUTES];

export const ADMIN_PREFIX = '/_strata/admin/v1/';
/** Admin bodies are small JSON documents (a policy is at most 20 KiB). */
const MAX_BODY = 64 * 1024;

/**
 * Is this request the admin API's? Its raw path starts with ADMIN_PREFIX's `/_strata/admin/` and
 * its Host does not name a bucket (virtual-hosted style: the path would be a key). Path-style, S3
 * would refuse it anyway: `_strata` is not a valid bucket name, so no bucket or key is shadowed.
 */
export function isAdminRequest(req: IncomingMessage, domains: readonly string[]): boolean {
  const url = req.url ?? '';
  if (!url.startsWith('/_strata/admin/')) return false;
  return bucketFromHost(req.headers.host, domains) === undefined;
}

export interface AdminDeps {
  identities: IdentityStore;
  box: SecretBox;
  credentials: CredentialSource;
  rootAccessKey: string;
  region: string;
  log: Logger;
  accessLog?: Logger;
  /** The key service (the kms/keys routes); absent: they answer 501 KMSNotConfigured. */
  kms?: KeyService | undefined;
  /** The audit log: every admin request is recorded when it is on. */
  audit?: AuditLog | undefined;
  /** Usage, history and jobs (usage-operations.ts). */
  metrics?: AdminMetrics | undefined;
  /** The heal status (heal-operations.ts); absent on a one-drive server. */
  heal?: AdminHeal | undefined;
  /** The cluster status (cluster-operations.ts); absent with SQLite metadata. */
  cluster?: AdminCluster | undefined;
}

function send(res: ServerResponse, status: number, body: Json): void {
  const text = Buffer.from(`${JSON.stringify(body)}\n`);
  // Set apart so the audit record can read it back (getHeader).
  res.setHeader('content-length', text.length);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', server: 'Strata' });
  res.end(text);
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  readSmallBody(req, MAX_BODY, () => new AdminError('EntityTooLarge', 413, `An admin request body is at most ${MAX_BODY} bytes.`));

/** Authenticates with SigV4 (header form only) → the principal; S3's auth errors become admin errors. Also /metrics' sigv4 mode (src/metrics/http.ts). */
export async function authenticate(
  req: IncomingMessage,
  rawPath: string,
  rawQuery: string,
  deps: Pick<AdminDeps, 'credentials' | 'region'>,
): Promise<{ principal: Principal; payloadHash: string }> {
  const headers = req.headersDistinct as Record<string, string[]>;
  if (headers.authorization === undefined) throw new AdminError('AccessDenied', 403, 'The admin API requires a request signed with SigV4.');
  if (!hasSigV4Header(headers)) throw new AdminError('AccessDenied', 403, 'The admin API accepts only SigV4 header signatures.');
  const signed: SignedRequest = { method: req.method ?? '', rawPath, rawQuery, headers };
  const hint = accessKeyHint(headers.authorization[0], []);
  try {
    const found = await verifyWith(deps.credentials, hint, (lookup) => verifySigV4Header(signed, lookup, { region: deps.region }));
    return { principal: found.principal, payloadHash: found.auth!.payloadHash };
  } catch (err) {
    if (err instanceof S3Error) throw new AdminError(err.code, err.status, err.message);
    throw err;
  }
}

/**
 * An admin request the console (src/console/) makes for its session: the admin target
 * (`/_strata/admin/v1/…`) and the principal the session authenticated. Its body is not signed
 * (the session, not a signature, vouches for the caller); authorization is the same as for any call.
 */
export interface DelegatedAdminRequest {
  readonly target: string;
  readonly principal: Principal;
}

/** Answers one admin request (never throws: errors are JSON answers, server faults logged and 500). */
export async function handleAdmin(req: IncomingMessage, res: ServerResponse, deps: AdminDeps, delegated?: DelegatedAdminRequest): Promise<void> {
  const startedAt = Date.now();
  const requestId = randomUUID();
  const { rawPath, rawQuery } = splitTarget(delegated?.target ?? req.url ?? '');
  let principal: Principal | undefined;
  let action: string | undefined;
  let status = 200;
  let code: string | undefined;
  let denied: string | undefined;
  try {
    const auth = delegated ? { principal: delegated.principal, payloadHash: undefined } : await authenticate(req, rawPath, rawQuery, deps);
    principal = auth.principal;
    if (!rawPath.startsWith(ADMIN_PREFIX)) throw new AdminError('NotFound', 404, `Unknown admin API version: use ${ADMIN_PREFIX}.`);
    const segments = rawPath
      .slice(ADMIN_PREFIX.length)
      .split('/')
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          throw new AdminError('InvalidArgument', 400, 'The path is not valid percent-encoding.');
        }
      });
    const matched = matchRoute(req.method ?? '', segments, ALL_ROUTES);
    if (matched === undefined) throw new AdminError('NotFound', 404, 'No such admin operation.');
    if (matched === 'method') throw new AdminError('MethodNotAllowed', 405, 'The method is not allowed on this admin resource.');
    action = matched.route.action;
    // Authorization: the caller's policies must allow the route's admin action (root: always).
    const keyArn = matched.route.resource?.(matched.params, deps.region);
    const refusal = authorizeAdmin(req, principal, matched.route.action, matched.params, deps.identities, keyArn);
    if (refusal !== undefined) {
      denied = refusal;
      throw new AdminError('AccessDenied', 403, 'Access Denied.');
    }
    const raw = await readBody(req);
    if (auth.payloadHash !== undefined && !/^[0-9a-f]{64}$/.test(auth.payloadHash))
      throw new AdminError('InvalidRequest', 400, 'Admin requests must sign their payload (x-amz-content-sha256: the SHA-256 of the body).');
    if (auth.payloadHash !== undefined && createHash('sha256').update(raw).digest('hex') !== auth.payloadHash)
      throw new AdminError('XAmzContentSHA256Mismatch', 400, 'The provided x-amz-content-sha256 header does not match what was computed.');
    let body: Json = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Json;
      } catch {
        throw new AdminError('MalformedJSON', 400, 'The request body is not valid JSON.');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new AdminError('MalformedJSON', 400, 'The request body must be a JSON object.');
    }
    const ctx: AdminContext = {
      identities: deps.identities,
      box: deps.box,
      rootAccessKey: deps.rootAccessKey,
      now: Date.now,
      kms: deps.kms,
      region: deps.region,
      metrics: deps.metrics,
      heal: deps.heal,
      cluster: deps.cluster,
    };
    const out = await matched.route.run(ctx, { params: matched.params, body, query: new URLSearchParams(rawQuery) });
    send(res, status, out);
  } catch (err) {
    const e = adminErrorOf(err);
    // An unread body on an error answer: the connection closes after it (said in the answer, so a
    // client never sends its next request on a socket about to close) rather than reading the body.
    // A request without a body is complete once read: its connection stays open.
    const unread = !req.complete && (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0');
    if (unread && !res.headersSent) res.setHeader('Connection', 'close');
    if (e) {
      status = e.status;
      code = e.code;
      if (!res.headersSent) send(res, status, { Code: e.code, Message: e.message, RequestId: requestId });
    } else {
      status = 500;
      code = 'InternalError';
      // A secret sealed under another key is an operator's problem to see at once (error level).
      deps.log.error({ err: err instanceof SecretUnreadableError ? err.message : err, requestId }, 'admin request failed');
      if (!res.headersSent) send(res, 500, { Code: 'InternalError', Message: 'We encountered an internal error. Please try again.', RequestId: requestId });
    }
    if (unread) res.once('finish', () => req.destroy());
  } finally {
    const line: AccessFacts = {
      reqId: requestId,
      op: action ?? 'admin:Unknown',
      method: req.method,
      path: rawPath,
      status,
      ...(code !== undefined && { adminCode: code }),
      ...(denied !== undefined && { denied }),
      ...(principal && { principal: principalSummary(principal) }),
      remoteAddress: req.socket.remoteAddress,
      ms: Date.now() - startedAt,
    };
    deps.accessLog?.info(line, 'admin');
    deps.audit?.record(
      factsOfAnswer('admin', line, req, res, {
        startedAt,
        principal,
        claimedAccessKey: accessKeyHint(req.headers.authorization, []),
        bytesIn: bytesIn(req),
      }),
    );
  }
}

// The STS endpoint (docs/iam.md, "Roles and STS"): `POST /` with Action=AssumeRole or
// GetCallerIdentity in a form body (or the query string), signed with SigV4 for service `sts`, answered
// in STS's XML. Served by server.ts beside the S3 pipeline: a POST to `/` naming no bucket is no S3
// operation, so no S3 request is shadowed. Every call is in the access log with its caller, never a
// secret or a token.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { bucketFromHost, splitTarget } from '../http/host.js';
import { readSmallBody } from '../http/small-body.js';
import { bytesIn } from '../http/pipeline.js';
import type { CredentialSource, Principal } from '../iam/principal.js';
import { SecretUnreadableError } from '../iam/secret-box.js';
import type { SessionTokens } from '../iam/sessions.js';
import { sessionTokenOf, verifyWith, withSessionToken } from '../s3/auth/authenticate.js';
import { parseQueryParams } from '../s3/auth/canonical.js';
import { hasSigV4Header, verifySigV4Header, type SignedRequest } from '../s3/auth/sigv4.js';
import { S3Error } from '../s3/errors.js';
import { buildXml } from '../s3/xml.js';
import type { IdentityStore } from '../store/identities.js';
import type { AuditLog } from '../audit/audit.js';
import { type AccessFacts, factsOfAnswer } from '../audit/record.js';
import { principalSummary } from '../iam/principal-summary.js';
import { accessKeyHint } from '../s3/auth/authenticate.js';
import { assumeRole, getCallerIdentity, MIN_DURATION_S, type StsContext, StsError, type StsResult } from './operations.js';

export const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const STS_VERSION = '2011-06-15';
/** STS requests are small forms (a session policy is at most 2048 characters). */
const MAX_BODY = 64 * 1024;

/**
 * Is this request STS's? `POST /` (the raw target `/`, or `/?…`) whose Host names no bucket (S3 has
 * no operation there: a form upload goes to `/bucket`, or to `/` of a virtual-hosted bucket) and
 * that says it is for STS: signed for service `sts` (`…/sts/aws4_request` in its credential scope),
 * or carrying an `Action` query parameter or a form body (`application/x-www-form-urlencoded`, how
 * STS clients send their parameters). Any other `POST /` keeps S3's answer.
 */
export function isStsRequest(req: IncomingMessage, domains: readonly string[]): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  if (url !== '/' && !url.startsWith('/?')) return false;
  if (bucketFromHost(req.headers.host, domains) !== undefined) return false;
  const authz = req.headers.authorization;
  if (authz !== undefined) return /^AWS4-HMAC-SHA256 .*Credential=[^,\s]*\/sts\/aws4_request/.test(authz);
  if (/^application\/x-www-form-urlencoded\s*(;|$)/i.test((req.headers['content-type'] ?? '').trim())) return true;
  return url.startsWith('/?') && new URLSearchParams(url.slice(2)).has('Action');
}

/**
 * The least DurationSeconds AssumeRole accepts: 900 (AWS), or for tests only
 * STRATA_TEST_STS_MIN_DURATION seconds, honoured with NODE_ENV=test (expiry tests wait seconds, not 15 minutes).
 */
export function stsMinDuration(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.STRATA_TEST_STS_MIN_DURATION;
  if (v === undefined || env.NODE_ENV !== 'test' || !/^\d+$/.test(v)) return MIN_DURATION_S;
  return Math.max(1, Number(v));
}

export interface StsDeps {
  identities: Pick<IdentityStore, 'getRole'>;
  tokens: SessionTokens;
  credentials: CredentialSource;
  region: string;
  minDuration: number;
  log: Logger;
  accessLog?: Logger;
  /** The audit log: every STS request is recorded when it is on. */
  audit?: AuditLog | undefined;
}

/** S3's authentication errors as STS words them. */
function stsErrorOf(err: S3Error): StsError {
  switch (err.code) {
    case 'InvalidAccessKeyId':
    case 'InvalidToken':
      return new StsError('InvalidClientTokenId', 403, 'The security token included in the request is invalid.');
    case 'ExpiredToken':
      return new StsError('ExpiredToken', 400, 'The security token included in the request is expired');
    case 'SignatureDoesNotMatch':
      return new StsError(
        'SignatureDoesNotMatch',
        403,
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    case 'RequestTimeTooSkewed':
      return new StsError('SignatureDoesNotMatch', 403, 'Signature expired: the request time is too far from the server time.');
    case 'AuthorizationHeaderMalformed':
    case 'InvalidRequest':
    case 'InvalidArgument':
      return new StsError('IncompleteSignature', 400, err.message);
    default:
      return new StsError(err.code, err.status, err.message);
  }
}

/** The request's parameters: the query string's, then the form body's (the first of a repeated name wins). */
function paramsOf(rawQuery: string, body: Buffer, contentType: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const add = (entries: Iterable<[string, string]>) => {
    for (const [k, v] of entries) if (!out.has(k)) out.set(k, v);
  };
  add(new URLSearchParams(rawQuery));
  if (body.length > 0) {
    if (contentType !== undefined && !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType.trim()))
      throw new StsError('InvalidParameterValue', 400, 'The request body must be application/x-www-form-urlencoded.');
    add(new URLSearchParams(body.toString('utf8')));
  }
  return out;
}

/** SigV4 (header form, service sts, payload = the body's SHA-256) → the caller. */
async function authenticate(req: IncomingMessage, rawPath: string, rawQuery: string, bodyHash: string, deps: StsDeps): Promise<Principal> {
  const headers = req.headersDistinct as Record<string, string[]>;
  if (headers.authorization === undefined) throw new StsError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
  if (!hasSigV4Header(headers)) throw new StsError('IncompleteSignature', 400, 'STS accepts only AWS Signature Version 4 (AWS4-HMAC-SHA256).');
  const queryParams = parseQueryParams(rawQuery);
  const signed: SignedRequest = { method: 'POST', rawPath, rawQuery, headers, queryParams };
  const source = withSessionToken(deps.credentials, sessionTokenOf(headers, queryParams));
  const hint = accessKeyHint(headers.authorization[0], []);
  try {
    const found = await verifyWith(source, hint, (lookup) =>
      verifySigV4Header(signed, lookup, { region: deps.region, anyRegion: true, service: 'sts', bodyHash }),
    );
    if (found.auth!.payloadHash !== bodyHash) throw new StsError('SignatureDoesNotMatch', 403, 'The x-amz-content-sha256 header does not match the body.');
    return found.principal;
  } catch (err) {
    if (err instanceof S3Error) throw stsErrorOf(err);
    throw err;
  }
}

function sendXml(res: ServerResponse, status: number, root: string, content: Record<string, unknown>, requestId: string): void {
  const text = Buffer.from(buildXml({ root, namespace: false, content: { '@_xmlns': STS_NS, ...content } as never }));
  // Set apart so the audit record can read it back (getHeader).
  res.setHeader('content-length', text.length);
  res.writeHead(status, {
    'content-type': 'text/xml',
    'cache-control': 'no-store',
    server: 'Strata',
    'x-amzn-requestid': requestId,
  });
  res.end(text);
}

/** What the access log tells of a request, filled in as the request is understood. */
interface Seen {
  action?: string;
  principal?: Principal;
}

/** One STS request → its result's root element and content; StsError for the caller's faults. */
async function answer(req: IncomingMessage, deps: StsDeps, seen: Seen): Promise<[string, StsResult]> {
  const { rawPath, rawQuery } = splitTarget(req.url ?? '');
  const body = await readSmallBody(req, MAX_BODY, () => new StsError('ValidationError', 400, `An STS request body is at most ${MAX_BODY} bytes.`));
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const params = paramsOf(rawQuery, body, req.headers['content-type']);
  const action = params.get('Action');
  seen.action = action;
  const principal = await authenticate(req, rawPath, rawQuery, bodyHash, deps);
  seen.principal = principal;
  if (action === undefined) throw new StsError('MissingAction', 400, 'Missing Action');
  const version = params.get('Version');
  if ((version !== undefined && version !== STS_VERSION) || (action !== 'AssumeRole' && action !== 'GetCallerIdentity'))
    throw new StsError('InvalidAction', 400, `Could not find operation ${action} for version ${version ?? STS_VERSION}`);
  if (action === 'GetCallerIdentity') return [action, getCallerIdentity(principal)];
  const ctx: StsContext = {
    identities: deps.identities,
    tokens: deps.tokens,
    now: Date.now,
    minDuration: deps.minDuration,
    sourceIp: req.socket.remoteAddress,
    secureTransport: (req.socket as TLSSocket).encrypted === true,
  };
  return [action, assumeRole(principal, params, ctx)];
}

/** Answers one STS request (never throws: errors are STS XML, server faults logged and 500). */
export async function handleSts(req: IncomingMessage, res: ServerResponse, deps: StsDeps): Promise<void> {
  const startedAt = Date.now();
  const requestId = randomUUID();
  const seen: Seen = {};
  let failure: StsError | undefined;
  try {
    const [action, result] = await answer(req, deps, seen);
    sendXml(res, 200, `${action}Response`, { [`${action}Result`]: result, ResponseMetadata: { RequestId: requestId } }, requestId);
  } catch (err) {
    if (err instanceof StsError) failure = err;
    else {
      failure = new StsError('InternalFailure', 500, 'The request processing has failed because of an unknown error.');
      deps.log.error({ err: err instanceof SecretUnreadableError ? err.message : err, requestId }, 'sts request failed');
    }
    const type = failure.status >= 500 ? 'Receiver' : 'Sender';
    if (!res.headersSent)
      sendXml(res, failure.status, 'ErrorResponse', { Error: { Type: type, Code: failure.code, Message: failure.message }, RequestId: requestId }, requestId);
    if (!req.complete) res.once('finish', () => req.destroy());
  } finally {
    // The access line of an STS request: caller, action, outcome; never a secret or a token.
    const line: AccessFacts = {
      reqId: requestId,
      op: `sts:${seen.action ?? 'Unknown'}`,
      method: req.method,
      status: failure?.status ?? 200,
      ...(failure && { stsCode: failure.code }),
      ...(seen.principal && { principal: principalSummary(seen.principal) }),
      remoteAddress: req.socket.remoteAddress,
      ms: Date.now() - startedAt,
    };
    deps.accessLog?.info(line, 'sts');
    deps.audit?.record(
      factsOfAnswer('sts', line, req, res, {
        startedAt,
        principal: seen.principal,
        claimedAccessKey: accessKeyHint(req.headers.authorization, []),
        bytesIn: bytesIn(req),
      }),
    );
  }
}

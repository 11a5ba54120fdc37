// POST /api/presign: a SigV4 query-presigned URL on the S3 address, signed with the session's own
// key (an STS session's URL carries its token and cannot outlive it). S3 authorizes the URL when it
// is opened; this endpoint refuses up front a method the session's principal may not use
// (the normal authorizer, with the bucket's policy and ACLs). presignUrl is also how the zip
// endpoint reads objects as the session (zip.ts).
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { S3Action } from '../iam/authorize.js';
import { decideFor } from '../s3/access.js';
import { loadBucketAccess } from '../s3/bucket-access.js';
import { canonicalQuery, uriEncode } from '../s3/auth/canonical.js';
import { deriveSigningKey } from '../s3/auth/sigv4.js';
import type { Store } from '../store/store.js';
import { type ApiEndpoint, readJsonObject, sendJson } from './http.js';
import { ConsoleError, type ConsoleSession } from './session.js';

/** S3's bounds for X-Amz-Expires: one second to seven days. */
export const MAX_EXPIRES_S = 604_800;

export interface PresignRequest {
  /** The S3 address, `http(s)://host:port`. */
  baseUrl: string;
  method: string;
  bucket: string;
  /** Absent: a bucket-level URL (ListObjectsV2 with `query`). */
  key?: string;
  /** Further query parameters (versionId, list-type…), signed too. */
  query?: Readonly<Record<string, string>>;
  region: string;
  keys: ConsoleSession['keys'];
  expiresSeconds: number;
  now: number;
}

/** `20261203T121530Z` */
function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** A presigned URL (host the only signed header, payload UNSIGNED-PAYLOAD), as aws-sdk-js makes them. */
export function presignUrl(r: PresignRequest): string {
  const base = new URL(r.baseUrl);
  const date = amzDate(r.now);
  const day = date.slice(0, 8);
  const scope = `${day}/${r.region}/s3/aws4_request`;
  const path = `/${uriEncode(r.bucket, true)}${r.key === undefined ? '' : `/${uriEncode(r.key, false)}`}`;
  const params: Array<[string, string]> = Object.entries(r.query ?? {});
  params.push(
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD'],
    ['X-Amz-Credential', `${r.keys.accessKeyId}/${scope}`],
    ['X-Amz-Date', date],
    ['X-Amz-Expires', String(r.expiresSeconds)],
    ['X-Amz-SignedHeaders', 'host'],
  );
  if (r.keys.sessionToken !== undefined) params.push(['X-Amz-Security-Token', r.keys.sessionToken]);
  const encoded = params.map(([n, v]) => [uriEncode(n, true), uriEncode(v, true)] as const);
  const query = canonicalQuery(encoded);
  const canonicalRequest = [r.method, path, query, `host:${base.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  const signature = createHmac('sha256', deriveSigningKey(r.keys.secretKey, day, r.region, 's3'))
    .update(stringToSign, 'utf8')
    .digest('hex');
  return `${base.protocol}//${base.host}${path}?${query}&X-Amz-Signature=${signature}`;
}

/** May the session's principal do `action` on the object (or bucket) now, as S3 would decide? */
export async function sessionMay(
  store: Store,
  req: IncomingMessage,
  session: ConsoleSession,
  action: S3Action,
  bucket: string,
  key: string | undefined,
  versionId?: string,
): Promise<boolean> {
  const principal = session.principal;
  if (principal.kind === 'root') return true;
  const record = await store.getBucket(bucket);
  if (record === undefined) return false;
  const access = await loadBucketAccess(store, record);
  const resource =
    key === undefined
      ? ({ kind: 'bucket', bucket, owner: record.owner } as const)
      : ({ kind: 'object', bucket, key, owner: record.owner, ...(versionId !== undefined && { versionId }) } as const);
  const conditions = { secureTransport: (req.socket as TLSSocket).encrypted === true, sourceIp: req.socket.remoteAddress, operation: action };
  return (await decideFor(principal, action, resource, access, conditions)).allowed;
}

const str = (v: unknown): v is string => typeof v === 'string' && v !== '';

export function presignEndpoint(deps: { store: Store; region: string; s3Url: () => string; now?: () => number }): ApiEndpoint {
  const now = deps.now ?? Date.now;
  return async (req: IncomingMessage, res: ServerResponse, session: ConsoleSession) => {
    const body = await readJsonObject(req);
    const { bucket, key, versionId, method, expiresSeconds } = body;
    if (!str(bucket) || !str(key)) throw new ConsoleError(400, 'InvalidArgument', 'Give bucket and key (strings).');
    if (versionId !== undefined && !str(versionId)) throw new ConsoleError(400, 'InvalidArgument', 'versionId, when given, is a non-empty string.');
    if (method !== 'GET' && method !== 'PUT') throw new ConsoleError(400, 'InvalidArgument', "method is 'GET' or 'PUT'.");
    if (typeof expiresSeconds !== 'number' || !Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_EXPIRES_S)
      throw new ConsoleError(400, 'InvalidArgument', `expiresSeconds is a whole number from 1 to ${MAX_EXPIRES_S}.`);
    const action: S3Action = method === 'PUT' ? 's3:PutObject' : versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject';
    if (!(await sessionMay(deps.store, req, session, action, bucket, key, versionId as string | undefined)))
      throw new ConsoleError(403, 'AccessDenied', `You may not ${method === 'PUT' ? 'upload' : 'download'} this object, so no link can be made for it.`);
    // (X-Amz-Date has whole seconds: the expiry counts from there.)
    const t = Math.floor(now() / 1000) * 1000;
    // An STS session's URL cannot outlive the session (S3 would refuse its token after that anyway).
    const sessionLeft = session.principal.session ? Math.floor((session.principal.session.expires - t) / 1000) : MAX_EXPIRES_S;
    const expires = Math.max(1, Math.min(expiresSeconds, sessionLeft));
    const url = presignUrl({
      baseUrl: deps.s3Url(),
      method,
      bucket,
      key,
      ...(versionId !== undefined && { query: { versionId: versionId as string } }),
      region: deps.region,
      keys: session.keys,
      expiresSeconds: expires,
      now: t,
    });
    sendJson(res, 200, { url, expiresAt: new Date(t + expires * 1000).toISOString() });
  };
}

// One audit record: what happened to one request, as a single JSON line (docs/audit.md has the
// schema). Built from the facts the access log already derived (http/pipeline.ts stage 11, the
// admin API's and the STS endpoint's access lines) plus the principal; never a secret, a signature,
// a session token, an Authorization or Cookie header or a query string (a presigned URL's signature
// lives there).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../iam/principal.js';
import { principalSummary, type PrincipalSummary } from '../iam/principal-summary.js';

/** Which front the request came through. */
export type AuditApi = 's3' | 'admin' | 'sts' | 'console';

/** Everything a record says; `principal` and the time are turned into their JSON forms by auditLine. */
export interface AuditFacts {
  api: AuditApi;
  requestId: string;
  /** When the request arrived (ms since the epoch). */
  startedAt: number;
  /** The S3 operation (`PutObject`), the admin action (`admin:CreateUser`), `sts:AssumeRole`, or the console route. */
  operation: string;
  method?: string;
  /** Who asked; absent when the request named credentials that did not authenticate (then `claimedAccessKey`). */
  principal?: Principal;
  /** The access key id a request that failed authentication named (never its secret or signature). */
  claimedAccessKey?: string;
  sourceIp?: string;
  userAgent?: string;
  bucket?: string;
  key?: string;
  versionId?: string;
  /** The path of an admin or console request (never its query string). */
  path?: string;
  status: number;
  /** The S3, admin or STS error code of a failed request. */
  errorCode?: string;
  /** Why the authorizer refused (the access log's `denied`). */
  denied?: unknown;
  bytesIn?: number;
  bytesOut?: number;
  durationMs: number;
}

/** The principal as a record shows it: `unauthenticated` when the credentials named did not verify. */
export interface AuditPrincipal extends Omit<PrincipalSummary, 'kind'> {
  readonly kind: PrincipalSummary['kind'] | 'unauthenticated';
}

/** A record: the facts, with the time as ISO text, the principal summarised, the lengths always there. */
export type AuditRecord = Omit<AuditFacts, 'startedAt' | 'principal' | 'claimedAccessKey' | 'bytesIn' | 'bytesOut'> & {
  time: string;
  principal: AuditPrincipal;
  bytesIn: number;
  bytesOut: number;
};

/** The record of `f` (fields without a value are left out). */
export function auditRecord(f: AuditFacts): AuditRecord {
  const principal: AuditPrincipal = f.principal
    ? principalSummary(f.principal)
    : { kind: 'unauthenticated', ...(f.claimedAccessKey !== undefined && { accessKey: f.claimedAccessKey }) };
  const rec: AuditRecord = {
    time: new Date(f.startedAt).toISOString(),
    requestId: f.requestId,
    api: f.api,
    operation: f.operation,
    method: f.method,
    principal,
    sourceIp: f.sourceIp,
    userAgent: f.userAgent,
    bucket: f.bucket,
    key: f.key,
    versionId: f.versionId,
    path: f.path,
    status: f.status,
    errorCode: f.errorCode,
    denied: f.denied,
    bytesIn: f.bytesIn ?? 0,
    bytesOut: f.bytesOut ?? 0,
    durationMs: f.durationMs,
  };
  return rec;
}

/** The record of `f` as one line of JSON (JSON.stringify leaves out the undefined fields). */
export function auditLine(f: AuditFacts): string {
  return `${JSON.stringify(auditRecord(f))}\n`;
}

/** An access-log line's facts (the object the access logger writes), as the three fronts write them. */
export interface AccessFacts {
  reqId: string;
  op: string;
  method?: string;
  bucket?: string;
  key?: string;
  path?: string;
  status: number;
  s3Code?: string;
  adminCode?: string;
  stsCode?: string;
  denied?: unknown;
  bytesIn?: number;
  bytesOut?: number | string;
  ms: number;
  remoteAddress?: string;
  userAgent?: string | string[];
  /** The admin and STS lines' caller (the record takes the principal from AccessExtras). */
  principal?: unknown;
}

/** What an access line does not carry but a record does (`claimedAccessKey` counts only without a principal). */
export interface AccessExtras {
  startedAt: number;
  principal?: Principal | undefined;
  claimedAccessKey?: string | undefined;
  versionId?: string | undefined;
}

/** The audit facts of an access-log line: the same facts, under the record's names. */
export function factsOfAccess(api: AuditApi, line: AccessFacts, extras: AccessExtras): AuditFacts {
  const out = line.bytesOut === undefined ? undefined : Number(line.bytesOut);
  const ua = Array.isArray(line.userAgent) ? line.userAgent[0] : line.userAgent;
  return {
    api,
    requestId: line.reqId,
    startedAt: extras.startedAt,
    operation: line.op,
    method: line.method,
    principal: extras.principal,
    claimedAccessKey: extras.principal ? undefined : extras.claimedAccessKey,
    sourceIp: line.remoteAddress,
    userAgent: ua,
    bucket: line.bucket,
    key: line.key,
    versionId: extras.versionId,
    path: line.path,
    status: line.status,
    errorCode: line.s3Code ?? line.adminCode ?? line.stsCode,
    denied: line.denied,
    bytesIn: line.bytesIn,
    bytesOut: Number.isFinite(out) ? out : undefined,
    durationMs: line.ms,
  };
}

/**
 * The audit facts of an admin or STS access line, which does not carry the user agent and the
 * lengths: read from the request and the answer (its Content-Length, set with setHeader).
 */
export function factsOfAnswer(
  api: AuditApi,
  line: AccessFacts,
  req: IncomingMessage,
  res: ServerResponse,
  extras: AccessExtras & { bytesIn: number },
): AuditFacts {
  const length = res.getHeader('content-length');
  const bytesOut = typeof length === 'number' || typeof length === 'string' ? length : undefined;
  return factsOfAccess(api, { ...line, userAgent: req.headers['user-agent'], bytesIn: extras.bytesIn, bytesOut }, extras);
}

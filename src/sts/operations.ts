// The STS actions Strata answers (docs/iam.md, "Roles and STS"): AssumeRole and GetCallerIdentity,
// as AWS's STS API reference describes their parameters, checks and results. Pure request → result
// logic: HTTP, SigV4, the XML and the log are http.ts's.
import { requestPrincipalOf } from '../iam/authorize.js';
import { parsePolicy, STRATA_ACCOUNT_ID } from '../iam/policy.js';
import type { Principal } from '../iam/principal.js';
import { assumedRoleArn, mayAssume, parseTrustPolicy, roleArn } from '../iam/roles.js';
import { newSessionKeys, type SessionTokens } from '../iam/sessions.js';
import type { IdentityStore } from '../store/identities.js';

/** An STS error: code, HTTP status, message; `Type` Sender (the caller's fault) unless a server fault. */
export class StsError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'StsError';
  }
}

const validation = (message: string) => new StsError('ValidationError', 400, message);
const constraint = (value: string | null, field: string, rule: string) =>
  validation(`1 validation error detected: Value ${value === null ? 'null' : `'${value}'`} at '${field}' failed to satisfy constraint: Member must ${rule}`);

/** AWS's bounds of DurationSeconds and of a role's MaxSessionDuration. */
export const MIN_DURATION_S = 900;
export const MAX_DURATION_S = 43_200;
export const DEFAULT_DURATION_S = 3600;
/** A session assuming a role (role chaining) gets at most an hour, as AWS. */
const CHAINED_MAX_S = 3600;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const MAX_SESSION_POLICY = 2048;

export interface StsContext {
  readonly identities: Pick<IdentityStore, 'getRole'>;
  readonly tokens: SessionTokens;
  readonly now: () => number;
  /** The least DurationSeconds accepted: 900, lowered only by the test switch (http.ts). */
  readonly minDuration: number;
  readonly sourceIp?: string;
  readonly secureTransport: boolean;
}

export type Params = ReadonlyMap<string, string>;
export type StsResult = Record<string, unknown>;

/** `2026-12-03T04:00:00Z`: STS's timestamps (ISO 8601, no fraction). */
const stsTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/** GetCallerIdentity: who signed the request (needs no permission, as AWS). */
export function getCallerIdentity(principal: Principal): StsResult {
  const who = requestPrincipalOf(principal);
  const userId = principal.kind === 'root' ? STRATA_ACCOUNT_ID : who.userId;
  return { Arn: who.arn, UserId: userId, Account: STRATA_ACCOUNT_ID };
}

function durationOf(p: Params, ctx: StsContext): number | undefined {
  const raw = p.get('DurationSeconds');
  if (raw === undefined) return undefined;
  if (!/^-?\d{1,9}$/.test(raw)) throw validation(`Value '${raw}' for parameter DurationSeconds is invalid: it must be an integer.`);
  const n = Number(raw);
  if (n < ctx.minDuration) throw constraint(raw, 'durationSeconds', `have value greater than or equal to ${MIN_DURATION_S}`);
  if (n > MAX_DURATION_S) throw constraint(raw, 'durationSeconds', `have value less than or equal to ${MAX_DURATION_S}`);
  return n;
}

/** The session policy: 1–2048 characters of an identity policy the language accepts. */
function sessionPolicyOf(p: Params): string | undefined {
  const text = p.get('Policy');
  if (text === undefined) return undefined;
  if (text.length < 1) throw constraint(text, 'policy', 'have length greater than or equal to 1');
  if (text.length > MAX_SESSION_POLICY) throw constraint('…', 'policy', `have length less than or equal to ${MAX_SESSION_POLICY}`);
  const parsed = parsePolicy(text, { kind: 'identity', name: 'session policy' });
  if (!parsed.ok) throw new StsError('MalformedPolicyDocument', 400, parsed.error.message);
  return text;
}

/**
 * AssumeRole: validates the parameters (ValidationError, MalformedPolicyDocument), checks that the
 * role exists and admits the caller (AccessDenied either way, as AWS: a missing role is not told
 * apart), and issues temporary credentials sealed in the session token.
 */
export function assumeRole(principal: Principal, p: Params, ctx: StsContext): StsResult {
  const arn = p.get('RoleArn');
  const sessionName = p.get('RoleSessionName');
  if (arn === undefined) throw constraint(null, 'roleArn', 'not be null');
  if (sessionName === undefined) throw constraint(null, 'roleSessionName', 'not be null');
  if (arn.length < 20) throw constraint(arn, 'roleArn', 'have length greater than or equal to 20');
  if (arn.length > 2048) throw constraint('…', 'roleArn', 'have length less than or equal to 2048');
  if (sessionName.length < 2) throw constraint(sessionName, 'roleSessionName', 'have length greater than or equal to 2');
  if (sessionName.length > 64) throw constraint(sessionName, 'roleSessionName', 'have length less than or equal to 64');
  if (!SESSION_NAME.test(sessionName)) throw constraint(sessionName, 'roleSessionName', 'satisfy regular expression pattern: [\\w+=,.@-]*');
  const externalId = p.get('ExternalId');
  if (externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(externalId))
    throw constraint(externalId, 'externalId', 'satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length from 2 to 1224');
  const requested = durationOf(p, ctx);
  const policy = sessionPolicyOf(p);
  const m = ROLE_ARN.exec(arn);
  if (!m) throw validation(`${arn} is invalid`);

  const who = requestPrincipalOf(principal);
  const denied = () => new StsError('AccessDenied', 403, `User: ${who.arn} is not authorized to perform: sts:AssumeRole on resource: ${arn}`);
  const role = m[1] === STRATA_ACCOUNT_ID ? ctx.identities.getRole(m[2]!) : undefined;
  if (role === undefined) throw denied();
  const trust = parseTrustPolicy(role.trustPolicy, role.name);
  // A stored trust policy the language refuses admits no one.
  if (!trust.ok) throw denied();
  const policies = principal.policies ?? { identity: [] };
  const decision = mayAssume(who, policies, principal.kind === 'root', trust.policy, roleArn(role.name), {
    now: ctx.now(),
    sourceIp: ctx.sourceIp,
    secureTransport: ctx.secureTransport,
    values: { 'sts:ExternalId': externalId, 'sts:RoleSessionName': sessionName },
  });
  if (!decision.allowed) throw denied();

  const chained = principal.session !== undefined;
  const duration = requested ?? Math.min(DEFAULT_DURATION_S, role.maxSessionDuration);
  if (chained && duration > CHAINED_MAX_S)
    throw validation('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  if (duration > role.maxSessionDuration) throw validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');

  const expires = ctx.now() + duration * 1000;
  const keys = newSessionKeys();
  const token = ctx.tokens.seal(keys.accessKeyId, {
    roleName: role.name,
    roleId: role.roleId,
    sessionName,
    expires,
    secretKey: keys.secretKey,
    ...(policy !== undefined && { policy }),
  });
  return {
    Credentials: { AccessKeyId: keys.accessKeyId, SecretAccessKey: keys.secretKey, SessionToken: token, Expiration: stsTime(expires) },
    AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${sessionName}`, Arn: assumedRoleArn(role.name, sessionName) },
    ...(policy !== undefined && { PackedPolicySize: Math.min(100, Math.ceil((policy.length * 100) / MAX_SESSION_POLICY)) }),
  };
}

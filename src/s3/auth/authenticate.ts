// Stage 3 of the pipeline: who is asking. Header SigV4 / SigV2, query SigV4 / SigV2 (presigned);
// an unsigned request is the anonymous principal, which the authorize stage refuses (not this one).
// A browser form upload (PostObject) carries its credentials in form fields: it gets a marker here
// (postFormCredentials) and is authenticated by its handler from the policy and signature fields,
// before any byte of the file is stored.
import type { CredentialSource, Principal } from '../../iam/principal.js';
import { ANONYMOUS } from '../../iam/principal.js';
import { SessionTokenError } from '../../iam/sessions.js';
import type { RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import { hasSigV2Header, hasSigV2Query, verifySigV2Header, verifySigV2Query } from './sigv2.js';
import type { AuthResult, CredentialLookup, SignedRequest } from './sigv4.js';
import type { QueryParam } from './canonical.js';
import { parseQueryParams } from './canonical.js';
import { hasSigV4Header, hasSigV4Query, verifySigV4Header, verifySigV4Query } from './sigv4.js';

const FORM_CREDENTIALS = Symbol('postFormCredentials');
type PendingFormAuth = AuthResult & { readonly [FORM_CREDENTIALS]: CredentialSource };

/** What authentication found: the verified signature (absent when unsigned) and the principal. */
export interface Authenticated {
  auth?: AuthResult;
  principal: Principal;
}

/** Thrown by the synchronous lookup handed to a verifier for a key not fetched yet (see verifyWith). */
class NeedCredentials {
  constructor(readonly accessKey: string) {}
}

/**
 * Runs a synchronous signature verifier with credentials from the async `source`. The verifiers
 * parse the request up to the access key and then look it up synchronously: the key named by
 * `hint` (read cheaply from the request) is fetched first; if the verifier asks for another one, it
 * is fetched and the verifier runs again (at most once more: a verifier asks for one key).
 */
export async function verifyWith(source: CredentialSource, hint: string | undefined, verify: (lookup: CredentialLookup) => AuthResult): Promise<Authenticated> {
  const known = new Map<string, Awaited<ReturnType<CredentialSource>>>();
  if (hint !== undefined && hint !== '') known.set(hint, await source(hint));
  for (let attempt = 0; ; attempt++) {
    const lookup: CredentialLookup = (accessKey) => {
      if (!known.has(accessKey)) throw new NeedCredentials(accessKey);
      const found = known.get(accessKey);
      return found && { accessKey, secretKey: found.secretKey };
    };
    try {
      const auth = verify(lookup);
      const principal = known.get(auth.accessKey)?.principal;
      if (!principal) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: auth.accessKey });
      return { auth, principal };
    } catch (err) {
      if (!(err instanceof NeedCredentials) || attempt > 1) throw err;
      known.set(err.accessKey, await source(err.accessKey));
    }
  }
}

/** The access key a signed request names, read without verifying anything (a hint for verifyWith). */
export function accessKeyHint(authz: string | undefined, queryParams: readonly QueryParam[]): string | undefined {
  if (authz !== undefined) {
    const v4 = /Credential=([^/,\s]+)\//.exec(authz);
    if (v4) return v4[1];
    const v2 = /^AWS ([^:\s]+):/.exec(authz);
    return v2?.[1];
  }
  for (const p of queryParams) {
    if (p.name === 'X-Amz-Credential') return p.value.split('/')[0];
    if (p.name === 'AWSAccessKeyId') return p.value;
  }
  return undefined;
}

/**
 * For a PostObject request with a multipart/form-data body authenticate() returns a marker: NOT an
 * authentication, only "the handler authenticates this from the form fields". The marker carries
 * the credential lookup under a module-private symbol, so nothing but authenticate() can make one.
 */
function pendingFormAuth(lookup: CredentialSource): PendingFormAuth {
  return Object.freeze({
    accessKey: '',
    payloadHash: 'UNSIGNED-PAYLOAD',
    signingKey: Buffer.alloc(0),
    signature: '',
    scope: '',
    amzDate: '',
    presigned: false,
    [FORM_CREDENTIALS]: lookup,
  });
}

/**
 * The credential lookup to verify a form's policy signature with, when `auth` is the PostObject
 * marker; undefined for anything else (then the request was not a form upload). The PostObject
 * handler must replace the marker with a verified result before it stores anything.
 */
export function postFormCredentials(auth: AuthResult | undefined): CredentialSource | undefined {
  return auth !== undefined && Object.hasOwn(auth, FORM_CREDENTIALS) ? (auth as PendingFormAuth)[FORM_CREDENTIALS] : undefined;
}

const ONE_MECHANISM =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified';

/** Content-Type multipart/form-data (any parameters, any case). */
export function isMultipartFormData(contentType: string | undefined): boolean {
  return contentType !== undefined && /^multipart\/form-data\s*(;|$)/i.test(contentType.trim());
}

/** The request's STS session token: the x-amz-security-token header, or the presigned URL's X-Amz-Security-Token. */
export function sessionTokenOf(headers: Record<string, string[] | undefined>, queryParams: readonly QueryParam[]): string | undefined {
  const h = headers['x-amz-security-token'];
  if (h !== undefined && h.length > 0) return h.join(',');
  return queryParams.find((p) => p.name === 'X-Amz-Security-Token' || p.name === 'x-amz-security-token')?.value;
}

/** `source` asked with the request's session token; a bad token becomes S3's ExpiredToken / InvalidToken. */
export function withSessionToken(source: CredentialSource, token: string | undefined): CredentialSource {
  if (token === undefined) return source;
  return (accessKeyId) =>
    source(accessKeyId, token).catch((err: unknown) => {
      throw err instanceof SessionTokenError ? new S3Error(err.code) : err;
    });
}

export async function authenticate(ctx: RequestContext, source: CredentialSource): Promise<Authenticated> {
  // The pipeline parsed the query once already; authentication reads that instead of re-splitting.
  const queryParams = ctx.queryParams ?? parseQueryParams(ctx.rawQuery);
  const signed: SignedRequest = {
    method: ctx.method,
    rawPath: ctx.rawPath,
    rawQuery: ctx.rawQuery,
    headers: ctx.req.headersDistinct as Record<string, string[]>,
    queryParams,
  };
  const authz = signed.headers['authorization'];
  const hasHeader = authz !== undefined && authz.length > 0;
  const v4Query = hasSigV4Query(queryParams);
  const v2Query = hasSigV2Query(queryParams);
  if (Number(hasHeader) + Number(v4Query) + Number(v2Query) > 1) {
    throw new S3Error('InvalidArgument', ONE_MECHANISM, { ArgumentName: 'Authorization' });
  }

  // Browser form upload: credentials are in the form (policy + signature), verified by the handler,
  // which always requires them (an Authorization header or query credentials on a form POST are not
  // used: a header signature could not cover the streamed form body anyway). Only the PostObject
  // operation (POST /bucket, no ?delete) with a form body gets here; every other request is
  // authenticated below or refused.
  if (ctx.op === 'PostObject' && isMultipartFormData(ctx.headers['content-type'])) {
    return { auth: pendingFormAuth(source), principal: ANONYMOUS };
  }

  const hint = () => accessKeyHint(hasHeader ? authz?.[0] : undefined, queryParams);
  const creds = withSessionToken(source, sessionTokenOf(signed.headers, queryParams));
  const region = ctx.config.region;
  if (hasSigV4Header(signed.headers)) return verifyWith(creds, hint(), (lookup) => verifySigV4Header(signed, lookup, { region }));
  if (v4Query) return verifyWith(creds, hint(), (lookup) => verifySigV4Query(signed, lookup, { region }));
  // SigV2 signs the bucket of a virtual-hosted request as part of the path: the pipeline's hostBucket.
  const hostBucket = ctx.hostBucket;
  if (hasSigV2Header(signed.headers)) return verifyWith(creds, hint(), (lookup) => verifySigV2Header(signed, lookup, { hostBucket }));
  if (v2Query) return verifyWith(creds, hint(), (lookup) => verifySigV2Query(signed, lookup, { hostBucket }));
  if (hasHeader) throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header you provided is invalid.');
  // Unsigned: the anonymous principal. The authorize stage decides (today: AccessDenied).
  return { principal: ANONYMOUS };
}

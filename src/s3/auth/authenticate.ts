// Stage 3 of the pipeline: who is asking. Header SigV4 / SigV2, query SigV4 / SigV2 (presigned);
// anonymous requests are refused (no bucket policies yet). A browser form upload (PostObject) carries
// its credentials in form fields: it gets a marker here (postFormCredentials) and is authenticated by
// its handler from the policy and signature fields, before any byte of the file is stored.
import type { RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
// The one exception to "imports go rightwards": SigV2 signs the bucket of a virtual-hosted request
// as part of the path, so it must know the bucket exactly as the pipeline derived it from Host.
import { bucketFromHost } from '../../http/host.js';
import { hasSigV2Header, hasSigV2Query, verifySigV2Header, verifySigV2Query } from './sigv2.js';
import type { AuthResult, CredentialLookup, SignedRequest } from './sigv4.js';
import { parseQueryParams } from './canonical.js';
import { hasSigV4Header, hasSigV4Query, verifySigV4Header, verifySigV4Query } from './sigv4.js';

const FORM_CREDENTIALS = Symbol('postFormCredentials');
type PendingFormAuth = AuthResult & { readonly [FORM_CREDENTIALS]: CredentialLookup };

/**
 * For a PostObject request with a multipart/form-data body authenticate() returns a marker: NOT an
 * authentication, only "the handler authenticates this from the form fields". The marker carries
 * the credential lookup under a module-private symbol, so nothing but authenticate() can make one.
 */
function pendingFormAuth(lookup: CredentialLookup): PendingFormAuth {
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
export function postFormCredentials(auth: AuthResult | undefined): CredentialLookup | undefined {
  return auth !== undefined && Object.hasOwn(auth, FORM_CREDENTIALS)
    ? (auth as PendingFormAuth)[FORM_CREDENTIALS]
    : undefined;
}

const ONE_MECHANISM =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified';

/** Content-Type multipart/form-data (any parameters, any case). */
export function isMultipartFormData(contentType: string | undefined): boolean {
  return contentType !== undefined && /^multipart\/form-data\s*(;|$)/i.test(contentType.trim());
}

export function authenticate(ctx: RequestContext, lookup: CredentialLookup): AuthResult {
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
    return pendingFormAuth(lookup);
  }

  if (hasSigV4Header(signed.headers)) return verifySigV4Header(signed, lookup, { region: ctx.config.region });
  if (v4Query) return verifySigV4Query(signed, lookup, { region: ctx.config.region });
  const hostBucket = bucketFromHost(ctx.headers.host, ctx.config.domains);
  if (hasSigV2Header(signed.headers)) return verifySigV2Header(signed, lookup, { hostBucket });
  if (v2Query) return verifySigV2Query(signed, lookup, { hostBucket });
  if (hasHeader) throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header you provided is invalid.');
  throw new S3Error('AccessDenied', 'Anonymous access is not allowed; sign the request.');
}

// Stage 3 of the pipeline: who is asking. Header SigV4, query SigV4 (presigned); anonymous
// requests are refused (no bucket policies yet). SigV2 and POST-form auth slot in here.
import type { RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import type { AuthResult, CredentialLookup, SignedRequest } from './sigv4.js';
import { hasSigV4Header, hasSigV4Query, verifySigV4Header, verifySigV4Query } from './sigv4.js';

export function authenticate(ctx: RequestContext, lookup: CredentialLookup): AuthResult {
  const signed: SignedRequest = {
    method: ctx.method,
    rawPath: ctx.rawPath,
    rawQuery: ctx.rawQuery,
    headers: ctx.req.headersDistinct as Record<string, string[]>,
  };
  const opts = { region: ctx.config.region };
  if (hasSigV4Header(signed.headers)) return verifySigV4Header(signed, lookup, opts);
  if (hasSigV4Query(signed.rawQuery)) return verifySigV4Query(signed, lookup, opts);
  const authz = signed.headers['authorization']?.[0];
  if (authz !== undefined) {
    if (/^AWS /.test(authz)) throw new S3Error('NotImplemented', 'Signature Version 2 is not supported yet; use Signature Version 4.');
    throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header you provided is invalid.');
  }
  if (ctx.query.has('Signature') && ctx.query.has('AWSAccessKeyId')) {
    throw new S3Error('NotImplemented', 'Signature Version 2 presigned URLs are not supported yet; use Signature Version 4.');
  }
  throw new S3Error('AccessDenied', 'Anonymous access is not allowed; sign the request.');
}

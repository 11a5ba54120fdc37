// The one request pipeline. Its stages, in order (docs/ARCHITECTURE.md describes each):
//   1 context → 2 resolve (+ CORS headers) → 3 authenticate → 4 body → 5 handle → 6 send → 7 errors → 8 access log
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { authenticate } from '../s3/auth/authenticate.js';
import type { CredentialLookup } from '../s3/auth/sigv4.js';
import { parseRawQuery, percentDecode } from '../s3/auth/sigv4.js';
import type { RequestContext, S3Response } from '../s3/context.js';
import { header } from '../s3/context.js';
import { actualRequestHeaders, defaultCorsRules, effectiveCorsRules } from '../s3/cors.js';
import { S3Error, toS3Error } from '../s3/errors.js';
import { readXmlBody } from '../s3/body.js';
import { OPERATIONS } from '../s3/registry.js';
import { resolveOperation } from '../s3/router.js';
import type { Store } from '../store/store.js';
import { bucketFromHost, splitTarget } from './host.js';
import { sendResponse } from './send.js';

export interface PipelineDeps {
  config: Config;
  store: Store;
  log: Logger;
  credentials: CredentialLookup;
}

const ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
let idCounter = 0;

/** x-amz-request-id: unique per process start and request, cheap (no syscall per request). */
function nextRequestId(): string {
  idCounter = (idCounter + 1) >>> 0;
  return ID_PREFIX + idCounter.toString(16).toUpperCase().padStart(8, '0');
}

export function createRequestHandler(deps: PipelineDeps) {
  const { config, store, log } = deps;
  const hostId = randomBytes(24).toString('base64');
  const corsDefault = defaultCorsRules(config.corsOrigins);

  return async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // 1. context
    const startedAt = Date.now();
    const reqId = nextRequestId();
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new Error('client closed the connection'));
    });
    res.setHeader('x-amz-request-id', reqId);
    res.setHeader('x-amz-id-2', hostId);
    res.setHeader('server', 'Strata');
    // Node sets Date itself, but from a cached clock; S3 clients correct their skew from it, so
    // make it exact for this response.
    res.setHeader('date', new Date(startedAt).toUTCString());

    const { rawPath, rawQuery } = splitTarget(req.url ?? '/');
    let ctx: RequestContext | undefined;
    let opName = 'Unknown';
    let bucket: string | undefined;
    let key: string | undefined;

    try {
      // 2. resolve
      const query = new Map<string, string>();
      for (const [k, v] of parseRawQuery(rawQuery)) if (!query.has(k)) query.set(k, v);
      ({ bucket, key } = locate(rawPath, bucketFromHost(req.headers.host, config.domains)));
      const resolved = resolveOperation(req.method ?? 'GET', bucket, key, query, req.headers);
      opName = resolved.op;
      ctx = {
        reqId,
        hostId,
        log: log.child({ reqId }),
        startedAt,
        config,
        store,
        req,
        method: (req.method ?? 'GET').toUpperCase(),
        rawPath,
        rawQuery,
        query,
        headers: req.headers,
        op: opName,
        bucket,
        key,
        signal: abort.signal,
      };

      // 2b. CORS for actual requests carrying Origin (preflights are the PreflightRequest handler's):
      // the headers go on the response now, so every answer carries them, errors included — else
      // a browser shows a CORS failure instead of the S3 error. One bucket-config read (primary
      // key), and only when Origin is present.
      const origin = header(ctx, 'origin');
      if (origin !== undefined && opName !== 'PreflightRequest') {
        const rules = await effectiveCorsRules(store.meta, bucket, corsDefault);
        for (const [name, value] of Object.entries(actualRequestHeaders(rules, origin, ctx.method))) res.setHeader(name, value);
      }

      // 3. authenticate (CORS preflight is answered without credentials, like S3)
      const spec = OPERATIONS[opName];
      if (opName !== 'PreflightRequest') ctx.auth = authenticate(ctx, deps.credentials);
      if (opName === 'MethodNotAllowed') {
        throw new S3Error('MethodNotAllowed', undefined, { Method: ctx.method, ResourceType: key ? 'OBJECT' : bucket ? 'BUCKET' : 'SERVICE' });
      }
      if (!spec) throw new S3Error('NotImplemented', `${opName} is not implemented by this server.`);
      if (bucket !== undefined && key !== undefined && Buffer.byteLength(key) > 1024) {
        throw new S3Error('KeyTooLongError', undefined, { Size: Buffer.byteLength(key), MaxSizeAllowed: 1024 });
      }

      // 4. body
      if (spec.body === 'xml') ctx.bodyText = await readXmlBody(ctx);

      // 5. handle, 6. send
      const response = await spec.handler(ctx);
      await sendResponse(req, res, response);
    } catch (err) {
      // 7. errors
      await sendError(req, res, err, { reqId, hostId, rawPath, bucket, key, log: ctx?.log ?? log, aborted: abort.signal.aborted });
    } finally {
      // 8. access log, once the response is done
      const done = () =>
        log.info(
          { reqId, op: opName, method: req.method, bucket, key, status: res.statusCode, bytesIn: req.headers['content-length'], bytesOut: res.getHeader('content-length'), ms: Date.now() - startedAt },
          'request',
        );
      if (res.writableFinished || res.destroyed) done();
      else res.once('close', done);
    }
  };
}

/** Bucket and key from the raw path (path style) or the Host header (virtual-hosted style). */
function locate(rawPath: string, hostBucket: string | undefined): { bucket?: string; key?: string } {
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidRequest', 'The request target must start with a slash.');
  const path = rawPath.slice(1);
  if (hostBucket !== undefined) {
    return { bucket: hostBucket, key: path === '' ? undefined : percentDecode(path) };
  }
  if (path === '') return {};
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: percentDecode(path) };
  const key = path.slice(slash + 1);
  return { bucket: percentDecode(path.slice(0, slash)), key: key === '' ? undefined : percentDecode(key) };
}

interface ErrorInfo {
  reqId: string;
  hostId: string;
  rawPath: string;
  bucket?: string;
  key?: string;
  log: Logger;
  aborted: boolean;
}

async function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, info: ErrorInfo): Promise<void> {
  let s3err = toS3Error(err, { bucket: info.bucket, key: info.key });
  if (!s3err) {
    if (info.aborted) {
      info.log.info({ err: String(err) }, 'request aborted by the client');
    } else {
      info.log.error({ err }, 'internal error');
    }
    s3err = new S3Error('InternalError');
  } else if (s3err.status >= 500) {
    info.log.error({ err }, 'server error');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const fields: Record<string, string | number | undefined> = { ...s3err.fields };
  const response: S3Response = {
    status: s3err.status,
    headers: { ...s3err.headers },
    body: {
      root: 'Error',
      namespace: false,
      content: {
        Code: s3err.code,
        Message: s3err.message,
        ...fields,
        Resource: info.rawPath,
        RequestId: info.reqId,
        HostId: info.hostId,
      },
    },
  };
  if (s3err.status === 304) response.body = undefined;
  try {
    await sendResponse(req, res, response);
  } catch {
    res.destroy();
  }
}

// The one request pipeline. Its stages, in order (docs/ARCHITECTURE.md describes each):
//   1 context → 2 resolve (+ CORS headers) → 3 authenticate → 4 load bucket → 5 authorize →
//   6 request checks (+ NoSuchBucket) → 7 body → 8 handle → 9 send → 10 errors → 11 access log
import type { KeyService } from '../kms/kms.js';
import type { AuditLog } from '../audit/audit.js';
import { type AccessFacts, factsOfAccess } from '../audit/record.js';
import { randomBytes } from 'node:crypto';
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { CredentialSource, Principal } from '../iam/principal.js';
import { ANONYMOUS } from '../iam/principal.js';
import { checkAccess, denialOf, resourceOf } from '../s3/access.js';
import { loadBucketWithAccess, loadBucketWithEncryption, WRITES_WITH_DEFAULT_ENCRYPTION } from '../s3/bucket-access.js';
import { authenticateCached, confirmCached } from '../s3/auth/cached.js';
import type { BucketAccess } from '../iam/authorize.js';
import { accessKeyHint, authenticate, postFormCredentials } from '../s3/auth/authenticate.js';
import type { AuthResult } from '../s3/auth/sigv4.js';
import { parseQueryParams, percentDecode } from '../s3/auth/sigv4.js';
import type { QueryParam } from '../s3/auth/canonical.js';
import type { BodyPolicy, RequestContext, S3Response } from '../s3/context.js';
import { header } from '../s3/context.js';
import { actualRequestHeaders, defaultCorsRules, effectiveCorsRules } from '../s3/cors.js';
import { S3Error, toS3Error } from '../s3/errors.js';
import { readJsonBody, readXmlBody } from '../s3/body.js';
import { checkBeforeContinue } from '../s3/expect-continue.js';
import { httpDateCache } from '../s3/object-meta.js';
import { operationSpec, requiredActions } from '../s3/registry.js';
import type { Endpoint } from '../s3/router.js';
import { isOperationParameter, resolveEndpoint } from '../s3/router.js';
import type { Store } from '../store/store.js';
import type { BucketRecord } from '../store/types.js';
import { bucketFromHost, splitTarget } from './host.js';
import type { Outgoing } from './send.js';
import { sendResponse } from './send.js';
import type { MetricsRecorder } from '../metrics/recorder.js';

export interface PipelineDeps {
  config: Config;
  store: Store;
  log: Logger;
  /** Where the access log lines go (default `log`). */
  accessLog?: Logger;
  /** Access key id → principal and secret (async: later a user database). */
  credentials: CredentialSource;
  /** The key service (SSE-S3, SSE-KMS), if configured. */
  kms?: KeyService;
  /** x-amz-id-2 of every answer (default: random per handler); server.ts shares it with clientError answers. */
  hostId?: string;
  /** Where server.ts can fail the body of a request whose connection broke mid-body. */
  bodies?: BodyAborts;
  /** The audit log (src/audit/): a record per request, from the access line's facts. */
  audit?: AuditLog;
  /** Counts each answered request (src/metrics/recorder.ts), in stage 11. */
  metrics?: MetricsRecorder;
}

/**
 * The requests in flight, by response, so the server can fail a request's body when Node's parser
 * reports that it broke off (the client half-closed before Content-Length bytes: IncompleteBody) or
 * the client stopped sending it (idle timeout: RequestTimeout, which SDKs retry): the body read
 * then ends with that error and the request is still answered. Ending the body stream itself
 * would not do: Node destroys the socket of an incomplete request whose stream ends.
 */
export class BodyAborts {
  /** Where a response holds its request's RequestAbort (a property of this instance's own: a WeakMap entry per request cost more). */
  private readonly slot = Symbol('strata.requestAbort');

  register(res: ServerResponse, abort: RequestAbort): void {
    (res as unknown as Record<symbol, RequestAbort>)[this.slot] = abort;
  }

  /** Fails the body of the request answered by `res` (IncompleteBody, RequestTimeout); false if there is none. */
  fail(res: ServerResponse, code: 'IncompleteBody' | 'RequestTimeout' = 'IncompleteBody'): boolean {
    const abort = (res as unknown as Record<symbol, RequestAbort | undefined>)[this.slot];
    if (!abort || res.headersSent) return false;
    return abort.abort(new S3Error(code));
  }
}

const CLIENT_CLOSED = 'client closed the connection';

/**
 * The request class server.ts gives node:http (its `IncomingMessage` option): it counts the body
 * bytes Node's parser hands over (after HTTP chunked framing, aws-chunked framing included), so the
 * access log's bytesIn is what was received, also for uploads without Content-Length (bytes Node
 * discards unread after an early answer are not counted).
 */
export class CountingIncomingMessage extends IncomingMessage {
  bodyBytes = 0;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk !== null && chunk !== undefined) this.bodyBytes += (chunk as Buffer | string).length;
    return super.push(chunk, encoding);
  }
}

/** Body bytes of the answer (none for HEAD and 304, whatever Content-Length announced): the metrics' bytes out. */
function bodyBytesOut(req: IncomingMessage, res: ServerResponse, out: Outgoing): number {
  return req.method === 'HEAD' || res.statusCode === 304 ? 0 : Number(out.contentLength ?? 0);
}

/** Body bytes received: counted when the server made the request (see above), else Content-Length. */
export function bytesIn(req: IncomingMessage): number {
  if (req instanceof CountingIncomingMessage) return req.bodyBytes;
  const n = Number(req.headers['content-length']);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/**
 * The abort signal of one request (ctx.signal), made only when something asks for it: the handlers
 * and body readers that stream. Most requests (GET, HEAD, DELETE...) never do, and an
 * AbortController plus a 'close' listener per request were a visible part of their cost. It behaves
 * as if it had existed from the start: aborted when the response closed before it finished (the
 * client went away), or with the reason given to abort() (BodyAborts), whichever came first, also
 * when that happened before the signal was asked for.
 */
export class RequestAbort {
  private controller: AbortController | undefined;
  private failed = false;
  private reason: unknown;

  constructor(private readonly res: ServerResponse) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      this.controller = controller;
      const res = this.res;
      if (this.failed) controller.abort(this.reason);
      else if (res.closed) {
        if (!res.writableFinished) controller.abort(new Error(CLIENT_CLOSED));
      } else {
        res.once('close', () => {
          if (!res.writableFinished) controller.abort(new Error(CLIENT_CLOSED));
        });
      }
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    if (this.controller !== undefined) return this.controller.signal.aborted;
    return this.failed || (this.res.closed && !this.res.writableFinished);
  }

  /** Aborts with `reason` unless already aborted; true if this call aborted. */
  abort(reason: unknown): boolean {
    if (this.aborted) return false;
    if (this.controller !== undefined) this.controller.abort(reason);
    else {
      this.failed = true;
      this.reason = reason;
    }
    return true;
  }
}

/**
 * A request's context as the pipeline builds it. The child logger (pino children are costly) is
 * made on first use of ctx.log, the abort signal on first use of ctx.signal.
 */
class PipelineContext implements RequestContext {
  auth?: AuthResult;
  principal: Principal = ANONYMOUS;
  bucketRecord?: BucketRecord;
  bucketAccess?: BucketAccess;
  bucketEncryption?: string | null;
  kms?: KeyService;
  input?: unknown;
  bodyText?: string;
  readonly headers: IncomingMessage['headers'];
  private childLog: Logger | undefined;
  private continued = false;

  constructor(
    readonly reqId: string,
    readonly hostId: string,
    private readonly baseLog: Logger,
    readonly startedAt: number,
    readonly config: Config,
    readonly store: Store,
    readonly req: IncomingMessage,
    readonly method: string,
    readonly rawPath: string,
    readonly rawQuery: string,
    readonly query: ReadonlyMap<string, string>,
    readonly queryParams: readonly QueryParam[],
    readonly endpoint: Endpoint,
    readonly hostBucket: string | undefined,
    readonly bodyPolicy: BodyPolicy,
    private readonly aborts: RequestAbort,
    private readonly res: ServerResponse,
    /** The client sent `Expect: 100-continue` and Node left the 100 to us (server 'checkContinue'). */
    private readonly waitsForContinue: boolean,
  ) {
    this.headers = req.headers;
  }

  get op(): string {
    return this.endpoint.op;
  }

  get bucket(): string | undefined {
    return this.endpoint.bucket;
  }

  get key(): string | undefined {
    return this.endpoint.key;
  }

  /** See RequestContext.continueBody: the last checks, then `100 Continue`, once. */
  async continueBody(): Promise<void> {
    if (!this.waitsForContinue || this.continued) return;
    this.continued = true;
    await checkBeforeContinue(this);
    if (!this.res.headersSent && !this.res.destroyed) this.res.writeContinue();
  }

  get log(): Logger {
    return (this.childLog ??= this.baseLog.child({ reqId: this.reqId }));
  }

  get signal(): AbortSignal {
    return this.aborts.signal;
  }
}

/**
 * A request the console (src/console/) hands to the pipeline on behalf of its session: the S3
 * request target (path style) without the console's `/api/s3` prefix, and the principal the
 * console's session already authenticated (it re-resolved the key and checked its secret). Stage 3
 * then takes that principal instead of verifying a signature; everything else (authorization,
 * the handlers, the answer) is the pipeline's as for any request.
 */
export interface DelegatedRequest {
  readonly target: string;
  readonly principal: Principal;
}

/** Methods that change state: a repeated operation parameter on them is refused. */
const MUTATING_METHODS = new Set(['PUT', 'POST', 'DELETE']);

const ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
let idCounter = 0;

/** x-amz-request-id: unique per process start and request, cheap (no syscall per request). */
export function nextRequestId(): string {
  idCounter = (idCounter + 1) >>> 0;
  return ID_PREFIX + idCounter.toString(16).toUpperCase().padStart(8, '0');
}

/** The Date of a response started at `ms` (to the second, as the format allows; cached per second). */
const responseDate = httpDateCache();

/** An x-amz-id-2 value. */
export function newHostId(): string {
  return randomBytes(24).toString('base64');
}

export function createRequestHandler(deps: PipelineDeps) {
  const { config, store, log } = deps;
  const accessLog = deps.accessLog ?? log;
  const hostId = deps.hostId ?? newHostId();
  const corsDefault = defaultCorsRules(config.corsOrigins);

  /**
   * `waitsForContinue`: the request came through the server's 'checkContinue' event (the client sent
   * `Expect: 100-continue` and waits): 100 Continue is sent only when a body reader asks for the body
   * (ctx.continueBody), after authentication and the handler's own checks; a refusal before that is
   * answered without it, and the connection then closed (send.ts), so the body is never sent.
   */
  return async function handleRequest(req: IncomingMessage, res: ServerResponse, waitsForContinue = false, delegated?: DelegatedRequest): Promise<void> {
    // 1. context
    const startedAt = Date.now();
    const t0 = performance.now();
    const reqId = nextRequestId();
    const aborts = new RequestAbort(res);
    deps.bodies?.register(res, aborts);
    // Every answer carries these (errors too). Node sets Date itself, but from a clock it updates
    // lazily; S3 clients correct their skew from it, so it is this request's second, exactly.
    const out: Outgoing = { base: ['x-amz-request-id', reqId, 'x-amz-id-2', hostId, 'server', 'Strata', 'date', responseDate(startedAt)] };

    const { rawPath, rawQuery } = splitTarget(delegated?.target ?? req.url ?? '/');
    let ctx: PipelineContext | undefined;
    let opName = 'Unknown';
    let bucket: string | undefined;
    let key: string | undefined;
    let s3Code: string | undefined;
    /** The version a successful answer names (x-amz-version-id), for the audit record. */
    let answeredVersion: string | number | undefined;

    try {
      // 2. resolve: the query is split and decoded once, here (authentication reuses it)
      const params = parseQueryParams(rawQuery);
      const query = new Map<string, string>();
      let repeated: string | undefined;
      for (const p of params) {
        if (!query.has(p.name)) query.set(p.name, p.value);
        else if (repeated === undefined && isOperationParameter(p.name)) repeated = p.name;
      }
      // The bucket named by Host, derived once (SigV2 verification signs it: ctx.hostBucket).
      // (A delegated request is path style: its Host is the console's.)
      const hostBucket = delegated ? undefined : bucketFromHost(req.headers.host, config.domains);
      ({ bucket, key } = locate(rawPath, hostBucket));
      const method = (req.method ?? 'GET').toUpperCase();
      const endpoint = resolveEndpoint(method, bucket, key, query, req.headers);
      opName = endpoint.op;
      const spec = operationSpec(opName);
      ctx = new PipelineContext(
        reqId,
        hostId,
        log,
        startedAt,
        config,
        store,
        req,
        method,
        rawPath,
        rawQuery,
        query,
        params,
        endpoint,
        hostBucket,
        spec?.body ?? 'none',
        aborts,
        res,
        waitsForContinue,
      );
      if (deps.kms !== undefined) ctx.kms = deps.kms;

      // 2b. CORS for actual requests carrying Origin (preflights are the PreflightRequest handler's):
      // the headers go on the response now, so every answer carries them, errors included — else
      // a browser shows a CORS failure instead of the S3 error. One bucket-config read (primary
      // key), and only when Origin is present.
      const origin = header(ctx, 'origin');
      if (origin !== undefined && opName !== 'PreflightRequest') {
        const rules = await effectiveCorsRules(store, bucket, corsDefault);
        for (const [name, value] of Object.entries(actualRequestHeaders(rules, origin, ctx.method))) res.setHeader(name, value);
      }

      // 3. authenticate (CORS preflight is answered without credentials, like S3): a principal,
      // ANONYMOUS for an unsigned request (refused by the authorize stage, not here).
      // A request on an existing bucket may authenticate from the credential cache: stage 4 confirms
      // it (s3/auth/cached.ts). Not a form upload: its handler authenticates with the source itself.
      const loadsBucket = spec?.bucketMustExist === true && bucket !== undefined && opName !== 'PostObject';
      let pending: number | undefined;
      if (delegated !== undefined) ctx.principal = delegated.principal;
      else if (opName !== 'PreflightRequest') {
        const authenticated: Awaited<ReturnType<typeof authenticateCached>> = loadsBucket
          ? await authenticateCached(ctx, deps.credentials)
          : await authenticate(ctx, deps.credentials);
        ctx.auth = authenticated.auth;
        ctx.principal = authenticated.principal;
        pending = authenticated.pending;
      }

      // 4. load bucket: once, for the operations on an existing bucket (handlers get ctx.bucketRecord).
      // NoSuchBucket is answered in stage 6, after the authorization and request errors (as S3 orders them).
      // …and, for every principal but root, what the bucket says about access (policy, ACLs), read
      // with the bucket in one statement.
      // A write that may take the bucket's default encryption reads its rule in the same statement.
      if (spec?.bucketMustExist && bucket !== undefined) {
        const withEncryption = WRITES_WITH_DEFAULT_ENCRYPTION.has(opName);
        if (ctx.principal.kind === 'root') {
          if (withEncryption) ({ bucket: ctx.bucketRecord, encryption: ctx.bucketEncryption } = await loadBucketWithEncryption(store, bucket));
          // HeadBucket is how clients ask whether a bucket exists: read past a bucket cache that
          // may lag another gateway's DeleteBucket (docs/cluster.md, "Caches").
          else ctx.bucketRecord = await store.getBucket(bucket, { fresh: opName === 'HeadBucket' });
        } else {
          const loaded = await loadBucketWithAccess(store, bucket, withEncryption);
          ({ bucket: ctx.bucketRecord, access: ctx.bucketAccess, encryption: ctx.bucketEncryption } = loaded);
          const confirming = confirmCached(ctx, deps.credentials, pending, loaded.identityGeneration);
          if (confirming !== undefined) await confirming;
          if (opName === 'HeadBucket' && ctx.bucketRecord !== undefined && (await store.getBucket(bucket, { fresh: true })) === undefined) {
            ctx.bucketRecord = undefined;
          }
        }
      }

      // 5. authorize: every request but a preflight. A form upload (PostObject) is authorized by its
      // handler once the form's signature is verified; the copy source by copy-source.ts.
      if (opName !== 'PreflightRequest' && postFormCredentials(ctx.auth) === undefined) {
        const actions = spec ? requiredActions(spec, endpoint.versionId) : ([`s3:${opName}`] as const);
        const kind = spec?.resource ?? (key !== undefined ? 'object' : bucket !== undefined ? 'bucket' : 'service');
        // (Most requests are decided without waiting: then no turn of the event loop is spent.)
        const pending = checkAccess(ctx, actions, resourceOf(kind, bucket, key, ctx.bucketRecord?.owner, endpoint.versionId));
        if (pending !== undefined) await pending;
      }

      // 6. request checks
      if (opName === 'MethodNotAllowed') {
        throw new S3Error('MethodNotAllowed', undefined, { Method: ctx.method, ResourceType: key ? 'OBJECT' : bucket ? 'BUCKET' : 'SERVICE' });
      }
      if (!spec) throw new S3Error('NotImplemented', `${opName} is not implemented by this server.`);
      if (repeated !== undefined && MUTATING_METHODS.has(ctx.method)) {
        throw new S3Error('InvalidArgument', `The query parameter ${repeated} may be given only once.`, {
          ArgumentName: repeated,
          ArgumentValue: query.get(repeated),
        });
      }
      // (A UTF-16 code unit is at most 3 UTF-8 bytes: a key of up to 341 units is short enough.)
      if (bucket !== undefined && key !== undefined && key.length > 341 && Buffer.byteLength(key) > 1024) {
        throw new S3Error('KeyTooLongError', undefined, { Size: Buffer.byteLength(key), MaxSizeAllowed: 1024 });
      }

      if (spec.bucketMustExist && ctx.bucketRecord === undefined) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
      // The operation's typed input: the headers it takes, parsed and validated once (s3/inputs.ts).
      if (spec.input) ctx.input = spec.input(ctx);

      // 7. body: 'xml' is read here; 'xml-after-checks', 'stream' and 'form' by the handler through
      // the readers, which refuse any other policy (ctx.bodyPolicy); 'none' is never read.
      if (spec.body === 'xml') ctx.bodyText = await readXmlBody(ctx);
      else if (spec.body === 'json') ctx.bodyText = await readJsonBody(ctx);

      // 8. handle, 9. send
      const response = await spec.handler(ctx);
      answeredVersion = response.headers?.['x-amz-version-id'];
      await sendResponse(req, res, response, out);
    } catch (err) {
      // 10. errors
      s3Code = await sendError(req, res, err, out, { reqId, hostId, rawPath, bucket, key, log: () => ctx?.log ?? log, aborted: aborts.aborted });
    } finally {
      // 11. access log, once the response is done: with the S3 error code of a failed request, the
      // client's address and user agent, and the body bytes actually received.
      const done = () => {
        const received = bytesIn(req);
        const line: AccessFacts = {
          reqId,
          op: opName,
          method: req.method,
          bucket,
          key,
          status: res.statusCode,
          s3Code,
          denied: denialOf(ctx),
          bytesIn: received,
          bytesOut: out.contentLength,
          ms: Date.now() - startedAt,
          remoteAddress: req.socket.remoteAddress,
          userAgent: req.headers['user-agent'],
        };
        accessLog.info(line, 'request');
        // …the metrics (the answer's status, bytes and latency) and the audit record.
        deps.metrics?.request(opName, res.statusCode, received, bodyBytesOut(req, res, out), (performance.now() - t0) / 1000);
        if (deps.audit !== undefined) deps.audit.record(factsOfAccess('s3', line, auditExtras(req, ctx, startedAt, answeredVersion)));
      };
      if (res.writableFinished || res.destroyed) done();
      else res.once('close', done);
    }
  };
}

/** What the audit record adds to the access line: the principal (or the key that failed to authenticate), the version. */
function auditExtras(req: IncomingMessage, ctx: PipelineContext | undefined, startedAt: number, answeredVersion: string | number | undefined) {
  const principal = ctx?.principal ?? ANONYMOUS;
  // Anonymous yet credentials named: they did not authenticate (or the pipeline stopped before).
  const claimed = principal.kind === 'anonymous' ? accessKeyHint(req.headers.authorization, ctx?.queryParams ?? []) : undefined;
  const versionId = ctx?.endpoint.versionId ?? (answeredVersion === undefined ? undefined : String(answeredVersion));
  return claimed === undefined ? { startedAt, principal, versionId } : { startedAt, claimedAccessKey: claimed, versionId };
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
  /** The request's logger, made only if there is something to log. */
  log: () => Logger;
  aborted: boolean;
}

/** Headers set before the handler ran, which an error answer keeps. */
const ERROR_KEEPS_HEADERS = new Set(['x-amz-request-id', 'x-amz-id-2', 'server', 'date', 'vary']);

/** Answers an error (or cuts the connection if the answer had begun); returns its S3 code. */
async function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, out: Outgoing, info: ErrorInfo): Promise<string> {
  let s3err = toS3Error(err, { bucket: info.bucket, key: info.key });
  if (!s3err) {
    if (info.aborted) {
      info.log().info({ err: String(err) }, 'request aborted by the client');
    } else {
      info.log().error({ err }, 'internal error');
    }
    s3err = new S3Error('InternalError');
  } else if (s3err.status >= 500 && s3err.code !== 'NotImplemented') {
    // 501 answers a client asking for what this server does not do: not a server fault.
    info.log().error({ err }, 'server error');
  }
  if (res.headersSent) {
    res.destroy();
    return s3err.code;
  }
  // A success response that failed while its headers were being set must not lend them (ETag,
  // Content-Type, Content-Encoding...) to the error: keep only the identity and CORS headers. (The
  // identity headers come from `out.base`; only CORS, Connection and such are set on `res` itself.)
  for (const name of res.getHeaderNames()) {
    if (!ERROR_KEEPS_HEADERS.has(name) && !name.startsWith('access-control-')) res.removeHeader(name);
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
    await sendResponse(req, res, response, out);
  } catch {
    res.destroy();
  }
  return s3err.code;
}

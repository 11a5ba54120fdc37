// What every operation handler receives and returns: the request context and a response description.
import type { KeyService } from '../kms/kms.js';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { BucketAccess, ResourceKind, S3Action } from '../iam/authorize.js';
import type { Principal } from '../iam/principal.js';
import type { Store } from '../store/store.js';
import type { BucketRecord } from '../store/types.js';
import type { QueryParam } from './auth/canonical.js';
import type { AuthResult } from './auth/sigv4.js';
import type { Endpoint } from './router.js';
import type { XmlBody } from './xml.js';

export interface RequestContext {
  readonly reqId: string;
  readonly hostId: string;
  readonly log: Logger;
  readonly startedAt: number;
  readonly config: Config;
  readonly store: Store;
  /** The raw request, for streaming bodies only; handlers read headers/query from the fields below. */
  readonly req: IncomingMessage;
  readonly method: string;
  /** Path and query exactly as received (still percent-encoded). */
  readonly rawPath: string;
  readonly rawQuery: string;
  /** Decoded query parameters; a name given twice keeps its first value. */
  readonly query: ReadonlyMap<string, string>;
  /** Every query parameter in order, raw and decoded (rawQuery parsed once; authentication reuses it). */
  readonly queryParams?: readonly QueryParam[];
  readonly headers: IncomingHttpHeaders;
  /** The operation and its parameters as the router parsed them (bucket, key, uploadId, versionId…). */
  readonly endpoint: Endpoint;
  readonly op: string;
  readonly bucket?: string;
  readonly key?: string;
  /** The bucket named by the Host header (virtual-hosted style), derived once by the pipeline. */
  readonly hostBucket?: string;
  /** Set by the authenticate stage (a PostObject form: by its handler, after the signature check). */
  auth?: AuthResult;
  /** Who the request acts as: set by the authenticate stage (ANONYMOUS when unsigned). */
  principal: Principal;
  /** The bucket's record, loaded once by the pipeline for operations on an existing bucket. */
  bucketRecord?: BucketRecord;
  /**
   * The bucket's policy and ACLs for authorize() (s3/bucket-access.ts): loaded by the pipeline after
   * the bucket for every principal but root.
   */
  bucketAccess?: BucketAccess;
  /**
   * The bucket's default-encryption rule as stored (s3/bucket-encryption.ts), loaded with the bucket
   * by the pipeline for the writes that may encrypt (WRITES_WITH_DEFAULT_ENCRYPTION): null = none;
   * undefined = not loaded (sse.ts reads it then).
   */
  bucketEncryption?: string | null;
  /** The key service of SSE-S3 / SSE-KMS (s3/sse.ts); absent when the server has none. */
  readonly kms?: KeyService;
  /** The operation's body policy (registry), which the body readers enforce. */
  readonly bodyPolicy: BodyPolicy;
  /** The operation's typed input (registry `input`: its headers parsed once), set before the body stage. */
  input?: unknown;
  /** Set by the body stage for operations with an XML (or JSON) request body. */
  bodyText?: string;
  /** Aborted when the client goes away or the server shuts down. */
  readonly signal: AbortSignal;
  /**
   * Called by every body reader right before it reads the first byte. For a client that sent
   * `Expect: 100-continue` and waits, this checks what can still refuse the upload without its body
   * (expect-continue.ts) and then sends `100 Continue`; a refusal throws, so the error is the answer
   * and the body is never sent. Once per request; a no-op for other requests (absent in unit tests).
   */
  continueBody?(): Promise<void>;
}

export type ResponseBody = XmlBody | Buffer | Readable | undefined;

export interface S3Response {
  status: number;
  /** Header names in lowercase (the send stage looks for content-length and content-type so spelled). */
  headers?: Record<string, string | number | undefined>;
  body?: ResponseBody;
}

/**
 * How an operation's request body is read; the readers refuse any other (body.ts, post-object.ts):
 * - 'none': never read (whatever comes is discarded after the answer);
 * - 'xml': read and bounded by the pipeline before the handler (ctx.bodyText);
 * - 'xml-after-checks': an XML body the handler reads itself once its checks passed
 *   (CompleteMultipartUpload: NoSuchUpload before the body; its x-amz-checksum-* describe the object);
 * - 'stream': streamed by the handler through the verifiers (objectBody);
 * - 'form': a multipart/form-data form the handler parses (PostObject);
 * - 'json': a JSON document read and bounded by the pipeline before the handler (ctx.bodyText: PutBucketPolicy).
 */
export type BodyPolicy = 'none' | 'xml' | 'xml-after-checks' | 'stream' | 'form' | 'json';

/** A request on an existing bucket: the pipeline loaded its record (NoSuchBucket otherwise). */
export type BucketRequest = RequestContext & { readonly bucket: string; readonly bucketRecord: BucketRecord };
/** A request on an object of an existing bucket. */
export type ObjectRequest = BucketRequest & { readonly key: string };
/** A request naming a bucket that need not exist (CreateBucket). */
export type NamedBucketRequest = RequestContext & { readonly bucket: string };

export interface OperationSpec {
  handler: (ctx: RequestContext) => Promise<S3Response>;
  body: BodyPolicy;
  /** What the operation acts on: the authorize stage's resource, and what the pipeline loads. */
  resource: ResourceKind;
  /** The IAM actions the request needs on its resource (all of them). */
  actions: readonly S3Action[];
  /** Instead of `actions` when the request names a versionId (s3:GetObjectVersion…). */
  versionActions?: readonly S3Action[];
  /** Needed on the copy source (CopyObject, UploadPartCopy): checked by copy-source.ts. */
  sourceActions?: readonly S3Action[];
  /** The bucket must exist (NoSuchBucket from the load-bucket stage otherwise). */
  bucketMustExist: boolean;
  /** Parses the request headers the operation takes into its typed input (s3/inputs.ts), once. */
  input?: (ctx: RequestContext) => unknown;
}

/** A request whose handler receives the typed input `I` (parsed by the registry's `input`). */
export type WithInput<C, I> = C & { readonly input: I };

/** A header's single value (first occurrence), or undefined. */
export function header(ctx: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

// What every operation handler receives and returns: the request context and a response description.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../store/store.js';
import type { QueryParam } from './auth/canonical.js';
import type { AuthResult } from './auth/sigv4.js';
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
  readonly op: string;
  readonly bucket?: string;
  readonly key?: string;
  /** Set by the authenticate stage. */
  auth?: AuthResult;
  /** Set by the body stage for operations with an XML request body. */
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

export type BodyPolicy = 'none' | 'xml' | 'stream';

export interface OperationSpec {
  handler: (ctx: RequestContext) => Promise<S3Response>;
  body: BodyPolicy;
}

/** A header's single value (first occurrence), or undefined. */
export function header(ctx: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

// Wires the console's handler (http.ts) from the server's parts: sessions sealed under the server's
// secret box, the login limiter, the static files' directory, and the console's own endpoints.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { DelegatedAdminRequest } from '../admin/http.js';
import type { AuditLog } from '../audit/audit.js';
import type { Config } from '../config.js';
import type { DelegatedRequest } from '../http/pipeline.js';
import type { CredentialSource } from '../iam/principal.js';
import type { SecretBox } from '../iam/secret-box.js';
import type { Store } from '../store/store.js';
import { explainEndpoint } from './explain.js';
import { type ApiEndpoint, createConsoleHandler } from './http.js';
import { presignEndpoint } from './presign.js';
import { zipEndpoint } from './zip.js';
import { ConsoleSessions, LoginLimiter } from './session.js';
import { defaultConsoleDir } from './static.js';

export interface ConsoleWiring {
  config: Config;
  store: Store;
  credentials: CredentialSource;
  box: SecretBox;
  log: Logger;
  tls: boolean;
  /** The S3 address presigned links point at (--console-s3-url, else the S3 listener's). */
  s3Url: () => string;
  /** The S3 listener as this process reaches it (the zip endpoint's reads). */
  localS3Url: () => string;
  s3: (req: IncomingMessage, res: ServerResponse, waitsForContinue: boolean, delegated: DelegatedRequest) => Promise<void>;
  admin?: (req: IncomingMessage, res: ServerResponse, delegated: DelegatedAdminRequest) => Promise<void>;
  /** GET /metrics (the metrics module's handleMetrics with its deps); absent: 404. */
  metrics?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** The audit log (the console's own routes; absent = off). */
  audit?: AuditLog | undefined;
}

export function consoleHandler(w: ConsoleWiring): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const region = w.config.region;
  const endpoints = new Map<string, { method: string; run: ApiEndpoint }>([
    ['/api/presign', { method: 'POST', run: presignEndpoint({ store: w.store, region, s3Url: w.s3Url }) }],
    ['/api/zip', { method: 'GET', run: zipEndpoint({ region, localS3Url: w.localS3Url }) }],
    ['/api/explain', { method: 'POST', run: explainEndpoint({ store: w.store }) }],
  ]);
  return createConsoleHandler({
    sessions: new ConsoleSessions(w.box, w.credentials),
    limiter: new LoginLimiter(),
    s3: w.s3,
    ...(w.admin !== undefined && { admin: w.admin }),
    ...(w.metrics !== undefined && { metrics: w.metrics }),
    endpoints,
    dir: w.config.consoleDir ?? defaultConsoleDir(),
    tls: w.tls,
    log: w.log,
    audit: w.audit,
  });
}

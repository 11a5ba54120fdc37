// The admin API from tests (docs/admin-api.md): calls signed with aws-sdk-js's own SigV4 signer
// (@smithy/signature-v4, not Strata's code), and the users startServer({ users }) creates.
import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Keys {
  accessKey: string;
  secretKey: string;
}

/** A user made for a test: its name and its access key (the secret as the server gave it once). */
export interface TestUser extends Keys {
  name: string;
}

export interface AdminAnswer {
  status: number;
  /** The parsed JSON body ({} when empty). */
  body: Record<string, unknown>;
}

/**
 * One admin call: `method` on `/_strata/admin/v1/<path>` with an optional JSON body, signed with
 * `keys` (undefined: unsigned, for the anonymous-caller tests).
 */
export async function adminCall(url: string, keys: Keys | undefined, method: 'GET' | 'POST' | 'DELETE', path: string, body?: object): Promise<AdminAnswer> {
  const u = new URL(`${url}/_strata/admin/v1/${path}`);
  const bytes = body === undefined ? '' : JSON.stringify(body);
  let headers: Record<string, string> = { host: u.host, 'content-type': 'application/json' };
  if (keys) {
    const signer = new SignatureV4({
      service: 's3',
      region: 'us-east-1',
      sha256: Sha256,
      credentials: { accessKeyId: keys.accessKey, secretAccessKey: keys.secretKey },
      uriEscapePath: false,
    });
    headers['x-amz-content-sha256'] = createHash('sha256').update(bytes).digest('hex');
    const query = Object.fromEntries(u.searchParams); // `path` may carry a query string (metrics/history?minutes=…)
    const signed = await signer.sign({
      method,
      protocol: u.protocol,
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      query,
      headers,
      body: bytes,
    });
    headers = signed.headers as Record<string, string>;
  }
  const { host: _host, ...sendHeaders } = headers;
  const res = await fetch(u, { method, headers: sendHeaders, ...(body !== undefined && { body: bytes }) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** Creates a user with a generated key (and attached policies) through the admin API; throws unless 200. */
export async function createUser(url: string, root: Keys, name: string, policies: string[] = []): Promise<TestUser> {
  const r = await adminCall(url, root, 'POST', 'users', { name, key: true, policies });
  if (r.status !== 200) throw new Error(`creating user ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return { name, accessKey: String(r.body.accessKey), secretKey: String(r.body.secretKey) };
}

// The console's HTTP client: every call goes to the console's own origin (/api/...), carrying the
// session cookie (HttpOnly: JavaScript never sees it) and the x-strata-console header the server
// requires on every API call but login (a cross-site form cannot set it). Errors become ApiError
// with the server's code and message, shown to the user as they are.

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const CONSOLE_HEADER = { 'x-strata-console': '1' } as const;

/** Reads a JSON error body `{code, message}` (admin API, console API), or makes one from the status. */
async function jsonError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: string; message?: string; Code?: string; Message?: string };
    const code = body.code ?? body.Code;
    if (code) return new ApiError(code, body.message ?? body.Message ?? code, res.status);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(`HTTP${res.status}`, text.trim() || res.statusText || `HTTP ${res.status}`, res.status);
}

/** Listeners told when a call finds the session gone (401): the app returns to the login page. */
const sessionLost = new Set<() => void>();
export function onSessionLost(fn: () => void): () => void {
  sessionLost.add(fn);
  return () => sessionLost.delete(fn);
}
export function reportSessionLost(): void {
  for (const fn of sessionLost) fn();
}

/** A JSON call to the console API (`path` starts with `/api/`). */
export async function apiJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { ...CONSOLE_HEADER, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    const err = await jsonError(res);
    if (res.status === 401 && path !== '/api/session') reportSessionLost();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** The admin API (docs/admin-api.md) through the console: `adminJson('GET', 'v1/users')`. */
export function adminJson<T>(method: string, rest: string, body?: unknown): Promise<T> {
  return apiJson<T>(method, `/api/admin/${rest}`, body);
}

export interface SessionInfo {
  accessKeyId: string;
  user: string;
  arn: string;
  kind: 'root' | 'user';
  expiresAt: string;
}

export const session = {
  login: (accessKeyId: string, secretAccessKey: string, sessionToken?: string) =>
    apiJson<SessionInfo>('POST', '/api/session', { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }),
  current: () => apiJson<SessionInfo>('GET', '/api/session'),
  logout: () => apiJson<void>('DELETE', '/api/session'),
};

export { jsonError };

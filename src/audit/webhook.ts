// The audit webhook: each batch is one POST of `application/x-ndjson` (a record per line) to the
// configured URL, with `Authorization: Bearer <token>` when a token is set; any 2xx answer takes
// the batch, anything else (another status, a refused connection, no answer within the timeout)
// fails it and the delivery queue retries it with backoff. Delivery is at least once: a receiver
// that answered too late gets the batch again, and deduplicates by requestId (docs/audit.md).

export interface WebhookOptions {
  url: string;
  token?: string;
  timeoutMs: number;
}

/** A queue's `send` for the webhook. */
export function webhookSender(opts: WebhookOptions): (lines: string[]) => Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  return async (lines) => {
    const res = await fetch(opts.url, { method: 'POST', headers, body: lines.join(''), signal: AbortSignal.timeout(opts.timeoutMs) });
    // Read the answer to its end: the connection goes back to the pool.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`the webhook answered ${res.status}`);
  };
}

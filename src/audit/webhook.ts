// The audit webhook: each batch is one POST of `application/x-ndjson` (a record per line) to the
// configured URL, with `Authorization: Bearer <token>` when a token is set; any 2xx answer takes
// the batch, anything else (another status, a refused connection, no answer within the timeout)
// fails it and the delivery queue retries it with backoff. Delivery is at least once: a receiver
// that answered too late gets the batch again, and deduplicates by requestId (docs/audit.md).
// node:http(s) with one kept-alive connection, not fetch(): a batch of 500 records cost fetch about
// four times the CPU (docs/performance.md, "Audit log").
import http from 'node:http';
import https from 'node:https';

export interface WebhookOptions {
  url: string;
  token?: string;
  timeoutMs: number;
}

/** A queue's `send` for the webhook. */
export function webhookSender(opts: WebhookOptions): (lines: string[]) => Promise<void> {
  const url = new URL(opts.url);
  const client = url.protocol === 'https:' ? https : http;
  // `timeout` makes the agent honour the receiver's `Keep-Alive: timeout=N` (an idle connection is
  // closed 1 s before it), so a batch is not sent on a connection the receiver is closing.
  const agent = new client.Agent({ keepAlive: true, maxSockets: 1, timeout: opts.timeoutMs });
  const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  return (lines) =>
    new Promise<void>((ok, fail) => {
      const body = Buffer.from(lines.join(''));
      const req = client.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } });
      const timer = setTimeout(() => req.destroy(new Error(`no answer from the webhook within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      timer.unref();
      req.once('error', (err) => {
        clearTimeout(timer);
        fail(err);
      });
      req.once('response', (res) => {
        // Read the answer to its end: the connection goes back to the agent.
        res.resume();
        res.once('error', () => undefined);
        res.once('end', () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          if (status >= 200 && status <= 299) ok();
          else fail(new Error(`the webhook answered ${status}`));
        });
      });
      req.end(body);
    });
}

// The one place that turns an S3Response into bytes on the wire: XML serialisation, lengths,
// streams, HEAD without a body, and the protection of keep-alive connections after early answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Response } from '../s3/context.js';
import { buildXml } from '../s3/xml.js';

/** A request body larger than this that is still unread when we answer makes us close the connection. */
const MAX_DRAIN = 1024 * 1024;

export async function sendResponse(req: IncomingMessage, res: ServerResponse, r: S3Response): Promise<void> {
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    if (value !== undefined) res.setHeader(name, value);
  }
  res.statusCode = r.status;
  protectConnection(req, res);
  const isHead = req.method === 'HEAD';
  const body = r.body;

  if (body === undefined || r.status === 204 || r.status === 304) {
    if (!res.hasHeader('content-length') && r.status !== 204 && r.status !== 304) res.setHeader('content-length', 0);
    res.end();
    return;
  }
  if (body instanceof Readable) {
    if (isHead) {
      body.destroy();
      res.end();
      return;
    }
    try {
      await pipeline(body, res);
    } catch (err) {
      // The client went away or the store failed mid-stream: headers are gone, the only honest
      // signal left is to cut the connection so the client sees a short body.
      res.destroy();
      throw err;
    }
    return;
  }
  let bytes: Buffer;
  if (Buffer.isBuffer(body)) {
    bytes = body;
  } else {
    bytes = Buffer.from(buildXml(body), 'utf8');
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/xml');
  }
  res.setHeader('content-length', bytes.length);
  res.end(isHead ? undefined : bytes);
}

/**
 * An answer sent before the request body was read (an early error) must not leave the body's bytes
 * to be parsed as the next request. Node drains small leftovers itself; for larger or unknown
 * ones we close the connection after the response.
 */
function protectConnection(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.readableEnded) return;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared <= MAX_DRAIN && req.headers['transfer-encoding'] === undefined) return;
  res.setHeader('connection', 'close');
}

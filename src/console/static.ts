// The console's static files: the single-page application Vite builds into dist/console/ (from the
// top-level console/ package). Hashed assets are cached for a year, index.html never; any GET that
// is not an API call or an existing file answers index.html (the page routes itself); every answer
// carries a strict Content-Security-Policy. Without a build, a small page says how to make one.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Scripts, fonts, frames and connections from the console's own origin only; images and media also
 * from blob: and data: URLs (object previews); PDF previews in a frame of a blob: URL. Styles allow
 * inline style attributes and elements: the component library sets its theme's CSS variables that
 * way (no script can come in through a style).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob: data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self' blob:",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every console answer (API answers too). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Vite's hashed output lives under assets/: its names change with their content. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** dist/console of this installation (this file is dist/src/console/static.js). */
export function defaultConsoleDir(): string {
  return fileURLToPath(new URL('../../console/', import.meta.url));
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Strata console</title></head>
<body><main><h1>The Strata console is not built</h1>
<p>This server has no console files in <code>dist/console/</code>. Build them with
<code>npm run build:console</code> (the README's start command does it), then reload this page.</p>
<p>The S3 API and the admin API work without it.</p></main></body></html>
`;

/** The file a request path names inside `root`, or undefined (outside it, a directory, missing). */
async function fileOf(root: string, rawPath: string): Promise<{ path: string; size: number } | undefined> {
  let rel: string;
  try {
    rel = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (rel.includes('\0') || rel.split('/').some((s) => s === '..')) return undefined;
  const path = resolve(join(root, rel));
  if (!path.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  try {
    const st = await stat(path);
    return st.isFile() ? { path, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: { path: string; size: number }, cache: string): void {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
    'content-length': file.size,
    'cache-control': cache,
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** Answers a GET/HEAD for a static file (SPA fallback to index.html); other methods 405. */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, rawPath: string, dir: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('Method Not Allowed\n');
    return;
  }
  const root = resolve(dir);
  const wanted = rawPath === '/' ? undefined : await fileOf(root, rawPath);
  if (wanted !== undefined && !wanted.path.endsWith(`${sep}index.html`)) {
    sendFile(req, res, wanted, rawPath.startsWith('/assets/') ? IMMUTABLE : 'no-cache');
    return;
  }
  const index = await fileOf(root, '/index.html');
  if (index !== undefined) {
    sendFile(req, res, index, 'no-store');
    return;
  }
  const body = Buffer.from(NOT_BUILT);
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

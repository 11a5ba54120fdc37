// The S3 server over a given Store in this process (unit tests that watch the store's calls while
// a real client talks HTTP to it): an SDK client without retries or keep-alive, and a hook on the
// moment each reply's status line is written.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.js';
import { rootCredentials } from '../../src/iam/principal.js';
import { createServer } from '../../src/server.js';
import type { Store } from '../../src/store/store.js';

export interface InProcessServer {
  server: http.Server;
  s3: S3Client;
  close(): Promise<void>;
}

export async function serveInProcess(
  store: Store,
  dataDir: string,
  keys: { accessKey: string; secretKey: string },
  onReply?: (req: http.IncomingMessage, status: number) => void,
): Promise<InProcessServer> {
  const parsed = parseConfig(['--address', '127.0.0.1:0', '--data', dataDir], {});
  if (parsed.help) throw new Error('unexpected help');
  const server = createServer(parsed.config, { store, log: pino({ level: 'silent' }), credentials: rootCredentials(keys.accessKey, keys.secretKey) });
  if (onReply) {
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const writeHead = res.writeHead;
      res.writeHead = function (this: http.ServerResponse, ...args: Parameters<typeof writeHead>) {
        onReply(req, args[0]);
        return writeHead.apply(this, args);
      } as typeof writeHead;
    });
  }
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  const s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: keys.accessKey, secretAccessKey: keys.secretKey },
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: false }) }),
    maxAttempts: 1,
  });
  return {
    server,
    s3,
    close: async () => {
      s3.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

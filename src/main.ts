#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point: parse the config, then run what it asks for: `strata admin …` (a client), one
// serving process (--workers 1, and each worker of a cluster: src/serve.ts), or the cluster
// primary (--workers N ≥ 2: src/primary.ts). Each is imported only when it runs, so the primary
// never loads the S3 server.
import cluster from 'node:cluster';
import { pino } from 'pino';
import { ConfigError, parseConfig } from './config.js';

async function main(): Promise<void> {
  // `strata admin …`: the admin API's command line (src/cli/admin.ts), not a server.
  if (process.argv[2] === 'admin') {
    const { adminMain } = await import('./cli/admin.js');
    process.exitCode = await adminMain(process.argv.slice(3), process.env, process.stdout, process.stderr);
    return;
  }
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`strata: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(parsed.text);
    return;
  }
  const config = parsed.config;
  // Logs go to process.stdout (asynchronous for pipes). A reader that goes away (EPIPE) must not
  // stop or hang the server: pino's synchronous destination retries a dead pipe forever.
  process.stdout.on('error', () => undefined);
  const log = pino({ level: config.logLevel, base: { pid: process.pid } }, process.stdout);
  if (config.defaultCredentials && !cluster.isWorker) {
    log.warn(
      { accessKey: config.accessKey },
      'USING THE DEFAULT CREDENTIALS (rustfsadmin / rustfssecret): anyone who knows them can read and write every bucket. Set --access-key/--secret-key (or STRATA_ACCESS_KEY/STRATA_SECRET_KEY) for anything but a local test.',
    );
  }
  if (cluster.isWorker) {
    // A worker that cannot start tells its primary why (the primary reports it and exits).
    const report = (r: unknown, then?: () => void) => (process.send ? process.send(r, undefined, {}, () => then?.()) : then?.());
    // The primary says `go` once its startup sweeps are done; the code loads meanwhile. The worker
    // asks once it listens for the answer (a message that arrives without a listener is lost). A
    // primary that dies first disconnects the IPC channel, and node:cluster ends the worker.
    // `aloneSince`: when the primary took the directory over (serve.ts: the workers' sweeps).
    const go = new Promise<number | undefined>((ok) => {
      const onMessage = (m: { strata?: string; aloneSince?: number }) => {
        if (m?.strata !== 'go') return;
        process.off('message', onMessage);
        ok(typeof m.aloneSince === 'number' ? m.aloneSince : undefined);
      };
      process.on('message', onMessage);
    });
    const { serve } = await import('./serve.js');
    report({ strata: 'loaded' });
    const aloneSince = await go;
    await serve(config, log, { report, ...(aloneSince !== undefined && { aloneSince }) }).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      report({ strata: 'failed', message }, () => process.exit(1));
      setTimeout(() => process.exit(1), 1000).unref();
    });
    return;
  }
  if (config.workers > 1) {
    const { runPrimary } = await import('./primary.js');
    await runPrimary(config, log);
    return;
  }
  const { serve } = await import('./serve.js');
  await serve(config, log);
}

main().catch((err) => {
  process.stderr.write(`strata: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

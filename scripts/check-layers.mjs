#!/usr/bin/env node
// The layer rule (docs/ARCHITECTURE.md, "Layers and imports"): reads the import graph of src/ (every
// static import/export-from and literal dynamic import of a relative module) and fails on an import
// against the layers. Run by `npm run lint` (so by `npm test`); src/layers.test.ts proves it fails.
//   node scripts/check-layers.mjs [root]      (root: the repository, default this script's parent)
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The layer of a file (path relative to the repository root, '/'-separated), or undefined for files
 * the rule does not place. Order matters: the first match wins.
 */
export function layerOf(path) {
  // The entry point and what it runs: one serving process, the cluster primary, their startup.
  if (path === 'src/main.ts' || path === 'src/serve.ts' || path === 'src/primary.ts' || path === 'src/startup.ts' || path === 'src/startup-cluster.ts')
    return 'main';
  if (path === 'src/server.ts' || path === 'src/front.ts') return 'server';
  if (path === 'src/config.ts' || path === 'src/config-flags.ts' || path === 'src/config-meta.ts' || path === 'src/config-etcd.ts') return 'config';
  if (path.startsWith('src/http/')) return 'http';
  if (path.startsWith('src/s3/operations/')) return 'operation';
  if (path.startsWith('src/s3/')) return 's3';
  if (path.startsWith('src/store/')) return 'store';
  if (path.startsWith('src/jobs/')) return 'jobs';
  if (path.startsWith('src/iam/')) return 'iam';
  if (path.startsWith('src/admin/')) return 'admin';
  if (path.startsWith('src/sts/')) return 'sts';
  if (path.startsWith('src/kms/')) return 'kms';
  if (path.startsWith('src/cli/')) return 'cli';
  if (path.startsWith('src/console/')) return 'console';
  if (path.startsWith('src/audit/')) return 'audit';
  if (path.startsWith('src/metrics/')) return 'metrics';
  if (path.startsWith('src/cluster/')) return 'cluster';
  if (path.startsWith('test/')) return 'test';
  if (path.startsWith('bench/')) return 'bench';
  return undefined;
}

/** Layer → the layers it must never import, with the reason shown on a violation. */
export const FORBIDDEN = {
  config: {
    layers: ['main', 'server', 'http', 's3', 'operation', 'store', 'jobs', 'iam', 'kms', 'audit', 'metrics'],
    why: 'the config is a leaf: everyone reads it, it reads no one',
  },
  store: {
    layers: ['main', 'server', 'http', 's3', 'operation', 'jobs', 'iam', 'kms', 'audit', 'metrics'],
    why: 'the engine knows no HTTP and no S3: it speaks records and StoreErrors',
  },
  s3: { layers: ['main', 'server', 'http'], why: 'S3 semantics do not know the HTTP plumbing that calls them' },
  operation: { layers: ['main', 'server', 'http'], why: 'S3 semantics do not know the HTTP plumbing that calls them' },
  http: { layers: ['main', 'server'], why: 'the pipeline is wired by server.ts, not the other way round' },
  jobs: { layers: ['main', 'server', 'http'], why: 'background jobs run beside requests, not through them' },
  iam: {
    layers: ['main', 'server', 'http', 's3', 'operation', 'jobs', 'audit'],
    why: 'identities and policy evaluation know no HTTP and no S3 wire format: s3/ asks them',
  },
  server: { layers: ['main'], why: 'main.ts wires the server, not the other way round' },
  admin: { layers: ['main', 'server', 'jobs', 'operation'], why: 'the admin API is served by server.ts beside the S3 pipeline, not through it' },
  sts: { layers: ['main', 'server', 'jobs', 'operation', 'admin'], why: 'the STS endpoint is served by server.ts beside the S3 pipeline, not through it' },
  kms: {
    layers: ['main', 'server', 'http', 's3', 'operation', 'jobs', 'admin', 'sts'],
    why: 'the key service wraps and unwraps keys: s3/ and the admin API ask it, it knows neither',
  },
  console: {
    layers: ['main', 'server', 'jobs', 'operation'],
    why: 'the console is served by server.ts beside the S3 pipeline: it hands requests to the pipeline and the admin API, it is not called by them',
  },
  audit: {
    layers: ['main', 'server', 'http', 's3', 'operation', 'store', 'jobs', 'admin', 'sts', 'kms', 'console', 'metrics'],
    why: 'the audit log is handed facts by the fronts (http/, admin/, sts/, the console) and knows none of them',
  },
  cli: {
    layers: ['main', 'server', 'http', 's3', 'operation', 'store', 'jobs', 'iam', 'admin', 'kms', 'audit', 'console', 'metrics'],
    why: 'the command line is a client: it speaks HTTP to a running server, never to its code',
  },
  cluster: {
    layers: ['main', 'server', 'http', 's3', 'operation', 'admin', 'sts', 'console', 'cli'],
    why: 'the cluster modules (gateway registry, leader election, etcd) sit beside the store: the server and the admin API ask them',
  },
  metrics: {
    layers: ['main', 'server', 'http', 'operation', 'jobs', 'audit', 'console'],
    why: 'metrics are fed by the pipeline’s last stage and the jobs runner, and read by server.ts: they call none of them',
  },
};

/**
 * Exceptions, `from -> to` (repository paths): none. A violation that must stay for a while goes here
 * with its reason; one that no longer applies fails the check, so the list only shrinks.
 */
export const TEMPORARY_EXCEPTIONS = new Set([]);

/** The module specifiers a TypeScript source imports, with their line numbers. */
export function importsOf(text) {
  // Comments out (keeping line breaks), so commented-out imports do not count.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1');
  const found = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g, // import x from '…', export { y } from '…'
    /\bimport\s*['"]([^'"]+)['"]/g, // import '…' (side effects)
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // import('…')
  ];
  for (const re of patterns) {
    for (const m of code.matchAll(re)) found.push({ spec: m[1], line: code.slice(0, m.index).split('\n').length });
  }
  return found;
}

function sourceFiles(root, dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(p);
    }
  };
  try {
    walk(join(root, dir));
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  return out;
}

/**
 * Every import against the layers in the shipped code under `root`'s src/ (unit tests, `*.test.ts`,
 * wire layers together on purpose and are not checked; test support such as the store contract
 * suites is). Returns one message per violation.
 */
export function checkLayers(root, exceptions = TEMPORARY_EXCEPTIONS) {
  const violations = [];
  const used = new Set();
  const rel = (p) => relative(root, p).split(sep).join('/');
  for (const file of sourceFiles(root, 'src')) {
    const from = rel(file);
    const fromLayer = layerOf(from);
    if (fromLayer === undefined || from.endsWith('.test.ts')) continue;
    for (const { spec, line } of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue; // packages and node: builtins are not layers
      const to = rel(resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
      const toLayer = layerOf(to);
      if (toLayer === undefined) continue;
      if (exceptions.has(`${from} -> ${to}`)) {
        used.add(`${from} -> ${to}`);
        continue;
      }
      const rule = FORBIDDEN[fromLayer];
      if (toLayer === 'test' || toLayer === 'bench') {
        violations.push(`${from}:${line}: imports ${spec} — shipped code never imports the tests or the benchmark`);
      } else if (rule?.layers.includes(toLayer)) {
        violations.push(`${from}:${line}: imports ${spec} — ${fromLayer} must not import ${toLayer} (${rule.why})`);
      } else if (fromLayer === 'operation' && toLayer === 'operation' && from !== to) {
        violations.push(
          `${from}:${line}: imports ${spec} — an operation never imports another operation (move the shared helper into its concept's module in s3/)`,
        );
      }
    }
  }
  // An exception nobody needs any more goes: the list only ever shrinks.
  for (const e of exceptions) if (!used.has(e)) violations.push(`check-layers.mjs: the temporary exception '${e}' no longer applies: delete it`);
  return violations;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const violations = checkLayers(root);
  for (const v of violations) console.error(v);
  if (violations.length > 0) {
    console.error(
      `check-layers: ${violations.length} import${violations.length === 1 ? '' : 's'} against the layers (docs/ARCHITECTURE.md, "Layers and imports")`,
    );
    process.exit(1);
  }
  console.log('check-layers: no import against the layers');
}

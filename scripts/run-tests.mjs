#!/usr/bin/env node
// Runs the compiled tests with node's built-in runner (Node 20's --test takes no globs, so the
// files are listed here). Usage:
//   node scripts/run-tests.mjs unit|integration|all [filter ...]
// unit = dist/src/**/*.test.js, integration = dist/test/**/*.test.js; each extra argument keeps
// only files whose path contains it (e.g. `node scripts/run-tests.mjs integration boto3`).
// Exits with 1 if any test failed (node prints the `# pass N` / `# fail N` summary), else 0.
//
// Files run several at a time, the known slow ones first (SLOW_FIRST), then the rest in
// alphabetical order: a slow file that starts last keeps the whole run waiting for it alone.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { PassThrough } from 'node:stream';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [mode, ...filters] = process.argv.slice(2);

if (!['unit', 'integration', 'all'].includes(mode ?? '')) {
  console.error('usage: node scripts/run-tests.mjs unit|integration|all [filter ...]');
  process.exit(2);
}

/** Every `*.test.js` under dir, sorted, as paths relative to the repository root. */
function findTests(dir) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const found = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(abs);
  return found.sort();
}

/**
 * How many files run at once. Unit test files mostly wait (PostgreSQL, fsync, child processes):
 * three at a time on 2 cores keeps both busy (one at a time, node's default there, took twice as
 * long). Integration files start servers, clients and browsers: three at a time.
 */
const CONCURRENCY = { unit: 3, integration: 3 };
// STRATA_TEST_CONCURRENCY=N overrides both (a machine with more cores, or measuring).
if (process.env.STRATA_TEST_CONCURRENCY) CONCURRENCY.unit = CONCURRENCY.integration = Math.max(1, Number(process.env.STRATA_TEST_CONCURRENCY) || 1);

/**
 * The slowest files (of the last measured runs on the 2-core test machine, slowest first; see
 * .test-tmp/<label>-durations.txt after a run): they start first, so none of them is left running
 * alone at the end. Kept by hand: a file that grew slow goes in, one that is gone fails the run.
 */
const SLOW_FIRST = [
  'test/crash/crash.test.ts',
  'test/console/objects.test.ts',
  'test/hardening/memory.test.ts',
  'test/integration/aws-cli.test.ts',
  'test/integration/drives-clients.test.ts',
  'test/crash/crash-versions.test.ts',
  'test/integration/versioning-clients.test.ts',
  'test/crash/cluster-kill.test.ts',
  'test/crash/crash-drives.test.ts',
  'test/console/buckets-identity.test.ts',
  'test/crash/crash-sse.test.ts',
  'test/integration/audit.test.ts',
  'test/hardening/concurrency.test.ts',
  'test/power-cut/power-cut.test.ts',
  'test/crash/ec-fault.test.ts',
  'test/integration/kms-admin.test.ts',
  'test/integration/identities.test.ts',
  'test/integration/drives.test.ts',
  'test/integration/tagging.test.ts',
  'test/integration/workers.test.ts',
  'test/integration/cluster-reliability-clients.test.ts',
  // unit
  'src/store/meta/postgres/store.test.ts',
  'src/store/meta/postgres/kms-heal.test.ts',
  'src/store/listing.test.ts',
  'src/store/meta/postgres/identities.test.ts',
  'src/s3/aws-chunked.test.ts',
  'src/cluster/registry-pg.test.ts',
  'src/store/meta/postgres/coord.test.ts',
];

/** `files` with the SLOW_FIRST ones first, in that list's order; the others keep their order. */
function slowFirst(files) {
  const compiled = SLOW_FIRST.map((f) => `dist/${f.replace(/\.ts$/, '.js')}`);
  const gone = SLOW_FIRST.filter((f) => !existsSync(join(root, f)));
  if (gone.length > 0) {
    console.error(`run-tests: SLOW_FIRST names files that do not exist: ${gone.join(', ')}`);
    process.exit(1);
  }
  return [...compiled.filter((f) => files.includes(f)), ...files.filter((f) => !compiled.includes(f))];
}

const SUMMARY = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /;

const keep = (files) => (filters.length === 0 ? files : files.filter((f) => filters.some((s) => f.includes(s))));

/**
 * Runs one batch with node:test's run() (each file in a process of its own, `concurrency` at a
 * time, started in the order given: Node 20's `node --test` sorts the files itself, so it cannot
 * start the slow ones first); resolves with 0 or 1. The spec reporter goes to the terminal; at the
 * end come the slowest files and node's `# pass N` / `# fail N` summary, where CI looks for it.
 * Every file's time (and when it started) goes to .test-tmp/<label>-durations.txt, the last run's.
 */
async function runBatch(label, files, concurrency) {
  console.log(`\n=== ${label} tests (${files.length} file${files.length === 1 ? '' : 's'}, ${concurrency} at a time) ===`);
  const started = Date.now();
  const specIn = new PassThrough({ objectMode: true });
  const specDone = new Promise((resolve, reject) => {
    specIn
      .compose(new spec())
      .on('data', (chunk) => process.stdout.write(chunk))
      .on('end', resolve)
      .on('error', reject);
  });
  let failed = false;
  const summary = [];
  const startedAt = new Map();
  const times = [];
  for await (const event of run({ files: files.map((f) => join(root, f)), concurrency })) {
    specIn.write(event);
    const d = event.data ?? {};
    if (event.type === 'test:fail') failed = true;
    if (event.type === 'test:complete' && d.details?.passed === false) failed = true;
    // The file-level test is named after its file (nesting 0); its tests and suites have names of their own.
    const fileLevel = d.file !== undefined && d.name === d.file && d.nesting === 0;
    if (fileLevel && event.type === 'test:dequeue') startedAt.set(d.file, Date.now() - started);
    if (fileLevel && event.type === 'test:complete')
      times.push([d.details?.duration_ms ?? 0, startedAt.get(d.file) ?? 0, relative(root, d.file).split(sep).join('/')]);
    if (event.type === 'test:diagnostic' && d.file === undefined && d.nesting === 0 && SUMMARY.test(d.message)) summary.push(`# ${d.message}`);
  }
  specIn.end();
  await specDone;
  times.sort((a, b) => b[0] - a[0]);
  const line = ([ms, at, f]) => `${(ms / 1000).toFixed(1).padStart(7)} s  (from ${(at / 1000).toFixed(0).padStart(4)} s)  ${f}`;
  mkdirSync(join(root, '.test-tmp'), { recursive: true });
  if (times.length > 0) writeFileSync(join(root, '.test-tmp', `${label}-durations.txt`), `${times.map(line).join('\n')}\n`);
  console.log(`\n--- ${label}: slowest files ---\n${times.slice(0, 12).map(line).join('\n') || '(none recorded)'}`);
  const wall = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\n--- ${label} summary (wall ${wall} s) ---\n${summary.join('\n') || '(no summary produced)'}`);
  return failed || summary.length === 0 ? 1 : 0;
}

if (!existsSync(join(root, 'dist'))) {
  console.error('run-tests: dist/ does not exist; run `npm run build` first');
  process.exit(1);
}

const batches = [];
if (mode === 'unit' || mode === 'all') batches.push({ label: 'unit', files: slowFirst(keep(findTests('dist/src'))) });
if (mode === 'integration' || mode === 'all') batches.push({ label: 'integration', files: slowFirst(keep(findTests('dist/test'))) });

if (batches.every((b) => b.files.length === 0)) {
  // No tests where tests are expected is a failure, never a silent pass.
  console.error(`run-tests: no ${mode} test files found${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}

const results = [];
for (const b of batches) {
  if (b.files.length === 0) {
    console.warn(`\nrun-tests: warning: no ${b.label} test files found${filters.length ? ' matching the filters' : ''}`);
    continue;
  }
  results.push({ label: b.label, code: await runBatch(b.label, b.files, CONCURRENCY[b.label]) });
}
if (results.length > 1) {
  console.log(`\nrun-tests: ${results.map((r) => `${r.label} ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`}`).join(', ')}`);
}
process.exit(results.find((r) => r.code !== 0)?.code ?? 0);

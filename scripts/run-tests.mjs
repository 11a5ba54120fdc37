#!/usr/bin/env node
// Runs the compiled tests with node's built-in runner (Node 20's --test takes no globs, so the
// files are listed here). Usage:
//   node scripts/run-tests.mjs unit|integration|all [filter ...]
// unit = dist/src/**/*.test.js, integration = dist/test/**/*.test.js; each extra argument keeps
// only files whose path contains it (e.g. `node scripts/run-tests.mjs integration boto3`).
// Exits with node's exit code; node prints the `# pass N` / `# fail N` summary.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
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

const keep = (files) => (filters.length === 0 ? files : files.filter((f) => filters.some((s) => f.includes(s))));

/**
 * Runs one batch with node --test; resolves with its exit code. The spec reporter goes to the
 * terminal; a TAP copy goes to .test-tmp/<label>-<pid>.tap and its `# pass N` / `# fail N` summary is
 * printed at the end, where CI looks for it.
 */
async function runBatch(label, files, extraArgs) {
  console.log(`\n=== ${label} tests (${files.length} file${files.length === 1 ? '' : 's'}) ===`);
  mkdirSync(join(root, '.test-tmp'), { recursive: true });
  // Per process: several runs (developers, CI) may share the work tree.
  const tapFile = join(root, '.test-tmp', `${label}-${process.pid}.tap`);
  const args = [
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...extraArgs,
    ...files,
  ];
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('error', (e) => {
      console.error(`run-tests: ${e.message}`);
      resolve(1);
    });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  const summary = existsSync(tapFile)
    ? readFileSync(tapFile, 'utf8')
        .split('\n')
        .filter((l) => /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(l))
    : [];
  rmSync(tapFile, { force: true });
  console.log(`\n--- ${label} summary ---\n${summary.join('\n') || '(no TAP summary produced)'}`);
  return code;
}

if (!existsSync(join(root, 'dist'))) {
  console.error('run-tests: dist/ does not exist; run `npm run build` first');
  process.exit(1);
}

const batches = [];
if (mode === 'unit' || mode === 'all') batches.push({ label: 'unit', files: keep(findTests('dist/src')), extraArgs: [] });
if (mode === 'integration' || mode === 'all') {
  batches.push({ label: 'integration', files: keep(findTests('dist/test')), extraArgs: ['--test-concurrency=3'] });
}

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
  results.push({ label: b.label, code: await runBatch(b.label, b.files, b.extraArgs) });
}
if (results.length > 1) {
  console.log(`\nrun-tests: ${results.map((r) => `${r.label} ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`}`).join(', ')}`);
}
process.exit(results.find((r) => r.code !== 0)?.code ?? 0);

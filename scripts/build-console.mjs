#!/usr/bin/env node
// `npm run build:console`: builds the web console (console/, React + Vite) into dist/console, which
// the server's console listener serves. Skips the build when nothing it depends on changed since
// the last one (a hash of console/'s sources and the installed package versions, kept in
// dist/console/.build-stamp), so `npm start` and `npm test` stay quick after the first build.
//   node scripts/build-console.mjs [--force]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const consoleDir = join(root, 'console');
const outDir = join(root, 'dist', 'console');
const stampFile = join(outDir, '.build-stamp');

/** Every file under dir except node_modules, sorted, as '/'-separated paths relative to root. */
function files(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

function stamp() {
  const h = createHash('sha256');
  for (const f of files(consoleDir)) {
    h.update(relative(root, f).split(sep).join('/'));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  // The lock file pins the versions of what the build uses.
  const lock = join(root, 'package-lock.json');
  if (existsSync(lock)) h.update(readFileSync(lock));
  return h.digest('hex');
}

const want = stamp();
const force = process.argv.includes('--force');
if (!force && existsSync(stampFile) && existsSync(join(outDir, 'index.html')) && readFileSync(stampFile, 'utf8').trim() === want) {
  console.log('console: up to date (dist/console)');
  process.exit(0);
}
const started = Date.now();
const r = spawnSync('npm', ['run', '--silent', 'build', '--workspace', 'console'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`build-console: vite build failed (exit ${r.status ?? r.signal})`);
  process.exit(r.status ?? 1);
}
if (!existsSync(join(outDir, 'index.html')) || !statSync(join(outDir, 'index.html')).isFile()) {
  console.error('build-console: vite produced no dist/console/index.html');
  process.exit(1);
}
writeFileSync(stampFile, `${want}\n`);
console.log(`console: built into dist/console in ${((Date.now() - started) / 1000).toFixed(1)} s`);

// Strata is started with the same node flags however it is started: the `strata` command (the
// `#!/usr/bin/env -S node FLAGS` line of dist/src/main.js), `npm start`, and the benchmark (which
// reads them from that line). README, "Memory", says why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { STRATA_MAIN, strataNodeFlags } from '../bench/servers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('launch flags', () => {
  const flags = strataNodeFlags();

  it('main.js line → --max-semi-space-size=4 (the young generation that keeps peak RSS under 150 MiB)', () => {
    assert.deepEqual(flags, ['--max-semi-space-size=4']);
    assert.equal(readFileSync(join(ROOT, 'src', 'main.ts'), 'utf8').split('\n', 1)[0], `#!/usr/bin/env -S node ${flags.join(' ')}`);
  });

  it('npm start → node with the same flags', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
    assert.match(pkg.scripts['start']!, new RegExp(`(^|&& )node ${flags.join(' ')} dist/src/main\\.js$`));
    assert.equal(pkg.bin['strata'], 'dist/src/main.js');
  });

  it('node accepts them: --help through them exits 0', () => {
    const r = spawnSync(process.execPath, [...flags, STRATA_MAIN, '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('what a server loads', () => {
  it('without --etcd and --meta postgres, the serving process loads neither etcd3 (with gRPC) nor pg', () => {
    // The modules a serving process imports at start; etcd3's gRPC stack alone took ~190 ms and
    // ~17 MiB of RSS here, for a default (SQLite) server that never uses it.
    const script = `await import(${JSON.stringify(join(ROOT, 'dist', 'src', 'serve.js'))});
      const { createRequire } = await import('node:module');
      console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const loaded = JSON.parse(r.stdout) as string[];
    assert.ok(
      loaded.some((p) => p.includes('/node_modules/better-sqlite3/')),
      'the check sees packages that are loaded',
    );
    assert.deepEqual(
      loaded.filter((p) => /\/node_modules\/(etcd3|@grpc|pg|pg-pool|pg-protocol)\//.test(p)),
      [],
    );
  });
});

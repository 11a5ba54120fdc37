// The layer rule (scripts/check-layers.mjs, run by `npm run lint`): the repository passes it, and it
// fails on each kind of import against the layers (fixtures in a temporary tree).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Repository root, from this file's compiled location dist/src/layers.test.js. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface LayerChecker {
  checkLayers(root: string, exceptions?: ReadonlySet<string>): string[];
}
const checker = (await import(pathToFileURL(join(ROOT, 'scripts', 'check-layers.mjs')).href)) as LayerChecker;

describe('layer rule', () => {
  let tree: string;
  before(async () => {
    tree = await mkdtemp(join(tmpdir(), 'strata-layers-'));
  });
  after(async () => {
    await rm(tree, { recursive: true, force: true });
  });

  /** A fresh fixture tree holding exactly `files` (path → source). */
  async function fixture(files: Record<string, string>): Promise<string> {
    const root = await mkdtemp(join(tree, 'case-'));
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
    return root;
  }

  it('layer rule › this repository → no import against the layers', () => {
    assert.deepEqual(checker.checkLayers(ROOT), []);
  });

  it('layer rule › store imports s3 or http → violation naming file and line', async () => {
    const root = await fixture({
      'src/store/store.ts': "import type { X } from './types.js';\nimport { S3Error } from '../s3/errors.js';\n",
      'src/store/meta/sqlite.ts': "export { splitTarget } from '../../http/host.js';\n",
    });
    const v = checker.checkLayers(root, new Set());
    assert.equal(v.length, 2, v.join('\n'));
    assert.match(v[0] ?? '', /^src\/store\/meta\/sqlite\.ts:1: .*store must not import http/);
    assert.match(v[1] ?? '', /^src\/store\/store\.ts:2: .*store must not import s3/);
  });

  it('layer rule › s3 imports http or server, http imports main → violations', async () => {
    const root = await fixture({
      'src/s3/auth/authenticate.ts': "import { bucketFromHost } from '../../http/host.js';\n",
      'src/s3/cors.ts': "const m = await import('../server.js');\n",
      'src/http/pipeline.ts': "import '../main.js';\n",
    });
    const v = checker.checkLayers(root, new Set());
    assert.equal(v.length, 3, v.join('\n'));
    assert.ok(v.some((l) => /authenticate\.ts:1: .*s3 must not import http/.test(l)));
    assert.ok(v.some((l) => /cors\.ts:1: .*s3 must not import server/.test(l)));
    assert.ok(v.some((l) => /pipeline\.ts:1: .*http must not import main/.test(l)));
  });

  it('layer rule › metrics imports http or jobs, the store imports metrics → violations; http and server may import metrics', async () => {
    const root = await fixture({
      'src/metrics/http.ts': "import { splitTarget } from '../http/host.js';\nimport type { Job } from '../jobs/runner.js';\n",
      'src/store/store.ts': "import { MetricsRecorder } from '../metrics/recorder.js';\n",
      'src/http/pipeline.ts': "import type { MetricsRecorder } from '../metrics/recorder.js';\n",
      'src/server.ts': "import { handleMetrics } from './metrics/http.js';\n",
    });
    const v = checker.checkLayers(root, new Set());
    assert.equal(v.length, 3, v.join('\n'));
    assert.ok(v.some((l) => /metrics\/http\.ts:1: .*metrics must not import http/.test(l)));
    assert.ok(v.some((l) => /metrics\/http\.ts:2: .*metrics must not import jobs/.test(l)));
    assert.ok(v.some((l) => /store\/store\.ts:1: .*store must not import metrics/.test(l)));
  });

  it('layer rule › an operation imports another operation → violation; its own concept module is fine', async () => {
    const root = await fixture({
      'src/s3/operations/copy-object.ts': "import { loadObject } from './get-object.js';\nimport { S3Error } from '../errors.js';\n",
    });
    const v = checker.checkLayers(root, new Set());
    assert.equal(v.length, 1, v.join('\n'));
    assert.match(v[0] ?? '', /copy-object\.ts:1: .*an operation never imports another operation/);
  });

  it('layer rule › unit tests and commented-out imports → not checked', async () => {
    const root = await fixture({
      'src/store/write-order.test.ts': "import { createServer } from '../server.js';\n",
      'src/store/store.ts': "// import { S3Error } from '../s3/errors.js';\n/* import '../http/host.js'; */\n",
    });
    assert.deepEqual(checker.checkLayers(root, new Set()), []);
  });

  it('layer rule › a temporary exception covers its import; one that no longer applies → violation', async () => {
    const root = await fixture({ 'src/s3/auth/authenticate.ts': "import { bucketFromHost } from '../../http/host.js';\n" });
    const exception = 'src/s3/auth/authenticate.ts -> src/http/host.ts';
    assert.deepEqual(checker.checkLayers(root, new Set([exception])), []);
    const stale = 'src/s3/operations/a.ts -> src/s3/operations/b.ts';
    const v = checker.checkLayers(root, new Set([exception, stale]));
    assert.equal(v.length, 1);
    assert.match(v[0] ?? '', /no longer applies/);
  });
});

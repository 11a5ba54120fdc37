// The seams of the S3 layer stay tidy: no operation file imports another (shared helpers live in
// their concept's module), and authentication imports nothing from http/ (the bucket derived from
// Host comes on the request context). (The project-wide layer rule is the linter's.)
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

const SRC = new URL('../../../src/s3/', import.meta.url);

function importsOf(dir: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const base = new URL(dir, SRC);
  for (const name of readdirSync(base)) {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
    const text = readFileSync(new URL(name, base), 'utf8');
    for (const m of text.matchAll(/^import[^;]*?from '([^']+)';/gms)) found.push([name, m[1]!]);
  }
  return found;
}

describe('S3 layer seams', () => {
  it('operations › no operation file imports another operation file', () => {
    const imports = importsOf('operations/');
    assert.ok(imports.length > 50, 'the operation files were read');
    assert.deepEqual(
      imports.filter(([, from]) => from.startsWith('./')),
      [],
    );
  });

  it('auth › nothing in s3/auth imports from http/', () => {
    const imports = importsOf('auth/');
    assert.ok(imports.length > 10, 'the auth files were read');
    assert.deepEqual(
      imports.filter(([, from]) => from.includes('/http/')),
      [],
    );
  });
});

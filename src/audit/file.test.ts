// The rotated audit file: every line ends up in exactly one of PATH, PATH.1 … PATH.keep (the oldest
// beyond are removed), no file passes maxBytes, no line is split; a failed write is cut back to
// whole lines.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PartialDelivery } from './queue.js';
import { RotatingFile } from './file.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-audit-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const rec = (i: number) => `${JSON.stringify({ n: i, pad: 'x'.repeat(i % 37) })}\n`;
/** PATH.keep … PATH.1, PATH: oldest first. */
const readAll = (path: string, keep: number): string[] => {
  const files = [...Array.from({ length: keep }, (_, i) => `${path}.${keep - i}`), path].filter((f) => existsSync(f));
  return files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
};

describe('RotatingFile', () => {
  it('rotates by size: all records, in order, across PATH.N … PATH; each file at most maxBytes; whole lines', async () => {
    const path = join(dir, 'a', 'audit.log');
    RotatingFile.check(path);
    const f = new RotatingFile({ path, maxBytes: 1024, keep: 50 });
    const all = Array.from({ length: 400 }, (_, i) => rec(i));
    for (let i = 0; i < all.length; i += 13) await f.append(all.slice(i, i + 13));
    await f.close();
    assert.deepEqual(
      readAll(path, 50),
      all.map((l) => l.trimEnd()),
    );
    for (let i = 1; existsSync(`${path}.${i}`); i++) assert.ok(statSync(`${path}.${i}`).size <= 1024);
    assert.ok(existsSync(`${path}.10`), 'rotated more than ten times');
  });

  it('keeps only PATH.1 … PATH.keep: the newest records survive, exactly', async () => {
    const path = join(dir, 'b.log');
    const f = new RotatingFile({ path, maxBytes: 200, keep: 2 });
    const lines = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(9, '0')}\n`); // 10 bytes each: 20 per file
    await f.append(lines);
    await f.close();
    assert.ok(!existsSync(`${path}.3`));
    assert.deepEqual(
      readAll(path, 2),
      lines.slice(40).map((l) => l.trimEnd()),
    );
  });

  it('a restart continues the rotated files left by the last run: each moves up one, the oldest beyond keep goes', async () => {
    const path = join(dir, 'r.log');
    writeFileSync(`${path}.1`, 'one\n');
    writeFileSync(`${path}.2`, 'two\n');
    writeFileSync(`${path}.3`, 'three\n');
    writeFileSync(path, 'current\n');
    const f = new RotatingFile({ path, maxBytes: 10, keep: 4 });
    await f.append(['next-1\n', 'next-2\n']); // two rotations: the first renames 3 files, the second 4 (one removed)
    await f.close();
    assert.deepEqual(
      [4, 3, 2, 1].map((i) => readFileSync(`${path}.${i}`, 'utf8')),
      ['two\n', 'one\n', 'current\n', 'next-1\n'], // 'three' was the oldest: removed by the second
    );
    assert.equal(readFileSync(path, 'utf8'), 'next-2\n');
    assert.ok(!existsSync(`${path}.5`));
  });

  it('continues an existing file (its size counts) and a record larger than maxBytes goes alone', async () => {
    const path = join(dir, 'c.log');
    writeFileSync(path, 'x'.repeat(90) + '\n');
    const f = new RotatingFile({ path, maxBytes: 100, keep: 3 });
    await f.append(['y'.repeat(20) + '\n', 'z'.repeat(300) + '\n', 'w\n']);
    await f.close();
    assert.equal(readFileSync(`${path}.3`, 'utf8'), 'x'.repeat(90) + '\n');
    assert.equal(readFileSync(`${path}.2`, 'utf8'), 'y'.repeat(20) + '\n');
    assert.equal(readFileSync(`${path}.1`, 'utf8'), 'z'.repeat(300) + '\n');
    assert.equal(readFileSync(path, 'utf8'), 'w\n');
  });

  it('a write that fails reports how many records went in (PartialDelivery)', async () => {
    const path = join(dir, 'd', 'gone.log');
    RotatingFile.check(path);
    const f = new RotatingFile({ path, maxBytes: 30, keep: 1 });
    await f.append(['a'.repeat(20) + '\n']);
    // Rotation needs PATH renamed; removing the directory makes the rotation fail after one record.
    rmSync(join(dir, 'd'), { recursive: true });
    const err = await f.append(['b'.repeat(5) + '\n', 'c'.repeat(20) + '\n']).catch((e: unknown) => e);
    assert.ok(err instanceof PartialDelivery, String(err));
    assert.equal(err.delivered, 1);
    await f.close().catch(() => undefined);
  });

  it('check(): an unwritable path fails with its name', () => {
    writeFileSync(join(dir, 'file'), '');
    assert.throws(() => RotatingFile.check(join(dir, 'file', 'audit.log')), /cannot write the audit file .*file\/audit\.log/);
  });
});

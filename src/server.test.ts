// BatchedLines: the access log's destination writes the lines of one event-loop turn at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { pino } from 'pino';
import { BatchedLines } from './server.js';

function sink(): { writes: string[]; write(chunk: string): boolean } {
  const writes: string[] = [];
  return { writes, write: (chunk: string) => (writes.push(chunk), true) };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('BatchedLines', () => {
  it('writes the lines of one turn in one write, whole and in order; nothing for an idle turn', async () => {
    const dest = sink();
    const lines = new BatchedLines(dest);
    lines.write('a\n');
    lines.write('b\n');
    lines.write('c\n');
    assert.deepEqual(dest.writes, []);
    await turn();
    assert.deepEqual(dest.writes, ['a\nb\nc\n']);
    await turn();
    assert.deepEqual(dest.writes, ['a\nb\nc\n']);
    lines.write('d\n');
    await turn();
    assert.deepEqual(dest.writes, ['a\nb\nc\n', 'd\n']);
  });

  it('writes at once when the buffer is full, and on flush()', async () => {
    const dest = sink();
    const lines = new BatchedLines(dest, 10);
    lines.write('12345\n');
    lines.write('67890\n');
    assert.deepEqual(dest.writes, ['12345\n67890\n']);
    lines.write('x\n');
    let called = false;
    lines.flush(() => (called = true));
    assert.equal(called, true);
    assert.deepEqual(dest.writes, ['12345\n67890\n', 'x\n']);
    await turn();
    assert.equal(dest.writes.length, 2);
  });

  it('maxWrite (a worker sharing a pipe) › each write at most maxWrite long, cut after whole lines; a longer line alone', async () => {
    const dest = sink();
    const lines = new BatchedLines(dest, 1024, 8);
    for (const l of ['aa\n', 'bb\n', 'cc\n', 'a-very-long-line\n', 'dd\n']) lines.write(l);
    await turn();
    assert.deepEqual(dest.writes, ['aa\nbb\n', 'cc\n', 'a-very-long-line\n', 'dd\n']);
  });

  it('as a pino destination: the same lines a direct destination gets', async () => {
    const direct = sink();
    const batched = sink();
    const opts = { level: 'info', base: { pid: 1 }, timestamp: false } as const;
    const a = pino(opts, direct);
    const b = pino(opts, new BatchedLines(batched));
    for (const log of [a, b]) {
      log.info({ reqId: 'R1', op: 'HeadObject', status: 200 }, 'request');
      log.info({ reqId: 'R2', op: 'GetObject', status: 404 }, 'request');
    }
    await turn();
    assert.equal(batched.writes.join(''), direct.writes.join(''));
    assert.equal(batched.writes.length, 1);
  });

  it('a destination that throws loses those lines, nothing else', async () => {
    let calls = 0;
    const lines = new BatchedLines({
      write: () => {
        calls++;
        throw new Error('EPIPE');
      },
    });
    lines.write('a\n');
    await turn();
    lines.write('b\n');
    assert.doesNotThrow(() => lines.flushSync());
    assert.equal(calls, 2);
  });

  it('flushOnExit: lines written just before process.exit() still reach the destination', () => {
    const server = new URL('./server.js', import.meta.url).href;
    const code = `import { BatchedLines } from ${JSON.stringify(server)};
      const lines = new BatchedLines(process.stdout).flushOnExit();
      lines.write('one\\n'); lines.write('two\\n'); process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'one\ntwo\n');
  });
});

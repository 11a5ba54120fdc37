// The zip endpoint's pure parts (zip.ts): entry names, the download's name, when ZIP64 is needed;
// and that yazl's ZIP64 output (what the endpoint asks for past 4 GiB or 65 535 entries) is a zip
// Python's zipfile reads back byte for byte. A real >4 GiB archive is not built here (too slow for
// a unit test): the decision and the format are tested apart.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { ZipFile } from 'yazl';
import { endNeedsZip64, entryName, needsZip64, zipFileName } from './zip.js';

describe('zip names and limits', () => {
  it('entryName › the key less the prefix up to its last slash; unsafe paths refused', () => {
    assert.equal(entryName('photos/2024/a.jpg', 'photos/2024/'), 'a.jpg');
    assert.equal(entryName('photos/2024/trip/b.jpg', 'photos/'), '2024/trip/b.jpg');
    assert.equal(entryName('photos/2024/a.jpg', 'photos/20'), '2024/a.jpg');
    assert.equal(entryName('a.txt', ''), 'a.txt');
    for (const bad of ['/abs', 'x/../y', './x', 'C:/x', 'a\\b', 'photos/'])
      assert.equal(entryName(bad, 'photos/'.startsWith(bad) ? 'photos/' : ''), undefined, bad);
  });

  it('zipFileName › the last folder of the prefix, else the bucket', () => {
    assert.equal(zipFileName('bkt', 'photos/2024/'), '2024.zip');
    assert.equal(zipFileName('bkt', ''), 'bkt.zip');
    assert.equal(zipFileName('bkt', 'pho'), 'pho.zip');
  });

  it('needsZip64 / endNeedsZip64 › past ZIP32 fields only', () => {
    assert.equal(needsZip64(10, 0), false);
    assert.equal(needsZip64(5 * 2 ** 30, 0), true);
    assert.equal(needsZip64(10, 0xffff_fff8), true);
    assert.equal(endNeedsZip64(2 ** 20, 10), false);
    assert.equal(endNeedsZip64(2 ** 33, 10), true);
    assert.equal(endNeedsZip64(10, 70_000), true);
  });
});

describe('ZIP64 output', () => {
  it('entries and end records in ZIP64 form are read back byte for byte by Python zipfile', async () => {
    const zip = new ZipFile();
    const a = randomBytes(300_000);
    const b = Buffer.from('second entry');
    const chunks: Buffer[] = [];
    const out = zip.outputStream as Readable;
    out.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((ok) => out.on('end', ok));
    const src = new PassThrough();
    zip.addReadStream(src, 'dir/a.bin', { size: a.length, compress: false, forceZip64Format: true });
    src.end(a);
    zip.addBuffer(b, 'b.txt', { compress: false });
    zip.end({ forceZip64Format: true, comment: '' });
    await ended;
    const bytes = Buffer.concat(chunks);
    // The ZIP64 end of central directory record and its locator.
    assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'ZIP64 end record');
    assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07])), 'ZIP64 locator');
    const dir = await mkdtemp(join(tmpdir(), 'zip64-'));
    try {
      const path = join(dir, 'z.zip');
      await writeFile(path, bytes);
      const py =
        'import hashlib,json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}))';
      const r = spawnSync('/usr/bin/python3', ['-c', py, path], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const sha = (x: Buffer) => createHash('sha256').update(x).digest('hex');
      assert.deepEqual(JSON.parse(r.stdout), { 'dir/a.bin': sha(a), 'b.txt': sha(b) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

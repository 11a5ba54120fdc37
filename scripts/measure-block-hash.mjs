// Measures the candidate block-checksum hashes available in node:crypto on this machine: CPU per
// MiB when hashing 1 MiB blocks, fed whole (the read path) and in 64 KiB chunks (the write path,
// as request bodies arrive). Not a test: run by hand, `node scripts/measure-block-hash.mjs`.
import { createHash, getHashes, webcrypto } from 'node:crypto';

const MiB = 1024 * 1024;
const block = Buffer.alloc(MiB);
for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
const ROUNDS = Number(process.env.ROUNDS ?? 256);

function cpuMsPerMiB(fn) {
  for (let i = 0; i < 16; i++) fn(); // warm up
  const t0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) fn();
  const t = process.cpuUsage(t0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e6;
  return { cpu: (t.user + t.system) / 1000 / ROUNDS, wall: wall / ROUNDS };
}

const candidates = ['md5', 'sha1', 'sha256', 'sha512-256', 'blake2b512', 'blake2s256'].filter((h) => getHashes().includes(h));
console.log(`node ${process.version}, openssl ${process.versions.openssl}, ${ROUNDS} MiB per figure`);
console.log('hash          whole 1 MiB ms/MiB   64 KiB chunks ms/MiB   MB/s (whole)');
for (const alg of candidates) {
  const whole = cpuMsPerMiB(() => createHash(alg).update(block).digest());
  const chunked = cpuMsPerMiB(() => {
    const h = createHash(alg);
    for (let off = 0; off < MiB; off += 65536) h.update(block.subarray(off, off + 65536));
    h.digest();
  });
  console.log(
    `${alg.padEnd(13)} ${whole.cpu.toFixed(3).padStart(10)}            ${chunked.cpu.toFixed(3).padStart(10)}            ${(MiB / 1e6 / (whole.wall / 1000)).toFixed(0).padStart(6)}`,
  );
}

// WebCrypto digest runs on libuv's thread pool (off the event loop): wall time per MiB with
// `depth` digests in flight, and the event loop's own CPU.
for (const depth of [1, 2]) {
  const t0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  let inFlight = [];
  for (let i = 0; i < ROUNDS; i++) {
    inFlight.push(webcrypto.subtle.digest('SHA-256', block));
    if (inFlight.length >= depth) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  const t = process.cpuUsage(t0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e6 / ROUNDS;
  console.log(
    `subtle SHA-256 (thread pool, ${depth} in flight): wall ${wall.toFixed(3)} ms/MiB, process CPU ${((t.user + t.system) / 1000 / ROUNDS).toFixed(3)} ms/MiB`,
  );
}

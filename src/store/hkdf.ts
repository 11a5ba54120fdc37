// HKDF-SHA256 (RFC 5869) to 32 bytes: extract, then one expand block, as two HMACs. The same bytes
// as crypto.hkdfSync at about a third of its cost here (it builds KeyObjects on every call), which
// counts once per small encrypted object (sealed.ts piece keys, s3/sse.ts SSE-C data keys).
import { createHmac } from 'node:crypto';

const ONE = Buffer.from([1]);

/** HKDF-SHA256(ikm, salt, info) → 32 bytes; `info` is given in parts (strings as UTF-8), joined. */
export function hkdf32(ikm: Buffer, salt: Buffer, ...info: (string | Buffer)[]): Buffer {
  const prk = createHmac('sha256', salt).update(ikm).digest();
  const h = createHmac('sha256', prk);
  for (const part of info) h.update(part);
  return h.update(ONE).digest();
}

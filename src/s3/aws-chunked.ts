// aws-chunked request bodies (x-amz-content-sha256: STREAMING-*): a streaming decoder that strips
// the framing, verifies the chained chunk signatures and the signed trailer as the bytes pass, and
// collects the trailer headers (s3-protocol-notes §1.7). Errors: malformed framing (size line not
// hex, no CRLF after data, line over 4 KiB, bytes after the end) and a body that ends before the
// final chunk → 400 IncompleteBody; a wrong or missing chunk/trailer signature → 403
// SignatureDoesNotMatch; malformed trailers → 400 MalformedTrailerError (as S3 answers).
//
//   <hex-size>[;chunk-signature=<64 hex>][;ext]\r\n<data>\r\n ... 0[;chunk-signature=…]\r\n
//   [name:value\r\n ...] [x-amz-trailer-signature:<64 hex>\r\n] \r\n
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { S3Error } from './errors.js';

export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export type StreamingMode = typeof STREAMING_SIGNED | typeof STREAMING_SIGNED_TRAILER | typeof STREAMING_UNSIGNED_TRAILER;

export function isStreamingMode(s: string): s is StreamingMode {
  return s === STREAMING_SIGNED || s === STREAMING_SIGNED_TRAILER || s === STREAMING_UNSIGNED_TRAILER;
}

/** What the chained chunk signatures are computed with (all from the request's SigV4 header). */
export interface ChunkSigning {
  signingKey: Buffer;
  /** The Authorization header's signature: the "previous signature" of the first chunk. */
  seedSignature: string;
  /** `YYYYMMDD/region/s3/aws4_request` */
  scope: string;
  /** `YYYYMMDDTHHMMSSZ` */
  amzDate: string;
}

export interface AwsChunkedOptions {
  /** Require and verify `chunk-signature` on every chunk (the STREAMING-AWS4-HMAC-SHA256-* modes). */
  signing?: ChunkSigning;
  /**
   * `none`: nothing may follow the final chunk but CRLF. `unsigned`: trailer headers, never a
   * signature. `signed`: trailer headers plus a required, verified `x-amz-trailer-signature`.
   */
  trailer: 'none' | 'unsigned' | 'signed';
  /** Decoded bytes allowed in total; a chunk size line going past it answers EntityTooLarge. */
  maxSize: number;
}

/** The options a STREAMING-* mode implies. */
export function decoderOptions(mode: StreamingMode, signing: ChunkSigning | undefined, maxSize: number): AwsChunkedOptions {
  if (mode !== STREAMING_UNSIGNED_TRAILER && !signing) throw new Error(`${mode} needs the request's signing chain`);
  switch (mode) {
    case STREAMING_SIGNED:
      return { signing, trailer: 'none', maxSize };
    case STREAMING_SIGNED_TRAILER:
      return { signing, trailer: 'signed', maxSize };
    case STREAMING_UNSIGNED_TRAILER:
      return { trailer: 'unsigned', maxSize };
  }
}

export interface TrailerHeader {
  /** Lowercased. */
  name: string;
  /** Trimmed. */
  value: string;
}

export const TRAILER_SIGNATURE = 'x-amz-trailer-signature';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const CR = 0x0d;
const LF = 0x0a;
/** A size line with a signature is ~85 bytes; extensions get generous room, garbage does not. */
const MAX_LINE = 4096;
/** All trailer lines together (a checksum and a signature need ~150 bytes). */
const MAX_TRAILER = 16 * 1024;
/** Smaller decoded pieces of one network read are joined before they are handed on. */
const COALESCE_BELOW = 16 * 1024;
const HEX_SIZE = /^[0-9a-fA-F]{1,16}$/;
const HEX_SIGNATURE = /^[0-9a-fA-F]{64}$/;

/** Malformed framing: 400 IncompleteBody (what S3 answers for bodies it cannot decode). */
function framingError(detail: string): S3Error {
  return new S3Error('IncompleteBody', `The request body is not valid aws-chunked encoding: ${detail}.`);
}

function trailerError(detail: string): S3Error {
  return new S3Error(
    'MalformedTrailerError',
    `The request contained trailing data that was not well-formed or did not conform to our published schema: ${detail}.`,
  );
}

function signatureError(detail: string): S3Error {
  return new S3Error('SignatureDoesNotMatch', `The chunk signature we calculated does not match the signature you provided: ${detail}.`);
}

/** Constant-time comparison of two hex signatures (case-insensitive, any length). */
function sameHex(expectedLowerHex: string, provided: string): boolean {
  const a = Buffer.from(expectedLowerHex, 'latin1');
  const b = Buffer.from(provided.toLowerCase(), 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

function chunkSignature(s: ChunkSigning, previous: string, chunkSha256Hex: string): string {
  const sts = `AWS4-HMAC-SHA256-PAYLOAD\n${s.amzDate}\n${s.scope}\n${previous}\n${EMPTY_SHA256}\n${chunkSha256Hex}`;
  return createHmac('sha256', s.signingKey).update(sts, 'latin1').digest('hex');
}

function trailerSignature(s: ChunkSigning, previous: string, trailerSha256Hex: string): string {
  const sts = `AWS4-HMAC-SHA256-TRAILER\n${s.amzDate}\n${s.scope}\n${previous}\n${trailerSha256Hex}`;
  return createHmac('sha256', s.signingKey).update(sts, 'latin1').digest('hex');
}

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

/**
 * One aws-chunked body. `decode(source)` yields the payload as subarrays of the source's buffers
 * (small pieces of one read are joined) and throws an S3Error as soon as the framing or a
 * signature is wrong — at the latest before it returns, so a consumer that commits only after a
 * clean end never commits a bad body. `trailers` is complete once `decode` has returned.
 */
export class AwsChunkedDecoder {
  readonly trailers: TrailerHeader[] = [];
  /** Number of chunks, the final empty one included (for tests and logs). */
  chunks = 0;

  constructor(private readonly opts: AwsChunkedOptions) {}

  async *decode(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer, void, undefined> {
    const { signing, maxSize } = this.opts;
    let state: State = 'size';
    /** A line split across reads (bounded by MAX_LINE). */
    let partial: Buffer | undefined;
    let remaining = 0;
    let crlfSeen = 0;
    let total = 0;
    let trailerBytes = 0;
    let chunkHash: Hash | undefined;
    let chunkSig = '';
    let previousSig = signing?.seedSignature.toLowerCase() ?? '';
    /** Trailer lines other than the signature, each `line\n`, for the trailer string-to-sign. */
    const signedTrailerLines: Buffer[] = [];
    let trailerSig: string | undefined;
    const small: Buffer[] = [];
    let smallBytes = 0;

    const verifyChunk = (): void => {
      if (!signing) return;
      const expected = chunkSignature(signing, previousSig, chunkHash ? chunkHash.digest('hex') : EMPTY_SHA256);
      if (!sameHex(expected, chunkSig)) throw signatureError(`chunk ${this.chunks}`);
      previousSig = expected;
    };

    /** Handles a size line; returns the next state. */
    const onSizeLine = (line: Buffer): State => {
      const text = line.toString('latin1');
      const parts = text.split(';');
      const sizeText = (parts[0] ?? '').trim();
      if (!HEX_SIZE.test(sizeText)) throw framingError(`invalid chunk size line "${text.slice(0, 40)}"`);
      const size = Number.parseInt(sizeText, 16);
      chunkSig = '';
      for (let i = 1; i < parts.length; i++) {
        const ext = parts[i]!; // i < parts.length
        const eq = ext.indexOf('=');
        const name = (eq < 0 ? ext : ext.slice(0, eq)).trim().toLowerCase();
        if (name === '') throw framingError('empty chunk extension');
        if (name === 'chunk-signature') chunkSig = eq < 0 ? '' : ext.slice(eq + 1).trim();
      }
      this.chunks += 1;
      if (signing && !HEX_SIGNATURE.test(chunkSig)) throw signatureError(`chunk ${this.chunks} has no valid chunk-signature`);
      total += size;
      if (total > maxSize) throw new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: maxSize });
      if (size === 0) {
        // The final chunk: signed over empty data; what follows is the trailer section.
        chunkHash = undefined;
        verifyChunk();
        return 'trailer';
      }
      remaining = size;
      chunkHash = signing ? createHash('sha256') : undefined;
      return 'data';
    };

    /** Handles a line after the final chunk; returns the next state. */
    const onTrailerLine = (line: Buffer): State => {
      if (line.length === 0) {
        finishTrailers();
        return 'done';
      }
      trailerBytes += line.length + 2;
      if (trailerBytes > MAX_TRAILER) throw trailerError('the trailer is too large');
      if (this.opts.trailer === 'none') throw trailerError('trailing headers are not allowed with this x-amz-content-sha256');
      const text = line.toString('latin1');
      const colon = text.indexOf(':');
      const name = colon < 0 ? '' : text.slice(0, colon).trim().toLowerCase();
      if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw trailerError(`invalid trailer line "${text.slice(0, 40)}"`);
      const value = text.slice(colon + 1).trim();
      if (name === TRAILER_SIGNATURE) {
        if (trailerSig !== undefined) throw trailerError('x-amz-trailer-signature given twice');
        trailerSig = value;
        return 'trailer';
      }
      if (this.trailers.some((t) => t.name === name)) throw trailerError(`${name} given twice`);
      this.trailers.push({ name, value });
      signedTrailerLines.push(line, Buffer.from('\n'));
      return 'trailer';
    };

    const finishTrailers = (): void => {
      // Unsigned trailers never need (nor get checked against) a signature.
      if (this.opts.trailer !== 'signed' || !signing) return;
      if (trailerSig === undefined || !HEX_SIGNATURE.test(trailerSig)) throw signatureError('missing or malformed x-amz-trailer-signature');
      const hash = createHash('sha256');
      for (const b of signedTrailerLines) hash.update(b);
      const expected = trailerSignature(signing, previousSig, hash.digest('hex'));
      if (!sameHex(expected, trailerSig)) throw signatureError('trailer');
    };

    /** A complete line (CRLF removed) for the current line state. */
    const onLine = (line: Buffer): State => (state === 'size' ? onSizeLine(line) : onTrailerLine(line));

    for await (const buf of source) {
      let pos = 0;
      const len = buf.length;
      while (pos < len) {
        if (state === 'data') {
          const n = Math.min(remaining, len - pos);
          const piece = buf.subarray(pos, pos + n);
          pos += n;
          remaining -= n;
          chunkHash?.update(piece);
          if (remaining === 0) state = 'data-crlf';
          if (piece.length >= COALESCE_BELOW) {
            if (smallBytes > 0) {
              yield small.length === 1 ? small[0]! : Buffer.concat(small, smallBytes);
              small.length = 0;
              smallBytes = 0;
            }
            yield piece;
          } else {
            small.push(piece);
            smallBytes += piece.length;
          }
          continue;
        }
        if (state === 'data-crlf') {
          if (buf[pos] !== (crlfSeen === 0 ? CR : LF)) throw framingError(`chunk ${this.chunks} is not followed by CRLF`);
          pos += 1;
          if (++crlfSeen === 2) {
            crlfSeen = 0;
            verifyChunk();
            state = 'size';
          }
          continue;
        }
        if (state === 'done') {
          // Tolerate stray line ends after the end; anything else is not ours to store or ignore.
          if (buf[pos] !== CR && buf[pos] !== LF) throw framingError('data after the final chunk');
          pos += 1;
          continue;
        }
        // 'size' | 'trailer': a CRLF-terminated line, possibly split across reads.
        const have = partial?.length ?? 0;
        const window = Math.min(len, pos + MAX_LINE + 2 - have);
        const lf = buf.subarray(pos, window).indexOf(LF);
        if (lf < 0) {
          if (window < len || have + (len - pos) > MAX_LINE + 1) throw framingError('line too long');
          const rest = buf.subarray(pos);
          partial = partial ? Buffer.concat([partial, rest]) : Buffer.from(rest);
          pos = len;
          continue;
        }
        const end = pos + lf;
        let line = partial ? Buffer.concat([partial, buf.subarray(pos, end)]) : buf.subarray(pos, end);
        partial = undefined;
        pos = end + 1;
        if (line.length === 0 || line[line.length - 1] !== CR) throw framingError('line not terminated by CRLF');
        line = line.subarray(0, line.length - 1);
        if (line.length > MAX_LINE) throw framingError('line too long');
        state = onLine(line);
      }
      if (smallBytes > 0) {
        yield small.length === 1 ? small[0]! : Buffer.concat(small, smallBytes);
        small.length = 0;
        smallBytes = 0;
      }
    }

    // End of input. Liberal about a missing last CRLF: an unterminated final line still counts.
    if (partial && (state === 'size' || state === 'trailer')) {
      let line = partial;
      if (line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      partial = undefined;
      state = onLine(line);
    }
    if (state === 'trailer') {
      finishTrailers();
      state = 'done';
    }
    if (state !== 'done') {
      throw new S3Error('IncompleteBody', 'The request body terminated unexpectedly: the final (zero-size) chunk never arrived.');
    }
  }
}

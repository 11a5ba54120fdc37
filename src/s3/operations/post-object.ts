// PostObject (browser HTML form upload) — https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
// The form carries its own credentials (policy + signature fields), so the authenticate stage only
// marks the request and this handler authenticates it from the fields that precede `file`, checks
// the policy, then streams the file (never buffered) through MD5 and the content-length-range into
// the data store. The object is committed only once the whole form has been parsed. A form with
// no policy and no signature is anonymous: stored only where a bucket policy grants everyone
// s3:PutObject (no POST policy conditions then: there is none). Encryption comes from the form's
// x-amz-server-side-encryption* fields (SSE-C, SSE-S3, SSE-KMS as in PutObject's headers), else the
// bucket's default; like every field, they must be covered by the policy's conditions.
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import type busboy from 'busboy';
import { ANONYMOUS } from '../../iam/principal.js';
import type { ObjectMeta } from '../../store/types.js';
import { checkAccess } from '../access.js';
import { formTags } from '../tag-conditions.js';
import { postFormCredentials, verifyWith } from '../auth/authenticate.js';
import { uriEncode } from '../auth/sigv4.js';
import { MAX_OBJECT_SIZE, bodyPolicyViolation } from '../body.js';
import type { ChecksumAlgorithm } from '../checksums.js';
import { CHECKSUM_ALGORITHMS, isChecksumAlgorithm, isValidChecksumValue, newHasher } from '../checksums.js';
import type { BucketRequest, RequestContext, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { parseSseRequest, sealedEtag, sseHeaders, writeEncryption } from '../sse.js';
import { DEFAULT_CONTENT_TYPE, MAX_USER_METADATA, STORAGE_CLASSES } from '../object-meta.js';
import { NO_POST_POLICY, checkPolicyConditions, isAnonymousForm, parsePostPolicy, verifyPostSignature } from '../post-policy.js';
import { extrasFromRequest, withBucketDefaults } from '../version-extras.js';
import { versionIdHeader } from '../object-read.js';

/** Form fields before `file`, names and values together (S3 allows 20 KB; we are a little kinder). */
export const MAX_PRE_DATA = 64 * 1024;
/** A `file` sent as a plain field (no filename) is read as a field value: bounded. */
const MAX_PLAIN_FILE_FIELD = 1024 * 1024;
const MAX_PARTS = 1000;
const NOT_A_FORM = 'Bucket POST must be of the enclosure-type multipart/form-data';

// ---------------------------------------------------------------------------------------------
// Reading the form

interface FormFile {
  stream: Readable;
  filename: string | undefined;
}

interface FormHead {
  /** Fields before `file`, names lowercased. */
  fields: Map<string, string>;
  file?: FormFile;
}

interface FormReader {
  /** Settles at the `file` part (or at the end of a form without one). */
  head: Promise<FormHead>;
  /** Settles when the whole form has been parsed; rejects if it is malformed or cut short. */
  done: Promise<void>;
  /** Stops parsing (idempotent) and discards the rest of the body. */
  dispose(): void;
}

// busboy is loaded on the first POST form (a synchronous require), not at startup.
const requireLazily = createRequire(import.meta.url);

function malformed(detail?: string): S3Error {
  return new S3Error('MalformedPOSTRequest', detail);
}

/**
 * Parses the request as multipart/form-data with busboy. Field names are case-insensitive and each
 * may appear once; parts after `file` are skipped. A part with a filename (or of type
 * application/octet-stream) that is not named `file` is read as an ordinary field — python-requests
 * sends every field that way — and a `file` part without a filename is taken as the file's content.
 */
function readForm(ctx: RequestContext): FormReader {
  if (ctx.bodyPolicy !== 'form') throw bodyPolicyViolation(ctx, 'a form');
  let bb: busboy.Busboy;
  try {
    bb = (requireLazily('busboy') as typeof busboy)({
      headers: ctx.req.headers,
      defParamCharset: 'utf8', // browsers send UTF-8 filenames unescaped
      limits: { fieldSize: MAX_PLAIN_FILE_FIELD, fieldNameSize: 1024, parts: MAX_PARTS },
    });
  } catch (err) {
    throw malformed(`The body of your POST request is not well-formed multipart/form-data: ${(err as Error).message}.`);
  }

  let resolveHead!: (h: FormHead) => void;
  let rejectHead!: (e: unknown) => void;
  let resolveDone!: () => void;
  let rejectDone!: (e: unknown) => void;
  const head = new Promise<FormHead>((res, rej) => {
    resolveHead = res;
    rejectHead = rej;
  });
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  // Whoever awaits them sees the rejection; these only keep an unawaited one from being "unhandled".
  head.catch(() => {});
  done.catch(() => {});

  const fields = new Map<string, string>();
  const pending: Array<Promise<void>> = [];
  let preData = 0;
  let fileSeen = false;
  let failed = false;
  let finished = false;
  let disposed = false;

  const fail = (err: unknown) => {
    if (failed || disposed) return;
    failed = true;
    rejectHead(err);
    rejectDone(err);
    ctx.req.unpipe(bb);
    bb.destroy(err instanceof Error ? err : new Error(String(err)));
  };

  const addField = (name: string, value: string) => {
    preData += Buffer.byteLength(name) + Buffer.byteLength(value);
    if (preData > MAX_PRE_DATA) return fail(new S3Error('MaxPostPreDataLengthExceeded'));
    const lname = name.toLowerCase();
    if (fields.has(lname)) {
      return fail(new S3Error('InvalidArgument', `The form field '${name}' was given more than once.`, { ArgumentName: name }));
    }
    fields.set(lname, value);
  };

  const startFile = (stream: Readable, filename: string | undefined) => {
    fileSeen = true;
    // Fields sent as file parts finish asynchronously: wait for them before handing out the head.
    void Promise.all(pending).then(() => {
      if (!failed) resolveHead({ fields, file: { stream, filename } });
    });
  };

  bb.on('field', (name: string, value: string, info: busboy.FieldInfo) => {
    if (fileSeen || failed) return;
    if (name.toLowerCase() === 'file') {
      if (info.valueTruncated) {
        return fail(
          new S3Error('InvalidArgument', `A 'file' field without a filename may hold at most ${MAX_PLAIN_FILE_FIELD} bytes; send the file with a filename.`, {
            ArgumentName: 'file',
          }),
        );
      }
      startFile(Readable.from([Buffer.from(value, 'utf8')]), undefined);
      return;
    }
    if (info.nameTruncated || info.valueTruncated) return fail(new S3Error('MaxPostPreDataLengthExceeded'));
    addField(name, value);
  });

  bb.on('file', (name: string, stream: Readable, info: busboy.FileInfo) => {
    // busboy destroys a part's stream with the form's error (truncated body...): the form's own
    // 'error' reports it, and whoever reads the stream sees it; it must never go unhandled.
    stream.on('error', () => {});
    if (fileSeen || failed) {
      stream.resume(); // parts after `file` are ignored (drained)
      return;
    }
    if (name.toLowerCase() === 'file') {
      startFile(stream, info.filename);
      return;
    }
    pending.push(
      new Promise<void>((resolve) => {
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (preData + size > MAX_PRE_DATA) fail(new S3Error('MaxPostPreDataLengthExceeded'));
          else chunks.push(chunk);
        });
        stream.on('end', () => {
          if (!failed) addField(name, Buffer.concat(chunks).toString('utf8'));
          resolve();
        });
        stream.on('error', () => resolve());
      }),
    );
  });

  bb.on('partsLimit', () => fail(malformed(`A POST form may have at most ${MAX_PARTS} parts.`)));
  bb.on('error', (err: unknown) => fail(err instanceof S3Error ? err : malformed()));
  bb.on('finish', () => {
    finished = true;
    void Promise.all(pending).then(() => {
      if (failed) return;
      if (!fileSeen) resolveHead({ fields });
      resolveDone();
    });
  });

  const onAbort = () => fail(ctx.signal.reason ?? new Error('request aborted'));
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  ctx.req.pipe(bb);

  return {
    head,
    done,
    dispose() {
      if (disposed) return;
      ctx.signal.removeEventListener('abort', onAbort);
      disposed = true;
      if (!finished && !failed) {
        ctx.req.unpipe(bb);
        bb.destroy();
      }
      // Discard what the client still sends, so a small rest cannot be read as the next request on
      // a kept-alive connection (the pipeline closes the connection after a large unread rest).
      if (!ctx.req.readableEnded) ctx.req.resume();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Fields → object metadata

/** A field value as a header value: no line breaks; UTF-8 bytes as a latin1 string, as Node hands headers over. */
function headerValue(name: string, value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new S3Error('InvalidArgument', `The form field '${name}' must not contain line breaks.`, { ArgumentName: name });
  }
  return Buffer.from(value.trim(), 'utf8').toString('latin1');
}

const META_PREFIX = 'x-amz-meta-';

/** Content-* fields and x-amz-meta-* of a form (the same as PutObject takes from headers). */
function metaFromForm(fields: ReadonlyMap<string, string>): ObjectMeta {
  const user: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of fields) {
    if (!name.startsWith(META_PREFIX)) continue;
    const short = name.slice(META_PREFIX.length);
    size += Buffer.byteLength(short) + Buffer.byteLength(value.trim());
    user[short] = headerValue(name, value);
  }
  if (size > MAX_USER_METADATA) {
    throw new S3Error('MetadataTooLarge', undefined, { Size: size, MaxSizeAllowed: MAX_USER_METADATA });
  }
  const meta: ObjectMeta = { user };
  const ct = fields.get('content-type');
  meta.contentType = ct === undefined || ct.trim() === '' ? DEFAULT_CONTENT_TYPE : headerValue('Content-Type', ct);
  const set = (field: keyof Omit<ObjectMeta, 'user' | 'checksums'>, name: string) => {
    const v = fields.get(name);
    if (v !== undefined && v.trim() !== '') meta[field] = headerValue(name, v);
  };
  set('cacheControl', 'cache-control');
  set('contentDisposition', 'content-disposition');
  set('contentEncoding', 'content-encoding');
  set('contentLanguage', 'content-language');
  set('expires', 'expires');
  return meta;
}

function storageClassFromForm(fields: ReadonlyMap<string, string>): string {
  const v = fields.get('x-amz-storage-class');
  if (v === undefined || v === '') return 'STANDARD';
  if (!STORAGE_CLASSES.has(v)) throw new S3Error('InvalidStorageClass', undefined, { StorageClassRequested: v });
  return v;
}

/**
 * The checksum a form asks for, validated like the header form (body.ts): an x-amz-checksum-<alg>
 * field (at most one; not base64 of the digest size → InvalidRequest), and/or x-amz-checksum-algorithm
 * (an unknown name → InvalidRequest; naming another algorithm than the value field → InvalidRequest).
 * With only the algorithm field, the server computes that checksum and stores it (there is no
 * trailer in a form to carry the value).
 */
function checksumFromForm(fields: ReadonlyMap<string, string>): { alg: ChecksumAlgorithm; value?: string } | undefined {
  let found: { alg: ChecksumAlgorithm; value?: string } | undefined;
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = fields.get(`x-amz-checksum-${alg}`)?.trim();
    if (v === undefined) continue;
    if (found) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    if (!isValidChecksumValue(alg, v)) throw new S3Error('InvalidRequest', `Value for x-amz-checksum-${alg} header is invalid.`);
    found = { alg, value: v };
  }
  const declared = fields.get('x-amz-checksum-algorithm')?.trim().toLowerCase();
  if (declared !== undefined && declared !== '') {
    if (!isChecksumAlgorithm(declared)) {
      throw new S3Error(
        'InvalidRequest',
        'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
      );
    }
    if (found && found.alg !== declared) throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-algorithm header is invalid.');
    found ??= { alg: declared };
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The handler

export async function postObject(ctx: BucketRequest): Promise<S3Response> {
  const credentials = postFormCredentials(ctx.auth);
  // Without the marker the request was a header-authenticated POST /bucket that is not a form.
  if (credentials === undefined) throw new S3Error('PreconditionFailed', NOT_A_FORM, { Condition: NOT_A_FORM });
  const bucket = ctx.bucket;
  // The form's credentials are in its body: with Expect: 100-continue only the bucket (loaded by
  // the pipeline) can be checked first.
  await ctx.continueBody?.();

  const form = readForm(ctx);
  try {
    const { fields, file } = await form.head;
    // Authenticate before anything else is looked at; from here on ctx.auth is a real result.
    // A form with no policy and no signature is anonymous: a bucket policy may grant it s3:PutObject.
    const anonymous = isAnonymousForm(fields);
    if (anonymous) {
      ctx.auth = undefined;
      ctx.principal = ANONYMOUS;
    } else {
      const hint = fields.get('x-amz-credential')?.split('/')[0] ?? fields.get('awsaccesskeyid');
      const authenticated = await verifyWith(credentials, hint, (lookup) => verifyPostSignature(fields, lookup, { region: ctx.config.region }));
      ctx.auth = authenticated.auth;
      ctx.principal = authenticated.principal;
    }
    if (file === undefined) {
      throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', { ArgumentName: 'file', ArgumentValue: 0 });
    }
    const policy = anonymous ? NO_POST_POLICY : parsePostPolicy(fields.get('policy')!, Date.now());

    const rawKey = fields.get('key');
    if (rawKey === undefined) {
      throw new S3Error('InvalidArgument', "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", {
        ArgumentName: 'key',
        ArgumentValue: '',
      });
    }
    const key = rawKey.split('${filename}').join(file.filename ?? '');
    if (key === '') throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', { ArgumentName: 'key', ArgumentValue: '' });
    if (Buffer.byteLength(key) > 1024) {
      throw new S3Error('KeyTooLongError', undefined, { Size: Buffer.byteLength(key), MaxSizeAllowed: 1024 });
    }
    // The authorize stage, for a form (its principal is known only now): s3:PutObject on the object.
    await checkAccess(ctx, ['s3:PutObject'], { kind: 'object', bucket, key, owner: ctx.bucketRecord.owner }, undefined, { requestTags: formTags(fields) });
    // Conditions see the bucket of the URL and the key after ${filename} substitution (as S3 does).
    const condFields = new Map(fields);
    condFields.set('bucket', bucket);
    condFields.set('key', key);
    if (!anonymous) checkPolicyConditions(policy, condFields);

    const meta = metaFromForm(fields);
    const storageClass = storageClassFromForm(fields);
    // Tags and object lock from the form's fields (tagging, x-amz-object-lock-*), before the file is read.
    const extras = await withBucketDefaults(ctx, ctx.bucketRecord, extrasFromRequest({ kind: 'form', fields }, ctx.bucketRecord));
    const checksum = checksumFromForm(fields);
    const encryption = await writeEncryption(
      ctx,
      bucket,
      key,
      parseSseRequest(ctx, (name) => fields.get(name)?.trim()),
    );
    const maxLength = Math.min(policy.maxLength, MAX_OBJECT_SIZE);

    const md5 = createHash('md5');
    const sum = checksum ? newHasher(checksum.alg) : undefined;
    let size = 0;
    let computedChecksum: string | undefined;
    async function* fileChunks(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of file!.stream as AsyncIterable<Buffer>) yield chunk;
      } catch (err) {
        // The part's stream fails only when the form does (truncated body, client gone): report
        // the form's S3 error (MalformedPOSTRequest...), which busboy's 'error' delivers next.
        throw await form.done.then(
          () => err,
          (formErr: unknown) => formErr,
        );
      }
    }
    async function* source(): AsyncGenerator<Buffer> {
      for await (const chunk of fileChunks()) {
        size += chunk.length;
        if (size > maxLength) {
          throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { MaxSizeAllowed: maxLength });
        }
        md5.update(chunk);
        sum?.update(chunk);
        yield chunk;
      }
      if (size < policy.minLength) {
        throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
          ProposedSize: size,
          MinSizeAllowed: policy.minLength,
        });
      }
      if (checksum && sum) {
        const actual = await sum.digest();
        if (checksum.value !== undefined && actual !== checksum.value) {
          throw new S3Error('BadDigest', `The ${checksum.alg.toUpperCase()} you specified did not match the calculated checksum.`);
        }
        computedChecksum = actual;
      }
      // The rest of the form must be well-formed before the object may exist: verdicts come before
      // the data store renames, so a failure here leaves nothing behind.
      await form.done;
    }

    const bytes = await ctx.store.writeObjectData(source(), ctx.signal, encryption?.key, storageClass);
    if (checksum && computedChecksum !== undefined) meta.checksums = { [checksum.alg]: computedChecksum };
    const etag = sealedEtag(encryption?.stored, encryption?.key, md5.digest('hex'));
    const sse = encryption !== undefined ? { sse: encryption.stored } : {};
    const record = await ctx.store.commitObject({ bucket, key, size: size, etag, storageClass, meta, ...bytes, ...extras, ...sse });
    const res = successResponse(ctx, fields, bucket, key, record.etag);
    res.headers = { ...res.headers, ...versionIdHeader(record), ...sseHeaders(record.sse, ctx.config.region) };
    return res;
  } finally {
    form.dispose();
  }
}

/** success_action_redirect → 303; else success_action_status 200 / 201 (PostResponse XML) / 204 (default). */
function successResponse(ctx: RequestContext, fields: ReadonlyMap<string, string>, bucket: string, key: string, etag: string): S3Response {
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect !== undefined && isHttpUrl(redirect)) {
    const query = `bucket=${encodeURIComponent(bucket)}&key=${encodeURIComponent(key)}&etag=${encodeURIComponent(etag)}`;
    return { status: 303, headers: { location: `${redirect}${redirect.includes('?') ? '&' : '?'}${query}`, etag } };
  }
  const proto = (ctx.req.socket as TLSSocket).encrypted ? 'https' : 'http';
  // rawPath is '/bucket' (path style) or '/' (virtual-hosted): the object lives under it.
  const location = `${proto}://${ctx.headers.host ?? 'localhost'}${ctx.rawPath.replace(/\/+$/, '')}/${uriEncode(key, false)}`;
  const headers = { etag, location };
  switch (fields.get('success_action_status')) {
    case '200':
      return { status: 200, headers };
    case '201':
      return {
        status: 201,
        headers,
        body: { root: 'PostResponse', namespace: false, content: { Location: location, Bucket: bucket, Key: key, ETag: etag } },
      };
    default:
      return { status: 204, headers };
  }
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

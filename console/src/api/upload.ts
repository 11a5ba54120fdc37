// Uploads from the browser through /api/s3, with progress: XMLHttpRequest (fetch reports no upload
// progress). Files up to MULTIPART_THRESHOLD go in one PutObject; larger ones as a multipart upload
// of PART_SIZE parts, PARTS_IN_FLIGHT at a time, each part retried up to PART_RETRIES times, and the
// upload aborted (AbortMultipartUpload) when cancelled or failed. An UploadQueue runs many files
// (a dropped folder) FILES_IN_FLIGHT at a time and tells its listeners, at most once a frame.
import { ApiError, CONSOLE_HEADER, reportSessionLost } from './api';
import { parseXml, s3Url, s3Xml, xmlText } from './s3';

const MiB = 1024 * 1024;
export const MULTIPART_THRESHOLD = 16 * MiB;
export const PART_SIZE = 8 * MiB;
export const PARTS_IN_FLIGHT = 3;
export const PART_RETRIES = 3;
export const FILES_IN_FLIGHT = 4;
const MAX_PARTS = 10_000;

class Cancelled extends Error {
  constructor() {
    super('Cancelled');
    this.name = 'Cancelled';
  }
}

function errorFromXhr(xhr: XMLHttpRequest): ApiError {
  const text = xhr.responseText ?? '';
  if (text.startsWith('<')) {
    const doc = parseXml(text);
    const code = xmlText(doc, 'Code');
    if (code) return new ApiError(code, xmlText(doc, 'Message') ?? code, xhr.status);
  }
  if (xhr.status === 0) return new ApiError('NetworkError', 'The connection to the server failed', 0);
  return new ApiError(`HTTP${xhr.status}`, text || xhr.statusText, xhr.status);
}

/** One PUT with upload progress; resolves with the answer's ETag. */
function xhrPut(url: string, body: Blob, headers: Record<string, string>, onProgress: (loaded: number) => void, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Cancelled());
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.withCredentials = true;
    for (const [k, v] of Object.entries({ ...CONSOLE_HEADER, ...headers })) xhr.setRequestHeader(k, v);
    const onAbort = () => xhr.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      signal.removeEventListener('abort', onAbort);
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size);
        resolve(xhr.getResponseHeader('etag') ?? '');
      } else {
        if (xhr.status === 401) reportSessionLost();
        reject(errorFromXhr(xhr));
      }
    };
    xhr.onerror = () => {
      signal.removeEventListener('abort', onAbort);
      reject(errorFromXhr(xhr));
    };
    xhr.onabort = () => reject(new Cancelled());
    xhr.send(body);
  });
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(new Cancelled())), { once: true });
  });

/** Parts of at least PART_SIZE, grown in whole MiB so that no file needs more than 10,000. */
export function partSizeFor(size: number): number {
  return Math.max(PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

async function multipart(
  bucket: string,
  key: string,
  file: Blob,
  contentType: string,
  onProgress: (loaded: number) => void,
  signal: AbortSignal,
): Promise<void> {
  const created = await s3Xml('POST', { bucket, key, query: { uploads: '' }, headers: { 'content-type': contentType }, signal });
  const uploadId = xmlText(created, 'UploadId');
  if (!uploadId) throw new ApiError('InternalError', 'CreateMultipartUpload answered no UploadId', 200);
  const partSize = partSizeFor(file.size);
  const count = Math.max(1, Math.ceil(file.size / partSize));
  const loaded = new Array<number>(count).fill(0);
  const etags = new Array<string>(count);
  const report = () => onProgress(loaded.reduce((a, b) => a + b, 0));
  // A failed part cancels the rest (its siblings would be wasted), then the upload is aborted.
  const inner = new AbortController();
  const stop = () => inner.abort();
  signal.addEventListener('abort', stop, { once: true });
  let next = 0;
  const worker = async () => {
    try {
      await partsLoop();
    } catch (e) {
      stop();
      throw e;
    }
  };
  const partsLoop = async () => {
    while (next < count) {
      const i = next++;
      const part = file.slice(i * partSize, Math.min(file.size, (i + 1) * partSize));
      const url = s3Url(bucket, key, { partNumber: String(i + 1), uploadId });
      for (let attempt = 1; ; attempt++) {
        try {
          etags[i] = await xhrPut(url, part, {}, (n) => ((loaded[i] = n), report()), inner.signal);
          break;
        } catch (e) {
          loaded[i] = 0;
          report();
          if (
            e instanceof Cancelled ||
            attempt > PART_RETRIES ||
            (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429)
          ) {
            throw e;
          }
          await sleep(400 * 2 ** (attempt - 1), inner.signal);
        }
      }
    }
  };
  try {
    const workers = Array.from({ length: Math.min(PARTS_IN_FLIGHT, count) }, worker);
    const results = await Promise.allSettled(workers);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    // The part that failed first, rather than the siblings it cancelled.
    if (failed.length > 0) throw failed.find((e) => !(e instanceof Cancelled)) ?? failed[0];
    const body =
      '<CompleteMultipartUpload>' +
      etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join('') +
      '</CompleteMultipartUpload>';
    const done = await s3Xml('POST', { bucket, key, query: { uploadId }, headers: { 'content-type': 'application/xml' }, body, signal });
    // CompleteMultipartUpload may answer 200 with an error document.
    if (done.documentElement.tagName === 'Error') {
      const code = xmlText(done, 'Code') ?? 'InternalError';
      throw new ApiError(code, xmlText(done, 'Message') ?? code, 200);
    }
  } catch (e) {
    stop();
    // Best effort: the parts already stored are freed; a failure here leaves them to lifecycle rules.
    await fetch(s3Url(bucket, key, { uploadId }), { method: 'DELETE', credentials: 'same-origin', headers: { ...CONSOLE_HEADER } }).catch(() => undefined);
    throw e;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/** Uploads one file to bucket/key, multipart when large. Rejects with ApiError, or `Cancelled` on abort. */
export async function uploadFile(bucket: string, key: string, file: File, onProgress: (loaded: number) => void, signal: AbortSignal): Promise<void> {
  const contentType = file.type || 'application/octet-stream';
  if (file.size > MULTIPART_THRESHOLD) return multipart(bucket, key, file, contentType, onProgress, signal);
  await xhrPut(s3Url(bucket, key), file, { 'content-type': contentType }, onProgress, signal);
}

export type UploadStatus = 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';

export interface UploadItem {
  id: number;
  bucket: string;
  key: string;
  size: number;
  loaded: number;
  status: UploadStatus;
  multipart: boolean;
  error?: { code: string; message: string };
}

interface Job {
  item: UploadItem;
  file: File;
  abort: AbortController;
}

/** The path of a file inside what was dropped or picked: "folder/sub/a.txt" for a folder, else its name. */
export function relativePath(file: File): string {
  const p = file.webkitRelativePath || (file as File & { path?: string }).path || file.name;
  return p.replace(/^(\.\/|\/)+/, '');
}

/** Runs uploads FILES_IN_FLIGHT at a time; `subscribe` tells of changes (batched to one a frame). */
export class UploadQueue {
  private jobs: Job[] = [];
  private nextId = 1;
  private running = 0;
  private listeners = new Set<() => void>();
  private scheduled = false;
  private snapshot: UploadItem[] = [];
  /** Called once each time a file finishes (the browser reloads its listing). */
  onFileDone?: (item: UploadItem) => void;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getSnapshot = (): UploadItem[] => this.snapshot;

  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const flush = () => {
      this.scheduled = false;
      this.snapshot = this.jobs.map((j) => ({ ...j.item }));
      for (const fn of this.listeners) fn();
    };
    if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') requestAnimationFrame(flush);
    else setTimeout(flush, 50);
  }

  add(bucket: string, prefix: string, files: File[]): void {
    for (const file of files) {
      this.jobs.push({
        file,
        abort: new AbortController(),
        item: {
          id: this.nextId++,
          bucket,
          key: prefix + relativePath(file),
          size: file.size,
          loaded: 0,
          status: 'queued',
          multipart: file.size > MULTIPART_THRESHOLD,
        },
      });
    }
    this.changed();
    this.pump();
  }

  private pump(): void {
    while (this.running < FILES_IN_FLIGHT) {
      const job = this.jobs.find((j) => j.item.status === 'queued');
      if (!job) return;
      this.running++;
      job.item.status = 'uploading';
      this.changed();
      uploadFile(job.item.bucket, job.item.key, job.file, (n) => ((job.item.loaded = n), this.changed()), job.abort.signal)
        .then(
          () => {
            job.item.status = 'done';
            job.item.loaded = job.item.size;
            this.onFileDone?.(job.item);
          },
          (e: unknown) => {
            if (e instanceof Cancelled || job.abort.signal.aborted) job.item.status = 'cancelled';
            else {
              job.item.status = 'failed';
              job.item.error = e instanceof ApiError ? { code: e.code, message: e.message } : { code: 'Error', message: String(e) };
            }
          },
        )
        .finally(() => {
          this.running--;
          this.changed();
          this.pump();
        });
    }
  }

  cancel(id: number): void {
    const job = this.jobs.find((j) => j.item.id === id);
    if (!job) return;
    if (job.item.status === 'queued') job.item.status = 'cancelled';
    job.abort.abort();
    this.changed();
  }

  cancelAll(): void {
    for (const j of this.jobs) if (j.item.status === 'queued' || j.item.status === 'uploading') this.cancel(j.item.id);
  }

  /** Puts failed and cancelled files back in the queue. */
  retryFailed(): void {
    for (const j of this.jobs) {
      if (j.item.status === 'failed' || j.item.status === 'cancelled') {
        j.abort = new AbortController();
        j.item.status = 'queued';
        j.item.loaded = 0;
        j.item.error = undefined;
      }
    }
    this.changed();
    this.pump();
  }

  /** Forgets finished files (done, failed, cancelled). */
  clearFinished(): void {
    this.jobs = this.jobs.filter((j) => j.item.status === 'queued' || j.item.status === 'uploading');
    this.changed();
  }
}

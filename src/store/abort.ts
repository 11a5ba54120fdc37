// Reading an async source that may hang (a request body whose client stopped sending) under an abort signal.

/** Resolves with the next item of `it`, or rejects as soon as `signal` aborts (even if the source hangs). */
export function nextOrAbort<T>(it: AsyncIterator<T>, signal?: AbortSignal): Promise<IteratorResult<T>> {
  if (!signal) return it.next();
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    it.next().then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Lets a source release its resources (a generator's finally) without waiting for it: it may be mid-read. */
export function closeSource(it: AsyncIterator<unknown>): void {
  void Promise.resolve(it.return?.()).catch(() => {});
}

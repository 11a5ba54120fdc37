// One page of a folder's listing (ListObjectsV2 with delimiter '/'), paged by continuation token:
// the tokens of the pages already seen are kept so Previous works, and nothing is listed beyond
// the page shown, so a bucket of a million keys costs the same as one of a hundred.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiError } from '../../api/api';
import { listObjects, type ListPage } from '../../api/s3';

export interface Listing {
  page?: ListPage;
  loading: boolean;
  error?: ApiError;
  /** 1-based number of the page shown. */
  pageNumber: number;
  hasNext: boolean;
  hasPrevious: boolean;
  next: () => void;
  previous: () => void;
  first: () => void;
  reload: () => void;
}

export function useListing(bucket: string, prefix: string, pageSize: number): Listing {
  // tokens[i] is the continuation token that loads page i + 1 (undefined for the first).
  // Kept with the folder/page size they belong to: another scope starts again at the first page.
  const scope = `${bucket}\n${prefix}\n${pageSize}`;
  const [state, setState] = useState<{ scope: string; tokens: (string | undefined)[] }>({ scope, tokens: [undefined] });
  const tokens = state.scope === scope ? state.tokens : [undefined];
  const setTokens = useCallback(
    (f: (t: (string | undefined)[]) => (string | undefined)[]) => setState((s) => ({ scope, tokens: f(s.scope === scope ? s.tokens : [undefined]) })),
    [scope],
  );
  const [page, setPage] = useState<ListPage | undefined>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | undefined>();
  const [generation, setGeneration] = useState(0);
  const seq = useRef(0);

  const token = tokens[tokens.length - 1];
  // biome-ignore lint/correctness/useExhaustiveDependencies: generation forces a reload
  useEffect(() => {
    const mine = ++seq.current;
    setLoading(true);
    listObjects(bucket, { prefix, delimiter: '/', token, maxKeys: pageSize }).then(
      (p) => {
        if (mine !== seq.current) return;
        setPage(p);
        setError(undefined);
        setLoading(false);
      },
      (e: ApiError) => {
        if (mine !== seq.current) return;
        setError(e);
        setPage(undefined);
        setLoading(false);
      },
    );
  }, [bucket, prefix, pageSize, token, generation]);

  const nextToken = page?.truncated ? page.nextToken : undefined;
  return {
    page,
    loading,
    error,
    pageNumber: tokens.length,
    hasNext: nextToken !== undefined,
    hasPrevious: tokens.length > 1,
    next: useCallback(() => nextToken && setTokens((t) => [...t, nextToken]), [nextToken, setTokens]),
    previous: useCallback(() => setTokens((t) => (t.length > 1 ? t.slice(0, -1) : t)), [setTokens]),
    first: useCallback(() => setTokens(() => [undefined]), [setTokens]),
    reload: useCallback(() => setGeneration((g) => g + 1), []),
  };
}

// One page of a folder's listing (ListObjectsV2 with delimiter '/'), paged by continuation token:
// the tokens of the pages already seen are kept so Previous works, and nothing is listed beyond
// the page shown, so a bucket of a million keys costs the same as one of a hundred.
import { useCallback, useState } from 'react';
import type { ApiError } from '../../api/api';
import { listObjects, type ListPage } from '../../api/s3';
import { useLoad } from '../../lib/use-load';

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
  const token = tokens[tokens.length - 1];
  const {
    data: page,
    error,
    loading,
    reload,
  } = useLoad(() => listObjects(bucket, { prefix, delimiter: '/', token, maxKeys: pageSize }), [bucket, prefix, pageSize, token]);

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
    reload,
  };
}

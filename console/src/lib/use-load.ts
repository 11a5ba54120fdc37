// Loads data for a page: { data, error, loading, reload }. A reload keeps the previous data on
// screen while it runs; an answer that arrives after a newer request started is dropped.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiError } from '../api/api';
import { asApiError } from './errors';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller's deps decide when to load again
  useEffect(() => {
    const mine = ++seq.current;
    setLoading(true);
    load().then(
      (d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (mine !== seq.current) return;
        setError(asApiError(e));
        setLoading(false);
      },
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/**
 * A loaded value the page edits: `value` starts as `initial`, takes each loaded value, and is
 * changed by `setValue` until the next load (a settings form: edit, save, reload).
 */
export function useEditable<T>(load: () => Promise<T>, deps: readonly unknown[], initial: T): Loaded<T> & { value: T; setValue: (v: T) => void } {
  const loaded = useLoad(load, deps);
  const [value, setValue] = useState<T>(initial);
  useEffect(() => {
    if (loaded.data !== undefined) setValue(loaded.data);
  }, [loaded.data]);
  return { ...loaded, value, setValue };
}

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';

export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  /** Loads again (after a change, or from an error's "Try again"). */
  reload(): void;
}

/**
 * Loads data for a screen and keeps the last result while reloading. A newer load aborts the
 * older one, so a slow answer never overwrites a newer search.
 *
 * @example
 * ```ts
 * const apis = useResource((signal) => api.get<ApiList>('/api/am/publisher/v4/apis', { query: { query }, signal }), [query]);
 * if (apis.error) return <ErrorState error={apis.error} onRetry={apis.reload} />;
 * ```
 */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  useLayoutEffect(() => {
    loadRef.current = load;
  });
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ data, error: undefined, loading: false }),
      (error: unknown) => !controller.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => controller.abort();
    // The caller lists what the load depends on (`deps`), as with useEffect.
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

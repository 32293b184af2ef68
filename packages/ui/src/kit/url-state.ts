import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';

/**
 * A value kept in the URL's query string (`?query=pets`), so a search survives a reload and a
 * shared link. Setting '' removes the parameter.
 */
export function useSearchParam(name: string): [string, (value: string) => void] {
  const [params, setParams] = useSearchParams();
  const value = params.get(name) ?? '';
  const set = (next: string) =>
    setParams(
      (prev) => {
        const p = new URLSearchParams(prev);
        if (next === '') p.delete(name);
        else p.set(name, next);
        return p;
      },
      { replace: true },
    );
  return [value, set];
}

/** The value once it has not changed for `ms` (search as you type without a request per key). */
export function useDebouncedValue<T>(value: T, ms = 300): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return debounced;
}

/**
 * A search box bound to the URL: `text` follows every key, `query` (what to load) follows the
 * URL parameter, which is set once typing pauses.
 *
 * @example
 * ```tsx
 * const search = useSearchQuery();
 * const apis = useResource((signal) => api.get('/api/am/publisher/v4/apis', { query: { query: search.query }, signal }), [search.query]);
 * <DataTable search={{ value: search.text, onChange: search.setText }} ... />
 * ```
 */
export function useSearchQuery(name = 'query', ms = 300): { text: string; setText: (value: string) => void; query: string } {
  const [query, setQuery] = useSearchParam(name);
  const [text, setText] = useState(query);
  const debounced = useDebouncedValue(text, ms);
  useEffect(() => {
    if (debounced !== query) setQuery(debounced);
    // Only typing moves the URL; a URL change (back button) moves the box below.
  }, [debounced]);
  useEffect(() => setText((t) => (t === debounced ? query : t)), [query]);
  return { text, setText, query };
}

/**
 * `useSearchQuery` for a paged list: a new search starts again at the first page.
 *
 * @example
 * ```tsx
 * const search = usePagedSearch();
 * const apis = useResource((signal) => api.get(PATH, { query: { query: search.query, limit: 25, offset: search.offset }, signal }), [search.query, search.offset]);
 * <DataTable search={{ value: search.text, onChange: search.setText, label: 'Search APIs' }} footer={<Pager page={apis.data} onOffset={search.setOffset} />} ... />
 * ```
 */
export function usePagedSearch(name = 'query'): { text: string; setText: (value: string) => void; query: string; offset: number; setOffset: (offset: number) => void } {
  const search = useSearchQuery(name);
  const [offset, setOffset] = useState(0);
  const setText = (value: string) => {
    setOffset(0);
    search.setText(value);
  };
  return { text: search.text, query: search.query, setText, offset, setOffset };
}

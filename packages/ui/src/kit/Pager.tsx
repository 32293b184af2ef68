import { Group, Pagination, Text } from '@mantine/core';

/** WSO2's list answer: `{ count, list, pagination: { offset, limit, total } }`. */
export interface Paginated<T> {
  readonly count: number;
  readonly list: readonly T[];
  readonly pagination?: { readonly offset: number; readonly limit: number; readonly total: number };
}

/** "1–25 of 40" and page buttons for a WSO2 list; `onOffset` loads another page. */
export function Pager({ page, onOffset }: { page: Paginated<unknown> | undefined; onOffset: (offset: number) => void }) {
  const p = page?.pagination;
  if (!page || !p || p.total === 0) return null;
  const pages = Math.max(1, Math.ceil(p.total / p.limit));
  const current = Math.floor(p.offset / p.limit) + 1;
  return (
    <Group justify="space-between" wrap="wrap">
      <Text size="sm" c="dimmed">
        {p.offset + 1}–{p.offset + page.count} of {p.total}
      </Text>
      {pages > 1 && <Pagination total={pages} value={current} onChange={(n) => onOffset((n - 1) * p.limit)} size="sm" getControlProps={(c) => ({ 'aria-label': c === 'previous' ? 'Previous page' : c === 'next' ? 'Next page' : c })} />}
    </Group>
  );
}

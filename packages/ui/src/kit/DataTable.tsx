import type { ReactNode } from 'react';
import { Box, Group, Table, Text, TextInput } from '@mantine/core';
import type { Resource } from './resource.ts';
import { EmptyState, ErrorState, LoadingState } from './states.tsx';

export interface Column<T> {
  /** Stable key of the column. */
  readonly key: string;
  readonly header: ReactNode;
  /** The cell; by default `String(row[key])`. */
  readonly render?: (row: T) => ReactNode;
  readonly width?: number | string;
}

export interface DataTableProps<T> {
  /** Accessible name of the table (also its caption for screen readers). */
  readonly label: string;
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[] | undefined;
  readonly rowKey: (row: T) => string;
  readonly loading?: boolean;
  readonly error?: unknown;
  readonly onRetry?: () => void;
  /** A search box above the table; the caller filters (on the server or locally). */
  readonly search?: { readonly value: string; readonly onChange: (value: string) => void; readonly placeholder?: string; readonly label?: string };
  /** Shown when there are no rows. */
  readonly empty?: { readonly title: string; readonly description?: ReactNode; readonly action?: ReactNode };
  /** Buttons to the right of the search box ("Create API"). */
  readonly actions?: ReactNode;
  /** Below the table (pagination, totals). */
  readonly footer?: ReactNode;
}

/**
 * A resource's state as the table's `rows`, `loading`, `error` and `onRetry`: its WSO2 list, or
 * `rows` when the page filters or reshapes it.
 *
 * @example
 * ```tsx
 * <DataTable label="APIs" {...tableState(apis)} rowKey={(a) => a.id} columns={...} />
 * ```
 */
export function tableState<T>(resource: Resource<{ readonly list: readonly T[] }>): Pick<DataTableProps<T>, 'rows' | 'loading' | 'error' | 'onRetry'>;
export function tableState<T>(resource: Resource<unknown>, rows: readonly T[] | undefined): Pick<DataTableProps<T>, 'rows' | 'loading' | 'error' | 'onRetry'>;
export function tableState<T>(resource: Resource<unknown>, ...rows: [(readonly T[] | undefined)?]): Pick<DataTableProps<T>, 'rows' | 'loading' | 'error' | 'onRetry'> {
  const list = rows.length > 0 ? rows[0] : (resource.data as { readonly list: readonly T[] } | undefined)?.list;
  return { rows: list, loading: resource.loading, error: resource.error, onRetry: resource.reload };
}

/**
 * The rows whose text (`text(row)`) contains the search, ignoring case: a list the server does
 * not search. All the rows for an empty search; undefined while they load.
 */
export function filterRows<T>(rows: readonly T[] | undefined, query: string, text: (row: T) => string): readonly T[] | undefined {
  const q = query.trim().toLowerCase();
  return q && rows ? rows.filter((row) => text(row).toLowerCase().includes(q)) : rows;
}

/**
 * A list screen's table: search box, loading, error and empty states, horizontal scroll on
 * narrow screens. Rows keep showing while a new search loads.
 *
 * @example
 * ```tsx
 * <DataTable label="APIs" rows={data?.list} rowKey={(a) => a.id} loading={loading} error={error}
 *   columns={[{ key: 'name', header: 'Name' }, { key: 'version', header: 'Version' }]}
 *   search={{ value: query, onChange: setQuery }} empty={{ title: 'No APIs yet' }} />
 * ```
 */
export function DataTable<T>(props: DataTableProps<T>) {
  const { label, columns, rows, rowKey, loading, error, onRetry, search, empty, actions, footer } = props;
  const body = () => {
    if (error && !rows) return <ErrorState error={error} onRetry={onRetry} />;
    if (!rows) return loading ? <LoadingState /> : null;
    if (rows.length === 0) {
      if (loading) return <LoadingState />;
      return <EmptyState title={empty?.title ?? 'Nothing here yet'} description={search?.value ? `Nothing matches “${search.value}”.` : empty?.description} action={search?.value ? undefined : empty?.action} />;
    }
    return (
      // Scrolls sideways on narrow screens; focusable so keyboard users can scroll it too.
      <Box style={{ overflowX: 'auto' }} tabIndex={0} role="region" aria-label={label}>
        <Table striped highlightOnHover verticalSpacing="sm" aria-label={label} aria-busy={loading || undefined} data-testid="data-table">
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th key={c.key} style={c.width === undefined ? undefined : { width: c.width }} scope="col">
                  {c.header}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row) => (
              <Table.Tr key={rowKey(row)}>
                {columns.map((c) => (
                  <Table.Td key={c.key}>{c.render ? c.render(row) : String((row as Record<string, unknown>)[c.key] ?? '')}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Box>
    );
  };
  return (
    <div>
      {(search || actions) && (
        <Group justify="space-between" mb="md" wrap="wrap" gap="sm">
          {search ? (
            <TextInput
              type="search"
              label={search.label ?? 'Search'}
              placeholder={search.placeholder ?? 'Search'}
              value={search.value}
              onChange={(e) => search.onChange(e.currentTarget.value)}
              w={{ base: '100%', sm: 320 }}
              data-testid="table-search"
            />
          ) : (
            <span />
          )}
          {actions && <Group gap="sm">{actions}</Group>}
        </Group>
      )}
      {error && rows ? <ErrorState error={error} onRetry={onRetry} /> : null}
      {body()}
      {footer && (
        <Text component="div" size="sm" c="dimmed" mt="sm">
          {footer}
        </Text>
      )}
    </div>
  );
}

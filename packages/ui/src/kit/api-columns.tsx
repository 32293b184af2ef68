import { Anchor, Code } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { Column } from './DataTable.tsx';
import type { ApiSummary } from './wso2.ts';

/**
 * The columns every API list starts with: the name (a link to `/apis/{id}` unless `name` draws
 * it), version, context and provider.
 *
 * @example
 * ```tsx
 * <DataTable label="APIs" columns={[...apiColumns<ApiInfo>(), { key: 'lifeCycleStatus', header: 'State' }]} ... />
 * ```
 */
export function apiColumns<T extends ApiSummary>(name?: (api: T) => ReactNode): Column<T>[] {
  return [
    {
      key: 'name',
      header: 'Name',
      render:
        name ??
        ((a) => (
          <Anchor component={Link} to={`/apis/${a.id}`}>
            {a.name}
          </Anchor>
        )),
    },
    { key: 'version', header: 'Version' },
    { key: 'context', header: 'Context', render: (a) => <Code>{a.context}</Code> },
    { key: 'provider', header: 'Provider' },
  ];
}

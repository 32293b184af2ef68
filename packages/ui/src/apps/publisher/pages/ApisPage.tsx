import { Badge, Code } from '@mantine/core';
import { useState } from 'react';
import { DataTable, PageHeader, Pager, useApi, useResource, useSearchQuery, type Paginated } from '../../../kit/index.ts';

interface ApiInfo {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly context: string;
  readonly provider: string;
  readonly type: string;
  readonly lifeCycleStatus: string;
}

const LIMIT = 25;
const statusColor: Record<string, string> = { PUBLISHED: 'green', CREATED: 'gray', PROTOTYPED: 'cyan', BLOCKED: 'red', DEPRECATED: 'orange', RETIRED: 'dark' };

/** GET /api/am/publisher/v4/apis, with WSO2's search syntax (`name:pets`, `context:/pets`, plain text). */
export function ApisPage() {
  const api = useApi();
  const search = useSearchQuery();
  const [offset, setOffset] = useState(0);
  const apis = useResource(
    (signal) => api.get<Paginated<ApiInfo>>('/api/am/publisher/v4/apis', { query: { query: search.query, limit: LIMIT, offset }, signal }),
    [search.query, offset],
  );
  return (
    <>
      <PageHeader title="APIs" description="The APIs you can see, with their lifecycle state." />
      <DataTable
        label="APIs"
        rows={apis.data?.list}
        rowKey={(a) => a.id}
        loading={apis.loading}
        error={apis.error}
        onRetry={apis.reload}
        search={{
          value: search.text,
          onChange: (v) => {
            setOffset(0);
            search.setText(v);
          },
          label: 'Search APIs',
          placeholder: 'Name, context, or name:pets',
        }}
        empty={{ title: 'No APIs yet', description: 'Create an API, or import one from an OpenAPI definition.' }}
        columns={[
          { key: 'name', header: 'Name' },
          { key: 'version', header: 'Version' },
          { key: 'context', header: 'Context', render: (a) => <Code>{a.context}</Code> },
          { key: 'provider', header: 'Provider' },
          { key: 'lifeCycleStatus', header: 'State', render: (a) => <Badge color={statusColor[a.lifeCycleStatus] ?? 'gray'} variant="light">{a.lifeCycleStatus}</Badge> },
        ]}
        footer={<Pager page={apis.data} onOffset={setOffset} />}
      />
    </>
  );
}

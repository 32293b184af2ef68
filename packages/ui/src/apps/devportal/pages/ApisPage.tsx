import { Badge, Code, Group } from '@mantine/core';
import { useState } from 'react';
import { DataTable, PageHeader, Pager, useApi, useResource, useSearchQuery, useSession, type Paginated } from '../../../kit/index.ts';

interface ApiInfo {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly context: string;
  readonly provider: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly throttlingPolicies: readonly string[];
}

const LIMIT = 25;

/** GET /api/am/devportal/v3/apis: the published catalogue; anonymous visitors see the public APIs (as WSO2). */
export function ApisPage() {
  const api = useApi();
  const session = useSession();
  const search = useSearchQuery();
  const [offset, setOffset] = useState(0);
  const apis = useResource(
    (signal) => api.get<Paginated<ApiInfo>>('/api/am/devportal/v3/apis', { query: { query: search.query, limit: LIMIT, offset }, signal }),
    // A sign-in can widen what is visible (APIs restricted to roles).
    [search.query, offset, session?.username],
  );
  return (
    <>
      <PageHeader title="APIs" description="Published APIs you can subscribe to." />
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
          placeholder: 'Name, tag or description',
        }}
        empty={{ title: 'No APIs published yet', description: 'APIs appear here once a provider publishes them.' }}
        columns={[
          { key: 'name', header: 'Name' },
          { key: 'version', header: 'Version' },
          { key: 'context', header: 'Context', render: (a) => <Code>{a.context}</Code> },
          { key: 'provider', header: 'Provider' },
          {
            key: 'tiers',
            header: 'Plans',
            render: (a) => (
              <Group gap={4}>
                {a.throttlingPolicies.map((t) => (
                  <Badge key={t} variant="outline" color="gray">
                    {t}
                  </Badge>
                ))}
              </Group>
            ),
          },
        ]}
        footer={<Pager page={apis.data} onOffset={setOffset} />}
      />
    </>
  );
}

import { Anchor, Badge, Button, Code } from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { DataTable, PageHeader, Pager, useApi, useHasScope, useResource, useSearchQuery, type Paginated } from '../../../kit/index.ts';
import { PUB, stateColor, type ApiInfo } from '../model.ts';

const LIMIT = 25;

/** GET /api/am/publisher/v4/apis, with WSO2's search syntax (`name:pets`, `context:/pets`, plain text). */
export function ApisPage() {
  const api = useApi();
  const search = useSearchQuery();
  const [offset, setOffset] = useState(0);
  const canCreate = useHasScope(['apim:api_create', 'apim:api_manage']);
  const apis = useResource(
    (signal) => api.get<Paginated<ApiInfo>>(`${PUB}/apis`, { query: { query: search.query, limit: LIMIT, offset }, signal }),
    [search.query, offset],
  );
  const create = canCreate ? (
    <Button component={Link} to="/apis/create" data-testid="create-api">
      Create API
    </Button>
  ) : undefined;
  return (
    <>
      <PageHeader title="APIs" description="The APIs you can see, with their lifecycle state." actions={create} />
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
        empty={{
          title: 'No APIs yet',
          description: 'Create an API from an OpenAPI definition: upload the file or give its URL.',
          action: canCreate ? (
            <Button component={Link} to="/apis/create" variant="light">
              Import an OpenAPI definition
            </Button>
          ) : undefined,
        }}
        columns={[
          {
            key: 'name',
            header: 'Name',
            render: (a) => (
              <Anchor component={Link} to={`/apis/${a.id}`}>
                {a.name}
              </Anchor>
            ),
          },
          { key: 'version', header: 'Version' },
          { key: 'context', header: 'Context', render: (a) => <Code>{a.context}</Code> },
          { key: 'provider', header: 'Provider' },
          { key: 'lifeCycleStatus', header: 'State', render: (a) => <Badge color={stateColor[a.lifeCycleStatus] ?? 'gray'} variant="light">{a.lifeCycleStatus}</Badge> },
        ]}
        footer={<Pager page={apis.data} onOffset={setOffset} />}
      />
    </>
  );
}

import { Badge, Button } from '@mantine/core';
import { Link } from 'react-router';
import { apiColumns, DataTable, PageHeader, Pager, tableState, useApi, useHasScope, usePagedSearch, useResource, type Paginated } from '../../../kit/index.ts';
import { PUB, stateColor, type ApiInfo } from '../model.ts';

const LIMIT = 25;

/** GET /api/am/publisher/v4/apis, with WSO2's search syntax (`name:pets`, `context:/pets`, plain text). */
export function ApisPage() {
  const api = useApi();
  const search = usePagedSearch();
  const canCreate = useHasScope(['apim:api_create', 'apim:api_manage']);
  const apis = useResource(
    (signal) => api.get<Paginated<ApiInfo>>(`${PUB}/apis`, { query: { query: search.query, limit: LIMIT, offset: search.offset }, signal }),
    [search.query, search.offset],
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
        {...tableState(apis)}
        rowKey={(a) => a.id}
        search={{ value: search.text, onChange: search.setText, label: 'Search APIs', placeholder: 'Name, context, or name:pets' }}
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
          ...apiColumns<ApiInfo>(),
          { key: 'lifeCycleStatus', header: 'State', render: (a) => <Badge color={stateColor[a.lifeCycleStatus] ?? 'gray'} variant="light">{a.lifeCycleStatus}</Badge> },
        ]}
        footer={<Pager page={apis.data} onOffset={search.setOffset} />}
      />
    </>
  );
}

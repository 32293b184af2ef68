import { Anchor, Badge, Button, Paper, Select, Stack, Textarea, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { Link, useNavigate } from 'react-router';
import { ConfirmButton, DataTable, EmptyState, ErrorState, FormActions, LoadingState, PageHeader, Pager, RequireScopes, tableState, useApi, useConfirm, usePagedSearch, useResource, useSearchParam, useServerForm, type ApiClient, type Paginated } from '../../../kit/index.ts';
import { DP, onField, Wso2Codes, type Application } from '../model.ts';

const LIMIT = 25;

/** The application tiers Admin offers: WSO2's GET /throttling-policies/application. */
export function useApplicationTiers(api: ApiClient) {
  return useResource(async (signal) => (await api.get<Paginated<{ name: string }>>(`${DP}/throttling-policies/application`, { query: { limit: 500 }, signal })).list.map((t) => t.name), []);
}

type CreateProps = { onCreated: (app: Application) => void; onCancel: () => void };

/** The form once the tiers are known, so its first value is one the server offers. */
function CreateApplication(props: CreateProps) {
  const api = useApi();
  const tiers = useApplicationTiers(api);
  if (tiers.data !== undefined && tiers.data.length > 0) return <CreateApplicationForm {...props} tiers={tiers.data} />;
  return (
    <Paper withBorder p="md" mb="lg" component="section" aria-labelledby="create-app-title">
      <Title order={2} size="h4" mb="sm" id="create-app-title">
        New application
      </Title>
      {tiers.error !== undefined ? (
        <ErrorState error={tiers.error} title="The throttling tiers could not be loaded" onRetry={tiers.reload} />
      ) : tiers.data === undefined ? (
        <LoadingState label="Loading the throttling tiers…" />
      ) : (
        <EmptyState title="No application tiers" description="An administrator has to add an application throttling policy before applications can be created." />
      )}
      <Button variant="default" mt="sm" onClick={props.onCancel}>
        Cancel
      </Button>
    </Paper>
  );
}

function CreateApplicationForm({ onCreated, onCancel, tiers }: CreateProps & { tiers: readonly string[] }) {
  const api = useApi();
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: { name: '', throttlingPolicy: tiers.includes('Unlimited') ? 'Unlimited' : (tiers[0] ?? ''), description: '' },
    validate: {
      name: (v: string) => (v.trim() ? null : 'Enter a name'),
      throttlingPolicy: (v: string) => (v ? null : 'Pick a tier'),
    },
    submit: async (v) => {
      try {
        onCreated(await api.post<Application>(`${DP}/applications`, { body: { name: v.name, throttlingPolicy: v.throttlingPolicy, description: v.description, tokenType: 'JWT' } }));
      } catch (err) {
        throw onField(err, { [Wso2Codes.ApplicationExists]: 'name', [Wso2Codes.UnknownTier]: 'throttlingPolicy' });
      }
    },
  });
  return (
    <Paper withBorder p="md" mb="lg" component="section" aria-labelledby="create-app-title">
      <Title order={2} size="h4" mb="sm" id="create-app-title">
        New application
      </Title>
      <form onSubmit={onSubmit} noValidate>
        <Stack gap="sm" maw={560}>
          <TextInput label="Name" required {...form.getInputProps('name')} key={form.key('name')} data-testid="app-name" />
          <Select label="Throttling tier" description="How many requests per minute all the application's tokens may make" data={[...tiers]} allowDeselect={false} required {...form.getInputProps('throttlingPolicy')} key={form.key('throttlingPolicy')} data-testid="app-tier" />
          <Textarea label="Description" autosize minRows={2} {...form.getInputProps('description')} key={form.key('description')} />
          <FormActions error={formError}>
            <Button type="submit" loading={submitting} data-testid="create-app-submit">
              Create
            </Button>
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
          </FormActions>
        </Stack>
      </form>
    </Paper>
  );
}

/** GET/POST/DELETE /applications: the user's applications. */
export function ApplicationsPage() {
  return (
    <RequireScopes any={['apim:subscribe', 'apim:app_manage']}>
      <Applications />
    </RequireScopes>
  );
}

function Applications() {
  const api = useApi();
  const navigate = useNavigate();
  const search = usePagedSearch();
  const [create, setCreate] = useSearchParam('create');
  const apps = useResource((signal) => api.get<Paginated<Application>>(`${DP}/applications`, { query: { query: search.query, limit: LIMIT, offset: search.offset }, signal }), [search.query, search.offset]);
  const { confirm, dialog } = useConfirm();
  return (
    <>
      <PageHeader
        title="Applications"
        description="An application holds the keys your clients use, and the APIs it is subscribed to."
        actions={
          !create && (
            <Button onClick={() => setCreate('1')} data-testid="create-app">
              Create application
            </Button>
          )
        }
      />
      {create && <CreateApplication onCancel={() => setCreate('')} onCreated={(a) => void navigate(`/applications/${a.applicationId}`)} />}
      <DataTable
        label="Applications"
        {...tableState(apps)}
        rowKey={(a) => a.applicationId}
        search={{
          value: search.text,
          onChange: search.setText,
          label: 'Search applications',
        }}
        empty={{ title: 'No applications yet', description: 'Create an application, subscribe it to APIs and generate its keys.' }}
        columns={[
          {
            key: 'name',
            header: 'Name',
            render: (a) => (
              <Anchor component={Link} to={`/applications/${a.applicationId}`} fw={600}>
                {a.name}
              </Anchor>
            ),
          },
          { key: 'throttlingPolicy', header: 'Tier' },
          { key: 'subscriptionCount', header: 'Subscriptions' },
          {
            key: 'status',
            header: 'Status',
            render: (a) => (
              <Badge variant="light" color={a.status === 'APPROVED' ? 'teal' : 'yellow'}>
                {a.status.toLowerCase()}
              </Badge>
            ),
          },
          { key: 'description', header: 'Description' },
          {
            key: 'actions',
            header: <VisuallyHidden>Actions</VisuallyHidden>,
            render: (a) => (
              <ConfirmButton
                confirm={confirm}
                aria-label={`Delete ${a.name}`}
                title="Delete application"
                message={`Delete ${a.name}? Its keys stop working and its subscriptions are removed.`}
                onConfirm={async () => {
                  await api.delete(`${DP}/applications/${a.applicationId}`);
                  apps.reload();
                }}
              >
                Delete
              </ConfirmButton>
            ),
          },
        ]}
        footer={<Pager page={apps.data} onOffset={search.setOffset} />}
      />
      {dialog}
    </>
  );
}

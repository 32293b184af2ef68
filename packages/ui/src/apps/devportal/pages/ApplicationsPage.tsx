import { Anchor, Badge, Button, Group, Paper, Select, Stack, Textarea, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { DataTable, FormError, PageHeader, Pager, RequireScopes, useApi, useConfirm, useResource, useSearchParam, useSearchQuery, useServerForm, type ApiClient, type Paginated } from '../../../kit/index.ts';
import { DEFAULT_APPLICATION_TIERS, DP, onField, Wso2Codes, type Application } from '../model.ts';

const LIMIT = 25;

/** The application tiers: WSO2's GET /throttling-policies/application, or its defaults when the server does not list them. */
export function useApplicationTiers(api: ApiClient): readonly string[] {
  const tiers = useResource(async (signal) => {
    try {
      const res = await api.get<Paginated<{ name: string }>>(`${DP}/throttling-policies/application`, { query: { limit: 100 }, signal });
      return res.list.map((t) => t.name);
    } catch {
      return DEFAULT_APPLICATION_TIERS;
    }
  }, []);
  return tiers.data && tiers.data.length > 0 ? tiers.data : DEFAULT_APPLICATION_TIERS;
}

function CreateApplication({ onCreated, onCancel }: { onCreated: (app: Application) => void; onCancel: () => void }) {
  const api = useApi();
  const tiers = useApplicationTiers(api);
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
          <Select label="Throttling tier" description="How many requests per minute all the application's tokens may make" data={[...tiers]} allowDeselect={false} required {...form.getInputProps('throttlingPolicy')} key={form.key('throttlingPolicy')} />
          <Textarea label="Description" autosize minRows={2} {...form.getInputProps('description')} key={form.key('description')} />
          <FormError message={formError} />
          <Group>
            <Button type="submit" loading={submitting} data-testid="create-app-submit">
              Create
            </Button>
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
          </Group>
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
  const search = useSearchQuery();
  const [create, setCreate] = useSearchParam('create');
  const [offset, setOffset] = useState(0);
  const apps = useResource((signal) => api.get<Paginated<Application>>(`${DP}/applications`, { query: { query: search.query, limit: LIMIT, offset }, signal }), [search.query, offset]);
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
        rows={apps.data?.list}
        rowKey={(a) => a.applicationId}
        loading={apps.loading}
        error={apps.error}
        onRetry={apps.reload}
        search={{
          value: search.text,
          onChange: (v) => {
            setOffset(0);
            search.setText(v);
          },
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
              <Button
                size="xs"
                variant="subtle"
                color="red"
                aria-label={`Delete ${a.name}`}
                onClick={() =>
                  void confirm({
                    title: 'Delete application',
                    message: `Delete ${a.name}? Its keys stop working and its subscriptions are removed.`,
                    danger: true,
                    confirmLabel: 'Delete',
                    onConfirm: async () => {
                      await api.delete(`${DP}/applications/${a.applicationId}`);
                      apps.reload();
                    },
                  })
                }
              >
                Delete
              </Button>
            ),
          },
        ]}
        footer={<Pager page={apps.data} onOffset={setOffset} />}
      />
      {dialog}
    </>
  );
}

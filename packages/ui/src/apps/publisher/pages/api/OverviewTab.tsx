import { Badge, Button, Code, Group, Paper, Select, SimpleGrid, Stack, TagsInput, Text, Textarea, Title } from '@mantine/core';
import { useNavigate } from 'react-router';
import { useApi, useConfirm, useConsole, useHasScope, useResource, useServerForm } from '../../../../kit/index.ts';
import { formatTime, PUB, servedPath, type Deployment } from '../../model.ts';
import { SaveBar, useSavedNote } from '../../saved.tsx';
import type { ApiTabProps } from '../ApiDetailPage.tsx';

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </div>
  );
}

/** What the API is, where it is served, and its description, tags and visibility. */
export function OverviewTab({ api, save }: ApiTabProps) {
  const client = useApi();
  const { config } = useConsole();
  const note = useSavedNote();
  const navigate = useNavigate();
  const { confirm, dialog } = useConfirm();
  const canDelete = useHasScope(['apim:api_delete', 'apim:api_manage']);
  const deployments = useResource((signal) => client.get<{ list: Deployment[] }>(`${PUB}/apis/${api.id}/deployments`, { signal }), [api.id]);
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: { description: api.description ?? '', tags: api.tags ?? [], visibility: api.visibility ?? 'PUBLIC' },
    submit: async (v) => {
      const saved = await save({ description: v.description, tags: v.tags, visibility: v.visibility });
      form.setValues({ description: saved.description ?? '', tags: saved.tags ?? [], visibility: saved.visibility ?? 'PUBLIC' });
      form.resetDirty();
      note.show();
    },
  });
  const path = servedPath(api.context, api.version);
  const live = (deployments.data?.list ?? []).filter((d) => d.status === 'DEPLOYED');
  const production = api.endpointConfig?.production_endpoints?.url;
  return (
    <Stack gap="lg">
      <Paper withBorder p="lg">
        <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} spacing="md">
          <Fact label="Context">
            <Code>{api.context}</Code>
          </Fact>
          <Fact label="Version">{api.version}</Fact>
          <Fact label="Type">{api.type}</Fact>
          <Fact label="Provider">{api.provider}</Fact>
          <Fact label="Production endpoint">{production ? <Code>{production}</Code> : 'None yet: set one under Endpoints'}</Fact>
          <Fact label="Created">{formatTime(api.createdTime)}</Fact>
          <Fact label="Deployed to">
            {live.length === 0 ? (
              'No gateway yet: create a revision and deploy it under Deployments'
            ) : (
              <Group gap={4}>
                {live.map((d) => (
                  <Badge key={`${d.name}-${d.revisionUuid}`} variant="light" color="green">
                    {d.name}
                  </Badge>
                ))}
              </Group>
            )}
          </Fact>
          <Fact label="Gateway URLs">
            <Stack gap={2}>
              {config.gatewayUrls.map((u) => (
                <Code key={u} data-testid="gateway-url">
                  {u.replace(/\/$/, '')}
                  {path}
                </Code>
              ))}
            </Stack>
          </Fact>
        </SimpleGrid>
      </Paper>
      <Paper withBorder p="lg">
        <Title order={2} size="h4" mb="md">
          Basic information
        </Title>
        <form onSubmit={onSubmit} noValidate>
          <Stack maw={640}>
            <Textarea label="Description" autosize minRows={3} {...form.getInputProps('description')} key={form.key('description')} />
            <TagsInput label="Tags" description="Press Enter after each tag" {...form.getInputProps('tags')} key={form.key('tags')} />
            <Select
              label="Visibility on the Developer Portal"
              data={[
                { value: 'PUBLIC', label: 'Public' },
                { value: 'RESTRICTED', label: 'Restricted by roles' },
                { value: 'PRIVATE', label: 'Private' },
              ]}
              allowDeselect={false}
              {...form.getInputProps('visibility')}
              key={form.key('visibility')}
            />
            <SaveBar label="Save" submitting={submitting} error={formError} note={note.note} />
          </Stack>
        </form>
      </Paper>
      {canDelete && (
        <Paper withBorder p="lg">
          <Title order={2} size="h4" mb="xs">
            Delete this API
          </Title>
          <Text size="sm" c="dimmed" mb="sm">
            Removes the API, its revisions, deployments and documents. An API with active subscriptions cannot be deleted.
          </Text>
          <Button
            color="red"
            variant="light"
            onClick={() =>
              void confirm({
                title: `Delete ${api.name} ${api.version}?`,
                message: 'Gateways stop serving it and it leaves the Developer Portal. This cannot be undone.',
                confirmLabel: 'Delete API',
                danger: true,
                onConfirm: async () => {
                  await client.delete(`${PUB}/apis/${api.id}`);
                  void navigate('/apis');
                },
              })
            }
          >
            Delete API
          </Button>
        </Paper>
      )}
      {dialog}
    </Stack>
  );
}

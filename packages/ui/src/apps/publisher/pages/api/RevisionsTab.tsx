import { Badge, Button, Group, Modal, Paper, Select, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ConfirmButton, DataTable, FormError, useApi, useConfirm, useResource, useServerForm } from '../../../../kit/index.ts';
import { ADMIN, formatTime, PUB, type Deployment, type Environment, type Revision } from '../../model.ts';
import type { ApiTabProps } from '../ApiDetailPage.tsx';

const statusColor: Record<string, string> = { DEPLOYED: 'green', CREATED: 'yellow', FAILED: 'red' };
const statusLabel: Record<string, string> = { DEPLOYED: 'Deployed', CREATED: 'Waiting for gateways', FAILED: 'Failed' };

function DeployDialog({ apiId, revision, onClose, onDeployed }: { apiId: string; revision: Revision; onClose: () => void; onDeployed: () => void }) {
  const client = useApi();
  // Gateway environments come from the Admin API (apim:environment_read); without it, type the name.
  const envs = useResource((signal) => client.get<{ list: Environment[] }>(`${ADMIN}/environments`, { signal }), []);
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: { environment: 'Default', vhost: '', displayOnDevportal: true },
    validate: { environment: (v) => (v.trim() ? null : 'Choose a gateway environment') },
    fieldMap: { '[0].name': 'environment', '[0].vhost': 'vhost' },
    submit: async (v) => {
      await client.post(`${PUB}/apis/${apiId}/deploy-revision`, {
        query: { revisionId: revision.id },
        body: [{ name: v.environment.trim(), ...(v.vhost ? { vhost: v.vhost } : {}), displayOnDevportal: v.displayOnDevportal }],
      });
      onDeployed();
    },
  });
  const list = envs.data?.list;
  const chosen = list?.find((e) => e.name === form.getValues().environment);
  return (
    <Modal opened onClose={onClose} title={`Deploy ${revision.displayName}`} centered>
      <form onSubmit={onSubmit} noValidate>
        <Stack>
          {list ? (
            <Select
              label="Gateway environment"
              data={list.map((e) => ({ value: e.name, label: e.displayName && e.displayName !== e.name ? `${e.displayName} (${e.name})` : e.name }))}
              allowDeselect={false}
              {...form.getInputProps('environment')}
              key={form.key('environment')}
            />
          ) : (
            <TextInput label="Gateway environment" description="The environment's name, such as Default" {...form.getInputProps('environment')} key={form.key('environment')} />
          )}
          {chosen?.vhosts && chosen.vhosts.length > 1 && (
            <Select label="Virtual host" data={chosen.vhosts.map((v) => v.host)} clearable placeholder="The environment's first" {...form.getInputProps('vhost')} key={form.key('vhost')} />
          )}
          <Switch label="Show this gateway URL on the Developer Portal" {...form.getInputProps('displayOnDevportal', { type: 'checkbox' })} key={form.key('displayOnDevportal')} />
          <FormError message={formError} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={submitting}>
              Deploy
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** Revisions (frozen copies of the API) and where they are deployed, with the gateways' acknowledgements. */
export function RevisionsTab({ api, reload }: ApiTabProps) {
  const client = useApi();
  const { confirm, dialog } = useConfirm();
  const revisions = useResource((signal) => client.get<{ list: Revision[] }>(`${PUB}/apis/${api.id}/revisions`, { signal }), [api.id]);
  const deployments = useResource((signal) => client.get<{ list: Deployment[] }>(`${PUB}/apis/${api.id}/deployments`, { signal }), [api.id]);
  const [deploying, setDeploying] = useState<Revision | undefined>();
  const [polls, setPolls] = useState(0);
  const reloadDeployments = deployments.reload;

  // A deployment waits for the gateways' acknowledgements: look again for a while.
  const waiting = (deployments.data?.list ?? []).some((d) => d.status === 'CREATED');
  useEffect(() => {
    if (!waiting || polls > 40) return;
    const t = setTimeout(() => {
      setPolls((n) => n + 1);
      reloadDeployments();
    }, 1000);
    return () => clearTimeout(t);
  }, [waiting, polls, reloadDeployments, deployments.data]);

  const refresh = () => {
    setPolls(0);
    revisions.reload();
    deployments.reload();
  };
  const create = useServerForm({
    initialValues: { description: '' },
    validate: { description: (v) => (v.length > 255 ? 'At most 255 characters' : null) },
    submit: async (v) => {
      await client.post(`${PUB}/apis/${api.id}/revisions`, { body: v.description.trim() ? { description: v.description.trim() } : {} });
      create.form.reset();
      refresh();
    },
  });
  const names = new Map((revisions.data?.list ?? []).map((r) => [r.id, r.displayName]));

  return (
    <Stack gap="lg">
      <div>
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h4">
            Deployments
          </Title>
          <Button variant="default" size="xs" onClick={refresh}>
            Refresh
          </Button>
        </Group>
        <DataTable
          label="Deployments"
          rows={deployments.data?.list}
          rowKey={(d) => `${d.name}-${d.revisionUuid}`}
          loading={deployments.loading && !deployments.data}
          error={deployments.error}
          onRetry={deployments.reload}
          empty={{ title: 'Not deployed', description: 'Create a revision below, then deploy it to a gateway environment.' }}
          columns={[
            { key: 'name', header: 'Environment' },
            { key: 'vhost', header: 'Virtual host', render: (d) => d.vhost ?? '' },
            { key: 'revision', header: 'Revision', render: (d) => names.get(d.revisionUuid) ?? d.revisionUuid },
            {
              key: 'status',
              header: 'Status',
              render: (d) => (
                <Badge variant="light" color={statusColor[d.status ?? ''] ?? 'gray'} data-testid="deployment-status">
                  {statusLabel[d.status ?? ''] ?? d.status}
                </Badge>
              ),
            },
            {
              key: 'gateways',
              header: 'Gateways',
              render: (d) => (
                <Text size="sm" data-testid="deployment-gateways">
                  {d.liveGatewayCount ?? 0} live{d.failedGatewayCount ? `, ${d.failedGatewayCount} failed` : ''}
                </Text>
              ),
            },
            { key: 'deployedTime', header: 'Deployed', render: (d) => formatTime(d.deployedTime) },
            {
              key: 'actions',
              header: 'Actions',
              render: (d) => (
                <Button
                  size="xs"
                  variant="light"
                  color="red"
                  onClick={() =>
                    void confirm({
                      title: `Undeploy from ${d.name}?`,
                      message: `The gateways of ${d.name} stop serving ${api.name} ${api.version}.`,
                      confirmLabel: 'Undeploy',
                      danger: true,
                      onConfirm: async () => {
                        await client.post(`${PUB}/apis/${api.id}/undeploy-revision`, { query: { revisionId: d.revisionUuid }, body: [{ name: d.name, ...(d.vhost ? { vhost: d.vhost } : {}) }] });
                        refresh();
                      },
                    })
                  }
                >
                  Undeploy
                </Button>
              ),
            },
          ]}
        />
      </div>
      <Paper withBorder p="lg">
        <Title order={2} size="h4" mb="xs">
          Create a revision
        </Title>
        <Text size="sm" c="dimmed" mb="sm">
          A revision freezes the API as it is now (definition, endpoints, security); gateways serve deployed revisions. An API keeps at most 5.
        </Text>
        <form onSubmit={create.onSubmit} noValidate>
          <Group align="flex-end">
            <TextInput label="Description" placeholder="What changed" w={{ base: '100%', sm: 360 }} {...create.form.getInputProps('description')} key={create.form.key('description')} />
            <Button type="submit" loading={create.submitting}>
              Create revision
            </Button>
          </Group>
          <FormError message={create.formError} />
        </form>
      </Paper>
      <div>
        <Title order={2} size="h4" mb="sm">
          Revisions
        </Title>
        <DataTable
          label="Revisions"
          rows={revisions.data?.list}
          rowKey={(r) => r.id}
          loading={revisions.loading && !revisions.data}
          error={revisions.error}
          onRetry={revisions.reload}
          empty={{ title: 'No revisions yet' }}
          columns={[
            { key: 'displayName', header: 'Revision' },
            { key: 'description', header: 'Description', render: (r) => r.description ?? '' },
            { key: 'createdTime', header: 'Created', render: (r) => formatTime(r.createdTime) },
            {
              key: 'deployed',
              header: 'Deployed to',
              render: (r) => (
                <Group gap={4}>
                  {(r.deploymentInfo ?? []).map((d) => (
                    <Badge key={d.name} variant="light">
                      {d.name}
                    </Badge>
                  ))}
                </Group>
              ),
            },
            {
              key: 'actions',
              header: 'Actions',
              render: (r) => (
                <Group gap="xs" wrap="nowrap">
                  <Button size="xs" onClick={() => setDeploying(r)} aria-label={`Deploy ${r.displayName}`}>
                    Deploy
                  </Button>
                  <Button
                    size="xs"
                    variant="default"
                    aria-label={`Restore ${r.displayName}`}
                    onClick={() =>
                      void confirm({
                        title: `Restore ${r.displayName}?`,
                        message: 'The API (working copy) becomes what this revision froze; unsaved changes since are replaced.',
                        confirmLabel: 'Restore',
                        onConfirm: async () => {
                          await client.post(`${PUB}/apis/${api.id}/restore-revision`, { query: { revisionId: r.id } });
                          reload();
                          refresh();
                        },
                      })
                    }
                  >
                    Restore
                  </Button>
                  <ConfirmButton
                    confirm={confirm}
                    variant="light"
                    aria-label={`Delete ${r.displayName}`}
                    title={`Delete ${r.displayName}?`}
                    message="A deployed revision must be undeployed first."
                    onConfirm={async () => {
                      await client.delete(`${PUB}/apis/${api.id}/revisions/${r.id}`);
                      refresh();
                    }}
                  >
                    Delete
                  </ConfirmButton>
                </Group>
              ),
            },
          ]}
        />
      </div>
      {deploying && (
        <DeployDialog
          apiId={api.id}
          revision={deploying}
          onClose={() => setDeploying(undefined)}
          onDeployed={() => {
            setDeploying(undefined);
            refresh();
          }}
        />
      )}
      {dialog}
    </Stack>
  );
}

import { ActionIcon, Badge, Button, Fieldset, Group, Modal, NumberInput, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { ConfirmButton, DataTable, ErrorState, filterRows, FormError, PageHeader, tableState, useApi, useConfirm, useFormDialog, useHasScope, useResource, useSearchQuery, useServerForm, type Paginated, type VirtualHost } from '../../../kit/index.ts';

interface Environment {
  readonly id: string;
  readonly name: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly provider?: string;
  readonly isReadOnly?: boolean;
  readonly vhosts: readonly VirtualHost[];
}
interface GatewayInstance {
  readonly gatewayId: string;
  readonly labels?: readonly string[];
  readonly lastActive?: string;
  readonly status: 'ACTIVE' | 'EXPIRED';
}
type EnvironmentWithGateways = Environment & { readonly gateways: readonly GatewayInstance[] | undefined };

const BASE = '/api/am/admin/v4/environments';

/** "1 of 2 active", "none registered": the environment's gateways in a few words. */
function gatewaySummary(gws: readonly GatewayInstance[] | undefined): string {
  if (!gws) return 'unknown';
  if (gws.length === 0) return 'none registered';
  return `${gws.filter((g) => g.status === 'ACTIVE').length} of ${gws.length} active`;
}

/** Gateway environments (their virtual hosts) and the gateways that registered for each, with their heartbeats. */
export function EnvironmentsPage() {
  const api = useApi();
  const search = useSearchQuery();
  const canManage = useHasScope(['apim:admin', 'apim:environment_manage']);
  const editor = useFormDialog<Environment | 'new'>((e) => (e === 'new' ? e : e.id));
  const [showing, setShowing] = useState<EnvironmentWithGateways | undefined>();
  const { confirm, dialog } = useConfirm();
  const envs = useResource(async (signal) => {
    const list = (await api.get<Paginated<Environment>>(BASE, { signal })).list;
    // Each environment's registered gateways (GET /environments/{id}/gateways, as WSO2 after 4.2).
    return Promise.all(
      list.map(async (e): Promise<EnvironmentWithGateways> => ({ ...e, gateways: await api.get<Paginated<GatewayInstance>>(`${BASE}/${e.id}/gateways`, { signal }).then((r) => r.list, () => undefined) })),
    );
  }, []);
  const rows = filterRows(envs.data, search.query, (e) => `${e.name} ${e.displayName ?? ''} ${e.description ?? ''} ${e.vhosts.map((v) => v.host).join(' ')}`);

  return (
    <>
      <PageHeader title="Gateway environments" description="Where APIs are deployed: each environment's virtual hosts, and the gateways serving it." />
      <DataTable
        label="Gateway environments"
        {...tableState(envs, rows)}
        rowKey={(e) => e.id}
        search={{ value: search.text, onChange: search.setText, label: 'Search environments', placeholder: 'Name or host' }}
        actions={
          canManage && (
            <Button onClick={() => editor.open('new')} data-testid="add-environment">
              Add environment
            </Button>
          )
        }
        empty={{ title: 'No gateway environments' }}
        columns={[
          {
            key: 'name',
            header: 'Name',
            render: (e) => (
              <Group gap="xs" wrap="nowrap">
                <Text size="sm">{e.name}</Text>
                {e.isReadOnly && (
                  <Badge size="xs" variant="light" color="gray">
                    from configuration
                  </Badge>
                )}
              </Group>
            ),
          },
          { key: 'displayName', header: 'Display name', render: (e) => e.displayName ?? '' },
          {
            key: 'vhosts',
            header: 'Virtual hosts',
            render: (e) => (
              <Stack gap={2}>
                {e.vhosts.map((v) => (
                  <Text key={`${v.host}${v.httpContext ?? ''}`} size="sm" ff="monospace">
                    {v.host}
                    {v.httpContext ? `/${v.httpContext.replace(/^\//, '')}` : ''} :{v.httpPort ?? 80}/{v.httpsPort ?? 443}
                  </Text>
                ))}
              </Stack>
            ),
          },
          {
            key: 'gateways',
            header: 'Gateways',
            render: (e) => {
              const summary = gatewaySummary(e.gateways);
              const active = e.gateways?.some((g) => g.status === 'ACTIVE');
              return (
                // The name starts with the visible text (WCAG 2.5.3) and says whose gateways they are.
                <Button size="xs" variant="light" color={active ? 'green' : 'gray'} onClick={() => setShowing(e)} aria-label={`${summary}: gateways of ${e.name}`} data-testid="show-gateways">
                  {summary}
                </Button>
              );
            },
          },
          {
            key: 'actions',
            header: 'Actions',
            render: (e) =>
              canManage && !e.isReadOnly ? (
                <Group gap={4} wrap="nowrap">
                  <Button size="xs" variant="subtle" aria-label={`Edit ${e.name}`} onClick={() => editor.open(e)}>
                    Edit
                  </Button>
                  <ConfirmButton
                    confirm={confirm}
                    aria-label={`Delete ${e.name}`}
                    title="Delete the gateway environment"
                    message={`Delete ${e.name}? APIs can no longer be deployed to it.`}
                    onConfirm={async () => {
                      await api.delete(`${BASE}/${e.id}`);
                      envs.reload();
                    }}
                  >
                    Delete
                  </ConfirmButton>
                </Group>
              ) : null,
          },
        ]}
      />
      <Modal {...editor.modalProps} title={editor.target === 'new' ? 'Add a gateway environment' : `Edit ${editor.target?.name ?? ''}`} centered size="xl">
        {editor.target !== undefined && (
          <EnvironmentForm
            key={editor.formKey}
            existing={editor.target === 'new' ? undefined : editor.target}
            onDone={() => {
              editor.done();
              envs.reload();
            }}
          />
        )}
      </Modal>
      <Modal opened={showing !== undefined} onClose={() => setShowing(undefined)} title={`Gateways of ${showing?.name ?? ''}`} centered size="lg">
        {showing && <GatewayList env={showing} />}
      </Modal>
      {dialog}
    </>
  );
}

function GatewayList({ env }: { env: EnvironmentWithGateways }) {
  if (env.gateways === undefined) return <ErrorState error={new Error('The registered gateways could not be loaded.')} />;
  return (
    <DataTable
      label={`Gateways of ${env.name}`}
      rows={env.gateways}
      rowKey={(g) => g.gatewayId}
      empty={{ title: 'No gateway has registered', description: 'A gateway registers with its first heartbeat for this environment.' }}
      columns={[
        { key: 'gatewayId', header: 'Gateway', render: (g) => <Text size="sm" ff="monospace">{g.gatewayId}</Text> },
        { key: 'status', header: 'Status', render: (g) => <Badge variant="light" color={g.status === 'ACTIVE' ? 'green' : 'red'}>{g.status === 'ACTIVE' ? 'Active' : 'Expired'}</Badge> },
        { key: 'lastActive', header: 'Last heartbeat', render: (g) => (g.lastActive ? new Date(g.lastActive).toLocaleString() : '') },
        { key: 'labels', header: 'Environments', render: (g) => (g.labels ?? []).join(', ') },
      ]}
    />
  );
}

interface VhostValues {
  host: string;
  httpContext: string;
  httpPort: number | string;
  httpsPort: number | string;
  wsPort: number | string;
  wssPort: number | string;
  key: string;
}
let vhostKey = 0;
const vhostValues = (v?: VirtualHost): VhostValues => ({
  host: v?.host ?? '',
  httpContext: v?.httpContext ?? '',
  httpPort: v?.httpPort ?? 80,
  httpsPort: v?.httpsPort ?? 443,
  wsPort: v?.wsPort ?? 9099,
  wssPort: v?.wssPort ?? 8099,
  key: `vhost-${++vhostKey}`,
});

function EnvironmentForm({ existing, onDone }: { existing: Environment | undefined; onDone: () => void }) {
  const api = useApi();
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: {
      name: existing?.name ?? '',
      displayName: existing?.displayName ?? '',
      description: existing?.description ?? '',
      vhosts: existing ? existing.vhosts.map(vhostValues) : [vhostValues()],
    },
    validate: {
      name: (v) => (v.trim() === '' ? 'Enter a name' : null),
      vhosts: { host: (v) => (v.trim() === '' ? 'Enter a host' : null) },
    },
    submit: async (v) => {
      const body = {
        name: v.name.trim(),
        displayName: v.displayName.trim() || v.name.trim(),
        description: v.description,
        ...(existing?.provider ? { provider: existing.provider } : {}),
        vhosts: v.vhosts.map((h) => ({ host: h.host.trim(), httpContext: h.httpContext.trim(), httpPort: Number(h.httpPort), httpsPort: Number(h.httpsPort), wsPort: Number(h.wsPort), wssPort: Number(h.wssPort) })),
      };
      if (existing) await api.put(`${BASE}/${existing.id}`, { body });
      else await api.post(BASE, { body });
      onDone();
    },
  });
  const vhosts = form.getValues().vhosts;
  return (
    <form onSubmit={onSubmit} noValidate data-testid="environment-form">
      <Stack>
        <Group grow align="flex-start">
          <TextInput label="Name" required disabled={existing !== undefined} {...form.getInputProps('name')} data-testid="environment-name" />
          <TextInput label="Display name" {...form.getInputProps('displayName')} />
        </Group>
        <TextInput label="Description" {...form.getInputProps('description')} />
        {vhosts.map((h, i) => (
          <Fieldset key={h.key} legend={`Virtual host ${i + 1}`}>
            <Stack gap="xs">
              <Group grow align="flex-start">
                <TextInput label="Host" required placeholder="api.example.com" {...form.getInputProps(`vhosts.${i}.host`)} data-testid={`vhost-${i}-host`} />
                <TextInput label="HTTP context" placeholder="/gateway" {...form.getInputProps(`vhosts.${i}.httpContext`)} />
              </Group>
              <Group grow align="flex-end">
                <NumberInput label="HTTP port" min={1} max={65535} {...form.getInputProps(`vhosts.${i}.httpPort`)} />
                <NumberInput label="HTTPS port" min={1} max={65535} {...form.getInputProps(`vhosts.${i}.httpsPort`)} data-testid={`vhost-${i}-https-port`} />
                <NumberInput label="WS port" min={1} max={65535} {...form.getInputProps(`vhosts.${i}.wsPort`)} />
                <NumberInput label="WSS port" min={1} max={65535} {...form.getInputProps(`vhosts.${i}.wssPort`)} />
                {vhosts.length > 1 && (
                  <ActionIcon variant="subtle" color="red" size="lg" aria-label={`Remove virtual host ${i + 1}`} onClick={() => form.removeListItem('vhosts', i)}>
                    ×
                  </ActionIcon>
                )}
              </Group>
            </Stack>
          </Fieldset>
        ))}
        <Group>
          <Button variant="light" onClick={() => form.insertListItem('vhosts', vhostValues())} data-testid="add-vhost">
            Add virtual host
          </Button>
        </Group>
        <FormError message={formError} />
        <Group justify="flex-end">
          <Button type="submit" loading={submitting} data-testid="environment-save">
            {existing ? 'Save environment' : 'Add environment'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

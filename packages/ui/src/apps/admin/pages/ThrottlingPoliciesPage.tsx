import { Badge, Button, Group, Modal, NumberInput, Select, Stack, TextInput } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMemo } from 'react';
import { DataTable, FormError, PageHeader, useApi, useConfirm, useHasScope, useResource, useSearchQuery, useServerForm, type Paginated } from '../../../kit/index.ts';

interface PolicyDetails {
  readonly uuid: string;
  readonly policyName: string;
  readonly displayName: string;
  readonly description?: string;
  readonly type: string;
}

const BASE = '/api/am/admin/v4/throttling';
/** WSO2's policy type names (search answer) -> the path segment of that kind's operations. */
const KIND_PATH: Record<string, string> = { ApplicationThrottlePolicy: 'application', SubscriptionThrottlePolicy: 'subscription', AdvancedThrottlePolicy: 'advanced', CustomRule: 'custom' };
const KIND_LABEL: Record<string, string> = { ApplicationThrottlePolicy: 'Application', SubscriptionThrottlePolicy: 'Subscription', AdvancedThrottlePolicy: 'Advanced', CustomRule: 'Custom' };

/** Every throttling policy (GET /throttling/policies/search), an application policy form, delete with confirmation. */
export function ThrottlingPoliciesPage() {
  const api = useApi();
  const search = useSearchQuery();
  const canManage = useHasScope(['apim:admin', 'apim:tier_manage']);
  const [adding, { open, close }] = useDisclosure(false);
  const { confirm, dialog } = useConfirm();
  const policies = useResource((signal) => api.get<Paginated<PolicyDetails>>(`${BASE}/policies/search`, { signal }), []);
  const rows = useMemo(() => {
    const q = search.query.trim().toLowerCase();
    const list = policies.data?.list;
    return q && list ? list.filter((p) => `${p.policyName} ${p.displayName} ${p.description ?? ''} ${KIND_LABEL[p.type] ?? p.type}`.toLowerCase().includes(q)) : list;
  }, [policies.data, search.query]);

  return (
    <>
      <PageHeader title="Throttling policies" description="Limits for applications, subscriptions and APIs, enforced by every gateway." />
      <DataTable
        label="Throttling policies"
        rows={rows}
        rowKey={(p) => p.uuid}
        loading={policies.loading}
        error={policies.error}
        onRetry={policies.reload}
        search={{ value: search.text, onChange: search.setText, label: 'Search policies', placeholder: 'Name or type' }}
        actions={
          canManage && (
            <Button onClick={open} data-testid="add-policy">
              Add application policy
            </Button>
          )
        }
        empty={{ title: 'No throttling policies' }}
        columns={[
          { key: 'policyName', header: 'Name' },
          { key: 'displayName', header: 'Display name' },
          { key: 'type', header: 'Type', render: (p) => <Badge variant="light">{KIND_LABEL[p.type] ?? p.type}</Badge> },
          { key: 'description', header: 'Description', render: (p) => p.description ?? '' },
          {
            key: 'actions',
            header: 'Actions',
            render: (p) =>
              canManage && KIND_PATH[p.type] ? (
                <Button
                  size="xs"
                  variant="subtle"
                  color="red"
                  aria-label={`Delete ${p.policyName}`}
                  onClick={() =>
                    void confirm({
                      title: 'Delete the throttling policy',
                      message: `Delete ${p.policyName}? Gateways stop enforcing it at once.`,
                      confirmLabel: 'Delete',
                      danger: true,
                      onConfirm: async () => {
                        await api.delete(`${BASE}/policies/${KIND_PATH[p.type]}/${p.uuid}`);
                        policies.reload();
                      },
                    })
                  }
                >
                  Delete
                </Button>
              ) : null,
          },
        ]}
      />
      <Modal opened={adding} onClose={close} title="Add an application policy" centered>
        <ApplicationPolicyForm
          onDone={() => {
            close();
            policies.reload();
          }}
        />
      </Modal>
      {dialog}
    </>
  );
}

const TIME_UNITS = [
  { value: 'sec', label: 'second' },
  { value: 'min', label: 'minute' },
  { value: 'hour', label: 'hour' },
  { value: 'day', label: 'day' },
];

function ApplicationPolicyForm({ onDone }: { onDone: () => void }) {
  const api = useApi();
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: { policyName: '', displayName: '', description: '', requestCount: 1000 as number | string, unitTime: 1 as number | string, timeUnit: 'min' },
    validate: {
      policyName: (v) => (v.trim() === '' ? 'Enter a name' : null),
      requestCount: (v) => (Number(v) >= 1 ? null : 'At least 1'),
      unitTime: (v) => (Number(v) >= 1 ? null : 'At least 1'),
    },
    // The server names the limit's fields by their place in WSO2's body.
    fieldMap: {
      'defaultLimit.requestCount.requestCount': 'requestCount',
      'defaultLimit.requestCount.unitTime': 'unitTime',
      'defaultLimit.requestCount.timeUnit': 'timeUnit',
    },
    submit: async (v) => {
      await api.post(`${BASE}/policies/application`, {
        body: {
          policyName: v.policyName,
          displayName: v.displayName || v.policyName,
          description: v.description,
          defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { requestCount: Number(v.requestCount), unitTime: Number(v.unitTime), timeUnit: v.timeUnit } },
        },
      });
      onDone();
    },
  });
  return (
    <form onSubmit={onSubmit} noValidate data-testid="policy-form">
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('policyName')} data-testid="policy-name" />
        <TextInput label="Display name" {...form.getInputProps('displayName')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        <Group grow align="flex-start">
          <NumberInput label="Requests" min={1} required {...form.getInputProps('requestCount')} />
          <NumberInput label="Per" min={1} required {...form.getInputProps('unitTime')} />
          <Select label="Unit" data={TIME_UNITS} allowDeselect={false} {...form.getInputProps('timeUnit')} />
        </Group>
        <FormError message={formError} />
        <Group justify="flex-end">
          <Button type="submit" loading={submitting} data-testid="policy-save">
            Add policy
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

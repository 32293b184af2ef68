import { Badge, Button, Checkbox, Group, Modal, Select, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useMemo, useState } from 'react';
import { ConfirmButton, DataTable, ErrorState, filterRows, FormError, PageHeader, tableState, useApi, useConfirm, useFormDialog, useHasScope, useResource, useSearchQuery, useServerForm, type Paginated } from '../../../kit/index.ts';

type ConditionType = 'API' | 'APPLICATION' | 'IP' | 'IPRANGE' | 'USER';
interface IpValue {
  readonly fixedIp?: string;
  readonly startingIp?: string;
  readonly endingIp?: string;
  readonly invert?: boolean;
}
interface BlockingCondition {
  readonly conditionId: string;
  readonly conditionType: ConditionType;
  readonly conditionValue: string | IpValue;
  readonly conditionStatus: boolean;
}

const BASE = '/api/am/admin/v4/throttling';
const TYPE_LABEL: Record<ConditionType, string> = { API: 'API context', APPLICATION: 'Application', IP: 'IP address', IPRANGE: 'IP range', USER: 'User' };
const TYPES = Object.keys(TYPE_LABEL) as ConditionType[];
/** The value field's label and hint for the string types. */
const VALUE_FIELD: Partial<Record<ConditionType, { label: string; placeholder: string; description: string }>> = {
  API: { label: 'API context', placeholder: '/pizzashack/1.0.0', description: 'The context of the API, with its version.' },
  APPLICATION: { label: 'Application', placeholder: 'admin:DefaultApplication', description: 'The owner and the application name, as owner:name.' },
  USER: { label: 'Username', placeholder: 'alice', description: 'Tokens of this user are refused.' },
};

function describeValue(c: Pick<BlockingCondition, 'conditionType' | 'conditionValue'>): string {
  const v = c.conditionValue;
  if (typeof v === 'string') return v;
  const not = v.invert ? 'not ' : '';
  return c.conditionType === 'IP' ? `${not}${v.fixedIp ?? ''}` : `${not}${v.startingIp ?? ''} – ${v.endingIp ?? ''}`;
}

/** Admin's deny policies (WSO2's blocking conditions): list, add, turn on and off, delete. */
export function BlockingConditionsPage() {
  const api = useApi();
  const search = useSearchQuery();
  const canManage = useHasScope(['apim:admin', 'apim:bl_manage']);
  const adding = useFormDialog<'new'>((t) => t);
  const { confirm, dialog } = useConfirm();
  const [toggleError, setToggleError] = useState<unknown>();
  const [toggling, setToggling] = useState<string | undefined>();
  const conditions = useResource((signal) => api.get<Paginated<BlockingCondition>>(`${BASE}/deny-policies`, { signal }), []);
  const rows = useMemo(() => filterRows(conditions.data?.list, search.query, (c) => `${TYPE_LABEL[c.conditionType]} ${describeValue(c)}`), [conditions.data, search.query]);

  const setStatus = async (c: BlockingCondition, conditionStatus: boolean) => {
    setToggleError(undefined);
    setToggling(c.conditionId);
    try {
      await api.request('PATCH', `${BASE}/deny-policy/${c.conditionId}`, { body: { conditionId: c.conditionId, conditionStatus } });
      conditions.reload();
    } catch (err) {
      setToggleError(err);
    } finally {
      setToggling(undefined);
    }
  };

  return (
    <>
      <PageHeader title="Blocking conditions" description="Requests matching an enabled condition are refused by every gateway (403, fault 900805)." />
      {toggleError !== undefined && <ErrorState error={toggleError} title="The condition was not changed" />}
      <DataTable
        label="Blocking conditions"
        {...tableState(conditions, rows)}
        rowKey={(c) => c.conditionId}
        search={{ value: search.text, onChange: search.setText, label: 'Search conditions', placeholder: 'Type or value' }}
        actions={
          canManage && (
            <Button onClick={() => adding.open('new')} data-testid="add-condition">
              Add condition
            </Button>
          )
        }
        empty={{ title: 'No blocking conditions', description: 'Nothing is blocked: add a condition to refuse an API, an application, a user or addresses.' }}
        columns={[
          { key: 'conditionType', header: 'Type', render: (c) => <Badge variant="light">{TYPE_LABEL[c.conditionType] ?? c.conditionType}</Badge> },
          { key: 'conditionValue', header: 'Value', render: (c) => <Text size="sm" ff="monospace">{describeValue(c)}</Text> },
          {
            key: 'conditionStatus',
            header: 'Enabled',
            render: (c) => (
              <Switch
                checked={c.conditionStatus}
                disabled={!canManage || toggling === c.conditionId}
                onChange={(e) => void setStatus(c, e.currentTarget.checked)}
                aria-label={`Enabled: ${TYPE_LABEL[c.conditionType]} ${describeValue(c)}`}
                data-testid="condition-status"
              />
            ),
          },
          {
            key: 'actions',
            header: 'Actions',
            render: (c) =>
              canManage ? (
                <ConfirmButton
                  confirm={confirm}
                  aria-label={`Delete ${TYPE_LABEL[c.conditionType]} ${describeValue(c)}`}
                  title="Delete the blocking condition"
                  message={`Delete the condition on ${TYPE_LABEL[c.conditionType].toLowerCase()} ${describeValue(c)}? Gateways stop refusing these requests at once.`}
                  onConfirm={async () => {
                    await api.delete(`${BASE}/deny-policy/${c.conditionId}`);
                    conditions.reload();
                  }}
                >
                  Delete
                </ConfirmButton>
              ) : null,
          },
        ]}
      />
      <Modal {...adding.modalProps} title="Add a blocking condition" centered>
        <ConditionForm
          key={adding.formKey}
          onDone={() => {
            adding.done();
            conditions.reload();
          }}
        />
      </Modal>
      {dialog}
    </>
  );
}

function ConditionForm({ onDone }: { onDone: () => void }) {
  const api = useApi();
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: { conditionType: 'API' as ConditionType, value: '', fixedIp: '', startingIp: '', endingIp: '', invert: false, conditionStatus: true },
    validate: {
      value: (v, all) => (VALUE_FIELD[all.conditionType] && v.trim() === '' ? `Enter the ${VALUE_FIELD[all.conditionType]!.label.toLowerCase()}` : null),
      fixedIp: (v, all) => (all.conditionType === 'IP' && v.trim() === '' ? 'Enter an IP address' : null),
      startingIp: (v, all) => (all.conditionType === 'IPRANGE' && v.trim() === '' ? 'Enter the first address' : null),
      endingIp: (v, all) => (all.conditionType === 'IPRANGE' && v.trim() === '' ? 'Enter the last address' : null),
    },
    // The server names the value's parts by their place in the body.
    fieldMap: { conditionValue: 'value', 'conditionValue.fixedIp': 'fixedIp', 'conditionValue.startingIp': 'startingIp', 'conditionValue.endingIp': 'endingIp', 'conditionValue.invert': 'invert' },
    submit: async (v) => {
      const conditionValue =
        v.conditionType === 'IP'
          ? { fixedIp: v.fixedIp.trim(), invert: v.invert }
          : v.conditionType === 'IPRANGE'
            ? { startingIp: v.startingIp.trim(), endingIp: v.endingIp.trim(), invert: v.invert }
            : v.value.trim();
      await api.post(`${BASE}/deny-policies`, { body: { conditionType: v.conditionType, conditionValue, conditionStatus: v.conditionStatus } });
      onDone();
    },
  });
  const type = form.getValues().conditionType;
  const valueField = VALUE_FIELD[type];
  return (
    <form onSubmit={onSubmit} noValidate data-testid="condition-form">
      <Stack>
        <Select label="Condition type" data={TYPES.map((t) => ({ value: t, label: TYPE_LABEL[t] }))} allowDeselect={false} {...form.getInputProps('conditionType')} data-testid="condition-type" />
        {valueField && <TextInput label={valueField.label} description={valueField.description} placeholder={valueField.placeholder} required {...form.getInputProps('value')} data-testid="condition-value" />}
        {type === 'IP' && <TextInput label="IP address" description="An IPv4 or IPv6 address, or a CIDR block." placeholder="203.0.113.7" required {...form.getInputProps('fixedIp')} data-testid="condition-ip" />}
        {type === 'IPRANGE' && (
          <Group grow align="flex-start">
            <TextInput label="Starting IP" placeholder="203.0.113.0" required {...form.getInputProps('startingIp')} data-testid="condition-start-ip" />
            <TextInput label="Ending IP" placeholder="203.0.113.255" required {...form.getInputProps('endingIp')} data-testid="condition-end-ip" />
          </Group>
        )}
        {(type === 'IP' || type === 'IPRANGE') && <Checkbox label="Invert: block every address except these" {...form.getInputProps('invert', { type: 'checkbox' })} />}
        <Checkbox label="Enabled" {...form.getInputProps('conditionStatus', { type: 'checkbox' })} />
        <FormError message={formError} />
        <Group justify="flex-end">
          <Button type="submit" loading={submitting} data-testid="condition-save">
            Add condition
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

import { Badge, Button, Checkbox, Fieldset, Group, Modal, NumberInput, SegmentedControl, Select, Stack, Textarea, TextInput } from '@mantine/core';
import { useMemo, useState } from 'react';
import { ConfirmButton, DataTable, ErrorState, filterRows, FormError, LoadingState, PageHeader, tableState, useApi, useConfirm, useFormDialog, useHasScope, useResource, useSearchParam, useSearchQuery, useServerForm, type Paginated } from '../../../kit/index.ts';

interface PolicyDetails {
  readonly uuid: string;
  readonly policyName: string;
  readonly displayName: string;
  readonly description?: string;
  readonly type: string;
}

type Kind = 'application' | 'subscription' | 'advanced' | 'custom';

interface Limit {
  readonly type: 'REQUESTCOUNTLIMIT' | 'BANDWIDTHLIMIT' | 'EVENTCOUNTLIMIT';
  readonly requestCount?: { requestCount: number; unitTime: number; timeUnit: string };
  readonly bandwidth?: { dataAmount: number; dataUnit: string; unitTime: number; timeUnit: string };
  readonly eventCount?: { eventCount: number; unitTime: number; timeUnit: string };
}

/** WSO2's throttle condition (advanced policies' conditional groups). */
interface Condition {
  readonly type: 'HEADERCONDITION' | 'IPCONDITION' | 'JWTCLAIMSCONDITION' | 'QUERYPARAMETERCONDITION';
  readonly invertCondition?: boolean;
  readonly headerCondition?: { headerName: string; headerValue: string };
  readonly ipCondition?: { ipConditionType?: 'IPRANGE' | 'IPSPECIFIC'; specificIP?: string; startingIP?: string; endingIP?: string };
  readonly jwtClaimsCondition?: { claimUrl: string; attribute: string };
  readonly queryParameterCondition?: { parameterName: string; parameterValue: string };
}
interface ConditionalGroup {
  readonly description?: string;
  readonly conditions: readonly Condition[];
  readonly limit: Limit;
}

/** A policy as GET /throttling/policies/{kind}/{id} answers it (the fields the form edits; the rest is sent back as it was). */
interface Policy extends Record<string, unknown> {
  readonly policyId: string;
  readonly policyName: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly defaultLimit?: Limit;
  readonly rateLimitCount?: number;
  readonly rateLimitTimeUnit?: string;
  readonly stopOnQuotaReach?: boolean;
  readonly billingPlan?: string;
  readonly keyTemplate?: string;
  readonly siddhiQuery?: string;
  readonly conditionalGroups?: readonly ConditionalGroup[];
}

const BASE = '/api/am/admin/v4/throttling';
/** WSO2's policy type names (search answer) -> the path segment of that kind's operations. */
const KIND_OF: Record<string, Kind> = { ApplicationThrottlePolicy: 'application', SubscriptionThrottlePolicy: 'subscription', AdvancedThrottlePolicy: 'advanced', CustomRule: 'custom' };
const KIND_LABEL: Record<Kind, string> = { application: 'Application', subscription: 'Subscription', advanced: 'Advanced', custom: 'Custom' };
const KIND_ARTICLE: Record<Kind, string> = { application: 'an', subscription: 'a', advanced: 'an', custom: 'a' };
const KINDS = Object.keys(KIND_LABEL) as Kind[];

/** Every throttling policy (GET /throttling/policies/search) by kind, add, edit and delete for each kind. */
export function ThrottlingPoliciesPage() {
  const api = useApi();
  const search = useSearchQuery();
  const [kindParam, setKind] = useSearchParam('type');
  const kindFilter = KINDS.includes(kindParam as Kind) ? (kindParam as Kind) : undefined;
  const canManage = useHasScope(['apim:admin', 'apim:tier_manage']);
  const editor = useFormDialog<{ kind: Kind; id?: string }>((e) => `${e.kind}/${e.id ?? 'new'}`);
  const editing = editor.target;
  const { confirm, dialog } = useConfirm();
  const policies = useResource((signal) => api.get<Paginated<PolicyDetails>>(`${BASE}/policies/search`, { signal }), []);
  const rows = useMemo(() => {
    let list = policies.data?.list;
    if (list && kindFilter) list = list.filter((p) => KIND_OF[p.type] === kindFilter);
    return filterRows(list, search.query, (p) => `${p.policyName} ${p.displayName} ${p.description ?? ''} ${KIND_LABEL[KIND_OF[p.type]!] ?? p.type}`);
  }, [policies.data, search.query, kindFilter]);

  return (
    <>
      <PageHeader title="Throttling policies" description="Limits for applications, subscriptions and APIs, and custom rules, enforced by every gateway." />
      <SegmentedControl
        mb="md"
        aria-label="Policy type"
        value={kindFilter ?? 'all'}
        onChange={(v) => setKind(v === 'all' ? '' : v)}
        data={[{ value: 'all', label: 'All' }, ...KINDS.map((k) => ({ value: k, label: KIND_LABEL[k] }))]}
        data-testid="policy-kind-filter"
      />
      <DataTable
        label="Throttling policies"
        {...tableState(policies, rows)}
        rowKey={(p) => p.uuid}
        search={{ value: search.text, onChange: search.setText, label: 'Search policies', placeholder: 'Name or type' }}
        actions={
          canManage && (
            // Adds a policy of the kind on show (application when all are).
            <Button onClick={() => editor.open({ kind: kindFilter ?? 'application' })} data-testid="add-policy">
              Add {KIND_LABEL[kindFilter ?? 'application'].toLowerCase()} policy
            </Button>
          )
        }
        empty={{ title: 'No throttling policies' }}
        columns={[
          { key: 'policyName', header: 'Name' },
          { key: 'displayName', header: 'Display name' },
          { key: 'type', header: 'Type', render: (p) => <Badge variant="light">{KIND_LABEL[KIND_OF[p.type]!] ?? p.type}</Badge> },
          { key: 'description', header: 'Description', render: (p) => p.description ?? '' },
          {
            key: 'actions',
            header: 'Actions',
            render: (p) => {
              const kind = KIND_OF[p.type];
              if (!canManage || !kind) return null;
              return (
                <Group gap={4} wrap="nowrap">
                  <Button size="xs" variant="subtle" aria-label={`Edit ${p.policyName}`} onClick={() => editor.open({ kind, id: p.uuid })}>
                    Edit
                  </Button>
                  <ConfirmButton
                    confirm={confirm}
                    aria-label={`Delete ${p.policyName}`}
                    title="Delete the throttling policy"
                    message={`Delete ${p.policyName}? Gateways stop enforcing it at once.`}
                    onConfirm={async () => {
                      await api.delete(`${BASE}/policies/${kind}/${p.uuid}`);
                      policies.reload();
                    }}
                  >
                    Delete
                  </ConfirmButton>
                </Group>
              );
            },
          },
        ]}
      />
      <Modal {...editor.modalProps} title={editing ? (editing.id ? `Edit the ${KIND_LABEL[editing.kind].toLowerCase()} policy` : `Add ${KIND_ARTICLE[editing.kind]} ${KIND_LABEL[editing.kind].toLowerCase()} policy`) : ''} centered size="lg">
        {editing && (
          <PolicyEditor
            key={editor.formKey}
            kind={editing.kind}
            id={editing.id}
            onDone={() => {
              editor.done();
              policies.reload();
            }}
          />
        )}
      </Modal>
      {dialog}
    </>
  );
}

/** Loads the policy when editing, then shows its form. */
function PolicyEditor({ kind, id, onDone }: { kind: Kind; id: string | undefined; onDone: () => void }) {
  const api = useApi();
  const existing = useResource((signal) => (id ? api.get<Policy>(`${BASE}/policies/${kind}/${id}`, { signal }) : Promise.resolve(undefined)), [kind, id]);
  if (id && existing.error) return <ErrorState error={existing.error} onRetry={existing.reload} />;
  if (id && !existing.data) return <LoadingState />;
  return <PolicyForm kind={kind} existing={existing.data} onDone={onDone} />;
}

const TIME_UNITS = [
  { value: 'sec', label: 'second' },
  { value: 'min', label: 'minute' },
  { value: 'hour', label: 'hour' },
  { value: 'day', label: 'day' },
];
const LIMIT_TYPES = [
  { value: 'REQUESTCOUNTLIMIT', label: 'Request count' },
  { value: 'BANDWIDTHLIMIT', label: 'Bandwidth' },
];

/** A limit as the form edits it (request count or bandwidth, per time unit). */
function limitValues(limit: Limit | undefined) {
  const timed = limit?.requestCount ?? limit?.bandwidth ?? limit?.eventCount;
  return {
    limitType: limit?.type === 'BANDWIDTHLIMIT' ? 'BANDWIDTHLIMIT' : 'REQUESTCOUNTLIMIT',
    requestCount: (limit?.requestCount?.requestCount ?? limit?.eventCount?.eventCount ?? 1000) as number | string,
    dataAmount: (limit?.bandwidth?.dataAmount ?? 100) as number | string,
    dataUnit: limit?.bandwidth?.dataUnit ?? 'MB',
    unitTime: (timed?.unitTime ?? 1) as number | string,
    timeUnit: timed?.timeUnit ?? 'min',
  };
}
type LimitValues = ReturnType<typeof limitValues>;

function limitBody(v: LimitValues): Limit {
  const time = { unitTime: Number(v.unitTime), timeUnit: v.timeUnit };
  return v.limitType === 'BANDWIDTHLIMIT'
    ? { type: 'BANDWIDTHLIMIT', bandwidth: { dataAmount: Number(v.dataAmount), dataUnit: v.dataUnit, ...time } }
    : { type: 'REQUESTCOUNTLIMIT', requestCount: { requestCount: Number(v.requestCount), ...time } };
}

let rowKey = 0;
const nextKey = () => `row-${++rowKey}`;

/** A condition as the form edits it: one name/value pair (or addresses) whatever the type. */
function conditionValues(c?: Condition) {
  return {
    key: nextKey(),
    type: (c?.type ?? 'HEADERCONDITION') as Condition['type'],
    invert: c?.invertCondition ?? false,
    name: c?.headerCondition?.headerName ?? c?.queryParameterCondition?.parameterName ?? c?.jwtClaimsCondition?.claimUrl ?? '',
    value: c?.headerCondition?.headerValue ?? c?.queryParameterCondition?.parameterValue ?? c?.jwtClaimsCondition?.attribute ?? '',
    ipType: c?.ipCondition?.ipConditionType ?? 'IPSPECIFIC',
    specificIP: c?.ipCondition?.specificIP ?? '',
    startingIP: c?.ipCondition?.startingIP ?? '',
    endingIP: c?.ipCondition?.endingIP ?? '',
  };
}
type ConditionValues = ReturnType<typeof conditionValues>;

function conditionBody(c: ConditionValues): Condition {
  const base = { type: c.type, invertCondition: c.invert };
  switch (c.type) {
    case 'HEADERCONDITION':
      return { ...base, headerCondition: { headerName: c.name.trim(), headerValue: c.value } };
    case 'QUERYPARAMETERCONDITION':
      return { ...base, queryParameterCondition: { parameterName: c.name.trim(), parameterValue: c.value } };
    case 'JWTCLAIMSCONDITION':
      return { ...base, jwtClaimsCondition: { claimUrl: c.name.trim(), attribute: c.value } };
    default:
      return { ...base, ipCondition: c.ipType === 'IPRANGE' ? { ipConditionType: 'IPRANGE', startingIP: c.startingIP.trim(), endingIP: c.endingIP.trim() } : { ipConditionType: 'IPSPECIFIC', specificIP: c.specificIP.trim() } };
  }
}

const groupValues = (g?: ConditionalGroup) => ({
  key: nextKey(),
  description: g?.description ?? '',
  conditions: g ? g.conditions.map(conditionValues) : [conditionValues()],
  ...limitValues(g?.limit),
});

function initialValues(existing: Policy | undefined) {
  return {
    policyName: existing?.policyName ?? '',
    displayName: existing?.displayName ?? '',
    description: existing?.description ?? '',
    ...limitValues(existing?.defaultLimit),
    rateLimitCount: (existing?.rateLimitCount ?? 0) as number | string,
    rateLimitTimeUnit: existing?.rateLimitTimeUnit ?? 'sec',
    stopOnQuotaReach: existing?.stopOnQuotaReach ?? true,
    billingPlan: existing?.billingPlan ?? 'FREE',
    keyTemplate: existing?.keyTemplate ?? '$userId',
    siddhiQuery: existing?.siddhiQuery ?? '',
    conditionalGroups: (existing?.conditionalGroups ?? []).map(groupValues),
  };
}
type FormValues = ReturnType<typeof initialValues>;

/** The server names a group's fields by their place in WSO2's body; the form's paths differ. */
function groupFieldMap(values: FormValues): Record<string, string> {
  const map: Record<string, string> = {};
  values.conditionalGroups.forEach((g, i) => {
    const at = `conditionalGroups.${i}`;
    for (const [server, local] of Object.entries(LIMIT_FIELDS)) map[server.replace(/^defaultLimit/, `${at}.limit`)] = `${at}.${local}`;
    g.conditions.forEach((_c, j) => {
      const c = `${at}.conditions.${j}`;
      for (const n of ['headerCondition.headerName', 'queryParameterCondition.parameterName', 'jwtClaimsCondition.claimUrl']) map[`${c}.${n}`] = `${c}.name`;
      for (const n of ['headerCondition.headerValue', 'queryParameterCondition.parameterValue', 'jwtClaimsCondition.attribute']) map[`${c}.${n}`] = `${c}.value`;
      for (const n of ['specificIP', 'startingIP', 'endingIP']) map[`${c}.ipCondition.${n}`] = `${c}.${n}`;
    });
  });
  return map;
}

/** Where the server's messages about the limit go: WSO2 names them by their place in the body. */
const LIMIT_FIELDS: Record<string, string> = {
  'defaultLimit.type': 'limitType',
  'defaultLimit.requestCount.requestCount': 'requestCount',
  'defaultLimit.requestCount.unitTime': 'unitTime',
  'defaultLimit.requestCount.timeUnit': 'timeUnit',
  'defaultLimit.bandwidth.dataAmount': 'dataAmount',
  'defaultLimit.bandwidth.dataUnit': 'dataUnit',
  'defaultLimit.bandwidth.unitTime': 'unitTime',
  'defaultLimit.bandwidth.timeUnit': 'timeUnit',
};

function PolicyForm({ kind, existing, onDone }: { kind: Kind; existing: Policy | undefined; onDone: () => void }) {
  const api = useApi();
  const limited = kind !== 'custom';
  const [current, setCurrent] = useState(() => initialValues(existing));
  const { form, onSubmit, submitting, formError } = useServerForm({
    onValuesChange: (v) => setCurrent(v),
    initialValues: initialValues(existing),
    validate: {
      policyName: (v) => (v.trim() === '' ? 'Enter a name' : null),
      requestCount: (v, values) => (!limited || values.limitType !== 'REQUESTCOUNTLIMIT' || Number(v) >= 1 ? null : 'At least 1'),
      dataAmount: (v, values) => (!limited || values.limitType !== 'BANDWIDTHLIMIT' || Number(v) >= 1 ? null : 'At least 1'),
      unitTime: (v) => (!limited || Number(v) >= 1 ? null : 'At least 1'),
      siddhiQuery: (v) => (kind !== 'custom' || v.trim() !== '' ? null : 'Enter the Siddhi query'),
    },
    fieldMap: { ...LIMIT_FIELDS, ...groupFieldMap(current) },
    submit: async (v) => {
      const common = { policyName: v.policyName.trim(), displayName: v.displayName || v.policyName.trim(), description: v.description };
      const defaultLimit = limitBody(v);
      let body: Record<string, unknown>;
      if (kind === 'custom') body = { ...common, keyTemplate: v.keyTemplate, siddhiQuery: v.siddhiQuery };
      else if (kind === 'advanced')
        body = { ...common, defaultLimit, conditionalGroups: v.conditionalGroups.map((g) => ({ ...(g.description ? { description: g.description } : {}), conditions: g.conditions.map(conditionBody), limit: limitBody(g) })) };
      else if (kind === 'subscription')
        body = { ...common, defaultLimit, rateLimitCount: Number(v.rateLimitCount), ...(Number(v.rateLimitCount) > 0 ? { rateLimitTimeUnit: v.rateLimitTimeUnit } : {}), stopOnQuotaReach: v.stopOnQuotaReach, billingPlan: v.billingPlan };
      else body = { ...common, defaultLimit };
      if (existing) {
        // What the form does not edit (permissions, custom attributes, monetization) goes back as it was.
        const { policyId: _id, isDeployed: _d, type: _t, ...rest } = existing;
        if (kind === 'subscription' && Number(v.rateLimitCount) === 0) delete rest.rateLimitTimeUnit;
        await api.put(`${BASE}/policies/${kind}/${existing.policyId}`, { body: { ...rest, ...body } });
      } else {
        await api.post(`${BASE}/policies/${kind}`, { body });
      }
      onDone();
    },
  });
  const values = form.getValues();
  return (
    <form onSubmit={onSubmit} noValidate data-testid="policy-form">
      <Stack>
        <TextInput label="Name" required disabled={existing !== undefined} description={existing ? 'A policy keeps its name.' : undefined} {...form.getInputProps('policyName')} data-testid="policy-name" />
        <TextInput label="Display name" {...form.getInputProps('displayName')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        {limited && <LimitFields form={form} prefix="" />}
        {kind === 'subscription' && (
          <>
            <Group grow align="flex-start">
              <NumberInput label="Burst limit (requests, 0 for none)" min={0} {...form.getInputProps('rateLimitCount')} />
              <Select label="Burst limit unit" data={TIME_UNITS.slice(0, 2)} allowDeselect={false} {...form.getInputProps('rateLimitTimeUnit')} />
            </Group>
            <Select label="Billing plan" data={[{ value: 'FREE', label: 'Free' }, { value: 'COMMERCIAL', label: 'Commercial' }]} allowDeselect={false} {...form.getInputProps('billingPlan')} />
            <Checkbox label="Stop on quota reach" {...form.getInputProps('stopOnQuotaReach', { type: 'checkbox' })} />
          </>
        )}
        {kind === 'custom' && (
          <>
            <TextInput label="Key template" required description="Built from $userId, $apiContext, $apiVersion, $appId, $appTenant, $apiTenant, $clientIp" {...form.getInputProps('keyTemplate')} />
            <Textarea label="Siddhi query" required autosize minRows={4} styles={{ input: { fontFamily: 'monospace' } }} {...form.getInputProps('siddhiQuery')} />
          </>
        )}
        {kind === 'advanced' && (
          <>
            {values.conditionalGroups.map((g, i) => (
              <Fieldset key={g.key} legend={`Conditional group ${i + 1}`} data-testid={`group-${i}`}>
                <Stack gap="xs">
                  <TextInput label="Group description" {...form.getInputProps(`conditionalGroups.${i}.description`)} />
                  {g.conditions.map((c, j) => (
                    <ConditionFields key={c.key} form={form} at={`conditionalGroups.${i}.conditions.${j}`} label={`Condition ${j + 1} of group ${i + 1}`} condition={c} onRemove={g.conditions.length > 1 ? () => form.removeListItem(`conditionalGroups.${i}.conditions`, j) : undefined} />
                  ))}
                  <Group>
                    <Button size="xs" variant="light" onClick={() => form.insertListItem(`conditionalGroups.${i}.conditions`, conditionValues())} data-testid={`group-${i}-add-condition`}>
                      Add condition
                    </Button>
                  </Group>
                  <LimitFields form={form} prefix={`conditionalGroups.${i}.`} />
                  <Group justify="flex-end">
                    <Button size="xs" variant="subtle" color="red" onClick={() => form.removeListItem('conditionalGroups', i)}>
                      Remove group {i + 1}
                    </Button>
                  </Group>
                </Stack>
              </Fieldset>
            ))}
            <Group>
              <Button variant="light" onClick={() => form.insertListItem('conditionalGroups', groupValues())} data-testid="add-group">
                Add conditional group
              </Button>
            </Group>
          </>
        )}
        <FormError message={formError} />
        <Group justify="flex-end">
          <Button type="submit" loading={submitting} data-testid="policy-save">
            {existing ? 'Save policy' : 'Add policy'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

type PolicyFormApi = ReturnType<typeof useServerForm<FormValues>>['form'];

/** Request count or bandwidth per time unit; `prefix` is the limit's place in the form ('' for the default limit). */
function LimitFields({ form, prefix }: { form: PolicyFormApi; prefix: string }) {
  const type = form.getInputProps(`${prefix}limitType`).value as string;
  const group = prefix !== '';
  return (
    <>
      <Select label={group ? 'Group limit type' : 'Limit type'} data={LIMIT_TYPES} allowDeselect={false} {...form.getInputProps(`${prefix}limitType`)} />
      <Group grow align="flex-start">
        {type === 'BANDWIDTHLIMIT' ? (
          <>
            <NumberInput label={group ? 'Group data amount' : 'Data amount'} min={1} required {...form.getInputProps(`${prefix}dataAmount`)} />
            <Select label={group ? 'Group data unit' : 'Data unit'} data={['KB', 'MB', 'GB']} allowDeselect={false} {...form.getInputProps(`${prefix}dataUnit`)} />
          </>
        ) : (
          <NumberInput label={group ? 'Group requests' : 'Requests'} min={1} required {...form.getInputProps(`${prefix}requestCount`)} />
        )}
        <NumberInput label={group ? 'Group per' : 'Per'} min={1} required {...form.getInputProps(`${prefix}unitTime`)} />
        <Select label={group ? 'Group unit' : 'Unit'} data={TIME_UNITS} allowDeselect={false} {...form.getInputProps(`${prefix}timeUnit`)} />
      </Group>
    </>
  );
}

const CONDITION_TYPES = [
  { value: 'HEADERCONDITION', label: 'Header' },
  { value: 'QUERYPARAMETERCONDITION', label: 'Query parameter' },
  { value: 'JWTCLAIMSCONDITION', label: 'JWT claim' },
  { value: 'IPCONDITION', label: 'IP address' },
];
const NAME_LABEL: Record<string, [string, string]> = {
  HEADERCONDITION: ['Header name', 'Header value'],
  QUERYPARAMETERCONDITION: ['Parameter name', 'Parameter value'],
  JWTCLAIMSCONDITION: ['Claim', 'Claim value (regular expression)'],
};

function ConditionFields({ form, at, label, condition, onRemove }: { form: PolicyFormApi; at: string; label: string; condition: ConditionValues; onRemove: (() => void) | undefined }) {
  const names = NAME_LABEL[condition.type];
  return (
    <Fieldset legend={label} variant="filled">
      <Stack gap="xs">
        <Group grow align="flex-start">
          <Select label="Condition type" data={CONDITION_TYPES} allowDeselect={false} {...form.getInputProps(`${at}.type`)} />
          {condition.type === 'IPCONDITION' && (
            <Select label="Addresses" data={[{ value: 'IPSPECIFIC', label: 'One address' }, { value: 'IPRANGE', label: 'A range' }]} allowDeselect={false} {...form.getInputProps(`${at}.ipType`)} />
          )}
        </Group>
        {names && (
          <Group grow align="flex-start">
            <TextInput label={names[0]} required {...form.getInputProps(`${at}.name`)} />
            <TextInput label={names[1]} {...form.getInputProps(`${at}.value`)} />
          </Group>
        )}
        {condition.type === 'IPCONDITION' &&
          (condition.ipType === 'IPRANGE' ? (
            <Group grow align="flex-start">
              <TextInput label="Starting IP" required {...form.getInputProps(`${at}.startingIP`)} />
              <TextInput label="Ending IP" required {...form.getInputProps(`${at}.endingIP`)} />
            </Group>
          ) : (
            <TextInput label="IP address" required {...form.getInputProps(`${at}.specificIP`)} />
          ))}
        <Group justify="space-between">
          <Checkbox label="Invert: applies when the condition does not match" {...form.getInputProps(`${at}.invert`, { type: 'checkbox' })} />
          {onRemove && (
            <Button size="xs" variant="subtle" color="red" onClick={onRemove}>
              Remove condition
            </Button>
          )}
        </Group>
      </Stack>
    </Fieldset>
  );
}

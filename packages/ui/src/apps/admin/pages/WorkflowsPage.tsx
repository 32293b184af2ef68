import { Anchor, Badge, Button, Group, Select, Stack, Text, Textarea } from '@mantine/core';
import { useRef, useState } from 'react';
import { Link } from 'react-router';
import { DataTable, ErrorState, PageHeader, tableState, useApi, useConfirm, useHasScope, useResource, useSearchParam } from '../../../kit/index.ts';

interface WorkflowInfo {
  readonly workflowType: string;
  readonly workflowStatus: string;
  readonly createdTime?: string;
  readonly referenceId: string;
  readonly properties?: Record<string, unknown>;
  readonly description?: string;
}
interface WorkflowList {
  readonly count: number;
  readonly next?: string;
  readonly previous?: string;
  readonly list: readonly WorkflowInfo[];
}

const BASE = '/api/am/admin/v4/workflows';
const PAGE = 25;
const TYPE_LABEL: Record<string, string> = {
  APPLICATION_CREATION: 'Application creation',
  SUBSCRIPTION_CREATION: 'Subscription creation',
  USER_SIGNUP: 'User sign-up',
  APPLICATION_REGISTRATION_PRODUCTION: 'Production keys',
  APPLICATION_REGISTRATION_SANDBOX: 'Sandbox keys',
  APPLICATION_DELETION: 'Application deletion',
  API_STATE: 'API state change',
  SUBSCRIPTION_DELETION: 'Subscription deletion',
  SUBSCRIPTION_UPDATE: 'Subscription update',
  API_PRODUCT_STATE: 'API product state change',
};

/** The request's properties (API, application, user, tier...) as one line. */
function details(wf: WorkflowInfo): string {
  return Object.entries(wf.properties ?? {})
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}

/** Pending approvals (applications, subscriptions, sign-ups...): approve or reject each. */
export function WorkflowsPage() {
  const api = useApi();
  const canApprove = useHasScope(['apim:admin', 'apim:api_workflow_approve']);
  const [type, setType] = useSearchParam('type');
  const [offset, setOffset] = useState(0);
  const { confirm, dialog } = useConfirm();
  // The confirm dialog's message is rendered once; the note typed in it is read when it is confirmed.
  const noteRef = useRef('');
  const [actionError, setActionError] = useState<unknown>();
  const [busy, setBusy] = useState<string | undefined>();
  const workflows = useResource((signal) => api.get<WorkflowList>(BASE, { query: { workflowType: type ? `AM_${type}` : undefined, limit: PAGE, offset }, signal }), [type, offset]);

  const decide = async (wf: WorkflowInfo, status: 'APPROVED' | 'REJECTED', description?: string) => {
    await api.post(`${BASE}/update-workflow-status`, { query: { workflowReferenceId: wf.referenceId }, body: { status, ...(description ? { description } : {}) } });
    workflows.reload();
  };
  const approve = async (wf: WorkflowInfo) => {
    setActionError(undefined);
    setBusy(wf.referenceId);
    try {
      await decide(wf, 'APPROVED');
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <>
      <PageHeader title="Approvals" description="Requests waiting for an administrator: new applications, subscriptions and accounts." />
      <Group mb="md" align="flex-end">
        <Select
          label="Request type"
          w={260}
          data={[{ value: '', label: 'All requests' }, ...Object.entries(TYPE_LABEL).map(([value, label]) => ({ value, label }))]}
          value={type}
          onChange={(v) => {
            setOffset(0);
            setType(v ?? '');
          }}
          allowDeselect={false}
          data-testid="workflow-type"
        />
      </Group>
      {actionError !== undefined && <ErrorState error={actionError} title="The request was not decided" />}
      <DataTable
        label="Pending requests"
        {...tableState(workflows)}
        rowKey={(w) => w.referenceId}
        empty={{
          title: 'Nothing to approve',
          description: (
            <>
              Requests appear here when their approval workflow is switched on in{' '}
              <Anchor component={Link} to="/settings" underline="always">
                Settings
              </Anchor>
              .
            </>
          ),
        }}
        columns={[
          { key: 'workflowType', header: 'Request', render: (w) => <Badge variant="light">{TYPE_LABEL[w.workflowType] ?? w.workflowType}</Badge> },
          {
            key: 'description',
            header: 'Details',
            render: (w) => (
              <Stack gap={2}>
                <Text size="sm">{w.description ?? ''}</Text>
                <Text size="xs" c="dimmed">
                  {details(w)}
                </Text>
              </Stack>
            ),
          },
          { key: 'createdTime', header: 'Requested', render: (w) => (w.createdTime ? new Date(w.createdTime).toLocaleString() : '') },
          {
            key: 'actions',
            header: 'Actions',
            render: (w) =>
              canApprove ? (
                <Group gap={4} wrap="nowrap">
                  <Button size="xs" variant="light" color="green" loading={busy === w.referenceId} aria-label={`Approve ${w.description ?? w.referenceId}`} onClick={() => void approve(w)}>
                    Approve
                  </Button>
                  <Button
                    size="xs"
                    variant="subtle"
                    color="red"
                    aria-label={`Reject ${w.description ?? w.referenceId}`}
                    onClick={() => {
                      noteRef.current = '';
                      void confirm({
                        title: 'Reject the request',
                        message: (
                          <Stack>
                            <Text size="sm">{w.description ?? TYPE_LABEL[w.workflowType] ?? w.workflowType}</Text>
                            <RejectNote onChange={(v) => (noteRef.current = v)} />
                          </Stack>
                        ),
                        confirmLabel: 'Reject',
                        danger: true,
                        onConfirm: () => decide(w, 'REJECTED', noteRef.current),
                      });
                    }}
                  >
                    Reject
                  </Button>
                </Group>
              ) : null,
          },
        ]}
        footer={
          workflows.data && (workflows.data.next || workflows.data.previous) ? (
            <Group justify="flex-end">
              <Button size="xs" variant="default" disabled={!workflows.data.previous} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                Previous page
              </Button>
              <Button size="xs" variant="default" disabled={!workflows.data.next} onClick={() => setOffset(offset + PAGE)}>
                Next page
              </Button>
            </Group>
          ) : undefined
        }
      />
      {dialog}
    </>
  );
}

function RejectNote({ onChange }: { onChange: (value: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <Textarea
      label="Reason (optional)"
      value={value}
      maxLength={1024}
      onChange={(e) => {
        setValue(e.currentTarget.value);
        onChange(e.currentTarget.value);
      }}
      data-testid="reject-note"
    />
  );
}

import { Badge, Button, Checkbox, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { DataTable, ErrorState, LoadingState, tableState, useApi, useConfirm, useHasScope, useResource } from '../../../../kit/index.ts';
import { formatTime, PUB, stateColor, type LifecycleState } from '../../model.ts';
import type { ApiTabProps } from '../ApiDetailPage.tsx';

interface HistoryEntry {
  previousState?: string;
  postState: string;
  user: string;
  updatedTime: string;
}

/** Actions that take the API away from subscribers: confirmed first. */
const DISRUPTIVE = new Set(['Block', 'Deprecate', 'Retire', 'Demote to Created']);

/** The API's lifecycle: the actions its state allows (WSO2's APILifeCycle), the checklist, and the history. */
export function LifecycleTab({ api, reload }: ApiTabProps) {
  const client = useApi();
  const canPublish = useHasScope(['apim:api_publish', 'apim:api_manage']);
  const { confirm, dialog } = useConfirm();
  const state = useResource((signal) => client.get<LifecycleState>(`${PUB}/apis/${api.id}/lifecycle-state`, { signal }), [api.id, api.lifeCycleStatus]);
  const history = useResource((signal) => client.get<{ list: HistoryEntry[] }>(`${PUB}/apis/${api.id}/lifecycle-history`, { signal }), [api.id, api.lifeCycleStatus]);
  const [checks, setChecks] = useState<string[]>([]);
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();

  const change = async (action: string) => {
    const items = state.data?.checkItems ?? [];
    const checklist = items.map((c) => `${c.name}:${checks.includes(c.name)}`).join(',');
    await client.post(`${PUB}/apis/change-lifecycle`, { query: { apiId: api.id, action, lifecycleChecklist: checklist || undefined } });
    reload();
  };
  const run = (action: string, target: string) => {
    setError(undefined);
    if (DISRUPTIVE.has(action)) {
      void confirm({
        title: `${action} ${api.name}?`,
        message: `The API moves to ${target}.${action === 'Retire' ? ' A retired API cannot come back.' : ''}`,
        confirmLabel: action,
        danger: true,
        onConfirm: () => change(action),
      });
      return;
    }
    setBusy(action);
    change(action).then(
      () => setBusy(undefined),
      (err: unknown) => {
        setBusy(undefined);
        setError(err);
      },
    );
  };

  return (
    <Stack gap="lg">
      <Paper withBorder p="lg">
        <Title order={2} size="h4" mb="sm">
          Current state
        </Title>
        {state.error && !state.data ? <ErrorState error={state.error} onRetry={state.reload} /> : null}
        {!state.data ? (
          state.loading && <LoadingState />
        ) : (
          <Stack>
            <Group>
              <Badge size="lg" variant="light" color={stateColor[api.lifeCycleStatus] ?? 'gray'}>
                {state.data.state}
              </Badge>
            </Group>
            {state.data.checkItems.length > 0 && (
              <Checkbox.Group label="Requirements" value={checks} onChange={setChecks}>
                <Stack gap="xs" mt="xs">
                  {state.data.checkItems.map((c) => (
                    <Checkbox key={c.name} value={c.name} label={c.name} />
                  ))}
                </Stack>
              </Checkbox.Group>
            )}
            {state.data.availableTransitions.length === 0 ? (
              <Text size="sm" c="dimmed">
                No lifecycle action is available from this state.
              </Text>
            ) : !canPublish ? (
              <Text size="sm" c="dimmed">
                Changing the lifecycle needs the publisher role.
              </Text>
            ) : (
              <Group data-testid="lifecycle-actions">
                {state.data.availableTransitions.map((t) => (
                  <Button
                    key={t.event}
                    variant={t.event === 'Publish' || t.event === 'Re-Publish' ? 'filled' : DISRUPTIVE.has(t.event) ? 'light' : 'default'}
                    color={DISRUPTIVE.has(t.event) ? 'red' : undefined}
                    loading={busy === t.event}
                    disabled={busy !== undefined && busy !== t.event}
                    onClick={() => run(t.event, t.targetState)}
                  >
                    {t.event}
                  </Button>
                ))}
              </Group>
            )}
            {error !== undefined && <ErrorState error={error} title="The lifecycle did not change" />}
            {api.lifeCycleStatus === 'PUBLISHED' && (
              <Text size="sm" c="dimmed">
                Published: the API is in the Developer Portal. It is served once a revision is deployed to a gateway (Deployments).
              </Text>
            )}
          </Stack>
        )}
      </Paper>
      <div>
        <Title order={2} size="h4" mb="sm">
          History
        </Title>
        <DataTable
          label="Lifecycle history"
          {...tableState(history, history.data ? [...history.data.list].reverse() : undefined)}
          rowKey={(h) => `${h.updatedTime}-${h.postState}`}
          columns={[
            { key: 'updatedTime', header: 'When', render: (h) => formatTime(h.updatedTime) },
            { key: 'previousState', header: 'From', render: (h) => h.previousState ?? '' },
            { key: 'postState', header: 'To' },
            { key: 'user', header: 'By' },
          ]}
        />
      </div>
      {dialog}
    </Stack>
  );
}

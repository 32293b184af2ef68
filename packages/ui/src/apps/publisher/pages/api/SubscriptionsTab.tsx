import { Badge, Button, Group } from '@mantine/core';
import { useState } from 'react';
import { DataTable, ErrorState, Pager, tableState, useApi, useHasScope, useResource, type Paginated } from '../../../../kit/index.ts';
import { PUB, type Subscription } from '../../model.ts';
import type { ApiTabProps } from '../ApiDetailPage.tsx';

const statusColor: Record<string, string> = { UNBLOCKED: 'green', BLOCKED: 'red', PROD_ONLY_BLOCKED: 'orange', ON_HOLD: 'yellow', REJECTED: 'red' };
const statusLabel: Record<string, string> = { UNBLOCKED: 'Active', BLOCKED: 'Blocked', PROD_ONLY_BLOCKED: 'Production blocked', ON_HOLD: 'On hold', REJECTED: 'Rejected' };

/** The applications subscribed to the API; block all traffic, production traffic only, or unblock. */
export function SubscriptionsTab({ api }: ApiTabProps) {
  const client = useApi();
  const canBlock = useHasScope(['apim:subscription_block', 'apim:subscription_manage']);
  const [offset, setOffset] = useState(0);
  const subs = useResource((signal) => client.get<Paginated<Subscription>>(`${PUB}/subscriptions`, { query: { apiId: api.id, limit: 25, offset }, signal }), [api.id, offset]);
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();

  const act = (s: Subscription, action: 'BLOCKED' | 'PROD_ONLY_BLOCKED' | 'UNBLOCK') => {
    setBusy(`${s.subscriptionId}:${action}`);
    setError(undefined);
    const call =
      action === 'UNBLOCK'
        ? client.post(`${PUB}/subscriptions/unblock-subscription`, { query: { subscriptionId: s.subscriptionId } })
        : client.post(`${PUB}/subscriptions/block-subscription`, { query: { subscriptionId: s.subscriptionId, blockState: action } });
    call.then(
      () => {
        setBusy(undefined);
        subs.reload();
      },
      (err: unknown) => {
        setBusy(undefined);
        setError(err);
      },
    );
  };

  return (
    <>
      {error !== undefined && <ErrorState error={error} title="The subscription did not change" />}
      <DataTable
        label="Subscriptions"
        {...tableState(subs)}
        rowKey={(s) => s.subscriptionId}
        empty={{ title: 'No subscriptions yet', description: 'Applications subscribe on the Developer Portal once the API is published.' }}
        columns={[
          { key: 'application', header: 'Application', render: (s) => s.applicationInfo?.name ?? '' },
          { key: 'subscriber', header: 'Subscriber', render: (s) => s.applicationInfo?.subscriber ?? '' },
          { key: 'throttlingPolicy', header: 'Tier' },
          {
            key: 'status',
            header: 'Status',
            render: (s) => (
              <Badge variant="light" color={statusColor[s.subscriptionStatus] ?? 'gray'}>
                {statusLabel[s.subscriptionStatus] ?? s.subscriptionStatus}
              </Badge>
            ),
          },
          {
            key: 'actions',
            header: 'Actions',
            render: (s) =>
              !canBlock ? null : (
                <Group gap="xs" wrap="nowrap">
                  {s.subscriptionStatus !== 'UNBLOCKED' && (
                    <Button size="xs" variant="default" loading={busy === `${s.subscriptionId}:UNBLOCK`} onClick={() => act(s, 'UNBLOCK')}>
                      Unblock
                    </Button>
                  )}
                  {s.subscriptionStatus !== 'BLOCKED' && (
                    <Button size="xs" variant="light" color="red" loading={busy === `${s.subscriptionId}:BLOCKED`} onClick={() => act(s, 'BLOCKED')}>
                      Block
                    </Button>
                  )}
                  {s.subscriptionStatus === 'UNBLOCKED' && (
                    <Button size="xs" variant="light" color="orange" loading={busy === `${s.subscriptionId}:PROD_ONLY_BLOCKED`} onClick={() => act(s, 'PROD_ONLY_BLOCKED')}>
                      Block production only
                    </Button>
                  )}
                </Group>
              ),
          },
        ]}
        footer={<Pager page={subs.data} onOffset={setOffset} />}
      />
    </>
  );
}

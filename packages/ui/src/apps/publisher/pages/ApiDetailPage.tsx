import { Anchor, Badge, Breadcrumbs, Code, Group, Tabs, Text } from '@mantine/core';
import { useCallback, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ErrorState, LoadingState, PageHeader, useApi, useResource } from '../../../kit/index.ts';
import { PUB, stateColor, type Api } from '../model.ts';
import { CorsTab } from './api/CorsTab.tsx';
import { DocumentsTab } from './api/DocumentsTab.tsx';
import { EndpointsTab } from './api/EndpointsTab.tsx';
import { LifecycleTab } from './api/LifecycleTab.tsx';
import { OverviewTab } from './api/OverviewTab.tsx';
import { ResourcesTab } from './api/ResourcesTab.tsx';
import { RevisionsTab } from './api/RevisionsTab.tsx';
import { SecurityTab } from './api/SecurityTab.tsx';
import { SubscriptionsTab } from './api/SubscriptionsTab.tsx';
import { UsageTab } from './api/UsageTab.tsx';

/** What every tab gets: the API as last read or saved, a PUT of a change, and a re-read. */
export interface ApiTabProps {
  readonly api: Api;
  /** PUT /apis/{id} with the API and `patch`; resolves to (and shows) the saved API, throws an ApiError. */
  readonly save: (patch: Partial<Api>) => Promise<Api>;
  readonly reload: () => void;
}

const TABS = [
  { value: 'overview', label: 'Overview' },
  { value: 'resources', label: 'Resources' },
  { value: 'endpoints', label: 'Endpoints' },
  { value: 'security', label: 'Security and tiers' },
  { value: 'cors', label: 'CORS' },
  { value: 'lifecycle', label: 'Lifecycle' },
  { value: 'revisions', label: 'Deployments' },
  { value: 'documents', label: 'Documents' },
  { value: 'subscriptions', label: 'Subscriptions' },
  { value: 'usage', label: 'Usage' },
] as const;

/** `/apis/:apiId/:tab?`: one API, a tab per concern, each tab its own URL. */
export function ApiDetailPage() {
  const { apiId = '', tab = 'overview' } = useParams();
  const client = useApi();
  const navigate = useNavigate();
  const loaded = useResource((signal) => client.get<Api>(`${PUB}/apis/${encodeURIComponent(apiId)}`, { signal }), [apiId]);
  // The last saved API wins over the last read one until the next read.
  const [saved, setSaved] = useState<Api | undefined>();
  const current = saved?.id === apiId ? saved : loaded.data;
  const reread = loaded.reload;
  const reload = useCallback(() => {
    setSaved(undefined);
    reread();
  }, [reread]);

  const save = useCallback(
    async (patch: Partial<Api>) => {
      if (!current) throw new Error('The API is not loaded yet');
      const answer = await client.put<Api>(`${PUB}/apis/${encodeURIComponent(current.id)}`, { body: { ...current, ...patch } });
      setSaved(answer);
      return answer;
    },
    [client, current],
  );

  if (!current) {
    if (loaded.error) return <ErrorState error={loaded.error} onRetry={loaded.reload} title="The API could not be loaded" />;
    return <LoadingState />;
  }
  const props: ApiTabProps = { api: current, save, reload };
  const active = TABS.some((t) => t.value === tab) ? tab : 'overview';
  return (
    <>
      <Breadcrumbs mb="xs" aria-label="Breadcrumb">
        <Anchor component={Link} to="/apis" size="sm">
          APIs
        </Anchor>
        <Text size="sm">{current.name}</Text>
      </Breadcrumbs>
      <PageHeader
        title={`${current.name} ${current.version}`}
        description={
          <Group gap="xs" component="span">
            <Code>{current.context}</Code>
            <span>by {current.provider}</span>
          </Group>
        }
        actions={
          <Badge size="lg" color={stateColor[current.lifeCycleStatus] ?? 'gray'} variant="light" data-testid="api-state">
            {current.lifeCycleStatus}
          </Badge>
        }
      />
      <Tabs value={active} onChange={(v) => v && void navigate(`/apis/${current.id}/${v === 'overview' ? '' : v}`)} keepMounted={false}>
        <Tabs.List mb="lg" style={{ flexWrap: 'wrap' }}>
          {TABS.map((t) => (
            <Tabs.Tab key={t.value} value={t.value}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="overview">
          <OverviewTab {...props} />
        </Tabs.Panel>
        <Tabs.Panel value="resources">
          <ResourcesTab {...props} />
        </Tabs.Panel>
        <Tabs.Panel value="endpoints">
          <EndpointsTab {...props} />
        </Tabs.Panel>
        <Tabs.Panel value="security">
          <SecurityTab {...props} />
        </Tabs.Panel>
        <Tabs.Panel value="cors">
          <CorsTab {...props} />
        </Tabs.Panel>
        <Tabs.Panel value="lifecycle">
          <LifecycleTab {...props} />
        </Tabs.Panel>
        <Tabs.Panel value="revisions">
          <RevisionsTab {...props} />
        </Tabs.Panel>
        <Tabs.Panel value="documents">
          <DocumentsTab {...props} />
        </Tabs.Panel>
        <Tabs.Panel value="subscriptions">
          <SubscriptionsTab {...props} />
        </Tabs.Panel>
        <Tabs.Panel value="usage">
          <UsageTab {...props} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}

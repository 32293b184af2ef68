import { Anchor, Badge, Code, Divider, Grid, Group, Paper, Stack, Table, Tabs, Text, Title } from '@mantine/core';
import { Link, useParams } from 'react-router';
import { ErrorState, LoadingState, PageHeader, useApi, useResource, useSearchParam, useSession } from '../../../kit/index.ts';
import { Markdown } from '../components/Markdown.tsx';
import { DP, type ApiDetails } from '../model.ts';
import type { OpenApiDoc } from '../openapi.ts';
import { ApiDocuments } from './ApiDocuments.tsx';
import { ApiComments, ApiRating } from './ApiFeedback.tsx';
import { ApiReference } from './ApiReference.tsx';
import { SubscribePanel } from './SubscribePanel.tsx';
import { TryIt } from './TryIt.tsx';

const TABS = ['overview', 'reference', 'try', 'documents', 'comments'] as const;

function Overview({ api }: { api: ApiDetails }) {
  const business = Object.entries(api.businessInformation ?? {}).filter(([, v]) => v);
  return (
    <Grid gap="lg">
      <Grid.Col span={{ base: 12, md: 7 }}>
        <Stack>
          {api.description ? <Markdown source={api.description} label="Description" /> : <Text c="dimmed">No description.</Text>}
          <div>
            <Title order={2} size="h4" mb="xs">
              Endpoints
            </Title>
            {api.endpointURLs.length === 0 ? (
              <Text size="sm" c="dimmed">
                Not deployed to a gateway shown on the portal yet.
              </Text>
            ) : (
              <Table withTableBorder fz="sm" aria-label="Gateway endpoints">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Environment</Table.Th>
                    <Table.Th scope="col">URLs</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {api.endpointURLs.map((e) => (
                    <Table.Tr key={e.environmentName}>
                      <Table.Td>{e.environmentDisplayName || e.environmentName}</Table.Td>
                      <Table.Td>
                        <Stack gap={2}>
                          {[e.URLs.https, e.URLs.http].filter(Boolean).map((u) => (
                            <Code key={u}>{u}</Code>
                          ))}
                        </Stack>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </div>
          <Group gap="xs">
            <Text size="sm" fw={500}>
              Tags
            </Text>
            {api.tags.length === 0 && (
              <Text size="sm" c="dimmed">
                none
              </Text>
            )}
            {api.tags.map((t) => (
              <Anchor key={t} component={Link} to={`/apis?tag=${encodeURIComponent(t)}`} size="sm">
                <Badge variant="light" color="indigo" style={{ cursor: 'pointer' }}>
                  {t}
                </Badge>
              </Anchor>
            ))}
          </Group>
          {business.length > 0 && (
            <Stack gap={2}>
              {business.map(([k, v]) => (
                <Text size="sm" key={k}>
                  <Text span fw={500}>
                    {k.replace(/([A-Z])/g, ' $1').toLowerCase()}:
                  </Text>{' '}
                  {v}
                </Text>
              ))}
            </Stack>
          )}
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 5 }}>
        <Paper withBorder p="md">
          <Stack>
            <ApiRating apiId={api.id} />
            <Divider />
            <SubscribePanel api={api} />
          </Stack>
        </Paper>
      </Grid.Col>
    </Grid>
  );
}

/** GET /apis/{id}: one API with tabs for its overview (and subscribing), reference, try-it console, documents and comments. */
export function ApiPage() {
  const { apiId = '' } = useParams();
  const api = useApi();
  const session = useSession();
  const [tabParam, setTab] = useSearchParam('tab');
  const tab = (TABS as readonly string[]).includes(tabParam) ? tabParam : 'overview';
  const details = useResource((signal) => api.get<ApiDetails>(`${DP}/apis/${apiId}`, { signal }), [apiId, session?.username]);
  const doc = useResource((signal) => api.get<OpenApiDoc>(`${DP}/apis/${apiId}/swagger`, { signal }), [apiId, session?.username]);
  if (details.error) {
    return (
      <>
        <PageHeader title="API" />
        <ErrorState error={details.error} onRetry={details.reload} title="The API could not be loaded" />
      </>
    );
  }
  if (!details.data) return <LoadingState />;
  const a = details.data;
  return (
    <>
      <PageHeader
        title={a.name}
        description={
          <>
            Version {a.version} · <Code>{a.context}</Code> · by {a.provider}
          </>
        }
        actions={
          <Anchor component={Link} to="/apis" size="sm">
            All APIs
          </Anchor>
        }
      />
      <Tabs value={tab} onChange={(v) => setTab(v === 'overview' || !v ? '' : v)} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="overview">Overview</Tabs.Tab>
          <Tabs.Tab value="reference">API reference</Tabs.Tab>
          <Tabs.Tab value="try" data-testid="tab-try">
            Try it
          </Tabs.Tab>
          <Tabs.Tab value="documents">Documents</Tabs.Tab>
          <Tabs.Tab value="comments">Comments</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="overview">
          <Overview api={a} />
        </Tabs.Panel>
        <Tabs.Panel value="reference">
          {doc.error ? <ErrorState error={doc.error} onRetry={doc.reload} title="The API definition could not be loaded" /> : doc.data ? <ApiReference doc={doc.data} /> : <LoadingState />}
        </Tabs.Panel>
        <Tabs.Panel value="try">{doc.data || doc.error ? <TryIt api={a} doc={doc.data} /> : <LoadingState />}</Tabs.Panel>
        <Tabs.Panel value="documents">
          <ApiDocuments apiId={a.id} />
        </Tabs.Panel>
        <Tabs.Panel value="comments">
          <ApiComments apiId={a.id} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}

import { Anchor, Badge, Button, Chip, Group, Rating, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import { apiColumns, DataTable, PageHeader, Pager, tableState, useApi, usePagedSearch, useResource, useSearchParam, useSession, type Paginated } from '../../../kit/index.ts';
import { DP, type ApiInfo } from '../model.ts';

const LIMIT = 25;

/** GET /apis: the published catalogue, searchable and filtered by tag; anonymous visitors see the public APIs (as WSO2). */
export function ApisPage() {
  const api = useApi();
  const session = useSession();
  const search = usePagedSearch();
  const [tag, setTag] = useSearchParam('tag');
  // WSO2's search syntax: free text plus `tag:<name>`.
  const query = [search.query, tag ? `tag:${tag}` : ''].filter(Boolean).join(' ');
  const apis = useResource(
    (signal) => api.get<Paginated<ApiInfo>>(`${DP}/apis`, { query: { query, limit: LIMIT, offset: search.offset }, signal }),
    // A sign-in can widen what is visible (APIs restricted to roles).
    [query, search.offset, session?.username],
  );
  const tags = useResource((signal) => api.get<Paginated<{ value: string; count: number }>>(`${DP}/tags`, { query: { limit: 100 }, signal }), [session?.username]);
  return (
    <>
      <PageHeader
        title="APIs"
        description="Published APIs you can subscribe to."
        actions={
          !session && (
            <Button component={Link} to="/sign-up" variant="light" data-testid="sign-up-link">
              Create an account
            </Button>
          )
        }
      />
      {tags.data && tags.data.list.length > 0 && (
        <Stack gap={4} mb="md">
          <Text size="sm" fw={500} id="tag-filter-label">
            Filter by tag
          </Text>
          <Chip.Group
            multiple={false}
            value={tag}
            onChange={(v) => {
              search.setOffset(0);
              setTag(v);
            }}
          >
            <Group gap="xs" role="group" aria-labelledby="tag-filter-label" data-testid="tag-filter">
              <Chip value="" size="xs" variant="outline">
                All
              </Chip>
              {tags.data.list.map((t) => (
                <Chip key={t.value} value={t.value} size="xs" variant="outline">
                  {t.value} ({t.count})
                </Chip>
              ))}
            </Group>
          </Chip.Group>
        </Stack>
      )}
      <DataTable
        label="APIs"
        {...tableState(apis)}
        rowKey={(a) => a.id}
        search={{ value: search.text, onChange: search.setText, label: 'Search APIs', placeholder: 'Name, tag or description' }}
        empty={{ title: tag ? `No APIs tagged ${tag}` : 'No APIs published yet', description: 'APIs appear here once a provider publishes them.' }}
        columns={[
          ...apiColumns<ApiInfo>((a) => (
            <Stack gap={2}>
              <Anchor component={Link} to={`/apis/${a.id}`} fw={600}>
                {a.name}
              </Anchor>
              {a.description && (
                <Text size="xs" c="dimmed" lineClamp={2}>
                  {a.description}
                </Text>
              )}
            </Stack>
          )),
          {
            key: 'tags',
            header: 'Tags',
            render: (a) => (
              <Group gap={4}>
                {a.tags.map((t) => (
                  <Badge key={t} variant="light" color="indigo">
                    {t}
                  </Badge>
                ))}
              </Group>
            ),
          },
          {
            key: 'rating',
            header: 'Rating',
            render: (a) => <Rating value={Number(a.avgRating) || 0} fractions={2} readOnly size="sm" role="img" aria-label={`Rated ${Number(a.avgRating).toFixed(1)} of 5`} />,
          },
          {
            key: 'tiers',
            header: 'Plans',
            render: (a) => (
              <Group gap={4}>
                {a.throttlingPolicies.map((t) => (
                  <Badge key={t} variant="outline" color="gray">
                    {t}
                  </Badge>
                ))}
              </Group>
            ),
          },
        ]}
        footer={<Pager page={apis.data} onOffset={search.setOffset} />}
      />
    </>
  );
}

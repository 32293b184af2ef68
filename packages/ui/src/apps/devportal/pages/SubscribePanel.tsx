import { Alert, Anchor, Badge, Button, Group, Select, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { ErrorState, FormError, useApi, useConsole, useResource, useServerForm, useSession, type Paginated } from '../../../kit/index.ts';
import { DP, onField, Wso2Codes, type ApiDetails, type Application, type Subscription } from '../model.ts';

/** POST /subscriptions: subscribes one of the user's applications to the API on one of its tiers. */
export function SubscribePanel({ api: apiDetails }: { api: ApiDetails }) {
  const api = useApi();
  const { auth } = useConsole();
  const session = useSession();
  const [done, setDone] = useState<string | undefined>();
  const apps = useResource((signal) => (session ? api.get<Paginated<Application>>(`${DP}/applications`, { query: { limit: 100 }, signal }) : Promise.resolve(undefined)), [session?.username]);
  const subs = useResource(
    (signal) => (session ? api.get<Paginated<Subscription>>(`${DP}/subscriptions`, { query: { apiId: apiDetails.id, limit: 100 }, signal }) : Promise.resolve(undefined)),
    [session?.username, apiDetails.id],
  );
  const tiers = apiDetails.tiers.map((t) => t.tierName);
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: { applicationId: '', throttlingPolicy: tiers[0] ?? '' },
    validate: { applicationId: (v: string) => (v ? null : 'Pick an application'), throttlingPolicy: (v: string) => (v ? null : 'Pick a tier') },
    submit: async (v) => {
      setDone(undefined);
      try {
        await api.post(`${DP}/subscriptions`, { body: { apiId: apiDetails.id, applicationId: v.applicationId, throttlingPolicy: v.throttlingPolicy } });
      } catch (err) {
        throw onField(err, { [Wso2Codes.SubscriptionExists]: 'applicationId', [Wso2Codes.UnknownTier]: 'throttlingPolicy' });
      }
      setDone(apps.data?.list.find((a) => a.applicationId === v.applicationId)?.name ?? 'The application');
      subs.reload();
    },
  });
  if (!session) {
    return (
      <Stack gap="xs">
        <Title order={2} size="h4">
          Subscribe
        </Title>
        <Text size="sm">Sign in to subscribe an application and try the API.</Text>
        <Group>
          <Button onClick={() => void auth.signIn(`/apis/${apiDetails.id}`)} data-testid="sign-in-to-subscribe">
            Sign in to subscribe
          </Button>
        </Group>
      </Stack>
    );
  }
  if (!apiDetails.isSubscriptionAvailable) return <Text size="sm">This API cannot be subscribed to in its current state.</Text>;
  const appOptions = (apps.data?.list ?? []).map((a) => ({ value: a.applicationId, label: a.name }));
  return (
    <Stack gap="sm" data-testid="subscribe-panel">
      <Title order={2} size="h4">
        Subscribe
      </Title>
      {subs.data && subs.data.list.length > 0 && (
        <Group gap="xs">
          <Text size="sm">Subscribed:</Text>
          {subs.data.list.map((s) => (
            <Badge key={s.subscriptionId} variant="light" color={s.status === 'UNBLOCKED' ? 'teal' : 'yellow'} data-testid="subscribed-app">
              {s.applicationInfo?.name ?? s.applicationId} · {s.throttlingPolicy}
              {s.status === 'UNBLOCKED' ? '' : ` · ${s.status.replaceAll('_', ' ').toLowerCase()}`}
            </Badge>
          ))}
        </Group>
      )}
      {apps.error !== undefined ? (
        <ErrorState error={apps.error} onRetry={apps.reload} title="Your applications could not be loaded" />
      ) : apps.data && appOptions.length === 0 ? (
        <Text size="sm">
          You have no applications yet. <Anchor component={Link} to="/applications?create=1" underline="always">Create an application</Anchor> to subscribe with.
        </Text>
      ) : (
        <form onSubmit={onSubmit} noValidate>
          <Stack gap="sm">
            <Group align="flex-start" grow wrap="wrap">
              <Select label="Application" placeholder="Pick an application" data={appOptions} {...form.getInputProps('applicationId')} key={form.key('applicationId')} data-testid="subscribe-application" />
              <Select label="Tier" data={tiers} allowDeselect={false} {...form.getInputProps('throttlingPolicy')} key={form.key('throttlingPolicy')} data-testid="subscribe-tier" />
            </Group>
            <FormError message={formError} />
            {done && (
              <Alert color="teal" title="Subscribed" role="status">
                {done} is subscribed. Generate its keys on the <Anchor component={Link} to="/applications" underline="always">Applications</Anchor> page, then try the API.
              </Alert>
            )}
            <Group>
              <Button type="submit" loading={submitting} data-testid="subscribe">
                Subscribe
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Stack>
  );
}

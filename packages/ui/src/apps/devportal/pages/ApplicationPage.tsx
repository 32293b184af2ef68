import { Anchor, Badge, Button, Checkbox, Code, CopyButton, Group, NumberInput, Paper, SegmentedControl, Stack, Tabs, Text, Textarea, TextInput, Title, Tooltip, ActionIcon } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import {
  ConfirmButton,
  DataTable,
  ErrorState,
  FormActions,
  LoadingState,
  PageHeader,
  RequireScopes,
  SecretDisplay,
  tableState,
  useApi,
  useConfirm,
  useConsole,
  useResource,
  useSearchParam,
  useServerForm,
  type Paginated,
} from '../../../kit/index.ts';
import { DP, generateAccessToken, keyLabel, KeyTypes, onField, Wso2Codes, type Application, type ApplicationKey, type KeyType, type Subscription } from '../model.ts';

const GRANT_TYPES = [
  { value: 'client_credentials', label: 'Client credentials' },
  { value: 'password', label: 'Password' },
  { value: 'refresh_token', label: 'Refresh token' },
  { value: 'authorization_code', label: 'Authorization code' },
  { value: 'urn:ietf:params:oauth:grant-type:jwt-bearer', label: 'JWT bearer' },
];

/** A bordered block of the page with its heading. */
function Section({ title, order = 2, children }: { title: string; order?: 2 | 3; children: ReactNode }) {
  return (
    <Paper withBorder p="md">
      <Title order={order} size={order === 2 ? 'h4' : 'h5'} mb="xs">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

/** A secret shown once under the form that issued it. */
function IssuedSecret({ label, value, onDone }: { label: string; value: string | undefined; onDone: () => void }) {
  if (!value) return null;
  return (
    <Stack mt="sm">
      <SecretDisplay label={label} value={value} onDone={onDone} />
    </Stack>
  );
}

function CopyValue({ label, value }: { label: string; value: string }) {
  return (
    <Group gap="xs" wrap="nowrap">
      <Code data-testid={`${label.toLowerCase().replaceAll(' ', '-')}-value`} style={{ overflowX: 'auto', whiteSpace: 'nowrap' }}>
        {value}
      </Code>
      <CopyButton value={value} timeout={2000}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : `Copy the ${label.toLowerCase()}`}>
            <ActionIcon variant="subtle" aria-label={copied ? 'Copied' : `Copy the ${label.toLowerCase()}`} onClick={copy}>
              <span aria-hidden="true">{copied ? '✓' : '⧉'}</span>
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}

/** generate-keys when the application has none of this type; otherwise the consumer key, a new secret, and an access token. */
function KeysPanel({ app, keyType }: { app: Application; keyType: KeyType }) {
  const api = useApi();
  const { auth } = useConsole();
  const keys = useResource((signal) => api.get<{ list: ApplicationKey[] }>(`${DP}/applications/${app.applicationId}/oauth-keys`, { signal }), [app.applicationId]);
  const [secret, setSecret] = useState<string | undefined>();
  const [token, setToken] = useState<string | undefined>();
  const { confirm, dialog } = useConfirm();
  const key = keys.data?.list.find((k) => k.keyType === keyType);

  const generate = useServerForm({
    initialValues: { grantTypes: ['client_credentials', 'password', 'refresh_token'], callbackUrl: '' },
    validate: { grantTypes: (v: string[]) => (v.length > 0 ? null : 'Pick at least one grant type') },
    fieldMap: { grantTypesToBeSupported: 'grantTypes' },
    submit: async (v) => {
      const out = await api.post<ApplicationKey>(`${DP}/applications/${app.applicationId}/generate-keys`, {
        body: { keyType, grantTypesToBeSupported: v.grantTypes, ...(v.callbackUrl ? { callbackUrl: v.callbackUrl } : {}) },
      });
      setSecret(out.consumerSecret);
      keys.reload();
    },
  });
  const tokenForm = useServerForm({
    initialValues: { consumerSecret: '', scopes: '' },
    validate: { consumerSecret: (v: string) => (v ? null : 'Enter the consumer secret') },
    submit: async (v) => {
      if (!key) return;
      try {
        const t = await generateAccessToken(auth, app.applicationId, key.keyMappingId, v.consumerSecret, v.scopes.split(/[\s,]+/).filter(Boolean));
        // The secret was needed once: it does not stay in the page's state.
        tokenForm.form.setFieldValue('consumerSecret', '');
        setToken(t.accessToken);
      } catch (err) {
        throw onField(err, { [Wso2Codes.InvalidConsumerSecret]: 'consumerSecret' });
      }
    },
  });

  if (keys.error) return <ErrorState error={keys.error} onRetry={keys.reload} />;
  if (!keys.data) return <LoadingState />;
  const shownSecret = secret && <SecretDisplay label="Consumer secret" value={secret} onDone={() => setSecret(undefined)} />;
  if (!key) {
    return (
      <Paper withBorder p="md" data-testid={`keys-${keyType.toLowerCase()}`}>
        <Title order={2} size="h4" mb="xs">
          {keyLabel(keyType)} keys
        </Title>
        <Text size="sm" mb="sm">
          No {keyLabel(keyType).toLowerCase()} keys yet. Generate a consumer key and secret for this application.
        </Text>
        <form onSubmit={generate.onSubmit} noValidate>
          <Stack gap="sm" maw={560}>
            <Checkbox.Group label="Grant types" {...generate.form.getInputProps('grantTypes')} key={generate.form.key('grantTypes')}>
              <Group mt={4} gap="md">
                {GRANT_TYPES.map((g) => (
                  <Checkbox key={g.value} value={g.value} label={g.label} />
                ))}
              </Group>
            </Checkbox.Group>
            <TextInput label="Callback URL" description="For the authorization code grant" {...generate.form.getInputProps('callbackUrl')} key={generate.form.key('callbackUrl')} />
            <FormActions error={generate.formError}>
              <Button type="submit" loading={generate.submitting} data-testid="generate-keys">
                Generate keys
              </Button>
            </FormActions>
          </Stack>
        </form>
      </Paper>
    );
  }
  return (
    <Stack data-testid={`keys-${keyType.toLowerCase()}`}>
      <Paper withBorder p="md">
        <Group justify="space-between" mb="xs">
          <Title order={2} size="h4">
            {keyLabel(keyType)} keys
          </Title>
          <Badge variant="light" color={key.keyState === 'APPROVED' ? 'teal' : 'yellow'}>
            {key.keyState.toLowerCase()}
          </Badge>
        </Group>
        <Stack gap="xs">
          <Text size="sm" fw={500}>
            Consumer key
          </Text>
          <CopyValue label="Consumer key" value={key.consumerKey} />
          {shownSecret}
          <Text size="sm">
            Grant types: {key.supportedGrantTypes.join(', ') || 'none'} · Key manager: {key.keyManager}
          </Text>
          <Group>
            <Button
              size="xs"
              variant="light"
              onClick={() =>
                void confirm({
                  title: 'Regenerate the consumer secret',
                  message: 'The current secret stops working at once. Clients using it must be given the new one.',
                  confirmLabel: 'Regenerate',
                  danger: true,
                  onConfirm: async () => {
                    const out = await api.post<{ consumerSecret: string }>(`${DP}/applications/${app.applicationId}/oauth-keys/${key.keyMappingId}/regenerate-secret`);
                    setSecret(out.consumerSecret);
                  },
                })
              }
            >
              Regenerate secret
            </Button>
          </Group>
        </Stack>
      </Paper>
      <Section title="Generate an access token" order={3}>
        <form onSubmit={tokenForm.onSubmit} noValidate>
          <Stack gap="sm" maw={560}>
            <TextInput label="Consumer secret" type="password" autoComplete="off" {...tokenForm.form.getInputProps('consumerSecret')} key={tokenForm.form.key('consumerSecret')} data-testid="token-secret" />
            <TextInput label="Scopes" description="Space separated; leave empty for the default scope" {...tokenForm.form.getInputProps('scopes')} key={tokenForm.form.key('scopes')} />
            <FormActions error={tokenForm.formError}>
              <Button type="submit" variant="light" loading={tokenForm.submitting} data-testid="generate-token">
                Generate access token
              </Button>
            </FormActions>
          </Stack>
        </form>
        <IssuedSecret label="Access token" value={token} onDone={() => setToken(undefined)} />
      </Section>
      {dialog}
    </Stack>
  );
}

/** API keys: generate (shown once), revoke by value. */
function ApiKeysPanel({ app }: { app: Application }) {
  const api = useApi();
  const [keyType, setKeyType] = useState<KeyType>('PRODUCTION');
  const [issued, setIssued] = useState<string | undefined>();
  const [revoked, setRevoked] = useState(false);
  const gen = useServerForm({
    initialValues: { validityPeriod: '' as number | '', permittedIP: '', permittedReferer: '' },
    submit: async (v) => {
      setRevoked(false);
      const out = await api.post<{ apikey: string }>(`${DP}/applications/${app.applicationId}/api-keys/${keyType}/generate`, {
        body: {
          ...(v.validityPeriod === '' ? {} : { validityPeriod: v.validityPeriod }),
          additionalProperties: { ...(v.permittedIP ? { permittedIP: v.permittedIP } : {}), ...(v.permittedReferer ? { permittedReferer: v.permittedReferer } : {}) },
        },
      });
      setIssued(out.apikey);
    },
    fieldMap: { 'additionalProperties.permittedIP': 'permittedIP', 'additionalProperties.permittedReferer': 'permittedReferer' },
  });
  const revoke = useServerForm({
    initialValues: { apikey: '' },
    validate: { apikey: (v: string) => (v.trim() ? null : 'Paste the API key to revoke') },
    submit: async (v) => {
      setRevoked(false);
      await api.post(`${DP}/applications/${app.applicationId}/api-keys/${keyType}/revoke`, { body: { apikey: v.apikey.trim() } });
      revoke.form.reset();
      setRevoked(true);
    },
  });
  return (
    <Stack data-testid="api-keys">
      <SegmentedControl value={keyType} onChange={(v) => setKeyType(v as KeyType)} data={KeyTypes.map((k) => ({ value: k, label: keyLabel(k) }))} aria-label="Key type" w="fit-content" />
      <Section title="Generate an API key">
        <form onSubmit={gen.onSubmit} noValidate>
          <Stack gap="sm" maw={560}>
            <NumberInput label="Validity period (seconds)" description="Leave empty for a key that does not expire" min={-1} {...gen.form.getInputProps('validityPeriod')} key={gen.form.key('validityPeriod')} />
            <TextInput label="Permitted IP addresses" description="Comma separated; empty allows any" {...gen.form.getInputProps('permittedIP')} key={gen.form.key('permittedIP')} />
            <TextInput label="Permitted HTTP referrers" description="Comma separated; empty allows any" {...gen.form.getInputProps('permittedReferer')} key={gen.form.key('permittedReferer')} />
            <FormActions error={gen.formError}>
              <Button type="submit" loading={gen.submitting} data-testid="generate-api-key">
                Generate API key
              </Button>
            </FormActions>
          </Stack>
        </form>
        <IssuedSecret label="API key" value={issued} onDone={() => setIssued(undefined)} />
      </Section>
      <Section title="Revoke an API key">
        <form onSubmit={revoke.onSubmit} noValidate>
          <Stack gap="sm" maw={560}>
            <Textarea label="API key" autosize minRows={2} {...revoke.form.getInputProps('apikey')} key={revoke.form.key('apikey')} data-testid="revoke-api-key-value" />
            <FormActions error={revoke.formError}>
              <Button type="submit" color="red" variant="light" loading={revoke.submitting} data-testid="revoke-api-key">
                Revoke
              </Button>
              <Text size="sm" c="teal.8" role="status">
                {revoked ? 'The API key is revoked.' : ''}
              </Text>
            </FormActions>
          </Stack>
        </form>
      </Section>
    </Stack>
  );
}

function SubscriptionsPanel({ app, onChange }: { app: Application; onChange: () => void }) {
  const api = useApi();
  const subs = useResource((signal) => api.get<Paginated<Subscription>>(`${DP}/subscriptions`, { query: { applicationId: app.applicationId, limit: 100 }, signal }), [app.applicationId]);
  const { confirm, dialog } = useConfirm();
  return (
    <>
      <DataTable
        label="Subscriptions"
        {...tableState(subs)}
        rowKey={(s) => s.subscriptionId}
        empty={{ title: 'No subscriptions', description: <>Subscribe this application to an API from the <Anchor component={Link} to="/apis" underline="always">catalogue</Anchor>.</> }}
        columns={[
          {
            key: 'api',
            header: 'API',
            render: (s) => (
              <Anchor component={Link} to={`/apis/${s.apiId}`}>
                {s.apiInfo ? `${s.apiInfo.name} ${s.apiInfo.version}` : s.apiId}
              </Anchor>
            ),
          },
          { key: 'throttlingPolicy', header: 'Tier' },
          {
            key: 'status',
            header: 'Status',
            render: (s) => (
              <Badge variant="light" color={s.status === 'UNBLOCKED' ? 'teal' : 'yellow'}>
                {s.status.replaceAll('_', ' ').toLowerCase()}
              </Badge>
            ),
          },
          {
            key: 'actions',
            header: 'Actions',
            render: (s) => (
              <ConfirmButton
                confirm={confirm}
                aria-label={`Unsubscribe from ${s.apiInfo?.name ?? s.apiId}`}
                title="Unsubscribe"
                message={`Unsubscribe ${app.name} from ${s.apiInfo?.name ?? 'the API'}? Its tokens stop working for that API.`}
                onConfirm={async () => {
                  await api.delete(`${DP}/subscriptions/${s.subscriptionId}`);
                  subs.reload();
                  onChange();
                }}
              >
                Unsubscribe
              </ConfirmButton>
            ),
          },
        ]}
      />
      {dialog}
    </>
  );
}

const TABS = ['production', 'sandbox', 'api-keys', 'subscriptions'] as const;

/** GET /applications/{id}: one application: its keys, API keys and subscriptions. */
export function ApplicationPage() {
  return (
    <RequireScopes any={['apim:subscribe', 'apim:app_manage']}>
      <ApplicationDetails />
    </RequireScopes>
  );
}

function ApplicationDetails() {
  const { applicationId = '' } = useParams();
  const api = useApi();
  const [tabParam, setTab] = useSearchParam('tab');
  const tab = (TABS as readonly string[]).includes(tabParam) ? tabParam : 'production';
  const app = useResource((signal) => api.get<Application>(`${DP}/applications/${applicationId}`, { signal }), [applicationId]);
  if (app.error) {
    return (
      <>
        <PageHeader title="Application" />
        <ErrorState error={app.error} onRetry={app.reload} title="The application could not be loaded" />
      </>
    );
  }
  if (!app.data) return <LoadingState />;
  const a = app.data;
  return (
    <>
      <PageHeader
        title={a.name}
        description={
          <>
            Tier {a.throttlingPolicy} · {a.subscriptionCount} {a.subscriptionCount === 1 ? 'subscription' : 'subscriptions'} · {a.status.toLowerCase()}
            {a.description ? ` · ${a.description}` : ''}
          </>
        }
        actions={
          <Anchor component={Link} to="/applications" size="sm">
            All applications
          </Anchor>
        }
      />
      <Tabs value={tab} onChange={(v) => setTab(v === 'production' || !v ? '' : v)} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="production">Production keys</Tabs.Tab>
          <Tabs.Tab value="sandbox">Sandbox keys</Tabs.Tab>
          <Tabs.Tab value="api-keys">API keys</Tabs.Tab>
          <Tabs.Tab value="subscriptions">Subscriptions</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="production">
          <KeysPanel app={a} keyType="PRODUCTION" />
        </Tabs.Panel>
        <Tabs.Panel value="sandbox">
          <KeysPanel app={a} keyType="SANDBOX" />
        </Tabs.Panel>
        <Tabs.Panel value="api-keys">
          <ApiKeysPanel app={a} />
        </Tabs.Panel>
        <Tabs.Panel value="subscriptions">
          <SubscriptionsPanel app={a} onChange={app.reload} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}

import { Alert, Anchor, Badge, Button, Code, Group, Paper, PasswordInput, Select, SimpleGrid, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, FormError, useApi, useConsole, useResource, useServerForm, useSession, type Paginated } from '../../../kit/index.ts';
import { DP, generateAccessToken, keyLabel, KeyTypes, onField, Wso2Codes, type ApiDetails, type ApplicationKey, type Subscription } from '../model.ts';
import { exampleOf, operations, serverUrls, type OpenApiDoc, type Operation } from '../openapi.ts';

interface TryResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ms: number;
  readonly headers: [string, string][];
  readonly body: string;
}

/** Where the console sends requests: the gateways this node knows (runtime config) with the API's path, then the API's own endpoint URLs. */
export function gatewayBases(gatewayUrls: readonly string[], api: ApiDetails, doc: OpenApiDoc | undefined): string[] {
  const declared = [...api.endpointURLs.flatMap((e) => [e.URLs.http, e.URLs.https]), ...(doc ? serverUrls(doc) : [])].filter((u): u is string => !!u);
  let path = `${api.context.replace(/\/$/, '')}${api.context.includes(api.version) ? '' : `/${api.version}`}`;
  const first = declared[0] ? URL.parse(declared[0]) : null;
  if (first) path = first.pathname.replace(/\/$/, '');
  // The page's scheme first: a browser refuses http from an https page, and self-signed https from an http one.
  const scheme = window.location.protocol;
  const ordered = [...gatewayUrls.map((g) => `${g.replace(/\/$/, '')}${path}`), ...declared.sort((a, b) => Number(!a.startsWith(scheme)) - Number(!b.startsWith(scheme)))];
  return [...new Set(ordered)];
}

function fallbackOperations(api: ApiDetails): Operation[] {
  return api.operations.map((o) => ({ key: `${o.verb} ${o.target}`, method: o.verb.toUpperCase(), path: o.target, tag: 'default', summary: '', description: '', parameters: [...o.target.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1]!, in: 'path', required: true, description: '', schema: undefined })), requestBody: undefined, responses: [] }));
}

function isJson(contentType: string | null): boolean {
  return !!contentType && /json/i.test(contentType);
}

/**
 * The try-it console: pick an operation, fill its parameters and body, get a test token for one of
 * the user's subscribed applications (client credentials, through the application's
 * generate-token endpoint), and call the API through the gateway from the browser. The gateway
 * must allow this page's origin (the API's CORS configuration).
 */
export function TryIt({ api: apiDetails, doc }: { api: ApiDetails; doc: OpenApiDoc | undefined }) {
  const api = useApi();
  const { auth, config } = useConsole();
  const session = useSession();
  const ops = useMemo(() => {
    const fromDoc = doc ? operations(doc) : [];
    return fromDoc.length > 0 ? fromDoc : fallbackOperations(apiDetails);
  }, [doc, apiDetails]);
  const bases = useMemo(() => gatewayBases(config.gatewayUrls, apiDetails, doc), [config.gatewayUrls, apiDetails, doc]);
  const [opKey, setOpKey] = useState(ops[0]?.key ?? '');
  const op = ops.find((o) => o.key === opKey);
  const [base, setBase] = useState(bases[0] ?? '');
  const [values, setValues] = useState<Record<string, string>>({});
  const [body, setBody] = useState<string>(() => (ops[0]?.requestBody && doc ? JSON.stringify(exampleOf(doc, ops[0].requestBody.schema), null, 2) : ''));
  const [accessToken, setAccessToken] = useState('');
  const [sending, setSending] = useState(false);
  const [response, setResponse] = useState<TryResponse | undefined>();
  const [sendError, setSendError] = useState<string | undefined>();

  const subs = useResource(
    (signal) => (session ? api.get<Paginated<Subscription>>(`${DP}/subscriptions`, { query: { apiId: apiDetails.id, limit: 100 }, signal }) : Promise.resolve(undefined)),
    [session?.username, apiDetails.id],
  );
  const apps = (subs.data?.list ?? []).map((s) => ({ value: s.applicationId, label: s.applicationInfo?.name ?? s.applicationId }));

  const tokenForm = useServerForm({
    initialValues: { applicationId: '', keyType: 'PRODUCTION', consumerSecret: '' },
    validate: {
      applicationId: (v: string) => (v ? null : 'Pick a subscribed application'),
      consumerSecret: (v: string) => (v ? null : "Enter the keys' consumer secret"),
    },
    submit: async (v) => {
      const keys = await api.get<{ list: ApplicationKey[] }>(`${DP}/applications/${v.applicationId}/oauth-keys`);
      const key = keys.list.find((k) => k.keyType === v.keyType);
      if (!key) throw new ApiError({ status: 400, code: undefined, message: `The application has no ${v.keyType.toLowerCase()} keys yet`, fields: { keyType: 'No keys of this type: generate them on the application page' }, other: [] });
      try {
        setAccessToken((await generateAccessToken(auth, v.applicationId, key.keyMappingId, v.consumerSecret)).accessToken);
        // The secret was needed once: it does not stay in the page's state.
        tokenForm.form.setFieldValue('consumerSecret', '');
      } catch (err) {
        throw onField(err, { [Wso2Codes.InvalidConsumerSecret]: 'consumerSecret' });
      }
    },
  });

  const pickOperation = (key: string | null) => {
    const next = ops.find((o) => o.key === key);
    if (!next) return;
    setOpKey(next.key);
    setValues({});
    setResponse(undefined);
    setSendError(undefined);
    setBody(next.requestBody && doc ? JSON.stringify(exampleOf(doc, next.requestBody.schema), null, 2) : '');
  };

  const requestUrl = (() => {
    if (!op) return '';
    let path = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(values[`path:${name}`] ?? ''));
    const query = new URLSearchParams();
    for (const p of op.parameters) if (p.in === 'query' && values[`query:${p.name}`]) query.set(p.name, values[`query:${p.name}`]!);
    if (query.size > 0) path += `?${query}`;
    return `${base.replace(/\/$/, '')}${path}`;
  })();
  const authHeader = apiDetails.authorizationHeader || 'Authorization';
  const withBody = !!op && (op.requestBody !== undefined || ['POST', 'PUT', 'PATCH'].includes(op.method));

  const send = async () => {
    if (!op) return;
    setSending(true);
    setSendError(undefined);
    setResponse(undefined);
    const headers: Record<string, string> = {};
    for (const p of op.parameters) if (p.in === 'header' && values[`header:${p.name}`]) headers[p.name] = values[`header:${p.name}`]!;
    if (accessToken) headers[authHeader] = `Bearer ${accessToken}`;
    if (withBody && body) headers['content-type'] = op.requestBody?.contentType ?? 'application/json';
    const started = performance.now();
    try {
      const res = await fetch(requestUrl, { method: op.method, headers, body: withBody && body ? body : undefined, credentials: 'omit', cache: 'no-store' });
      const text = await res.text();
      let shown = text;
      if (isJson(res.headers.get('content-type'))) {
        try {
          shown = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          // shown as it came
        }
      }
      setResponse({ status: res.status, statusText: res.statusText, ms: Math.round(performance.now() - started), headers: [...res.headers.entries()], body: shown });
    } catch (err) {
      setSendError(
        `The request did not reach the API (${err instanceof Error ? err.message : String(err)}). Either the gateway at ${new URL(requestUrl).origin} is not reachable from your browser, or the API does not allow calls from this page's origin (${window.location.origin}): its CORS configuration must allow this origin, the ${authHeader} and content-type headers, and the ${op.method} method.`,
      );
    } finally {
      setSending(false);
    }
  };

  if (ops.length === 0) return <Text size="sm">The API has no operations to try.</Text>;
  const curl = op ? [`curl -X ${op.method} '${requestUrl}'`, accessToken ? `-H '${authHeader}: Bearer ${accessToken.slice(0, 12)}…'` : '', withBody && body ? `-H 'content-type: application/json' -d '${body.replace(/\s+/g, ' ')}'` : ''].filter(Boolean).join(' \\\n  ') : '';

  return (
    <Stack data-testid="try-it">
      <Paper withBorder p="md">
        <Title order={3} size="h5" mb="xs">
          Authorization
        </Title>
        {!session ? (
          <Group gap="sm">
            <Text size="sm">Sign in to get a test token for one of your applications.</Text>
            <Button size="xs" onClick={() => void auth.signIn(`/apis/${apiDetails.id}?tab=try`)}>
              Sign in
            </Button>
          </Group>
        ) : apps.length === 0 && subs.data ? (
          <Text size="sm">
            None of your applications is subscribed to this API: subscribe one on the <Anchor component={Link} to={`/apis/${apiDetails.id}`} underline="always">overview</Anchor> first.
          </Text>
        ) : (
          <form onSubmit={tokenForm.onSubmit} noValidate>
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <Select label="Application" data={apps} placeholder="Pick an application" {...tokenForm.form.getInputProps('applicationId')} key={tokenForm.form.key('applicationId')} data-testid="try-application" />
              <Select label="Keys" data={KeyTypes.map((k) => ({ value: k, label: keyLabel(k) }))} allowDeselect={false} {...tokenForm.form.getInputProps('keyType')} key={tokenForm.form.key('keyType')} />
              <PasswordInput label="Consumer secret" description="Shown when the keys were generated" autoComplete="off" {...tokenForm.form.getInputProps('consumerSecret')} key={tokenForm.form.key('consumerSecret')} />
            </SimpleGrid>
            <FormError message={tokenForm.formError} />
            <Group mt="sm">
              <Button type="submit" variant="light" loading={tokenForm.submitting} data-testid="get-test-token">
                Get a test token
              </Button>
            </Group>
          </form>
        )}
        <PasswordInput mt="sm" label="Access token" description={`Sent as ${authHeader}: Bearer <token>`} value={accessToken} onChange={(e) => setAccessToken(e.currentTarget.value)} autoComplete="off" data-testid="try-token" />
      </Paper>

      <Paper withBorder p="md">
        <Title order={3} size="h5" mb="xs">
          Request
        </Title>
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Select label="Operation" data={ops.map((o) => ({ value: o.key, label: `${o.key}${o.summary ? ` · ${o.summary}` : ''}` }))} value={opKey} onChange={pickOperation} allowDeselect={false} searchable data-testid="try-operation" />
            <Select label="Gateway URL" data={bases} value={base} onChange={(v) => v && setBase(v)} allowDeselect={false} data-testid="try-base" />
          </SimpleGrid>
          {op?.parameters.map((p) => (
            <TextInput
              key={`${p.in}:${p.name}`}
              label={`${p.name} (${p.in})`}
              description={p.description || undefined}
              required={p.required}
              value={values[`${p.in}:${p.name}`] ?? ''}
              onChange={(e) => setValues({ ...values, [`${p.in}:${p.name}`]: e.currentTarget.value })}
            />
          ))}
          {withBody && <Textarea label={`Request body (${op?.requestBody?.contentType ?? 'application/json'})`} autosize minRows={4} maxRows={16} value={body} onChange={(e) => setBody(e.currentTarget.value)} styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }} />}
          <Code block data-testid="try-curl">
            {curl}
          </Code>
          <Group>
            <Button onClick={() => void send()} loading={sending} disabled={!requestUrl} data-testid="try-send">
              Send
            </Button>
          </Group>
        </Stack>
      </Paper>

      {sendError && (
        <Alert color="red" title="No answer" role="alert" data-testid="try-error">
          {sendError}
        </Alert>
      )}
      {response && (
        <Paper withBorder p="md" data-testid="try-response" aria-live="polite">
          <Group gap="sm" mb="xs">
            <Title order={3} size="h5">
              Response
            </Title>
            <Badge variant="light" color={response.status < 300 ? 'teal' : response.status < 500 ? 'orange' : 'red'} data-testid="try-status">
              {response.status} {response.statusText}
            </Badge>
            <Text size="sm" c="dimmed">
              {response.ms} ms
            </Text>
          </Group>
          <Table fz="sm" withTableBorder aria-label="Response headers" mb="sm">
            <Table.Tbody>
              {response.headers.map(([k, v]) => (
                <Table.Tr key={k}>
                  <Table.Th scope="row" w="30%">
                    {k}
                  </Table.Th>
                  <Table.Td style={{ wordBreak: 'break-all' }}>{v}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Code block data-testid="try-body" style={{ maxHeight: 400, overflow: 'auto' }}>
            {response.body || '(empty body)'}
          </Code>
        </Paper>
      )}
    </Stack>
  );
}

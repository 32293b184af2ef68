import { ActionIcon, Alert, Badge, Button, Checkbox, Fieldset, Group, Modal, PasswordInput, Select, Stack, Switch, Text, TextInput } from '@mantine/core';
import { FORM_INDEX } from '@mantine/form';
import { useState } from 'react';
import { ApiError, ConfirmButton, DataTable, ErrorState, filterRows, FormError, LoadingState, PageHeader, tableState, useApi, useConfirm, useFormDialog, useResource, useSearchQuery, useServerForm, type Paginated } from '../../../kit/index.ts';

interface KeyManagerInfo {
  readonly id: string;
  readonly name: string;
  readonly displayName?: string;
  readonly type: string;
  readonly description?: string;
  readonly enabled?: boolean;
  readonly tokenType?: string;
  readonly issuer?: string;
}
/** GET /key-managers/{id}: every field (never the secrets). */
type KeyManager = KeyManagerInfo & Record<string, unknown>;

const BASE = '/api/am/admin/v4/key-managers';
/** The Resident Key Manager is Gatehouse's own and cannot be deleted. */
const RESIDENT = 'Resident Key Manager';
/** Its type: what makes the gateways treat a key manager as Gatehouse's own. */
const RESIDENT_TYPE = 'default';
const KM_TYPES = [
  { value: 'WSO2-IS', label: 'WSO2 Identity Server' },
  { value: 'KeyCloak', label: 'Keycloak' },
  { value: 'Okta', label: 'Okta' },
  { value: 'Auth0', label: 'Auth0' },
  { value: 'PingFederate', label: 'PingFederate' },
  { value: 'ForgeRock', label: 'ForgeRock' },
  { value: 'AzureAD', label: 'Microsoft Entra ID (Azure AD)' },
  { value: 'custom', label: 'Other (OpenID Connect)' },
];
const TOKEN_TYPES = [
  { value: 'DIRECT', label: 'Direct: its tokens are used at the gateway' },
  { value: 'EXCHANGED', label: 'Exchanged for Gatehouse tokens' },
  { value: 'BOTH', label: 'Both' },
];

/** Key managers: the resident one and external identity providers; add (with discovery), edit, turn on and off, delete. */
export function KeyManagersPage() {
  const api = useApi();
  const search = useSearchQuery();
  const editor = useFormDialog<KeyManagerInfo | 'new'>((k) => (k === 'new' ? k : k.id));
  const { confirm, dialog } = useConfirm();
  const [toggleError, setToggleError] = useState<unknown>();
  const [toggling, setToggling] = useState<string | undefined>();
  const kms = useResource((signal) => api.get<Paginated<KeyManagerInfo>>(BASE, { signal }), []);
  const rows = filterRows(kms.data?.list, search.query, (k) => `${k.name} ${k.displayName ?? ''} ${k.type} ${k.issuer ?? ''}`);

  // WSO2 has no PATCH: read the whole key manager and put it back with `enabled` changed.
  const setEnabled = async (k: KeyManagerInfo, enabled: boolean) => {
    setToggleError(undefined);
    setToggling(k.id);
    try {
      const { id: _id, ...full } = await api.get<KeyManager>(`${BASE}/${k.id}`);
      await api.put(`${BASE}/${k.id}`, { body: { ...full, enabled } });
      kms.reload();
    } catch (err) {
      setToggleError(err);
    } finally {
      setToggling(undefined);
    }
  };

  return (
    <>
      <PageHeader title="Key managers" description="The identity providers whose tokens the gateways accept and where applications get their keys." />
      {toggleError !== undefined && <ErrorState error={toggleError} title="The key manager was not changed" />}
      <DataTable
        label="Key managers"
        {...tableState(kms, rows)}
        rowKey={(k) => k.id}
        search={{ value: search.text, onChange: search.setText, label: 'Search key managers', placeholder: 'Name, type or issuer' }}
        actions={
          <Button onClick={() => editor.open('new')} data-testid="add-key-manager">
            Add key manager
          </Button>
        }
        empty={{ title: 'No key managers' }}
        columns={[
          { key: 'name', header: 'Name' },
          { key: 'type', header: 'Type', render: (k) => <Badge variant="light">{typeLabel(k.type)}</Badge> },
          { key: 'issuer', header: 'Issuer', render: (k) => <Text size="sm" ff="monospace">{k.issuer ?? ''}</Text> },
          { key: 'tokenType', header: 'Tokens', render: (k) => k.tokenType ?? '' },
          {
            key: 'enabled',
            header: 'Enabled',
            render: (k) => <Switch checked={k.enabled ?? true} disabled={toggling === k.id} onChange={(e) => void setEnabled(k, e.currentTarget.checked)} aria-label={`Enabled: ${k.name}`} data-testid="key-manager-enabled" />,
          },
          {
            key: 'actions',
            header: 'Actions',
            // The API edits every key manager (only its name is fixed) and deletes all but the resident one.
            render: (k) => (
              <Group gap={4} wrap="nowrap">
                <Button size="xs" variant="subtle" aria-label={`Edit ${k.name}`} onClick={() => editor.open(k)}>
                  Edit
                </Button>
                {k.name !== RESIDENT && (
                  <ConfirmButton
                    confirm={confirm}
                    aria-label={`Delete ${k.name}`}
                    title="Delete the key manager"
                    message={`Delete ${k.name}? Its tokens are no longer accepted and applications cannot get keys from it.`}
                    onConfirm={async () => {
                      await api.delete(`${BASE}/${k.id}`);
                      kms.reload();
                    }}
                  >
                    Delete
                  </ConfirmButton>
                )}
              </Group>
            ),
          },
        ]}
      />
      <Modal {...editor.modalProps} title={editor.target === 'new' ? 'Add a key manager' : `Edit ${editor.target?.name ?? ''}`} centered size="xl">
        {editor.target !== undefined && (
          <KeyManagerEditor
            key={editor.formKey}
            id={editor.target === 'new' ? undefined : editor.target.id}
            onDone={() => {
              editor.done();
              kms.reload();
            }}
          />
        )}
      </Modal>
      {dialog}
    </>
  );
}

const typeLabel = (type: string) => (type === RESIDENT_TYPE ? 'Resident (Gatehouse)' : (KM_TYPES.find((t) => t.value === type)?.label ?? type));

/** The endpoint fields the form shows (WSO2's names); discovery fills them. */
const ENDPOINTS = [
  ['issuer', 'Issuer'],
  ['tokenEndpoint', 'Token endpoint'],
  ['revokeEndpoint', 'Revoke endpoint'],
  ['introspectionEndpoint', 'Introspection endpoint'],
  ['authorizeEndpoint', 'Authorize endpoint'],
  ['userInfoEndpoint', 'User info endpoint'],
  ['clientRegistrationEndpoint', 'Client registration endpoint'],
  ['jwksUri', 'JWKS URL'],
] as const;

/** A `tokenValidation` entry (WSO2 4.2): REFERENCE values are patterns of the opaque tokens the key manager handles. */
interface TokenValidation {
  readonly id?: number;
  readonly enable?: boolean;
  readonly type?: 'REFERENCE' | 'JWT' | 'CUSTOM';
  readonly value?: unknown;
}
const tokenValidationOf = (km: KeyManager | undefined): readonly TokenValidation[] => (Array.isArray(km?.tokenValidation) ? (km.tokenValidation as TokenValidation[]) : []);
/** The entries the form edits: enabled REFERENCE patterns. Others (JWT, CUSTOM, disabled) go back as they came. */
const isPattern = (t: TokenValidation) => t.type === 'REFERENCE' && t.enable !== false && typeof t.value === 'string';

let patternKey = 0;
const patternRow = (value = '') => ({ key: `pattern-${++patternKey}`, value });

/**
 * A pattern as the gateways compile it (`^(?:p)$`, no flags: packages/gateway, which logs and
 * ignores one that does not compile, so the form refuses it here).
 */
function patternError(pattern: string): string | null {
  const p = pattern.trim();
  if (p === '') return null;
  try {
    RegExp(`^(?:${p})$`);
    return null;
  } catch (err) {
    // V8 quotes the whole expression first ("Invalid regular expression: /^(?:a[)$/: Unterminated character class").
    const reason = err instanceof Error ? err.message.split(': ').at(-1) : undefined;
    return `Not a regular expression${reason ? `: ${reason.toLowerCase()}` : ''}`;
  }
}

/** The form's values: empty for a new key manager, else what GET /key-managers/{id} answered (it never answers the secret). */
function formValues(km: KeyManager | undefined) {
  const text = (field: string, fallback = '') => (typeof km?.[field] === 'string' ? (km[field] as string) : fallback);
  const certificates = km?.certificates as { type?: string; value?: string } | undefined;
  const additional = (km?.additionalProperties ?? {}) as Record<string, unknown>;
  const patterns = tokenValidationOf(km).filter(isPattern);
  return {
    name: km?.name ?? '',
    displayName: km?.displayName ?? '',
    type: km?.type ?? 'custom',
    description: km?.description ?? '',
    wellKnownEndpoint: text('wellKnownEndpoint'),
    issuer: km?.issuer ?? '',
    tokenEndpoint: text('tokenEndpoint'),
    revokeEndpoint: text('revokeEndpoint'),
    introspectionEndpoint: text('introspectionEndpoint'),
    authorizeEndpoint: text('authorizeEndpoint'),
    userInfoEndpoint: text('userInfoEndpoint'),
    clientRegistrationEndpoint: text('clientRegistrationEndpoint'),
    jwksUri: certificates?.type === 'JWKS' ? (certificates.value ?? '') : '',
    consumerKeyClaim: text('consumerKeyClaim', 'azp'),
    scopesClaim: text('scopesClaim', 'scope'),
    tokenType: km?.tokenType ?? 'DIRECT',
    enabled: km?.enabled ?? true,
    clientId: typeof additional.client_id === 'string' ? additional.client_id : '',
    clientSecret: '',
    tokenPatterns: patterns.length > 0 ? patterns.map((t) => patternRow(t.value as string)) : [patternRow()],
  };
}

/** Loads the key manager when editing, then shows its form. */
function KeyManagerEditor({ id, onDone }: { id: string | undefined; onDone: () => void }) {
  const api = useApi();
  const existing = useResource((signal) => (id ? api.get<KeyManager>(`${BASE}/${id}`, { signal }) : Promise.resolve(undefined)), [id]);
  if (id && existing.error) return <ErrorState error={existing.error} onRetry={existing.reload} />;
  if (id && !existing.data) return <LoadingState />;
  return <KeyManagerForm existing={existing.data} onDone={onDone} />;
}

function KeyManagerForm({ existing, onDone }: { existing: KeyManager | undefined; onDone: () => void }) {
  const api = useApi();
  // Gatehouse's own endpoints and type; the gateways reach it with their internal client, not a connector's.
  const resident = existing?.type === RESIDENT_TYPE;
  const [discovering, setDiscovering] = useState(false);
  const [discovery, setDiscovery] = useState<{ ok: boolean; text: string } | undefined>();
  const [grantTypes, setGrantTypes] = useState<readonly string[] | undefined>();
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: formValues(existing),
    validate: {
      name: (v) => (v.trim() === '' ? 'Enter a name' : null),
      issuer: (v) => (v.trim() === '' ? 'Enter the issuer, or discover it from the well-known URL' : null),
      clientSecret: (v, values) => (v !== '' && values.clientId.trim() === '' ? 'Enter the client ID this secret belongs to' : null),
      tokenPatterns: { value: patternError },
    },
    validateInputOnChange: [`tokenPatterns.${FORM_INDEX}.value`],
    fieldMap: {
      'certificates.value': 'jwksUri',
      certificates: 'jwksUri',
      'additionalProperties.client_id': 'clientId',
      'additionalProperties.client_secret': 'clientSecret',
    },
    submit: async (v) => {
      const { jwksUri, clientId, clientSecret, tokenPatterns, ...fields } = v;
      // WSO2 has no PATCH: an edit sends the whole key manager back, with the form's fields changed.
      const { id: _id, ...stored } = existing ?? {};
      const body: Record<string, unknown> = existing ? stored : { enableSelfValidationJWT: true, enableTokenGeneration: true, enableOAuthAppCreation: true, enableMapOAuthConsumerApps: true };
      for (const [k, value] of Object.entries({ ...fields, displayName: fields.displayName || fields.name })) {
        if (value === '') delete body[k];
        else body[k] = value;
      }
      const certificates = body.certificates as { type?: string } | undefined;
      if (jwksUri) body.certificates = { type: 'JWKS', value: jwksUri };
      else if (certificates?.type === 'JWKS') delete body.certificates;
      if (grantTypes) body.availableGrantTypes = grantTypes;

      const additional = { ...(body.additionalProperties as Record<string, unknown> | undefined) };
      if (clientId.trim() !== '') additional.client_id = clientId.trim();
      else delete additional.client_id;
      // Left out, the stored secret stays (the API never returns it).
      if (clientSecret !== '') additional.client_secret = clientSecret;
      if (Object.keys(additional).length > 0 || body.additionalProperties !== undefined) body.additionalProperties = additional;

      const references = tokenPatterns.map((p) => p.value.trim()).filter((p) => p !== '').map((value): TokenValidation => ({ enable: true, type: 'REFERENCE', value }));
      const tokenValidation = [...references, ...tokenValidationOf(existing).filter((t) => !isPattern(t))];
      if (tokenValidation.length > 0 || body.tokenValidation !== undefined) body.tokenValidation = tokenValidation;

      if (existing) await api.put(`${BASE}/${existing.id}`, { body });
      else await api.post(BASE, { body });
      onDone();
    },
  });
  const patterns = form.getValues().tokenPatterns;

  const discover = async () => {
    const url = form.getValues().wellKnownEndpoint.trim();
    if (url === '') {
      form.setFieldError('wellKnownEndpoint', 'Enter the well-known URL');
      return;
    }
    setDiscovering(true);
    setDiscovery(undefined);
    try {
      const res = await api.post<{ valid: boolean; value?: Record<string, unknown> }>(`${BASE}/discover`, { body: { url, type: form.getValues().type } });
      if (!res.valid || !res.value) {
        setDiscovery({ ok: false, text: 'No OpenID Provider configuration could be read from this URL. Enter the endpoints below.' });
        return;
      }
      const found = res.value;
      const certificates = found.certificates as { type?: string; value?: string } | undefined;
      for (const [field] of ENDPOINTS) {
        const value = field === 'jwksUri' ? certificates?.value : found[field];
        if (typeof value === 'string') form.setFieldValue(field, value);
      }
      if (Array.isArray(found.availableGrantTypes)) setGrantTypes(found.availableGrantTypes as string[]);
      setDiscovery({ ok: true, text: 'The endpoints were filled in from the provider’s configuration. Check them before saving.' });
    } catch (err) {
      if (err instanceof ApiError && err.problem.fields.url) form.setFieldError('wellKnownEndpoint', err.problem.fields.url);
      else setDiscovery({ ok: false, text: err instanceof Error ? err.message : String(err) });
    } finally {
      setDiscovering(false);
    }
  };

  return (
    <form onSubmit={onSubmit} noValidate data-testid="key-manager-form">
      <Stack>
        <Group grow align="flex-start">
          <TextInput label="Name" required disabled={existing !== undefined} {...form.getInputProps('name')} data-testid="key-manager-name" />
          <TextInput label="Display name" {...form.getInputProps('displayName')} />
        </Group>
        <Group grow align="flex-start">
          <Select label="Type" data={resident ? [{ value: RESIDENT_TYPE, label: typeLabel(RESIDENT_TYPE) }] : KM_TYPES} disabled={resident} allowDeselect={false} {...form.getInputProps('type')} />
          <Select label="Token handling" data={TOKEN_TYPES} allowDeselect={false} {...form.getInputProps('tokenType')} />
        </Group>
        <TextInput label="Description" {...form.getInputProps('description')} data-testid="key-manager-description" />
        {resident && <Text size="sm">The endpoints are Gatehouse’s own, from its base URL.</Text>}
        <Group align="flex-end" wrap="nowrap">
          <TextInput
            label="Well-known URL"
            description="The provider’s /.well-known/openid-configuration"
            placeholder="https://idp.example.com/.well-known/openid-configuration"
            style={{ flex: 1 }}
            disabled={resident}
            {...form.getInputProps('wellKnownEndpoint')}
            data-testid="key-manager-well-known"
          />
          {!resident && (
            <Button variant="light" onClick={() => void discover()} loading={discovering} data-testid="key-manager-discover">
              Discover
            </Button>
          )}
        </Group>
        {discovery && (
          <Alert color={discovery.ok ? 'green' : 'yellow'} role="status" data-testid="discovery-result">
            {discovery.text}
          </Alert>
        )}
        {ENDPOINTS.map(([field, label]) => (
          <TextInput key={field} label={label} required={field === 'issuer'} disabled={resident} {...form.getInputProps(field)} data-testid={`key-manager-${field}`} />
        ))}
        <Group grow align="flex-start">
          <TextInput label="Consumer key claim" {...form.getInputProps('consumerKeyClaim')} />
          <TextInput label="Scopes claim" {...form.getInputProps('scopesClaim')} />
        </Group>
        {!resident && (
          <Fieldset legend="Connector" data-testid="key-manager-connector">
            <Stack gap="sm">
              <Text size="sm">The gateways use this client to introspect the key manager’s opaque tokens at its introspection endpoint (RFC 7662).</Text>
              <Group grow align="flex-start">
                <TextInput label="Client ID" autoComplete="off" {...form.getInputProps('clientId')} data-testid="key-manager-client-id" />
                <PasswordInput
                  label="Client secret"
                  description={existing ? 'Leave empty to keep the stored secret' : 'Stored sealed; never shown again'}
                  autoComplete="new-password"
                  {...form.getInputProps('clientSecret')}
                  data-testid="key-manager-client-secret"
                />
              </Group>
              {patterns.map((p, i) => (
                <TextInput
                  key={p.key}
                  label={patterns.length > 1 ? `Opaque tokens it issues match (pattern ${i + 1})` : 'Opaque tokens it issues match'}
                  description={i === 0 ? 'A regular expression the whole token matches. Empty: any opaque token may be introspected here.' : undefined}
                  placeholder="okta-[A-Za-z0-9_-]+"
                  styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
                  rightSectionPointerEvents="all"
                  rightSection={
                    patterns.length > 1 ? (
                      <ActionIcon variant="subtle" color="red" aria-label={`Remove pattern ${i + 1}`} onClick={() => form.removeListItem('tokenPatterns', i)}>
                        ×
                      </ActionIcon>
                    ) : undefined
                  }
                  {...form.getInputProps(`tokenPatterns.${i}.value`)}
                  data-testid={`key-manager-token-pattern-${i}`}
                />
              ))}
              <Group>
                <Button variant="light" size="xs" onClick={() => form.insertListItem('tokenPatterns', patternRow())} data-testid="add-token-pattern">
                  Add another pattern
                </Button>
              </Group>
            </Stack>
          </Fieldset>
        )}
        <Checkbox label="Enabled" {...form.getInputProps('enabled', { type: 'checkbox' })} />
        <FormError message={formError} />
        <Group justify="flex-end">
          <Button type="submit" loading={submitting} data-testid="key-manager-save">
            {existing ? 'Save key manager' : 'Add key manager'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

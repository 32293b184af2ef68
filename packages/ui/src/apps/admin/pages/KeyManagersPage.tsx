import { Alert, Badge, Button, Checkbox, Group, Modal, Select, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useState } from 'react';
import { ApiError, ConfirmButton, DataTable, ErrorState, filterRows, FormError, PageHeader, tableState, useApi, useConfirm, useResource, useSearchQuery, useServerForm, type Paginated } from '../../../kit/index.ts';

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

/** Key managers: the resident one and external identity providers; add (with discovery), turn on and off, delete. */
export function KeyManagersPage() {
  const api = useApi();
  const search = useSearchQuery();
  const [adding, { open, close }] = useDisclosure(false);
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
          <Button onClick={open} data-testid="add-key-manager">
            Add key manager
          </Button>
        }
        empty={{ title: 'No key managers' }}
        columns={[
          { key: 'name', header: 'Name' },
          { key: 'type', header: 'Type', render: (k) => <Badge variant="light">{KM_TYPES.find((t) => t.value === k.type)?.label ?? k.type}</Badge> },
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
            render: (k) =>
              k.name === RESIDENT ? null : (
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
              ),
          },
        ]}
      />
      <Modal opened={adding} onClose={close} title="Add a key manager" centered size="xl">
        <KeyManagerForm
          onDone={() => {
            close();
            kms.reload();
          }}
        />
      </Modal>
      {dialog}
    </>
  );
}

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

function KeyManagerForm({ onDone }: { onDone: () => void }) {
  const api = useApi();
  const [discovering, setDiscovering] = useState(false);
  const [discovery, setDiscovery] = useState<{ ok: boolean; text: string } | undefined>();
  const [grantTypes, setGrantTypes] = useState<readonly string[] | undefined>();
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: {
      name: '',
      displayName: '',
      type: 'custom',
      description: '',
      wellKnownEndpoint: '',
      issuer: '',
      tokenEndpoint: '',
      revokeEndpoint: '',
      introspectionEndpoint: '',
      authorizeEndpoint: '',
      userInfoEndpoint: '',
      clientRegistrationEndpoint: '',
      jwksUri: '',
      consumerKeyClaim: 'azp',
      scopesClaim: 'scope',
      tokenType: 'DIRECT',
      enabled: true,
    },
    validate: {
      name: (v) => (v.trim() === '' ? 'Enter a name' : null),
      issuer: (v) => (v.trim() === '' ? 'Enter the issuer, or discover it from the well-known URL' : null),
    },
    fieldMap: { 'certificates.value': 'jwksUri', certificates: 'jwksUri' },
    submit: async (v) => {
      const { jwksUri, ...rest } = v;
      const body: Record<string, unknown> = { ...rest, displayName: v.displayName || v.name, enableSelfValidationJWT: true, enableTokenGeneration: true, enableOAuthAppCreation: true, enableMapOAuthConsumerApps: true };
      for (const [k, value] of Object.entries(body)) if (value === '') delete body[k];
      if (jwksUri) body.certificates = { type: 'JWKS', value: jwksUri };
      if (grantTypes) body.availableGrantTypes = grantTypes;
      await api.post(BASE, { body });
      onDone();
    },
  });

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
          <TextInput label="Name" required {...form.getInputProps('name')} data-testid="key-manager-name" />
          <TextInput label="Display name" {...form.getInputProps('displayName')} />
        </Group>
        <Group grow align="flex-start">
          <Select label="Type" data={KM_TYPES} allowDeselect={false} {...form.getInputProps('type')} />
          <Select label="Token handling" data={TOKEN_TYPES} allowDeselect={false} {...form.getInputProps('tokenType')} />
        </Group>
        <TextInput label="Description" {...form.getInputProps('description')} />
        <Group align="flex-end" wrap="nowrap">
          <TextInput
            label="Well-known URL"
            description="The provider’s /.well-known/openid-configuration"
            placeholder="https://idp.example.com/.well-known/openid-configuration"
            style={{ flex: 1 }}
            {...form.getInputProps('wellKnownEndpoint')}
            data-testid="key-manager-well-known"
          />
          <Button variant="light" onClick={() => void discover()} loading={discovering} data-testid="key-manager-discover">
            Discover
          </Button>
        </Group>
        {discovery && (
          <Alert color={discovery.ok ? 'green' : 'yellow'} role="status" data-testid="discovery-result">
            {discovery.text}
          </Alert>
        )}
        {ENDPOINTS.map(([field, label]) => (
          <TextInput key={field} label={label} required={field === 'issuer'} {...form.getInputProps(field)} data-testid={`key-manager-${field}`} />
        ))}
        <Group grow align="flex-start">
          <TextInput label="Consumer key claim" {...form.getInputProps('consumerKeyClaim')} />
          <TextInput label="Scopes claim" {...form.getInputProps('scopesClaim')} />
        </Group>
        <Checkbox label="Enabled" {...form.getInputProps('enabled', { type: 'checkbox' })} />
        <FormError message={formError} />
        <Group justify="flex-end">
          <Button type="submit" loading={submitting} data-testid="key-manager-save">
            Add key manager
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

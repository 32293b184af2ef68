import { Anchor, Button, Paper, Stack, Switch, Text, Title } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { ErrorState, FormActions, LoadingState, PageHeader, useApi, useResource, useServerForm } from '../../../kit/index.ts';

/** The tenant configuration (`/tenant-config`); keys this page does not edit are sent back as they came. */
interface TenantConfig {
  readonly Workflows: Readonly<Record<string, boolean>>;
  readonly [key: string]: unknown;
}

const BASE = '/api/am/admin/v4/tenant-config';

/** The workflow switches of the tenant configuration, in the order they are shown. */
const SWITCHES = [
  { key: 'ApplicationCreation', label: 'Application creation', description: 'New applications wait for approval before they can subscribe or get keys.' },
  { key: 'SubscriptionCreation', label: 'Subscription creation', description: 'New subscriptions stay on hold, and their calls are refused, until approved.' },
  { key: 'UserSignup', label: 'User sign-up', description: 'Users who sign up on the Developer Portal cannot sign in until approved.' },
] as const;
type SwitchValues = Record<(typeof SWITCHES)[number]['key'], boolean>;

/** Tenant settings: which requests wait for an administrator's approval. */
export function SettingsPage() {
  const api = useApi();
  const config = useResource((signal) => api.get<TenantConfig>(BASE, { signal }), []);
  return (
    <>
      <PageHeader title="Settings" description="Settings of this tenant, applied as soon as they are saved." />
      {config.data ? (
        <WorkflowSettings initial={config.data} />
      ) : config.error !== undefined ? (
        <ErrorState error={config.error} title="The settings could not be loaded" onRetry={config.reload} />
      ) : (
        <LoadingState label="Loading the settings…" />
      )}
    </>
  );
}

function WorkflowSettings({ initial }: { initial: TenantConfig }) {
  const api = useApi();
  const saved = useSavedNote();
  const { form, onSubmit, submitting, formError } = useServerForm<SwitchValues>({
    initialValues: Object.fromEntries(SWITCHES.map((s) => [s.key, initial.Workflows[s.key] === true])) as SwitchValues,
    fieldMap: Object.fromEntries(SWITCHES.map((s) => [`Workflows.${s.key}`, s.key])),
    submit: async (values) => {
      // The document is replaced as a whole: start from what is stored now, so settings changed
      // elsewhere since this page loaded (role aliases) are kept.
      const current = await api.get<TenantConfig>(BASE);
      const stored = await api.put<TenantConfig>(BASE, { body: { ...current, Workflows: { ...current.Workflows, ...values } } });
      const now = Object.fromEntries(SWITCHES.map((s) => [s.key, stored.Workflows[s.key] === true])) as SwitchValues;
      form.setInitialValues(now);
      form.setValues(now);
      saved.show('Settings saved');
    },
  });
  return (
    <Paper withBorder p="lg">
      <form onSubmit={onSubmit} noValidate>
        <Stack maw={640}>
          <div>
            <Title order={2} size="h4">
              Approval workflows
            </Title>
            <Text size="sm" c="dimmed" mt={4}>
              Switched on, these requests wait on the{' '}
              <Anchor component={Link} to="/workflows" underline="always">
                Approvals
              </Anchor>{' '}
              page until an administrator approves or rejects them.
            </Text>
          </div>
          {SWITCHES.map((s) => (
            <Switch
              key={form.key(s.key)}
              label={s.label}
              // Mantine's <label> wraps the description too; the name is the label alone (the description stays aria-describedby).
              aria-label={s.label}
              description={s.description}
              {...form.getInputProps(s.key, { type: 'checkbox' })}
              data-testid={`workflow-${s.key}`}
            />
          ))}
          <FormActions error={formError}>
            <Button type="submit" loading={submitting} disabled={!form.isDirty()} data-testid="settings-save">
              Save settings
            </Button>
            {saved.note}
          </FormActions>
        </Stack>
      </form>
    </Paper>
  );
}

/** A "saved" line beside the button, announced to screen readers, gone after a few seconds. */
function useSavedNote() {
  const [message, setMessage] = useState('');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const show = (m: string) => {
    clearTimeout(timer.current);
    setMessage(m);
    timer.current = setTimeout(() => setMessage(''), 5000);
  };
  const note = (
    <Text size="sm" role="status" data-testid="saved-note">
      {message}
    </Text>
  );
  return { note, show };
}

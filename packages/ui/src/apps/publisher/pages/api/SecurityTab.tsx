import { Checkbox, Group, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useServerForm } from '../../../../kit/index.ts';
import { SECURITY_SCHEMES } from '../../model.ts';
import { usePolicyNames } from '../../policies.ts';
import { SaveBar, useSavedNote } from '../../saved.tsx';
import type { ApiTabProps } from '../ApiDetailPage.tsx';

const MANDATORY = 'oauth_basic_auth_api_key_mandatory';

/** Who may call the API (security schemes, transports) and the tiers applications subscribe with. */
export function SecurityTab({ api, save }: ApiTabProps) {
  const tiers = usePolicyNames('subscription');
  const saved = useSavedNote();
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: {
      securityScheme: api.securityScheme ?? [],
      policies: api.policies ?? [],
      transport: api.transport ?? ['http', 'https'],
      authorizationHeader: api.authorizationHeader ?? 'Authorization',
    },
    validate: {
      securityScheme: (v) => (v.some((s) => s !== MANDATORY) ? null : 'Choose at least one way to authenticate'),
      policies: (v) => (v.length > 0 ? null : 'Choose at least one tier, or applications cannot subscribe'),
      transport: (v) => (v.length > 0 ? null : 'Choose at least one transport'),
    },
    submit: async (v) => {
      await save({ securityScheme: v.securityScheme, policies: v.policies, transport: v.transport, authorizationHeader: v.authorizationHeader.trim() || 'Authorization' });
      form.resetDirty();
      saved.show('Security and tiers saved');
    },
  });
  const tierOptions = [...new Set([...tiers, ...form.getValues().policies])];
  return (
    <form onSubmit={onSubmit} noValidate>
      <Stack gap="lg">
        <Paper withBorder p="lg">
          <Title order={2} size="h4" mb="sm">
            Application security
          </Title>
          <Stack maw={640}>
            <Checkbox.Group label="Security schemes" description="How client applications authenticate to the gateway" {...form.getInputProps('securityScheme')} key={form.key('securityScheme')}>
              <Stack gap="xs" mt="xs">
                {SECURITY_SCHEMES.map((s) => (
                  <Checkbox key={s.value} value={s.value} label={s.label} />
                ))}
              </Stack>
            </Checkbox.Group>
            <TextInput label="Authorization header" description="The header that carries the token" {...form.getInputProps('authorizationHeader')} key={form.key('authorizationHeader')} />
            <Checkbox.Group label="Transports" {...form.getInputProps('transport')} key={form.key('transport')}>
              <Group mt="xs">
                <Checkbox value="http" label="HTTP" />
                <Checkbox value="https" label="HTTPS" />
              </Group>
            </Checkbox.Group>
          </Stack>
        </Paper>
        <Paper withBorder p="lg">
          <Title order={2} size="h4" mb="sm">
            Subscription tiers
          </Title>
          <Text size="sm" c="dimmed" mb="sm">
            The business plans an application can subscribe to this API with.
          </Text>
          <Checkbox.Group label="Tiers" {...form.getInputProps('policies')} key={form.key('policies')}>
            <Group mt="xs">
              {tierOptions.map((t) => (
                <Checkbox key={t} value={t} label={t} />
              ))}
            </Group>
          </Checkbox.Group>
        </Paper>
        <SaveBar label="Save security and tiers" submitting={submitting} error={formError} note={saved.note} />
      </Stack>
    </form>
  );
}

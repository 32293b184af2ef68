import { Badge, Code, Group, MultiSelect, Paper, Select, Stack, Table, TagsInput, Text, Title } from '@mantine/core';
import { EmptyState, useServerForm } from '../../../../kit/index.ts';
import { AUTH_TYPES, type ApiOperation, type ApiScope } from '../../model.ts';
import { usePolicyNames } from '../../policies.ts';
import { SaveBar, useSavedNote } from '../../saved.tsx';
import type { ApiTabProps } from '../ApiDetailPage.tsx';

const verbColor: Record<string, string> = { GET: 'blue', POST: 'green', PUT: 'orange', PATCH: 'grape', DELETE: 'red' };

/** The operations (from the definition) with their rate limit, auth type and scopes; and the API's own scopes. */
export function ResourcesTab({ api, save }: ApiTabProps) {
  const tiers = usePolicyNames('advanced');
  const saved = useSavedNote();
  const toValues = (a: typeof api) => ({
    operations: (a.operations ?? []).map((o) => ({ ...o, throttlingPolicy: o.throttlingPolicy ?? 'Unlimited', authType: o.authType ?? AUTH_TYPES[0], scopes: o.scopes ?? [] })),
    scopes: (a.scopes ?? []).map((s) => s.scope.name),
  });
  const { form, onSubmit, submitting, formError } = useServerForm<{ operations: ApiOperation[]; scopes: string[] }>({
    initialValues: toValues(api),
    submit: async (v) => {
      const existing = new Map((api.scopes ?? []).map((s) => [s.scope.name, s]));
      const scopes: ApiScope[] = v.scopes.map((name) => existing.get(name) ?? { scope: { name, displayName: name, description: '', bindings: [] }, shared: false });
      // An operation may only name a scope the API defines.
      const known = new Set(v.scopes);
      const operations = v.operations.map((o) => ({ ...o, scopes: (o.scopes ?? []).filter((s) => known.has(s)) }));
      const answer = await save({ operations, scopes });
      form.setValues(toValues(answer));
      form.resetDirty();
      saved.show('Resources saved');
    },
  });
  const values = form.getValues();
  const ops = values.operations;
  const tierOptions = [...new Set([...tiers, ...ops.map((o) => o.throttlingPolicy ?? 'Unlimited')])];
  return (
    <form onSubmit={onSubmit} noValidate>
      <Stack gap="lg">
        <Paper withBorder p="lg">
          <Title order={2} size="h4" mb="xs">
            Scopes
          </Title>
          <Text size="sm" c="dimmed" mb="sm">
            OAuth2 scopes this API defines; a resource that names a scope needs a token with it.
          </Text>
          <TagsInput label="Scopes of this API" placeholder="pets:read" maw={640} {...form.getInputProps('scopes')} key={form.key('scopes')} />
        </Paper>
        <Paper withBorder p="lg">
          <Title order={2} size="h4" mb="sm">
            Operations
          </Title>
          {ops.length === 0 ? (
            <EmptyState title="No operations" description="The API's definition has no paths. Import a definition with paths to manage its resources." />
          ) : (
            <div style={{ overflowX: 'auto' }} tabIndex={0} role="region" aria-label="Operations">
              <Table verticalSpacing="sm" aria-label="Operations" data-testid="operations">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Operation</Table.Th>
                    <Table.Th scope="col">Rate limit</Table.Th>
                    <Table.Th scope="col">Auth type</Table.Th>
                    <Table.Th scope="col">Scopes</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {ops.map((o, i) => {
                    const name = `${o.verb.toUpperCase()} ${o.target}`;
                    return (
                      <Table.Tr key={`${o.verb} ${o.target}`}>
                        <Table.Td>
                          <Group gap="xs" wrap="nowrap">
                            <Badge variant="light" color={verbColor[o.verb.toUpperCase()] ?? 'gray'} w={72}>
                              {o.verb.toUpperCase()}
                            </Badge>
                            <Code>{o.target}</Code>
                          </Group>
                        </Table.Td>
                        <Table.Td miw={160}>
                          <Select aria-label={`Rate limit of ${name}`} data={tierOptions} allowDeselect={false} {...form.getInputProps(`operations.${i}.throttlingPolicy`)} key={form.key(`operations.${i}.throttlingPolicy`)} />
                        </Table.Td>
                        <Table.Td miw={280}>
                          <Select aria-label={`Auth type of ${name}`} data={[...AUTH_TYPES]} allowDeselect={false} {...form.getInputProps(`operations.${i}.authType`)} key={form.key(`operations.${i}.authType`)} />
                        </Table.Td>
                        <Table.Td miw={200}>
                          <MultiSelect
                            aria-label={`Scopes of ${name}`}
                            placeholder={values.scopes.length === 0 ? 'Define scopes above' : 'None'}
                            data={values.scopes}
                            {...form.getInputProps(`operations.${i}.scopes`)}
                            key={form.key(`operations.${i}.scopes`)}
                          />
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            </div>
          )}
        </Paper>
        <SaveBar label="Save resources" submitting={submitting} error={formError} note={saved.note} />
      </Stack>
    </form>
  );
}

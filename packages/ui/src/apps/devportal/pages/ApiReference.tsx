import { Accordion, Badge, Code, Group, Stack, Table, Text, Title } from '@mantine/core';
import { EmptyState } from '../../../kit/index.ts';
import { byTag, operations, schemaOutline, serverUrls, type OpenApiDoc, type Operation } from '../openapi.ts';

const METHOD_COLORS: Record<string, string> = { GET: 'blue', POST: 'teal', PUT: 'orange', PATCH: 'grape', DELETE: 'red' };

export function MethodBadge({ method }: { method: string }) {
  return (
    <Badge color={METHOD_COLORS[method] ?? 'gray'} variant="light" w={72} radius="sm">
      {method}
    </Badge>
  );
}

function OperationDetails({ doc, op }: { doc: OpenApiDoc; op: Operation }) {
  return (
    <Stack gap="sm">
      {op.description && <Text size="sm">{op.description}</Text>}
      <div>
        <Title order={4} size="h6" mb={4}>
          Parameters
        </Title>
        {op.parameters.length === 0 ? (
          <Text size="sm" c="dimmed">
            None
          </Text>
        ) : (
          <Table withTableBorder fz="sm" aria-label={`Parameters of ${op.key}`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Name</Table.Th>
                <Table.Th scope="col">In</Table.Th>
                <Table.Th scope="col">Type</Table.Th>
                <Table.Th scope="col">Description</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {op.parameters.map((p) => (
                <Table.Tr key={`${p.in}:${p.name}`}>
                  <Table.Td>
                    <Code>{p.name}</Code>
                    {p.required && (
                      <Text span size="xs" c="red.8" ml={4}>
                        required
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{p.in}</Table.Td>
                  <Table.Td>{schemaOutline(doc, p.schema)}</Table.Td>
                  <Table.Td>{p.description}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </div>
      {op.requestBody && (
        <div>
          <Title order={4} size="h6" mb={4}>
            Request body{' '}
            <Text span size="xs" c="dimmed">
              {op.requestBody.contentType}
              {op.requestBody.required ? ', required' : ''}
            </Text>
          </Title>
          <Code block>{schemaOutline(doc, op.requestBody.schema)}</Code>
        </div>
      )}
      <div>
        <Title order={4} size="h6" mb={4}>
          Responses
        </Title>
        <Stack gap="xs">
          {op.responses.map((r) => (
            <div key={r.status}>
              <Group gap="xs">
                <Badge variant="outline" color={r.status.startsWith('2') ? 'teal' : 'gray'}>
                  {r.status}
                </Badge>
                <Text size="sm">{r.description}</Text>
              </Group>
              {r.schema && (
                <Code block mt={4}>
                  {schemaOutline(doc, r.schema)}
                </Code>
              )}
            </div>
          ))}
        </Stack>
      </div>
    </Stack>
  );
}

/** The API's OpenAPI document as a compact reference: servers, then operations grouped by tag. */
export function ApiReference({ doc }: { doc: OpenApiDoc }) {
  const ops = operations(doc);
  const servers = serverUrls(doc);
  if (ops.length === 0) return <EmptyState title="No operations" description="The API's definition has no operations yet." />;
  return (
    <Stack data-testid="api-reference">
      {servers.length > 0 && (
        <div>
          <Title order={3} size="h5" mb={4}>
            Servers
          </Title>
          <Stack gap={4}>
            {servers.map((s) => (
              <Code key={s}>{s}</Code>
            ))}
          </Stack>
        </div>
      )}
      {byTag(ops).map(([tag, list]) => (
        <section key={tag} aria-label={tag}>
          <Title order={3} size="h5" mb="xs">
            {tag}
          </Title>
          <Accordion variant="separated" multiple>
            {list.map((op) => (
              <Accordion.Item key={op.key} value={op.key.replace(/[^\w-]+/g, '_')}>
                <Accordion.Control>
                  <Group gap="sm" wrap="nowrap">
                    <MethodBadge method={op.method} />
                    <Code>{op.path}</Code>
                    <Text size="sm" c="dimmed" truncate>
                      {op.summary}
                    </Text>
                  </Group>
                </Accordion.Control>
                <Accordion.Panel>
                  <OperationDetails doc={doc} op={op} />
                </Accordion.Panel>
              </Accordion.Item>
            ))}
          </Accordion>
        </section>
      ))}
    </Stack>
  );
}

import { Accordion, Anchor, Badge, Code, Group, Text } from '@mantine/core';
import { EmptyState, ErrorState, LoadingState, useApi, useResource, type Paginated } from '../../../kit/index.ts';
import { Markdown } from '../components/Markdown.tsx';
import { DP, type ApiDocument } from '../model.ts';

function DocumentContent({ apiId, doc }: { apiId: string; doc: ApiDocument }) {
  const api = useApi();
  const url = `${DP}/apis/${apiId}/documents/${doc.documentId}/content`;
  const inline = doc.sourceType === 'INLINE' || doc.sourceType === 'MARKDOWN';
  const content = useResource((signal) => (inline ? api.get<string>(url, { signal, headers: { accept: 'text/markdown, text/plain' } }) : Promise.resolve('')), [url, inline]);
  if (doc.sourceType === 'URL') {
    return (
      <Anchor href={doc.sourceUrl} target="_blank" rel="noopener noreferrer">
        {doc.sourceUrl}
      </Anchor>
    );
  }
  if (doc.sourceType === 'FILE') return <Anchor href={url}>Download {doc.name}</Anchor>;
  if (content.loading && content.data === undefined) return <LoadingState label="Loading the document…" />;
  if (content.error) return <ErrorState error={content.error} onRetry={content.reload} />;
  const text = typeof content.data === 'string' ? content.data : JSON.stringify(content.data, null, 2);
  return doc.sourceType === 'MARKDOWN' ? <Markdown source={text} label={doc.name} /> : <Code block>{text}</Code>;
}

/** GET /apis/{id}/documents: the provider's documents; markdown rendered (sanitised), inline text as is, URLs and files as links. */
export function ApiDocuments({ apiId }: { apiId: string }) {
  const api = useApi();
  const docs = useResource((signal) => api.get<Paginated<ApiDocument>>(`${DP}/apis/${apiId}/documents`, { query: { limit: 100 }, signal }), [apiId]);
  if (docs.error) return <ErrorState error={docs.error} onRetry={docs.reload} />;
  if (!docs.data) return <LoadingState />;
  if (docs.data.list.length === 0) return <EmptyState title="No documents" description="The provider has not written documents for this API yet." />;
  return (
    <Accordion variant="separated" multiple defaultValue={[docs.data.list[0]!.documentId]} data-testid="api-documents">
      {docs.data.list.map((d) => (
        <Accordion.Item key={d.documentId} value={d.documentId}>
          <Accordion.Control>
            <Group gap="sm">
              <Text fw={600}>{d.name}</Text>
              <Badge variant="light" color="gray">
                {d.type.replaceAll('_', ' ').toLowerCase()}
              </Badge>
              {d.summary && (
                <Text size="sm" c="dimmed">
                  {d.summary}
                </Text>
              )}
            </Group>
          </Accordion.Control>
          <Accordion.Panel>
            <DocumentContent apiId={apiId} doc={d} />
          </Accordion.Panel>
        </Accordion.Item>
      ))}
    </Accordion>
  );
}

import { Anchor, Button, Group, Paper, Select, Stack, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { ConfirmButton, DataTable, ErrorState, FormActions, LoadingState, tableState, useApi, useConfirm, useResource, useServerForm, type Paginated } from '../../../../kit/index.ts';
import { MarkdownEditor } from '../../MarkdownEditor.tsx';
import { formatTime, PUB, type ApiDocument } from '../../model.ts';
import type { ApiTabProps } from '../ApiDetailPage.tsx';

const TYPES = [
  { value: 'HOWTO', label: 'How to' },
  { value: 'SAMPLES', label: 'Samples' },
  { value: 'PUBLIC_FORUM', label: 'Public forum' },
  { value: 'SUPPORT_FORUM', label: 'Support forum' },
  { value: 'OTHER', label: 'Other' },
];
const SOURCES = [
  { value: 'MARKDOWN', label: 'Markdown' },
  { value: 'INLINE', label: 'Plain text' },
  { value: 'URL', label: 'A link' },
];
const VISIBILITIES = [
  { value: 'API_LEVEL', label: 'Same as the API' },
  { value: 'PRIVATE', label: 'Publisher only' },
  { value: 'OWNER_ONLY', label: 'Owner only' },
];

function DocumentForm({ apiId, doc, content, onDone }: { apiId: string; doc: ApiDocument | undefined; content: string; onDone: () => void }) {
  const client = useApi();
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: {
      name: doc?.name ?? '',
      type: doc?.type ?? 'HOWTO',
      summary: doc?.summary ?? '',
      sourceType: doc?.sourceType ?? 'MARKDOWN',
      sourceUrl: doc?.sourceUrl ?? '',
      visibility: doc?.visibility ?? 'API_LEVEL',
      content,
    },
    validate: {
      name: (v) => (v.trim() ? null : 'Enter a name'),
      sourceUrl: (v, values) => (values.sourceType === 'URL' && !/^https?:\/\/\S+$/.test(v.trim()) ? 'Enter an http:// or https:// URL' : null),
    },
    fieldMap: { inlineContent: 'content' },
    submit: async (v) => {
      const body = {
        name: v.name.trim(),
        type: v.type,
        summary: v.summary,
        sourceType: v.sourceType,
        visibility: v.visibility,
        ...(v.sourceType === 'URL' ? { sourceUrl: v.sourceUrl.trim() } : {}),
      };
      const saved = doc
        ? await client.put<ApiDocument>(`${PUB}/apis/${apiId}/documents/${doc.documentId}`, { body: { ...body, documentId: doc.documentId } })
        : await client.post<ApiDocument>(`${PUB}/apis/${apiId}/documents`, { body });
      if (v.sourceType !== 'URL') {
        const parts = new FormData();
        parts.append('inlineContent', v.content);
        await client.post(`${PUB}/apis/${apiId}/documents/${saved.documentId}/content`, { body: parts });
      }
      onDone();
    },
  });
  const values = form.getValues();
  const contentProps = form.getInputProps('content');
  return (
    <Paper withBorder p="lg">
      <Title order={2} size="h4" mb="md">
        {doc ? `Edit ${doc.name}` : 'Add a document'}
      </Title>
      <form onSubmit={onSubmit} noValidate>
        <Stack>
          <Group grow align="flex-start">
            <TextInput label="Name" required {...form.getInputProps('name')} key={form.key('name')} />
            <Select label="Type" data={TYPES} allowDeselect={false} {...form.getInputProps('type')} key={form.key('type')} />
          </Group>
          <TextInput label="Summary" {...form.getInputProps('summary')} key={form.key('summary')} />
          <Group grow align="flex-start">
            <Select label="Source" data={SOURCES} allowDeselect={false} {...form.getInputProps('sourceType')} key={form.key('sourceType')} />
            <Select label="Visibility" data={VISIBILITIES} allowDeselect={false} {...form.getInputProps('visibility')} key={form.key('visibility')} />
          </Group>
          {values.sourceType === 'URL' ? (
            <TextInput label="URL" placeholder="https://docs.example.com/pets" {...form.getInputProps('sourceUrl')} key={form.key('sourceUrl')} />
          ) : (
            <MarkdownEditor
              label={values.sourceType === 'MARKDOWN' ? 'Content (markdown)' : 'Content'}
              value={values.content}
              onChange={(c) => form.setFieldValue('content', c)}
              error={contentProps.error as React.ReactNode}
            />
          )}
          <FormActions error={formError}>
            <Button type="submit" loading={submitting}>
              {doc ? 'Save document' : 'Add document'}
            </Button>
            <Button variant="default" onClick={onDone}>
              Cancel
            </Button>
          </FormActions>
        </Stack>
      </form>
    </Paper>
  );
}

/** Loads an inline or markdown document's content before showing the form. */
function EditDocument({ apiId, doc, onDone }: { apiId: string; doc: ApiDocument; onDone: () => void }) {
  const client = useApi();
  const content = useResource(
    (signal) => (doc.sourceType === 'URL' || doc.sourceType === 'FILE' ? Promise.resolve('') : client.get<string>(`${PUB}/apis/${apiId}/documents/${doc.documentId}/content`, { signal, headers: { accept: 'text/markdown, text/plain' } })),
    [apiId, doc.documentId],
  );
  if (content.error !== undefined) return <ErrorState error={content.error} onRetry={content.reload} title="The document could not be loaded" />;
  if (content.data === undefined) return <LoadingState label="Loading the document…" />;
  return <DocumentForm apiId={apiId} doc={doc} content={typeof content.data === 'string' ? content.data : ''} onDone={onDone} />;
}

/** The API's documents (as the Developer Portal shows them): list, add, edit, delete. */
export function DocumentsTab({ api }: ApiTabProps) {
  const client = useApi();
  const { confirm, dialog } = useConfirm();
  const docs = useResource((signal) => client.get<Paginated<ApiDocument>>(`${PUB}/apis/${api.id}/documents`, { query: { limit: 100 }, signal }), [api.id]);
  const [editing, setEditing] = useState<ApiDocument | 'new' | undefined>();
  const done = () => {
    setEditing(undefined);
    docs.reload();
  };
  if (editing === 'new') return <DocumentForm apiId={api.id} doc={undefined} content="" onDone={done} />;
  if (editing) return <EditDocument apiId={api.id} doc={editing} onDone={done} />;
  return (
    <>
      <DataTable
        label="Documents"
        {...tableState(docs)}
        rowKey={(d) => d.documentId}
        actions={<Button onClick={() => setEditing('new')}>Add document</Button>}
        empty={{ title: 'No documents yet', description: 'Add a how-to or samples: the Developer Portal shows them next to the API.' }}
        columns={[
          {
            key: 'name',
            header: 'Name',
            render: (d) => (
              <Anchor component="button" type="button" onClick={() => setEditing(d)}>
                {d.name}
              </Anchor>
            ),
          },
          { key: 'type', header: 'Type', render: (d) => TYPES.find((t) => t.value === d.type)?.label ?? d.type },
          { key: 'sourceType', header: 'Source', render: (d) => SOURCES.find((s) => s.value === d.sourceType)?.label ?? d.sourceType },
          { key: 'visibility', header: 'Visibility', render: (d) => VISIBILITIES.find((s) => s.value === d.visibility)?.label ?? d.visibility },
          { key: 'lastUpdatedTime', header: 'Updated', render: (d) => formatTime(d.lastUpdatedTime) },
          {
            key: 'actions',
            header: 'Actions',
            render: (d) => (
              <Group gap="xs" wrap="nowrap">
                <Button size="xs" variant="default" onClick={() => setEditing(d)} aria-label={`Edit ${d.name}`}>
                  Edit
                </Button>
                <ConfirmButton
                  confirm={confirm}
                  variant="light"
                  aria-label={`Delete ${d.name}`}
                  title={`Delete ${d.name}?`}
                  message="The document disappears from the Developer Portal too."
                  onConfirm={async () => {
                    await client.delete(`${PUB}/apis/${api.id}/documents/${d.documentId}`);
                    docs.reload();
                  }}
                >
                  Delete
                </ConfirmButton>
              </Group>
            ),
          },
        ]}
      />
      {dialog}
    </>
  );
}

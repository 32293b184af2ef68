import { Box, Tabs, Text, Textarea, Typography } from '@mantine/core';
import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { useMemo, useState } from 'react';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Raw HTML in the markdown is shown as text: parsing it, even inertly, makes Chromium report the
// CSP violations of any inline handler in it.
// Headings start at h3: the page has its h1 (the API) and h2s (its sections).
const markdown = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html: ({ text }) => escapeHtml(text),
    heading({ tokens, depth }) {
      const level = Math.min(6, depth + 2);
      return `<h${level}>${this.parser.parseInline(tokens)}</h${level}>\n`;
    },
  },
});

/** Markdown → sanitized HTML (raw HTML escaped; no script, no event handlers, no style). */
export function renderMarkdown(source: string): string {
  const html = markdown.parse(source, { async: false });
  return DOMPurify.sanitize(html, { FORBID_ATTR: ['style'], FORBID_TAGS: ['style'] });
}

/** Rendered markdown. */
export function MarkdownView({ source }: { source: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  return (
    <Typography>
      {/* Sanitized by DOMPurify above. */}
      <div dangerouslySetInnerHTML={{ __html: html }} />
    </Typography>
  );
}

/** A markdown text area with a Write / Preview switch; `error` shows under the text area (a server field message). */
export function MarkdownEditor({ label, value, onChange, error, description }: { label: string; value: string; onChange: (value: string) => void; error?: React.ReactNode; description?: React.ReactNode }) {
  const [mode, setMode] = useState<string | null>('write');
  return (
    <Box>
      <Tabs value={mode} onChange={setMode} variant="outline">
        <Tabs.List>
          <Tabs.Tab value="write">Write</Tabs.Tab>
          <Tabs.Tab value="preview">Preview</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="write" pt="sm">
          <Textarea label={label} description={description} autosize minRows={10} maxRows={30} value={value} onChange={(e) => onChange(e.currentTarget.value)} error={error} styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }} />
        </Tabs.Panel>
        <Tabs.Panel value="preview" pt="sm" data-testid="markdown-preview">
          {value.trim() === '' ? (
            <Text c="dimmed" size="sm">
              Nothing to preview yet.
            </Text>
          ) : (
            <MarkdownView source={value} />
          )}
        </Tabs.Panel>
      </Tabs>
    </Box>
  );
}

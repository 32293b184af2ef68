import { Typography } from '@mantine/core';
import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { useMemo } from 'react';

/** Markdown a provider wrote, as sanitised HTML: no scripts, no event handlers, no inline styles (the CSP refuses them), links open safely. */
export function renderMarkdown(source: string): string {
  const html = marked.parse(source, { async: false, gfm: true });
  const clean = DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe'],
    FORBID_ATTR: ['style'],
  });
  return clean;
}

// DOMPurify is one instance per page: the hook is added once.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  // External links leave the portal without handing it the opener.
  if (node.tagName === 'A' && /^https?:/i.test(node.getAttribute('href') ?? '')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
  // An image the author gave no text is decoration to a screen reader.
  if (node.tagName === 'IMG' && !node.hasAttribute('alt')) node.setAttribute('alt', '');
});

export function Markdown({ source, label }: { source: string; label?: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  return (
    // Sanitised by DOMPurify above.
    <Typography aria-label={label} data-testid="markdown" dangerouslySetInnerHTML={{ __html: html }} />
  );
}

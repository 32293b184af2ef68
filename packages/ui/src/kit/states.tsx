import type { ReactNode } from 'react';
import { Alert, Button, Center, Group, Loader, Stack, Text, type GroupProps } from '@mantine/core';
import { ApiError } from './api.ts';

/** A spinner with a label screen readers announce. */
export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" aria-hidden="true" />
        <Text c="dimmed">{label}</Text>
      </Group>
    </Center>
  );
}

/** What went wrong, in the server's words, with a retry when one makes sense. */
export function ErrorState({ error, title = 'Something went wrong', onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  const other = error instanceof ApiError ? error.problem.other : [];
  return (
    <Alert color="red" title={title} role="alert" data-testid="error-state">
      <Stack gap="xs">
        <Text size="sm">{message}</Text>
        {other.map((m) => (
          <Text size="sm" key={m}>
            {m}
          </Text>
        ))}
        {onRetry && (
          <Group>
            <Button size="xs" variant="light" color="red" onClick={onRetry}>
              Try again
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}

/** Nothing to show yet, and what to do about it. */
export function EmptyState({ title, description, action }: { title: string; description?: ReactNode; action?: ReactNode }) {
  return (
    <Center py="xl" data-testid="empty-state">
      <Stack align="center" gap="xs" maw={480}>
        <Text fw={600}>{title}</Text>
        {description && (
          <Text c="dimmed" ta="center" size="sm">
            {description}
          </Text>
        )}
        {action}
      </Stack>
    </Center>
  );
}

/** A form's message that belongs to no single field (the server's, from useServerForm). */
export function FormError({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <Alert color="red" role="alert" data-testid="form-error">
      {message}
    </Alert>
  );
}

/**
 * The foot of a form: its error (the server's message not tied to a field), then its buttons
 * and anything next to them (a "saved" note).
 *
 * @example
 * ```tsx
 * <FormActions error={formError}><Button type="submit" loading={submitting}>Save</Button>{saved.note}</FormActions>
 * ```
 */
export function FormActions({ error, justify, children }: { error: string | undefined; justify?: GroupProps['justify']; children: ReactNode }) {
  return (
    <>
      <FormError message={error} />
      <Group justify={justify}>{children}</Group>
    </>
  );
}

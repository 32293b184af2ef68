import { Button, Paper, Stack, Text } from '@mantine/core';
import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { FormActions } from '../../kit/index.ts';

/**
 * A "Saved" line next to a form's button, announced to screen readers, gone after a few seconds.
 *
 * @example
 * ```tsx
 * const saved = useSavedNote();
 * submit: async (v) => { await save(v); saved.show('Endpoints saved'); }
 * <Group><Button type="submit">Save</Button>{saved.note}</Group>
 * ```
 */
export function useSavedNote(): { note: ReactNode; show: (message?: string) => void } {
  const [message, setMessage] = useState<string | undefined>();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const show = useCallback((m = 'Saved') => {
    clearTimeout(timer.current);
    setMessage(m);
    timer.current = setTimeout(() => setMessage(undefined), 5000);
  }, []);
  const note = (
    <Text size="sm" role="status" data-testid="saved-note">
      {message ?? ''}
    </Text>
  );
  return { note, show };
}

/** A tab's save button with the form's error above it and the "saved" note beside it. */
export function SaveBar({ label, submitting, error, note }: { label: string; submitting: boolean; error: string | undefined; note: ReactNode }) {
  return (
    <FormActions error={error}>
      <Button type="submit" loading={submitting}>
        {label}
      </Button>
      {note}
    </FormActions>
  );
}

/** A one-form settings tab: a bordered form, its one-line explanation, its fields. */
export function SettingsForm({ intro, onSubmit, children }: { intro: ReactNode; onSubmit: (event?: FormEvent<HTMLFormElement>) => void; children: ReactNode }) {
  return (
    <Paper withBorder p="lg">
      <form onSubmit={onSubmit} noValidate>
        <Stack maw={640}>
          <Text size="sm" c="dimmed">
            {intro}
          </Text>
          {children}
        </Stack>
      </form>
    </Paper>
  );
}

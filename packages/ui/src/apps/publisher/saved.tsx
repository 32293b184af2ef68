import { Text } from '@mantine/core';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';

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

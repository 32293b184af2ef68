import { useCallback, useRef, useState, type ReactNode } from 'react';
import { Button, Group, Modal, Stack, Text, type ButtonProps } from '@mantine/core';
import { ErrorState } from './states.tsx';

export interface ConfirmOptions {
  readonly title: string;
  readonly message: ReactNode;
  readonly confirmLabel?: string;
  /** Red confirm button (deleting, revoking). */
  readonly danger?: boolean;
  /** Runs while the dialog shows a busy button; a thrown error is shown in the dialog, which stays open. */
  readonly onConfirm: () => Promise<void> | void;
}

/**
 * A confirmation dialog for destructive actions. Render `dialog` once; call `confirm(...)`.
 * Resolves true when confirmed and `onConfirm` succeeded, false when cancelled.
 *
 * @example
 * ```tsx
 * const { confirm, dialog } = useConfirm();
 * <Button color="red" onClick={() => confirm({ title: 'Delete API', message: `Delete ${api.name}?`, danger: true,
 *   onConfirm: () => api.delete(`/api/am/publisher/v4/apis/${id}`) })}>Delete</Button>
 * {dialog}
 * ```
 */
export function useConfirm(): { confirm: (options: ConfirmOptions) => Promise<boolean>; dialog: ReactNode } {
  const [options, setOptions] = useState<ConfirmOptions | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const resolver = useRef<((ok: boolean) => void) | undefined>(undefined);

  const confirm = useCallback((o: ConfirmOptions) => {
    resolver.current?.(false);
    setError(undefined);
    setOptions(o);
    return new Promise<boolean>((resolve) => {
      resolver.current = resolve;
    });
  }, []);
  const close = (ok: boolean) => {
    resolver.current?.(ok);
    resolver.current = undefined;
    setOptions(undefined);
  };
  const run = async () => {
    if (!options) return;
    setBusy(true);
    setError(undefined);
    try {
      await options.onConfirm();
      close(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const dialog = (
    <Modal opened={options !== undefined} onClose={() => !busy && close(false)} title={options?.title} centered data-testid="confirm-dialog">
      <Stack>
        <Text size="sm" component="div">
          {options?.message}
        </Text>
        {error !== undefined && <ErrorState error={error} title="It did not work" />}
        <Group justify="flex-end">
          <Button variant="default" onClick={() => close(false)} disabled={busy}>
            Cancel
          </Button>
          <Button color={options?.danger ? 'red' : undefined} onClick={() => void run()} loading={busy} data-autofocus>
            {options?.confirmLabel ?? 'Confirm'}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
  return { confirm, dialog };
}

export interface ConfirmButtonProps extends ConfirmOptions {
  /** `confirm` from the page's `useConfirm()` (the page renders its `dialog`). */
  readonly confirm: (options: ConfirmOptions) => Promise<boolean>;
  /** The button's text; also the dialog's confirm label unless `confirmLabel` says otherwise. */
  readonly children: string;
  /** The button's accessible name when its text alone is ambiguous in a table ("Delete PetStore"). */
  readonly 'aria-label'?: string;
  readonly variant?: ButtonProps['variant'];
  readonly 'data-testid'?: string;
}

/**
 * A small red row action (Delete, Unsubscribe) that asks first; `danger` unless said otherwise.
 *
 * @example
 * ```tsx
 * <ConfirmButton confirm={confirm} aria-label={`Delete ${e.name}`} title="Delete the environment" message={`Delete ${e.name}?`}
 *   onConfirm={async () => { await api.delete(`${BASE}/${e.id}`); envs.reload(); }}>Delete</ConfirmButton>
 * ```
 */
export function ConfirmButton({ confirm, children, 'aria-label': ariaLabel, variant = 'subtle', 'data-testid': testId, ...options }: ConfirmButtonProps) {
  return (
    <Button size="xs" variant={variant} color="red" aria-label={ariaLabel} data-testid={testId} onClick={() => void confirm({ confirmLabel: children, danger: true, ...options })}>
      {children}
    </Button>
  );
}

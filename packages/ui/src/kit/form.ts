import { useCallback, useEffect, useRef, useState } from 'react';
import { useForm, type FormErrors, type UseFormInput, type UseFormReturnType } from '@mantine/form';
import { ApiError } from './api.ts';

export interface ServerFormOptions<T extends Record<string, unknown>> extends UseFormInput<T> {
  /** Sends the values; throw (an ApiError) to show the server's messages. */
  readonly submit: (values: T) => Promise<void> | void;
  /** Server field path -> form path, when they differ (`defaultLimit.requestCount.requestCount` -> `requestCount`). */
  readonly fieldMap?: Readonly<Record<string, string>>;
}

export interface ServerForm<T extends Record<string, unknown>> {
  readonly form: UseFormReturnType<T>;
  /** Pass to `<form onSubmit>`: validates locally, then submits; values are never reset on failure. */
  readonly onSubmit: (event?: React.FormEvent<HTMLFormElement>) => void;
  readonly submitting: boolean;
  /**
   * The server's message that belongs to no field (shown above the buttons by `FormError`). It
   * goes when the values change, and when the form leaves the screen.
   */
  readonly formError: string | undefined;
}

/**
 * @mantine/form plus the server: an ApiError's per-field messages (WSO2's `error[]`,
 * `"body.name: is required"`) go next to their fields, the rest into `formError`, and what the
 * user typed stays as it is.
 *
 * A refusal is about the values that were sent: any edit takes `formError` away, and editing a
 * field takes its own message away (Mantine's `clearInputErrorOnChange`). A form hidden (its
 * dialog closed, kept mounted by `useFormDialog`) or unmounted forgets the refusal, so it comes
 * back with what was typed and no verdict on it.
 *
 * @example
 * ```tsx
 * const { form, onSubmit, submitting, formError } = useServerForm({
 *   initialValues: { name: '' },
 *   validate: { name: (v) => (v.trim() ? null : 'Enter a name') },
 *   submit: (v) => api.post('/api/am/admin/v4/environments', { body: v }),
 * });
 * <form onSubmit={onSubmit}><TextInput label="Name" {...form.getInputProps('name')} key={form.key('name')} />
 *   <FormError message={formError} /><Button type="submit" loading={submitting}>Save</Button></form>
 * ```
 */
export function useServerForm<T extends Record<string, unknown>>(options: ServerFormOptions<T>): ServerForm<T> {
  const { submit, fieldMap, onValuesChange, ...input } = options;
  const [submitting, setSubmitting] = useState(false);
  const [formError, setFormError] = useState<string | undefined>();
  const form = useForm<T>({
    mode: 'controlled',
    ...input,
    onValuesChange: (values, previous) => {
      setFormError(undefined);
      onValuesChange?.(values, previous);
    },
  });
  // The messages the last refusal put next to fields, to take back when the form is hidden.
  const placed = useRef<FormErrors>({});
  const { setErrors } = form;
  useEffect(
    () => () => {
      // Also runs when an <Activity> hides the form (a Mantine Modal with keepMounted, closed).
      const stale = placed.current;
      placed.current = {};
      setFormError(undefined);
      setErrors((errors) => withoutServerErrors(errors, stale));
    },
    [setErrors],
  );

  const onSubmit = form.onSubmit(async (values) => {
    setSubmitting(true);
    setFormError(undefined);
    placed.current = {};
    try {
      await submit(values as T);
    } catch (err) {
      const { fieldErrors, rest } = serverErrors(err, Object.keys(form.getValues()), fieldMap);
      placed.current = fieldErrors;
      form.setErrors(fieldErrors);
      setFormError(rest);
    } finally {
      setSubmitting(false);
    }
  });
  return { form, onSubmit, submitting, formError };
}

export interface FormDialog<T> {
  /** What the dialog was last opened for (kept while it is closed: its title, its form's props). */
  readonly target: T | undefined;
  /** The `key` of the dialog's form: a new one for another item, and after a save. */
  readonly formKey: string;
  /** For Mantine's `<Modal>`: kept mounted when closed, so reopened it still has what was typed. */
  readonly modalProps: { readonly opened: boolean; readonly onClose: () => void; readonly keepMounted: true };
  /** Opens the dialog for `target`: the same item (by `keyOf`) as last time gets its draft back. */
  open(target: T): void;
  close(): void;
  /** Closes it after a save: the next opening starts from what is stored. */
  done(): void;
}

/**
 * A dialog holding a `useServerForm` form. Closing it (Escape, a click outside) keeps the form and
 * what was typed for the next opening for the same item; the form, hidden, forgets the server's
 * last refusal. Another item, or a save, gets a fresh form.
 *
 * @example
 * ```tsx
 * const editor = useFormDialog<Environment | 'new'>((e) => (e === 'new' ? 'new' : e.id));
 * <Button onClick={() => editor.open('new')}>Add</Button>
 * <Modal {...editor.modalProps} title="Add a gateway environment">
 *   {editor.target !== undefined && <EnvironmentForm key={editor.formKey} existing={editor.target} onDone={editor.done} />}
 * </Modal>
 * ```
 */
export function useFormDialog<T>(keyOf: (target: T) => string): FormDialog<T> {
  const [state, setState] = useState<FormDialogState<T>>(closedDialog);
  const close = useCallback(() => setState((s) => formDialogStep(s, { type: 'close' })), []);
  return {
    target: state.target,
    formKey: String(state.draft),
    modalProps: { opened: state.opened, onClose: close, keepMounted: true },
    open: (target) => setState((s) => formDialogStep(s, { type: 'open', target, key: keyOf(target) })),
    close,
    done: () => setState((s) => formDialogStep(s, { type: 'done' })),
  };
}

/** What `useFormDialog` keeps: `draft` numbers the form, `saved` says its values were stored. */
export interface FormDialogState<T> {
  readonly target: T | undefined;
  readonly key: string | undefined;
  readonly opened: boolean;
  readonly draft: number;
  readonly saved: boolean;
}
const closedDialog: FormDialogState<never> = { target: undefined, key: undefined, opened: false, draft: 0, saved: false };

/** `useFormDialog`'s transitions; `key` names the item opened (`keyOf`). */
export function formDialogStep<T>(s: FormDialogState<T>, action: { type: 'open'; target: T; key: string } | { type: 'close' } | { type: 'done' }): FormDialogState<T> {
  switch (action.type) {
    case 'open':
      return { target: action.target, key: action.key, opened: true, saved: false, draft: !s.saved && s.key === action.key ? s.draft : s.draft + 1 };
    case 'close':
      return { ...s, opened: false };
    case 'done':
      // The saved draft goes at the next opening: gone now, the form would change while the dialog fades out.
      return { ...s, opened: false, saved: true };
  }
}

/** `errors` without the server's messages in `placed`; one the user's input or a local rule has since replaced stays. */
export function withoutServerErrors(errors: FormErrors, placed: FormErrors): FormErrors {
  const stale = Object.keys(placed).filter((path) => errors[path] === placed[path]);
  return stale.length === 0 ? errors : Object.fromEntries(Object.entries(errors).filter(([path]) => !stale.includes(path)));
}

/**
 * Splits an error into messages for known fields and one message for the rest. A field is known
 * when it (or its first segment) is a form value; `fieldMap` renames server paths first.
 */
export function serverErrors(err: unknown, formFields: readonly string[], fieldMap: Readonly<Record<string, string>> = {}): { fieldErrors: Record<string, string>; rest: string | undefined } {
  if (!(err instanceof ApiError)) return { fieldErrors: {}, rest: err instanceof Error ? err.message : String(err) };
  const fieldErrors: Record<string, string> = {};
  const unplaced: string[] = [];
  for (const [path, message] of Object.entries(err.problem.fields)) {
    const target = fieldMap[path] ?? path;
    if (formFields.includes(target) || formFields.includes(target.split(/[.[]/)[0]!)) fieldErrors[target] = message;
    else unplaced.push(`${path}: ${message}`);
  }
  const placed = Object.keys(fieldErrors).length > 0;
  const restParts = [...unplaced, ...err.problem.other];
  // With every problem next to its field, the alert only says to look at the fields.
  const rest = restParts.length > 0 ? restParts.join('; ') : placed ? 'Check the highlighted fields.' : err.message;
  return { fieldErrors, rest };
}

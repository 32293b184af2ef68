import { useState } from 'react';
import { useForm, type UseFormInput, type UseFormReturnType } from '@mantine/form';
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
  /** The server's message that belongs to no field (shown above the buttons by `FormError`). */
  readonly formError: string | undefined;
}

/**
 * @mantine/form plus the server: an ApiError's per-field messages (WSO2's `error[]`,
 * `"body.name: is required"`) go next to their fields, the rest into `formError`, and what the
 * user typed stays as it is.
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
  const { submit, fieldMap, ...input } = options;
  const form = useForm<T>({ mode: 'controlled', ...input });
  const [submitting, setSubmitting] = useState(false);
  const [formError, setFormError] = useState<string | undefined>();

  const onSubmit = form.onSubmit(async (values) => {
    setSubmitting(true);
    setFormError(undefined);
    try {
      await submit(values as T);
    } catch (err) {
      const { fieldErrors, rest } = serverErrors(err, Object.keys(form.getValues()), fieldMap);
      form.setErrors(fieldErrors);
      setFormError(rest);
    } finally {
      setSubmitting(false);
    }
  });
  return { form, onSubmit, submitting, formError };
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

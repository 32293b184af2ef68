/**
 * WSO2's REST error body (`{ code, message, description, moreInfo, error[] }`, each `error[]`
 * message `"<field>: <message>"`) and the Key Manager's RFC 6749 body (`{ error, error_description }`)
 * turned into what a screen shows: one message, and a message per form field.
 */
export interface ProblemDetails {
  /** HTTP status (0 when the request never got an answer). */
  readonly status: number;
  /** WSO2's numeric code, or the OAuth error name. */
  readonly code: number | string | undefined;
  /** One line for an alert. */
  readonly message: string;
  /** Field path (without WSO2's `body.` prefix) -> its message, for the form helper. */
  readonly fields: Readonly<Record<string, string>>;
  /** Entries of `error[]` that name no field. */
  readonly other: readonly string[];
}

const FIELD_MESSAGE = /^([A-Za-z_$][\w$]*(?:(?:\.|\[)[\w$\]]+)*|\[[0-9]+\][\w.$[\]]*): (.+)$/s;

function statusText(status: number): string {
  if (status === 0) return 'The server could not be reached.';
  if (status === 401) return 'Your session has expired. Sign in again.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'Not found.';
  if (status === 409) return 'This conflicts with something that already exists.';
  if (status === 413) return 'What you sent is too large.';
  if (status === 429) return 'Too many requests: try again in a moment.';
  if (status >= 500) return 'The server failed to answer. Try again later.';
  return `The request failed (HTTP ${status}).`;
}

/** WSO2 prefixes request-body fields with `body.`; the other parts (`querystring.`, `params.`) name no form field. */
function formField(path: string): string | undefined {
  if (path.startsWith('body.')) return path.slice(5);
  if (path === 'body' || /^(querystring|params|headers)(\.|$)/.test(path)) return undefined;
  return path;
}

/**
 * @example
 * ```ts
 * parseProblem(400, { code: 900400, message: 'Bad Request', description: 'body.name: is required',
 *   moreInfo: '', error: [{ code: 900400, message: 'body.name: is required' }] });
 * // { status: 400, code: 900400, message: 'body.name: is required', fields: { name: 'is required' }, other: [] }
 * ```
 */
export function parseProblem(status: number, body: unknown): ProblemDetails {
  const fields: Record<string, string> = {};
  const other: string[] = [];
  if (body === null || typeof body !== 'object') {
    const text = typeof body === 'string' && body.trim() !== '' && body.length < 300 && !body.trimStart().startsWith('<') ? body.trim() : statusText(status);
    return { status, code: undefined, message: text, fields, other };
  }
  const b = body as Record<string, unknown>;
  // RFC 6749 §5.2 (the Key Manager's token, revoke and register endpoints).
  if (typeof b.error === 'string') {
    const description = typeof b.error_description === 'string' ? b.error_description : b.error;
    return { status, code: b.error, message: description, fields, other };
  }
  const entries = Array.isArray(b.error) ? b.error : [];
  for (const entry of entries) {
    const text = entry && typeof entry === 'object' && typeof (entry as { message?: unknown }).message === 'string' ? (entry as { message: string }).message : undefined;
    if (text === undefined) continue;
    const m = FIELD_MESSAGE.exec(text);
    const field = m ? formField(m[1]!) : undefined;
    if (m && field !== undefined) {
      fields[field] = fields[field] ? `${fields[field]}; ${m[2]!}` : m[2]!;
    } else {
      other.push(text);
    }
  }
  const description = typeof b.description === 'string' && b.description !== '' ? b.description : undefined;
  const message = typeof b.message === 'string' && b.message !== '' ? b.message : undefined;
  // WSO2's `message` is often generic ("Bad Request"); its description says what went wrong.
  const best = description ?? message ?? statusText(status);
  return { status, code: typeof b.code === 'number' || typeof b.code === 'string' ? b.code : undefined, message: best, fields, other };
}

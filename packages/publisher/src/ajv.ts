import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createRequire } from 'node:module';

/** A compiled JSON-schema validator, as ajv 8 returns it. */
export interface Validate {
  (data: unknown): boolean;
  errors?: { instancePath: string; message?: string; params?: Record<string, unknown>; keyword: string }[] | null;
}

export interface AjvLike {
  compile(schema: object): Validate;
}

// ajv-formats is CommonJS with a default export only.
const addFormats = (createRequire(import.meta.url)('ajv-formats') as { default: (ajv: AjvLike) => void }).default;

/**
 * Validators for the Publisher's routes. Bodies: every problem listed, no type coercion, no
 * silent removal of unknown fields (fastify's defaults would drop them). Query strings and
 * path parameters: coerced, as they arrive as strings.
 */
export function createValidators(): { body: AjvLike; params: AjvLike } {
  const body = new Ajv({ allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false });
  const params = new Ajv({ allErrors: true, coerceTypes: 'array', removeAdditional: false, useDefaults: true, strict: false });
  addFormats(body);
  addFormats(params);
  return { body, params };
}

/** An ajv 8 for JSON Schema 2020-12 (OpenAPI 3.1 documents), for contract tests. */
export function createAjv2020(): AjvLike {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv;
}

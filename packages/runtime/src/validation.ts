import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

/**
 * The control plane's request validation, for every REST API: unknown body fields are refused
 * (fastify's default drops them silently, so a misspelt field would be lost without a word),
 * every problem is listed, and body values are never coerced (a string where an integer belongs
 * is a 400); query, path and header values are coerced from their text, as they can only be text.
 *
 * @example
 * ```ts
 * app.setValidatorCompiler(strictValidatorCompiler());
 * ```
 */
export function strictValidatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const base = { removeAdditional: false, allErrors: true, useDefaults: true, strict: false } as const;
  const body = AjvCompiler()({}, { customOptions: { ...base, coerceTypes: false } });
  const other = AjvCompiler()({}, { customOptions: { ...base, coerceTypes: 'array' } });
  return ((route: Parameters<typeof body>[0]) => (route.httpPart === 'body' ? body(route) : other(route))) as unknown as FastifySchemaCompiler<FastifySchema>;
}

import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import { type DeferredCompilation, deferredValidatorCompiler } from './schema-compilers.ts';

/**
 * The control plane's request validation, for every REST API: unknown body fields are refused
 * (fastify's default drops them silently, so a misspelt field would be lost without a word),
 * every problem is listed, and body values are never coerced (a string where an integer belongs
 * is a 400); query, path and header values are coerced from their text, as they can only be text.
 *
 * @example
 * ```ts
 * app.setValidatorCompiler(strictValidatorCompiler());
 * // or, each validator compiled on its route's first request:
 * app.setValidatorCompiler(strictValidatorCompiler(new DeferredCompilation()));
 * ```
 */
export function strictValidatorCompiler(deferred?: DeferredCompilation): FastifySchemaCompiler<FastifySchema> {
  const base = { removeAdditional: false, allErrors: true, useDefaults: true, strict: false } as const;
  const body = AjvCompiler()({}, { customOptions: { ...base, coerceTypes: false } });
  const other = AjvCompiler()({}, { customOptions: { ...base, coerceTypes: 'array' } });
  const compile = ((route: Parameters<typeof body>[0]) => (route.httpPart === 'body' ? body(route) : other(route))) as unknown as FastifySchemaCompiler<FastifySchema>;
  return deferred ? deferredValidatorCompiler(deferred, compile) : compile;
}

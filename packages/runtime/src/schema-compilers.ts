import { createRequire } from 'node:module';
import type { FastifySchema, FastifySchemaCompiler, FastifyServerOptions } from 'fastify';

/** A compiled validator or serializer, as ajv and fast-json-stringify return them (ajv's carry `errors`). */
type Compiled = ((data: unknown) => unknown) & { errors?: unknown };

/**
 * Schemas whose validator or serializer is compiled on its first use, not when its route is
 * registered. Three REST APIs declare about 250 route schemas (HEAD routes repeat their GET's),
 * and most are never used in a given process's life: compiling them all at start cost time and
 * memory (generated source and code for each). The compiled function is the one eager
 * compilation would have built, so behaviour is unchanged; a schema that does not compile fails
 * its first request (500) instead of the start, which `flush()` (for tests) brings forward.
 */
export class DeferredCompilation {
  private readonly pending = new Set<() => unknown>();

  /** Wraps a compile step: the returned function compiles on its first call, then delegates. */
  defer<R>(compile: (route: R) => Compiled, route: R): Compiled {
    let compiled: Compiled | undefined;
    const force = (): Compiled => {
      if (!compiled) {
        compiled = compile(route);
        this.pending.delete(force);
      }
      return compiled;
    };
    this.pending.add(force);
    const run = function (this: unknown, data: unknown): unknown {
      const fn = force();
      const result = fn.call(this, data);
      // fastify reads a failed ajv validation's problems from the function it was given.
      run.errors = fn.errors;
      return result;
    } as Compiled;
    return run;
  }

  /** How many schemas have not been compiled yet. */
  get size(): number {
    return this.pending.size;
  }

  /** Compiles every schema still pending (throws the first that does not compile); returns how many. */
  flush(): number {
    let n = 0;
    for (const force of [...this.pending]) {
      force();
      n++;
    }
    return n;
  }
}

type SerializerFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildSerializer']>;

/**
 * fastify's own response serializer builder (fast-json-stringify, resolved from fastify's
 * dependencies so the versions always match), with every serializer compiled on first use.
 * For `fastify({ schemaController: { compilersFactory: { buildSerializer } } })`; shared schemas
 * (`addSchema`) reach it as they reach the default.
 */
export function deferredSerializerFactory(deferred: DeferredCompilation): SerializerFactory {
  const fromFastify = createRequire(import.meta.resolve('fastify'));
  const { SerializerSelector } = fromFastify('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => SerializerFactory };
  const build = SerializerSelector();
  return ((externalSchemas: unknown, options: unknown) => {
    const compile = (build as (e: unknown, o: unknown) => (route: unknown) => Compiled)(externalSchemas, options);
    return (route: unknown) => deferred.defer(compile, route);
  }) as unknown as SerializerFactory;
}

/** A fastify validator compiler whose validators compile on first use. */
export function deferredValidatorCompiler(deferred: DeferredCompilation, compile: FastifySchemaCompiler<FastifySchema>): FastifySchemaCompiler<FastifySchema> {
  return ((route: Parameters<FastifySchemaCompiler<FastifySchema>>[0]) => deferred.defer(compile as unknown as (r: typeof route) => Compiled, route)) as unknown as FastifySchemaCompiler<FastifySchema>;
}

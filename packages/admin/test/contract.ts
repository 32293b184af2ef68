import AjvCompiler from '@fastify/ajv-compiler';
import type { SimpleResponse } from '@gatehouse/testing';

type Ajv = AjvCompiler.Ajv;

interface OpenApiDoc {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
}

/** An Ajv 8 instance with formats (the one fastify itself validates with). */
export function newAjv(): Ajv {
  let ajv: Ajv | undefined;
  AjvCompiler()({}, { customOptions: { strict: false, allErrors: true }, onCreate: (a) => (ajv = a) });
  return ajv!;
}

/**
 * Checks responses against our own OpenAPI document: the operation must be documented, the
 * status listed, and a JSON body must validate against the documented schema.
 */
export function responseChecker(doc: OpenApiDoc) {
  const ajv = newAjv();
  const cache = new Map<string, ReturnType<Ajv['compile']>>();
  const templates = Object.keys(doc.paths).map((p) => ({ p, re: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`) }));
  let checked = 0;
  return {
    get checked() {
      return checked;
    },
    check(method: string, path: string, res: SimpleResponse): void {
      const bare = path.split('?', 1)[0]!;
      // A literal path (/throttling/policies/search) wins over a template (/throttling/policies/{x}).
      const match = templates.filter((t) => t.re.test(bare)).sort((a, b) => (a.p.includes('{') ? 1 : 0) - (b.p.includes('{') ? 1 : 0))[0];
      if (!match) throw new Error(`${method} ${bare} is not in the OpenAPI document`);
      const op = doc.paths[match.p]![method.toLowerCase()];
      if (!op) throw new Error(`${method} ${match.p} is not in the OpenAPI document`);
      const response = op.responses?.[String(res.status)];
      if (!response) throw new Error(`${method} ${match.p} answered ${res.status}, which the document does not list`);
      const schema = response.content?.['application/json']?.schema;
      if (!schema || res.text === '') return;
      const key = `${method} ${match.p} ${res.status}`;
      let validate = cache.get(key);
      if (!validate) {
        validate = ajv.compile(schema as object);
        cache.set(key, validate);
      }
      if (!validate(JSON.parse(res.text))) throw new Error(`${key}: the body does not match the document: ${ajv.errorsText(validate.errors)}\n${res.text.slice(0, 500)}`);
      checked++;
    },
  };
}

/**
 * Just enough of OpenAPI 3.x (and Swagger 2.0) to show an API's reference and drive the try-it
 * console: operations grouped by tag, their parameters, request body and responses, with local
 * `$ref`s resolved.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Schema = { readonly [k: string]: Json };
export type OpenApiDoc = Schema;

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

export interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie' | string;
  readonly required: boolean;
  readonly description: string;
  readonly schema: Schema | undefined;
}

export interface Operation {
  /** `GET /pets/{id}`: unique in a document. */
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly description: string;
  readonly parameters: readonly Parameter[];
  readonly requestBody: { readonly contentType: string; readonly schema: Schema | undefined; readonly required: boolean } | undefined;
  readonly responses: readonly { readonly status: string; readonly description: string; readonly schema: Schema | undefined }[];
}

const isObj = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Follows a local `$ref` (`#/components/schemas/Pet`), once per level; an unknown ref stays as it is. */
export function deref(doc: OpenApiDoc, value: unknown, seen: ReadonlySet<string> = new Set()): Schema | undefined {
  if (!isObj(value)) return undefined;
  const ref = value.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/') || seen.has(ref)) return value;
  let target: unknown = doc;
  for (const part of ref.slice(2).split('/')) target = isObj(target) ? target[part.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined;
  return isObj(target) ? deref(doc, target, new Set([...seen, ref])) : value;
}

/** The server URLs the document names (OpenAPI `servers`, or Swagger's schemes + host + basePath). */
export function serverUrls(doc: OpenApiDoc): string[] {
  if (Array.isArray(doc.servers)) return doc.servers.flatMap((s) => (isObj(s) && typeof s.url === 'string' ? [s.url] : []));
  if (typeof doc.host === 'string') {
    const schemes = Array.isArray(doc.schemes) ? doc.schemes.filter((s): s is string => typeof s === 'string') : ['https'];
    return schemes.map((s) => `${s}://${doc.host as string}${str(doc.basePath)}`);
  }
  return [];
}

/** Every operation of the document, in path order. */
export function operations(doc: OpenApiDoc): Operation[] {
  const paths = isObj(doc.paths) ? doc.paths : {};
  const out: Operation[] = [];
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = deref(doc, rawItem);
    if (!item) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const op = deref(doc, item[method]);
      if (!op) continue;
      const byKey = new Map<string, Parameter>();
      let swaggerBody: Operation['requestBody'];
      for (const raw of [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        const p = deref(doc, raw);
        if (!p || typeof p.name !== 'string') continue;
        if (p.in === 'body') {
          swaggerBody = { contentType: 'application/json', schema: deref(doc, p.schema), required: p.required === true };
          continue;
        }
        // Swagger 2.0 keeps the type on the parameter itself.
        const schema = deref(doc, p.schema) ?? (typeof p.type === 'string' ? { type: p.type } : undefined);
        byKey.set(`${str(p.in)}:${p.name}`, { name: p.name, in: str(p.in), required: p.required === true || p.in === 'path', description: str(p.description), schema });
      }
      let requestBody = swaggerBody;
      const rb = deref(doc, op.requestBody);
      if (rb && isObj(rb.content)) {
        const [contentType, media] = Object.entries(rb.content)[0] ?? [];
        if (contentType) requestBody = { contentType, schema: isObj(media) ? deref(doc, media.schema) : undefined, required: rb.required === true };
      }
      const responses = Object.entries(isObj(op.responses) ? op.responses : {}).map(([status, raw]) => {
        const r = deref(doc, raw);
        const content = r && isObj(r.content) ? Object.values(r.content)[0] : undefined;
        const schema = isObj(content) ? deref(doc, content.schema) : r ? deref(doc, r.schema) : undefined;
        return { status, description: str(r?.description), schema };
      });
      const tags = Array.isArray(op.tags) ? op.tags.filter((t): t is string => typeof t === 'string') : [];
      out.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        tag: tags[0] ?? 'default',
        summary: str(op.summary),
        description: str(op.description),
        parameters: [...byKey.values()],
        requestBody,
        responses,
      });
    }
  }
  return out;
}

/** Operations by their first tag, tags in first-seen order. */
export function byTag(ops: readonly Operation[]): [string, Operation[]][] {
  const groups = new Map<string, Operation[]>();
  for (const op of ops) groups.set(op.tag, [...(groups.get(op.tag) ?? []), op]);
  return [...groups];
}

/** A schema as a compact TypeScript-like outline (`{ id: integer; name?: string }`), `$ref`s resolved, depth-limited. */
export function schemaOutline(doc: OpenApiDoc, schema: Schema | undefined, indent = '', depth = 0): string {
  const s = deref(doc, schema);
  if (!s) return 'any';
  const ref = schema && typeof schema.$ref === 'string' ? schema.$ref.split('/').pop() : undefined;
  if (depth > 4) return ref ?? 'object';
  for (const k of ['oneOf', 'anyOf', 'allOf'] as const) {
    if (Array.isArray(s[k])) return (s[k] as Json[]).map((x) => schemaOutline(doc, isObj(x) ? x : undefined, indent, depth + 1)).join(k === 'allOf' ? ' & ' : ' | ');
  }
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const type = Array.isArray(s.type) ? s.type.join(' | ') : str(s.type);
  if (type === 'array' || s.items !== undefined) return `${schemaOutline(doc, isObj(s.items) ? s.items : undefined, indent, depth + 1)}[]`;
  if (type === 'object' || isObj(s.properties)) {
    const props = isObj(s.properties) ? Object.entries(s.properties) : [];
    if (props.length === 0) return 'object';
    const required = new Set(Array.isArray(s.required) ? s.required : []);
    const inner = `${indent}  `;
    const lines = props.map(([name, p]) => `${inner}${name}${required.has(name) ? '' : '?'}: ${schemaOutline(doc, isObj(p) ? p : undefined, inner, depth + 1)};`);
    return `{\n${lines.join('\n')}\n${indent}}`;
  }
  const format = str(s.format);
  return type ? (format ? `${type} (${format})` : type) : (ref ?? 'any');
}

/** An example value for a schema: its `example`, else a value of the right shape. */
export function exampleOf(doc: OpenApiDoc, schema: Schema | undefined, depth = 0): Json {
  const s = deref(doc, schema);
  if (!s || depth > 5) return null;
  if (s.example !== undefined) return s.example;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0]!;
  const type = Array.isArray(s.type) ? str(s.type[0]) : str(s.type);
  if (type === 'array' || s.items !== undefined) return [exampleOf(doc, isObj(s.items) ? s.items : undefined, depth + 1)];
  if (type === 'object' || isObj(s.properties)) {
    const props = isObj(s.properties) ? s.properties : {};
    return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, exampleOf(doc, isObj(v) ? v : undefined, depth + 1)]));
  }
  if (type === 'integer' || type === 'number') return 0;
  if (type === 'boolean') return false;
  if (type === 'string') return str(s.format) === 'date-time' ? new Date(0).toISOString() : 'string';
  return null;
}

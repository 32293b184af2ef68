import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { LineCounter, parseDocument, isMap, isScalar, isPair } from 'yaml';
import type { Document } from 'yaml';
import { PublisherErrors } from './errors.ts';

/** One problem in a definition: where (JSON pointer and 1-based line, when known) and what. */
export interface DefinitionProblem {
  path: string;
  line?: number;
  message: string;
}

/** What WSO2's `OpenAPIDefinitionValidationResponse.info` reports. */
export interface DefinitionInfo {
  name: string;
  version: string;
  context: string;
  description: string;
  openAPIVersion: string;
  endpoints: string[];
}

export interface ParsedDefinition {
  /** The definition as an object (not dereferenced: stored as the user wrote it). */
  document: Record<string, unknown>;
  info: DefinitionInfo;
}

export type DefinitionResult = { ok: true; value: ParsedDefinition } | { ok: false; problems: DefinitionProblem[] };

const pointer = (path: readonly (string | number)[]) => (path.length === 0 ? '/' : path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join(''));

/**
 * Parses (JSON or YAML, one parser so both report lines) and validates an OpenAPI 3.0/3.1 or
 * Swagger 2.0 definition. Problems name the JSON pointer and the line of the source text.
 * External `$ref`s are never resolved: a definition cannot make the server fetch anything.
 */
export async function parseDefinition(text: string): Promise<DefinitionResult> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const line = lineCounter.linePos(e.pos[0]).line;
        return { path: '/', line, message: `syntax error at line ${line}: ${e.message.split('\n', 1)[0]}` };
      }),
    };
  }
  const document = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    return { ok: false, problems: [{ path: '/', line: 1, message: 'the definition must be an object' }] };
  }
  const obj = document as Record<string, unknown>;
  if (typeof obj.openapi !== 'string' && obj.swagger !== '2.0') {
    return { ok: false, problems: [{ path: '/', line: 1, message: 'not an OpenAPI 3.x or Swagger 2.0 definition: `openapi` or `swagger: "2.0"` is missing' }] };
  }
  let result;
  try {
    // Loaded on first use: the parser and its schemas cost memory every process would pay at start.
    const { validate } = await import('@readme/openapi-parser');
    result = await validate(structuredClone(obj) as never, { resolve: { external: false }, timeoutMs: 5000 });
  } catch (err) {
    return { ok: false, problems: [{ path: '/', message: err instanceof Error ? err.message.split('\n', 1)[0]! : 'the definition could not be validated' }] };
  }
  if (!result.valid) {
    const lines = prettyJsonLinePaths(obj);
    return {
      ok: false,
      problems: result.errors.map((e) => {
        const [first = 'invalid'] = e.message.split('\n', 1);
        const frameLine = /^>\s*(\d+)\s*\|/m.exec(e.message)?.[1];
        const path = frameLine === undefined ? undefined : lines.get(Number(frameLine));
        if (path === undefined) return { path: '/', message: first };
        const line = sourceLine(doc, lineCounter, path);
        return { path: pointer(path), ...(line ? { line } : {}), message: `${pointer(path)}${line ? ` (line ${line})` : ''}: ${first}` };
      }),
    };
  }
  return { ok: true, value: { document: obj, info: definitionInfo(obj) } };
}

/**
 * Maps each line of `JSON.stringify(value, null, 2)` where a value starts to that value's path,
 * because the parser's code frames count lines of that rendering, not of the user's text.
 */
function prettyJsonLinePaths(value: unknown): Map<number, (string | number)[]> {
  const map = new Map<number, (string | number)[]>();
  const walk = (v: unknown, path: (string | number)[], line: number): number => {
    map.set(line, path);
    if (v === null || typeof v !== 'object') return line;
    const entries: [string | number, unknown][] = Array.isArray(v)
      ? v.map((x, i) => [i, x === undefined ? null : x])
      : Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function');
    if (entries.length === 0) return line;
    let cur = line;
    for (const [k, x] of entries) cur = walk(x, [...path, k], cur + 1);
    return cur + 1;
  };
  walk(value, [], 1);
  return map;
}

function sourceLine(doc: Document, lc: LineCounter, path: readonly (string | number)[]): number | undefined {
  if (path.length === 0) return 1;
  // The key's line reads better than the value's ("info:" rather than the first line inside it).
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(path.at(-1)));
    const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
    if (range) return lc.linePos(range[0]).line;
  }
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return node?.range ? lc.linePos(node.range[0]).line : undefined;
}

function definitionInfo(doc: Record<string, unknown>): DefinitionInfo {
  const info = (doc.info ?? {}) as Record<string, unknown>;
  const endpoints: string[] = [];
  let context = '';
  if (typeof doc.swagger === 'string') {
    const schemes = Array.isArray(doc.schemes) && doc.schemes.length > 0 ? (doc.schemes as string[]) : ['https'];
    const basePath = typeof doc.basePath === 'string' ? doc.basePath : '';
    if (typeof doc.host === 'string') for (const s of schemes) endpoints.push(`${s}://${doc.host}${basePath}`);
    context = basePath;
  } else if (Array.isArray(doc.servers)) {
    for (const s of doc.servers as { url?: unknown }[]) if (typeof s?.url === 'string') endpoints.push(s.url);
  }
  const title = typeof info.title === 'string' ? info.title : '';
  return {
    name: title.replace(/[^A-Za-z0-9_.-]+/g, ''),
    version: typeof info.version === 'string' ? info.version : String(info.version ?? ''),
    context: context || `/${title.replace(/[^A-Za-z0-9_-]+/g, '').toLowerCase()}`,
    description: typeof info.description === 'string' ? info.description : '',
    openAPIVersion: typeof doc.openapi === 'string' ? doc.openapi : String(doc.swagger ?? ''),
    endpoints,
  };
}

/** An operation in WSO2's `APIOperations` shape. */
export interface ApiOperation {
  target: string;
  verb: string;
  authType: string;
  throttlingPolicy: string;
  scopes: string[];
  [extra: string]: unknown;
}

const VERBS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** The operations of a definition: one per path and verb, with WSO2's `x-auth-type`, `x-throttling-tier` and OAuth scopes. */
export function operationsFromDefinition(doc: Record<string, unknown>): ApiOperation[] {
  const ops: ApiOperation[] = [];
  const paths = (doc.paths ?? {}) as Record<string, Record<string, unknown>>;
  const globalSecurity = doc.security as Record<string, string[]>[] | undefined;
  for (const [target, item] of Object.entries(paths)) {
    if (item === null || typeof item !== 'object') continue;
    for (const verb of VERBS) {
      const op = item[verb] as Record<string, unknown> | undefined;
      if (!op || typeof op !== 'object') continue;
      const security = (op.security ?? globalSecurity) as Record<string, string[]>[] | undefined;
      const scopes = new Set<string>();
      for (const req of security ?? []) for (const list of Object.values(req ?? {})) for (const s of list ?? []) scopes.add(s);
      if (typeof op['x-scope'] === 'string') scopes.add(op['x-scope']);
      const authType =
        typeof op['x-auth-type'] === 'string' ? op['x-auth-type'] : Array.isArray(op.security) && op.security.length === 0 ? 'None' : 'Application & Application User';
      ops.push({
        target,
        verb: verb.toUpperCase(),
        authType,
        throttlingPolicy: typeof op['x-throttling-tier'] === 'string' ? op['x-throttling-tier'] : 'Unlimited',
        scopes: [...scopes],
      });
    }
  }
  return ops;
}

/** A minimal OpenAPI 3.0 definition for an API created without one (WSO2 generates one too). */
export function definitionFromOperations(api: { name: string; version: string; description: string | null }, operations: readonly ApiOperation[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    paths[op.target] ??= {};
    paths[op.target]![op.verb.toLowerCase()] = {
      responses: { '200': { description: 'OK' } },
      'x-auth-type': op.authType,
      'x-throttling-tier': op.throttlingPolicy,
      ...(op.scopes?.length ? { security: [{ default: op.scopes }] } : {}),
    };
  }
  return { openapi: '3.0.1', info: { title: api.name, version: api.version, ...(api.description ? { description: api.description } : {}) }, paths };
}

// --- fetching a definition from a URL (SSRF-guarded) -----------------------------------------

const privateRanges = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) privateRanges.addSubnet(net, prefix, 'ipv4');
// IPv4-mapped IPv6 (::ffff:a.b.c.d) is checked as IPv4 below: a ::ffff:0:0/96 rule would also match every IPv4 address.
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) {
  privateRanges.addSubnet(net, prefix, 'ipv6');
}

/** Whether an address is loopback, private, link-local, multicast or otherwise not a public host. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6 && address.toLowerCase().startsWith('::ffff:')) {
    const v4 = address.slice(7);
    if (isIP(v4) === 4) return privateRanges.check(v4, 'ipv4');
  }
  return privateRanges.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface FetchOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Allow loopback and private addresses (tests, intranet registries). */
  allowPrivate: boolean;
}

/**
 * GETs a definition over http(s). The address is checked at connect time (in `lookup`), so a
 * DNS answer that changes between a check and the connection cannot reach an internal host;
 * redirects are not followed; the body is bounded in size and time.
 */
export function fetchDefinition(url: string, opts: FetchOptions): Promise<string> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(PublisherErrors.create('PUB_ERR_URL_NOT_ALLOWED', { description: 'the url is not a valid absolute URL' }));
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.reject(PublisherErrors.create('PUB_ERR_URL_NOT_ALLOWED', { description: 'only http and https URLs are fetched' }));
  }
  const hostname = target.hostname.replace(/^\[|\]$/g, '');
  if (!opts.allowPrivate && isIP(hostname) !== 0 && isPrivateAddress(hostname)) {
    return Promise.reject(PublisherErrors.create('PUB_ERR_URL_NOT_ALLOWED', { description: `${hostname} is a loopback or private address` }));
  }
  const guardedLookup: LookupFunction = (host, options, callback) => {
    dnsLookup(host, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses as unknown as { address: string; family: number }[];
      const bad = !opts.allowPrivate && list.find((a) => isPrivateAddress(a.address));
      if (bad) return callback(PublisherErrors.create('PUB_ERR_URL_NOT_ALLOWED', { description: `${host} resolves to a loopback or private address` }), '', 4);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
  return new Promise((resolve, reject) => {
    const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      { method: 'GET', lookup: guardedLookup, timeout: opts.timeoutMs, headers: { accept: 'application/json, application/yaml, text/yaml, */*' } },
      (res) => {
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
          res.resume();
          reject(PublisherErrors.create('PUB_ERR_DEFINITION_FETCH', { description: `the URL answered HTTP ${res.statusCode} (redirects are not followed)` }));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) {
            req.destroy();
            reject(PublisherErrors.create('PUB_ERR_DEFINITION_FETCH', { description: `the definition is larger than ${opts.maxBytes} bytes` }));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', (err) => reject(PublisherErrors.create('PUB_ERR_DEFINITION_FETCH', { description: err.message, cause: err })));
      },
    );
    const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err) =>
      reject(PublisherErrors.is(err) ? err : PublisherErrors.create('PUB_ERR_DEFINITION_FETCH', { description: err.message, cause: err })),
    );
    req.end();
  });
}

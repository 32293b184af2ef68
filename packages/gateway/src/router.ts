import { basePaths, type RuntimeApi, type RuntimeOperation } from './runtime-api.ts';

/** One operation of one API, with whatever the gateway compiled for it at deploy time. */
export interface RouteTarget<T> {
  readonly api: RuntimeApi;
  readonly operation: RuntimeOperation;
  readonly compiled: T;
}

export type RouteMatch<T> =
  | { readonly kind: 'found'; readonly target: RouteTarget<T>; readonly basePath: string; readonly resourcePath: string; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'method-not-allowed'; readonly api: RuntimeApi; readonly allow: readonly string[] }
  | { readonly kind: 'not-found' };

interface TrieNode<T> {
  literal: Map<string, TrieNode<T>> | undefined;
  param: { name: string; node: TrieNode<T> } | undefined;
  /** `/*`: any rest of the path, including nothing. */
  wildcard: Map<string, RouteTarget<T>> | undefined;
  methods: Map<string, RouteTarget<T>> | undefined;
}

interface ApiEntry<T> {
  readonly api: RuntimeApi;
  readonly root: TrieNode<T>;
}

const NOT_FOUND = Object.freeze({ kind: 'not-found' as const });

function newNode<T>(): TrieNode<T> {
  return { literal: undefined, param: undefined, wildcard: undefined, methods: undefined };
}

/**
 * The gateway's compiled, immutable route table. Matching is host, then the longest base path
 * (`/{context}/{version}` or the default version's `/{context}`), then the resource template in a
 * segment trie where a literal segment beats a `{param}`, which beats `*`. A redeploy builds a
 * new table and swaps the reference; requests in flight keep the table they matched on.
 *
 * @example
 * ```ts
 * const table = RouteTable.build(apis, (api, op) => compileChain(api, op));
 * const m = table.match('localhost', '/petstore/1.0.0/pets/7', 'GET');
 * if (m.kind === 'found') m.params.petId; // '7'
 * ```
 */
export class RouteTable<T> {
  readonly #byHost: Map<string, Map<string, ApiEntry<T>>>;
  readonly #anyHost: Map<string, ApiEntry<T>>;
  readonly size: number;

  private constructor(byHost: Map<string, Map<string, ApiEntry<T>>>, anyHost: Map<string, ApiEntry<T>>, size: number) {
    this.#byHost = byHost;
    this.#anyHost = anyHost;
    this.size = size;
  }

  static empty<T>(): RouteTable<T> {
    return new RouteTable<T>(new Map(), new Map(), 0);
  }

  /** Compiles every operation once; `compile` runs at deploy time, never per request. */
  static build<T>(apis: Iterable<RuntimeApi>, compile: (api: RuntimeApi, op: RuntimeOperation) => T): RouteTable<T> {
    const byHost = new Map<string, Map<string, ApiEntry<T>>>();
    const anyHost = new Map<string, ApiEntry<T>>();
    const entries: { entry: ApiEntry<T>; tables: Map<string, ApiEntry<T>>[]; bases: string[] }[] = [];
    for (const api of apis) {
      const root = newNode<T>();
      for (const operation of api.operations) insert(root, operation.target, operation.verb.toUpperCase(), { api, operation, compiled: compile(api, operation) });
      const tables = api.hosts.length === 0 ? [anyHost] : api.hosts.map((h) => getOrCreate(byHost, h.toLowerCase()));
      entries.push({ entry: { api, root }, tables, bases: basePaths(api) });
    }
    // Versioned paths first; a default version's unversioned alias never hides another API's path.
    for (const { entry, tables, bases } of entries) for (const t of tables) t.set(bases[0], entry);
    for (const { entry, tables, bases } of entries) for (const t of tables) for (const alias of bases.slice(1)) if (!t.has(alias)) t.set(alias, entry);
    const size = entries.length;
    return new RouteTable(byHost, anyHost, size);
  }

  match(host: string, path: string, method: string): RouteMatch<T> {
    const hostTable = this.#byHost.size === 0 ? undefined : this.#byHost.get(host);
    // Longest base path first: try every '/' boundary from the end.
    for (let end = path.length; end > 0; end = path.lastIndexOf('/', end - 1)) {
      const base = end === path.length ? path : path.slice(0, end);
      const entry = hostTable?.get(base) ?? this.#anyHost.get(base);
      if (entry) return matchResource(entry, base, end === path.length ? '/' : path.slice(end), method);
      if (end === 0) break;
    }
    return NOT_FOUND;
  }
}

function getOrCreate<K, V>(map: Map<K, Map<string, V>>, key: K): Map<string, V> {
  let v = map.get(key);
  if (!v) {
    v = new Map();
    map.set(key, v);
  }
  return v;
}

function segmentsOf(template: string): string[] {
  const path = template.split('?', 1)[0];
  return path.split('/').filter((s) => s.length > 0);
}

function insert<T>(root: TrieNode<T>, template: string, verb: string, target: RouteTarget<T>): void {
  let node = root;
  for (const seg of segmentsOf(template)) {
    if (seg === '*') {
      node.wildcard ??= new Map();
      node.wildcard.set(verb, target);
      return;
    }
    const param = /^\{([^}]+)\}$/.exec(seg);
    if (param) {
      node.param ??= { name: param[1], node: newNode() };
      node = node.param.node;
    } else {
      node.literal ??= new Map();
      let next = node.literal.get(seg);
      if (!next) {
        next = newNode();
        node.literal.set(seg, next);
      }
      node = next;
    }
  }
  node.methods ??= new Map();
  node.methods.set(verb, target);
}

function matchResource<T>(entry: ApiEntry<T>, basePath: string, resourcePath: string, method: string): RouteMatch<T> {
  const segs = resourcePath === '/' ? [] : resourcePath.slice(1).split('/');
  const params: Record<string, string> = {};
  const found = walk(entry.root, segs, 0, params);
  if (!found) return NOT_FOUND;
  const target = found.get(method) ?? (method === 'HEAD' ? found.get('GET') : undefined);
  if (!target) return { kind: 'method-not-allowed', api: entry.api, allow: [...found.keys()] };
  return { kind: 'found', target, basePath, resourcePath, params };
}

function walk<T>(node: TrieNode<T>, segs: string[], i: number, params: Record<string, string>): Map<string, RouteTarget<T>> | undefined {
  if (i === segs.length) return node.methods ?? node.wildcard;
  const seg = segs[i];
  const literal = node.literal?.get(seg);
  if (literal) {
    const r = walk(literal, segs, i + 1, params);
    if (r) return r;
  }
  if (node.param) {
    const r = walk(node.param.node, segs, i + 1, params);
    if (r) {
      params[node.param.name] = decodeParam(seg);
      return r;
    }
  }
  return node.wildcard;
}

function decodeParam(seg: string): string {
  try {
    return seg.includes('%') ? decodeURIComponent(seg) : seg;
  } catch {
    return seg;
  }
}

/**
 * Request-target checks, decided once before routing (security-and-reliability.md §2.4): the
 * gateway routes and forwards the same string, and refuses every form that a backend could read
 * differently from the router — dot segments (also percent-encoded), encoded slashes and
 * backslashes, empty segments, matrix parameters, NUL and control characters, invalid
 * percent-escapes, fragments, and absolute-form targets. Refusing beats normalising: a client
 * that sends these is not a browser following a link.
 */
export type PathVerdict = { ok: true; path: string; query: string } | { ok: false; reason: string };

// Characters a path may carry unescaped (RFC 3986 pchar minus ';', which we refuse).
const SAFE = /^[A-Za-z0-9\-._~!$&'()*+,=:@/%]*$/;

export function checkTarget(target: string): PathVerdict {
  if (target.length === 0 || target.charCodeAt(0) !== 47 /* '/' */) {
    return { ok: false, reason: 'the request target must be a path (origin-form)' };
  }
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  if (query.includes('#') || path.includes('#')) return { ok: false, reason: 'a fragment is not allowed in a request' };
  if (!SAFE.test(path)) return { ok: false, reason: 'the path has characters that must be percent-encoded (or a ";")' };
  if (path.includes('//')) return { ok: false, reason: 'the path has an empty segment' };
  if (path.includes('%')) {
    const bad = checkEscapes(path);
    if (bad) return { ok: false, reason: bad };
  }
  // Dot segments, after decoding %2e (the only escape that can spell one).
  let start = 1;
  while (start <= path.length) {
    let end = path.indexOf('/', start);
    if (end === -1) end = path.length;
    // Only a segment of 1-6 characters starting with '.' or '%' can spell one.
    const first = path.charCodeAt(start);
    if (end - start <= 6 && (first === 46 /* . */ || first === 37) /* % */) {
      const plain = path.slice(start, end).replaceAll(/%2e/gi, '.');
      if (plain === '.' || plain === '..') return { ok: false, reason: 'dot segments are not allowed in the path' };
    }
    start = end + 1;
  }
  return { ok: true, path, query };
}

function checkEscapes(path: string): string | undefined {
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', i + 1)) {
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return 'the path has an invalid percent-escape';
    const code = Number.parseInt(hex, 16);
    if (code < 0x20 || code === 0x7f) return 'the path has an encoded control character';
    if (code === 0x2f || code === 0x5c) return 'encoded slashes and backslashes are not allowed in the path';
    if (code === 0x3b) return 'an encoded ";" is not allowed in the path';
  }
  return undefined;
}

import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { CorsConfig } from '../runtime-api.ts';
import type { Policy } from '../policy.ts';

/**
 * CORS for actual requests (the preflight is answered before routing, see `preflight`). The
 * allowed origin is echoed only when it is on the API's list (or the list is `*` without
 * credentials), never reflected blindly.
 */
export const corsPolicy: Policy = {
  name: 'cors',
  priority: 2000,
  // One hooks object for every CORS-enabled route: it reads the API's configuration from the call.
  shareKey: (api) => (api.cors?.enabled ? 'on' : ''),
  create(api) {
    if (!api.cors?.enabled) return undefined;
    return {
      responseHeaders(ctx, headers) {
        const cors = ctx.api.cors as CorsConfig;
        const origin = allowedOrigin(cors, ctx.req);
        if (origin === undefined) return;
        headers['access-control-allow-origin'] = origin;
        if (origin !== '*') headers.vary = headers.vary ? `${String(headers.vary)}, Origin` : 'Origin';
        if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
        if (cors.exposeHeaders?.length) headers['access-control-expose-headers'] = cors.exposeHeaders.join(', ');
      },
    };
  },
};

export function allowedOrigin(cors: CorsConfig, req: IncomingMessage): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  if (cors.allowOrigins.includes(origin)) return origin;
  if (cors.allowOrigins.includes('*')) return cors.allowCredentials ? origin : '*';
  return undefined;
}

/** Headers for a preflight (`OPTIONS` with `Access-Control-Request-Method`), or undefined to refuse it. */
export function preflight(cors: CorsConfig | undefined, req: IncomingMessage): OutgoingHttpHeaders | undefined {
  if (!cors?.enabled) return undefined;
  const origin = allowedOrigin(cors, req);
  const method = req.headers['access-control-request-method'];
  if (origin === undefined || typeof method !== 'string' || !cors.allowMethods.includes(method.toUpperCase())) return undefined;
  const headers: OutgoingHttpHeaders = {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': cors.allowMethods.join(', '),
    'access-control-allow-headers': cors.allowHeaders.join(', '),
    vary: 'Origin',
  };
  if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  if (cors.maxAgeSeconds !== undefined) headers['access-control-max-age'] = String(cors.maxAgeSeconds);
  return headers;
}

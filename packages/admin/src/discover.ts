import { lookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AdminErrors } from './errors.ts';
import { parseCidr, parseIp } from './ip.ts';

/** Addresses a discovery request must not reach unless allowed (SSRF): loopback, private, link-local, unspecified, CGNAT, multicast. */
const BLOCKED = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16', '224.0.0.0/4', '240.0.0.0/4',
  '::/128', '::1/128', '::ffff:0:0/96', 'fc00::/7', 'fe80::/10', 'ff00::/8',
].map((c) => parseCidr(c)!);

/** Whether an address is loopback, private, link-local or otherwise internal. */
export function isInternalAddress(address: string): boolean {
  const ip = parseIp(address);
  if (!ip) return true;
  return BLOCKED.some((b) => b.family === ip.family && ip.value >= b.first && ip.value <= b.last);
}

export interface FetchLimits {
  allowPrivate: boolean;
  timeoutMs: number;
  /** Largest document read, bytes. */
  maxBytes: number;
}

/**
 * GETs a small JSON document over http(s) with SSRF guards: the address is checked when the
 * socket connects (the resolved address, so DNS rebinding cannot slip past), no redirects are
 * followed, and the time and size are bounded. Throws ADMIN_ERR_DISCOVERY_REFUSED for a refused
 * target; rejects with a plain Error when the document cannot be fetched or parsed.
 */
export async function fetchJsonSafely(url: string, limits: FetchLimits): Promise<unknown> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw AdminErrors.create('ADMIN_ERR_DISCOVERY_REFUSED', { description: 'url: is not a valid URL' });
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw AdminErrors.create('ADMIN_ERR_DISCOVERY_REFUSED', { description: 'url: only http and https are allowed' });
  if (target.username || target.password) throw AdminErrors.create('ADMIN_ERR_DISCOVERY_REFUSED', { description: 'url: credentials in the URL are not allowed' });
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (!limits.allowPrivate && parseIp(host) && isInternalAddress(host)) {
    throw AdminErrors.create('ADMIN_ERR_DISCOVERY_REFUSED', { description: 'url: internal addresses are not allowed' });
  }
  let refused = false;
  const guardedLookup = (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses;
      if (!limits.allowPrivate && list.some((a) => isInternalAddress(a.address))) {
        refused = true;
        return callback(Object.assign(new Error('internal address refused'), { code: 'EREFUSED' }), '');
      }
      if (options.all) return callback(null, list);
      const first = list[0]!;
      return callback(null, first.address, first.family);
    });
  };
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  try {
    return await new Promise((resolve, reject) => {
      // Reject first, then destroy without an error: an error passed to destroy() would be
      // re-emitted on the socket after the response started, where nobody listens.
      const fail = (message: string) => {
        reject(new Error(message));
        req.destroy();
      };
      const req = send(target, { method: 'GET', lookup: guardedLookup, headers: { accept: 'application/json' }, timeout: limits.timeoutMs }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`the well-known endpoint answered ${res.statusCode}`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxBytes) {
            fail(`the well-known document is larger than ${limits.maxBytes} bytes`);
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            reject(new Error('the well-known document is not JSON'));
          }
        });
        res.on('error', (err) => reject(err));
        res.on('aborted', () => reject(new Error('the well-known endpoint closed the connection')));
      });
      const timer = setTimeout(() => fail('the well-known endpoint did not answer in time'), limits.timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('timeout', () => fail('the well-known endpoint did not answer in time'));
      req.on('error', reject);
      req.end();
    });
  } catch (err) {
    if (refused) throw AdminErrors.create('ADMIN_ERR_DISCOVERY_REFUSED', { description: 'url: resolves to an internal address' });
    throw err;
  }
}

/** Maps an OpenID Provider's discovery document (OpenID Connect Discovery 1.0 §3) to the Admin API's KeyManager fields. */
export function keyManagerFromDiscovery(doc: Record<string, unknown>, wellKnownEndpoint: string, type: string | undefined): Record<string, unknown> {
  const s = (k: string) => (typeof doc[k] === 'string' ? (doc[k] as string) : undefined);
  const grants = Array.isArray(doc.grant_types_supported) ? doc.grant_types_supported.filter((g): g is string => typeof g === 'string') : undefined;
  const out: Record<string, unknown> = {
    type,
    wellKnownEndpoint,
    issuer: s('issuer'),
    tokenEndpoint: s('token_endpoint'),
    revokeEndpoint: s('revocation_endpoint'),
    introspectionEndpoint: s('introspection_endpoint'),
    userInfoEndpoint: s('userinfo_endpoint'),
    authorizeEndpoint: s('authorization_endpoint'),
    clientRegistrationEndpoint: s('registration_endpoint'),
    certificates: s('jwks_uri') ? { type: 'JWKS', value: s('jwks_uri') } : undefined,
    availableGrantTypes: grants,
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

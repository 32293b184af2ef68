import { randomBytes } from 'node:crypto';

/** What a key manager's token endpoint said about a consumer key and secret. */
export type OwnershipProof = 'proven' | 'refused' | 'unreachable';

type Answer = 'token' | 'unauthorized_client' | 'refused' | 'unreachable';

/** A token endpoint's answer is a few hundred bytes; more is not read (memory is ours, the endpoint is not). */
export const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

/** The body as text, or undefined when it is larger than the cap or could not be read (timeout, reset). */
async function readCapped(res: Response): Promise<string | undefined> {
  if (Number(res.headers.get('content-length') ?? 0) > MAX_TOKEN_RESPONSE_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_TOKEN_RESPONSE_BYTES) {
        await reader.cancel().catch(() => undefined);
        return undefined;
      }
      chunks.push(value);
    }
  } catch {
    return undefined;
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function tokenRequest(tokenEndpoint: string, consumerKey: string, consumerSecret: string, timeoutMs: number): Promise<Answer> {
  const enc = (s: string) => encodeURIComponent(s).replaceAll('%20', '+');
  let res: Response;
  try {
    res = await fetch(tokenEndpoint, {
      method: 'POST',
      redirect: 'manual',
      headers: { authorization: `Basic ${Buffer.from(`${enc(consumerKey)}:${enc(consumerSecret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    return 'unreachable';
  }
  if (res.status >= 500) {
    await res.body?.cancel().catch(() => undefined);
    return 'unreachable';
  }
  if (res.status !== 200 && res.status !== 400) {
    await res.body?.cancel().catch(() => undefined);
    return 'refused';
  }
  // The fetch's timeout signal also aborts this read, so a body that trickles in is cut off too.
  const text = await readCapped(res);
  if (text === undefined) return 'unreachable';
  let body: { access_token?: unknown; error?: unknown } = {};
  try {
    body = (JSON.parse(text) ?? {}) as typeof body;
  } catch {
    body = {};
  }
  if (res.status === 200 && typeof body.access_token === 'string') return 'token';
  if (res.status === 400 && body.error === 'unauthorized_client') return 'unauthorized_client';
  return 'refused';
}

/**
 * Proves that whoever maps a consumer key of an external key manager holds its secret: a
 * client_credentials request with those credentials (HTTP Basic, RFC 6749 §2.3.1) at the key
 * manager's token endpoint. A token proves it. `unauthorized_client` (RFC 6749 §5.2: the client
 * authenticated, but may not use this grant) proves it only if the same request with a made-up
 * secret is refused: servers answer it for public clients without checking any secret (Keycloak:
 * "Public client not allowed to retrieve service account"), and a public client's id is no secret.
 * Anything else is a refusal. Without this, anyone could map another party's client id to their
 * own application and take over which application (and which subscriptions and quota) its
 * tokens count for. Tokens obtained are thrown away. The endpoint is the one an admin configured.
 */
export async function proveClientOwnership(tokenEndpoint: string, consumerKey: string, consumerSecret: string, timeoutMs: number): Promise<OwnershipProof> {
  const answer = await tokenRequest(tokenEndpoint, consumerKey, consumerSecret, timeoutMs);
  if (answer === 'token') return 'proven';
  if (answer !== 'unauthorized_client') return answer;
  const control = await tokenRequest(tokenEndpoint, consumerKey, randomBytes(24).toString('base64url'), timeoutMs);
  if (control === 'unreachable') return 'unreachable';
  return control === 'refused' ? 'proven' : 'refused';
}

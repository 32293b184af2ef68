/** What a key manager's token endpoint said about a consumer key and secret. */
export type OwnershipProof = 'proven' | 'refused' | 'unreachable';

/**
 * Proves that whoever maps a consumer key of an external key manager holds its secret: a
 * client_credentials request with those credentials (HTTP Basic, RFC 6749 §2.3.1) at the key
 * manager's token endpoint. A token, or `unauthorized_client` (RFC 6749 §5.2: the client
 * authenticated, but may not use this grant), proves it; anything else the server answers is a
 * refusal. Without this, anyone could map another party's client id to their own application
 * and take over which application (and which subscriptions and quota) its tokens count for.
 * The token obtained is thrown away. The endpoint is the one an admin configured.
 */
export async function proveClientOwnership(tokenEndpoint: string, consumerKey: string, consumerSecret: string, timeoutMs: number): Promise<OwnershipProof> {
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
    await res.body?.cancel();
    return 'unreachable';
  }
  let body: { access_token?: unknown; error?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    body = {};
  }
  if (res.status === 200 && typeof body.access_token === 'string') return 'proven';
  if (res.status === 400 && body.error === 'unauthorized_client') return 'proven';
  return 'refused';
}

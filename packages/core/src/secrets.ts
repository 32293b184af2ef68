import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { defineErrors } from './errors.ts';

export const SecretErrors = defineErrors({
  CORE_ERR_SECRET_UNREADABLE: { status: 500, wso2Code: 900502, message: 'A stored secret could not be decrypted (wrong security.secret?)' },
});

/**
 * Keys derived from the server secret (`security.secret`), one per purpose (HKDF-SHA-256), so
 * the HMAC key for client secrets never doubles as the encryption key for signing keys.
 *
 * @example
 * ```ts
 * const keys = createServerKeys(config.security.secret);
 * const stored = keys.hmac('client-secret', secret);            // store this, never the secret
 * keys.hmacEquals('client-secret', presented, stored);          // constant time
 * const sealed = keys.seal('signing-key', privateJwkJson);       // AES-256-GCM
 * keys.open('signing-key', sealed) === privateJwkJson;
 * ```
 */
export interface ServerKeys {
  /** Keyed HMAC-SHA-256 of a random secret, base64url: how client secrets and API keys are stored. */
  hmac(purpose: string, value: string): string;
  /** Whether `value`'s HMAC equals `stored`, compared in constant time. */
  hmacEquals(purpose: string, value: string, stored: string): boolean;
  /** AES-256-GCM with a random nonce: `v1.<nonce>.<ciphertext>.<tag>` (base64url parts). */
  seal(purpose: string, plaintext: string): string;
  /** Opens what `seal` made; throws CORE_ERR_SECRET_UNREADABLE if it was tampered with or sealed under another secret. */
  open(purpose: string, sealed: string): string;
}

export function createServerKeys(serverSecret: string): ServerKeys {
  if (serverSecret.length < 32) throw new Error('the server secret must be at least 32 characters');
  // KeyObjects, not Buffers: createHmac with a KeyObject is ~5x cheaper (no key preparation per
  // call), which the token endpoint feels on every client authentication.
  const cache = new Map<string, KeyObject>();
  const key = (kind: 'hmac' | 'seal', purpose: string): KeyObject => {
    const id = `${kind}:${purpose}`;
    let k = cache.get(id);
    if (!k) {
      k = createSecretKey(Buffer.from(hkdfSync('sha256', serverSecret, 'gatehouse', id, 32)));
      cache.set(id, k);
    }
    return k;
  };
  const hmac = (purpose: string, value: string) => createHmac('sha256', key('hmac', purpose)).update(value).digest('base64url');
  return Object.freeze({
    hmac,
    hmacEquals(purpose: string, value: string, stored: string) {
      // Both sides are HMAC outputs of public length: compare equal-length buffers directly.
      const a = Buffer.from(hmac(purpose, value));
      const b = Buffer.from(stored);
      return a.length === b.length && timingSafeEqual(a, b);
    },
    seal(purpose: string, plaintext: string) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key('seal', purpose), nonce);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', nonce.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open(purpose: string, sealed: string) {
      const [version, nonce, body, tag] = sealed.split('.');
      if (version !== 'v1' || nonce === undefined || body === undefined || tag === undefined) {
        throw SecretErrors.create('CORE_ERR_SECRET_UNREADABLE', { description: 'not a sealed value' });
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key('seal', purpose), Buffer.from(nonce, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch (cause) {
        throw SecretErrors.create('CORE_ERR_SECRET_UNREADABLE', { cause });
      }
    },
  });
}

/**
 * Constant-time comparison of two strings of any length (RFC 7636 §4.6, RFC 6749 §10.x): both
 * are hashed first so their lengths do not leak through an early return.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHmac('sha256', 'gatehouse-compare').update(a).digest();
  const hb = createHmac('sha256', 'gatehouse-compare').update(b).digest();
  return timingSafeEqual(ha, hb);
}

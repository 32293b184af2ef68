import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { SUPER_TENANT_ID } from '@gatehouse/core';
import type { Clock, ServerKeys } from '@gatehouse/core';
import type { Databases } from '@gatehouse/data';
import { KeyManagerErrors } from './errors.ts';

export type SigningAlg = 'ES256' | 'RS256';
/** `access`: access tokens (config `key_manager.signing_alg`); `id`: ID tokens (always RS256, OIDC's default). */
export type KeyPurpose = 'access' | 'id';

export interface SigningKey {
  kid: string;
  purpose: KeyPurpose;
  alg: SigningAlg;
  status: 'current' | 'previous' | 'retired';
  publicJwk: JWK;
  publicKey: CryptoKey;
}

export interface CurrentKey extends SigningKey {
  privateKey: CryptoKey;
  /**
   * JWS signature of `signingInput` (RFC 7515 §5.1; ES256 as r||s, RFC 7518 §3.4), computed by
   * WebCrypto on libuv's thread pool: the event loop keeps parsing requests while keys sign (about
   * 1.7x the token endpoint's throughput of a synchronous node:crypto sign on two cores).
   */
  sign(signingInput: string): Promise<Buffer>;
  /** base64url of the access-token JWS header `{ alg, typ: 'at+jwt', kid }`, computed once. */
  atHeader: string;
}

function currentKey(key: SigningKey, privateKey: CryptoKey): CurrentKey {
  const algorithm = key.alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
  return {
    ...key,
    privateKey,
    sign: async (input) => Buffer.from(await crypto.subtle.sign(algorithm, privateKey, Buffer.from(input))),
    atHeader: Buffer.from(JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid })).toString('base64url'),
  };
}

/**
 * Signing keys kept in the apim database so every replica signs and verifies with the same ones.
 * The private half is sealed with the server secret.
 */
export interface SigningKeyStore {
  /** Creates the current key of each purpose when missing; safe when replicas start together. */
  ensure(): Promise<void>;
  /** The current signing key of a purpose (cached until a rotation seen by `refresh`). */
  current(purpose: KeyPurpose): Promise<CurrentKey>;
  /** A key that is not retired, by kid; reloads from the database at most once per `minRefreshMs` on a miss. */
  byKid(kid: string): Promise<SigningKey | undefined>;
  /** Every key that is not retired (JWKS). */
  published(): Promise<SigningKey[]>;
  /** New current key; the old one stays published as `previous`, the one before is retired. */
  rotate(purpose: KeyPurpose): Promise<SigningKey>;
  /** Reloads from the database. */
  refresh(): Promise<void>;
}

export function createSigningKeyStore(
  databases: Pick<Databases, 'apim'>,
  keys: ServerKeys,
  options: { accessAlg: SigningAlg; clock: Clock; minRefreshMs?: number },
): SigningKeyStore {
  const db = databases.apim;
  const minRefreshMs = options.minRefreshMs ?? 5000;
  let loaded: Map<string, SigningKey> = new Map();
  let currents: Map<KeyPurpose, CurrentKey> = new Map();
  let lastLoad = -Infinity;
  let loading: Promise<void> | undefined;

  const algFor = (purpose: KeyPurpose): SigningAlg => (purpose === 'access' ? options.accessAlg : 'RS256');

  async function load(): Promise<void> {
    const rows = await db.selectFrom('km_signing_keys').selectAll().where('status', '!=', 'retired').execute();
    const next = new Map<string, SigningKey>();
    const nextCurrent = new Map<KeyPurpose, CurrentKey>();
    for (const row of rows) {
      const old = loaded.get(row.kid);
      const publicJwk = JSON.parse(row.public_jwk) as JWK;
      const key: SigningKey = {
        kid: row.kid,
        purpose: row.purpose as KeyPurpose,
        alg: row.alg as SigningAlg,
        status: row.status as SigningKey['status'],
        publicJwk,
        publicKey: old?.publicKey ?? ((await importJWK(publicJwk, row.alg)) as CryptoKey),
      };
      next.set(row.kid, key);
      if (row.status === 'current') {
        const prev = currents.get(key.purpose);
        if (prev?.kid === key.kid) {
          nextCurrent.set(key.purpose, { ...prev, status: key.status });
        } else {
          const privateKey = (await importJWK(JSON.parse(keys.open('signing-key', row.private_jwk)) as JWK, row.alg, { extractable: false })) as CryptoKey;
          nextCurrent.set(key.purpose, currentKey(key, privateKey));
        }
      }
    }
    loaded = next;
    currents = nextCurrent;
    lastLoad = options.clock.now();
  }

  const reload = () => (loading ??= load().finally(() => (loading = undefined)));

  /** A new current key of a purpose, as the row to store (private half sealed). */
  async function newKeyRow(purpose: KeyPurpose, createdAt: number) {
    const alg = algFor(purpose);
    const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
    const privateJwk = { ...(await exportJWK(pair.privateKey)), kid, alg };
    return {
      kid,
      tenant_id: SUPER_TENANT_ID,
      purpose,
      alg,
      public_jwk: JSON.stringify(publicJwk),
      private_jwk: keys.seal('signing-key', JSON.stringify(privateJwk)),
      status: 'current',
      created_at: createdAt,
      rotated_at: null,
    };
  }

  async function insert(purpose: KeyPurpose): Promise<void> {
    const row = await newKeyRow(purpose, options.clock.now());
    // The unique partial index on (purpose) where status = 'current' makes a racing replica's insert a no-op.
    await db.insertInto('km_signing_keys').values(row).onConflict((oc) => oc.doNothing()).execute();
  }

  return {
    async ensure() {
      await reload();
      for (const purpose of ['access', 'id'] as const) {
        if (!currents.has(purpose)) await insert(purpose);
      }
      await reload();
    },

    async current(purpose) {
      let key = currents.get(purpose);
      if (!key) {
        await reload();
        key = currents.get(purpose);
      }
      if (!key) throw KeyManagerErrors.create('KM_ERR_NO_SIGNING_KEY', { description: `no current ${purpose} key` });
      return key;
    },

    async byKid(kid) {
      const hit = loaded.get(kid);
      if (hit) return hit;
      if (options.clock.now() - lastLoad < minRefreshMs) return undefined;
      await reload();
      return loaded.get(kid);
    },

    async published() {
      if (options.clock.now() - lastLoad >= minRefreshMs) await reload();
      return [...loaded.values()];
    },

    async rotate(purpose) {
      const now = options.clock.now();
      const row = await newKeyRow(purpose, now);
      const kid = row.kid;
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('km_signing_keys').set({ status: 'retired', rotated_at: now }).where('purpose', '=', purpose).where('status', '=', 'previous').execute();
        await trx.updateTable('km_signing_keys').set({ status: 'previous', rotated_at: now }).where('purpose', '=', purpose).where('status', '=', 'current').execute();
        await trx.insertInto('km_signing_keys').values(row).execute();
      });
      await reload();
      const key = loaded.get(kid);
      if (!key) throw KeyManagerErrors.create('KM_ERR_NO_SIGNING_KEY', { description: 'the rotated key vanished' });
      return key;
    },

    refresh: reload,
  };
}

import { randomBytes, randomUUID } from 'node:crypto';

/** A random UUID v4, the id format WSO2's REST APIs use for resources. */
export function newId(): string {
  return randomUUID();
}

/** A random secret of `bytes` bytes (default 32 = 256 bits), base64url without padding. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

import { link, mkdir, readFile, writeFile, rename, rm } from 'node:fs/promises';
import { randomBytes, X509Certificate } from 'node:crypto';
import { join } from 'node:path';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** `configured` or `generated` (self-signed, in the data directory). */
  readonly source: 'configured' | 'generated' | 'existing-generated';
}

/**
 * The control plane's and gateway's certificate: the configured files, or else a self-signed
 * ECDSA P-256 certificate for localhost generated once into `<dataDir>/tls` and reused after.
 */
export async function loadOrCreateTls(options: { certFile: string; keyFile: string; dataDir: string }): Promise<TlsMaterial> {
  if (options.certFile && options.keyFile) {
    const [cert, key] = await Promise.all([readFile(options.certFile, 'utf8'), readFile(options.keyFile, 'utf8')]);
    return { cert, key, source: 'configured' };
  }
  const dir = join(options.dataDir, 'tls');
  const certPath = join(dir, 'self-signed-cert.pem');
  const keyPath = join(dir, 'self-signed-key.pem');
  let expired = false;
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    if (new Date(new X509Certificate(cert).validTo).getTime() > Date.now() + 86_400_000) {
      return { cert, key, source: 'existing-generated' };
    }
    expired = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // Loaded only when a certificate must be made: the X.509 toolkit costs ~10 MB resident.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'Gatehouse self-signed' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 825 * 86_400_000),
    extensions: [
      // Its own issuer, as `openssl req -x509` makes it, so a client can pin this file as its CA.
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0 },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  // Both files go into a fresh folder renamed into place in one step, so two processes starting
  // together never pair one's key with the other's certificate: the loser reads the winner's.
  const staging = `${dir}.${process.pid}.tmp`;
  await mkdir(staging, { recursive: true, mode: 0o700 });
  await writeFile(join(staging, 'self-signed-key.pem'), pems.private, { mode: 0o600 });
  await writeFile(join(staging, 'self-signed-cert.pem'), pems.cert, { mode: 0o644 });
  if (expired) await rename(dir, `${dir}.expired-${Date.now()}`);
  try {
    await rename(staging, dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    await rm(staging, { recursive: true, force: true });
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key, source: 'existing-generated' };
  }
  return { cert: pems.cert, key: pems.private, source: 'generated' };
}

/**
 * The server secret of an all-in-one install: generated once (384 random bits) into
 * `<dataDir>/server-secret`, readable by the owner only. Created under a temporary name and
 * hard-linked into place, so two processes starting together end up with the same one.
 */
export async function loadOrCreateServerSecret(dataDir: string): Promise<string> {
  const path = join(dataDir, 'server-secret');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const staging = `${path}.${process.pid}.tmp`;
  await writeFile(staging, randomBytes(48).toString('base64url'), { mode: 0o600 });
  try {
    await link(staging, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await rm(staging, { force: true });
  }
  return (await readFile(path, 'utf8')).trim();
}

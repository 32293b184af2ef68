/**
 * The compose file's bootstrap service: registers one OAuth client per gateway and traffic
 * manager with the control plane (WSO2 DCR, as the admin user, under the reserved
 * `gatehouse-internal-` name that makes it an internal client), and writes each one's
 * credentials to `<dir>/<name>.env` for that service's entrypoint to source. A name that already
 * has its file is skipped: registering a client again would issue a new secret and stop the old
 * one working.
 *
 * Environment: BOOTSTRAP_CONTROL_PLANE_URL (default http://control-plane:9763),
 * BOOTSTRAP_ADMIN_PASSWORD, BOOTSTRAP_CLIENTS (comma-separated names, e.g. gateway-1,gateway-2),
 * BOOTSTRAP_DIR (default /var/lib/gatehouse-bootstrap).
 *
 * @example
 * ```sh
 * BOOTSTRAP_ADMIN_PASSWORD=... BOOTSTRAP_CLIENTS=gateway-1 node deploy/compose/bootstrap.ts
 * . /var/lib/gatehouse-bootstrap/gateway-1.env   # GATEHOUSE_CONTROL_PLANE_CLIENT_ID and _SECRET
 * ```
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
const controlPlane = (env.BOOTSTRAP_CONTROL_PLANE_URL ?? 'http://control-plane:9763').replace(/\/+$/, '');
const password = env.BOOTSTRAP_ADMIN_PASSWORD ?? '';
const dir = env.BOOTSTRAP_DIR ?? '/var/lib/gatehouse-bootstrap';
const names = (env.BOOTSTRAP_CLIENTS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

if (password === '' || names.length === 0) {
  process.stderr.write('bootstrap: BOOTSTRAP_ADMIN_PASSWORD and BOOTSTRAP_CLIENTS are required\n');
  process.exit(2);
}

for (const name of names) {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`bootstrap: not a valid client name: ${JSON.stringify(name)}`);
  const file = join(dir, `${name}.env`);
  if (existsSync(file)) {
    process.stdout.write(`bootstrap: ${name} already has its client (${file})\n`);
    continue;
  }
  // WSO2's DCR reads the user's Basic credentials as plain `user:password`.
  const res = await fetch(`${controlPlane}/client-registration/v0.17/register`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clientName: `gatehouse-internal-${name}`, owner: 'admin', grantType: 'client_credentials', saasApp: true }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`bootstrap: registering ${name} failed: ${res.status} ${text}`);
  const { clientId, clientSecret } = JSON.parse(text) as { clientId: string; clientSecret: string };
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `export GATEHOUSE_CONTROL_PLANE_CLIENT_ID='${clientId}'\nexport GATEHOUSE_CONTROL_PLANE_CLIENT_SECRET='${clientSecret}'\n`, { mode: 0o600 });
  renameSync(tmp, file);
  process.stdout.write(`bootstrap: registered ${name} (client ${clientId})\n`);
}

/**
 * Benchmark child: a Gatehouse node running the key-manager profile (SQLite, as all-in-one) on
 * the given HTTP port, with one client_credentials client. Prints `ready <clientId> <secret>`.
 */
import { startTestNode } from '@gatehouse/cli';

const port = Number(process.argv[2]);
const base = `http://127.0.0.1:${port}`;
const node = await startTestNode(['--profile', 'key-manager', '--server.http_port', String(port), '--server.public_url', base, '--security.secret', 'bench-secret-0123456789abcdef0123456789']);
const res = await fetch(`${base}/client-registration/v0.17/register`, {
  method: 'POST',
  headers: { authorization: `Basic ${Buffer.from(`admin:${node.adminPassword}`).toString('base64')}`, 'content-type': 'application/json' },
  body: JSON.stringify({ clientName: 'bench', grantType: 'client_credentials' }),
});
const { clientId, clientSecret } = (await res.json()) as { clientId: string; clientSecret: string };
process.stdout.write(`ready ${clientId} ${clientSecret}\n`);
const stop = () => void node.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

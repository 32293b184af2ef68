/**
 * The baseline the Gateway is measured against: node:http in front of an undici pool, streaming
 * both ways, no policies. `node bench/gateway/bare-proxy.ts <port> <backend-url>`
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type * as Undici from 'undici';

// The undici the Gateway runs on (packages/gateway's dependency), not whichever version another
// package hoisted to the root: the baseline must differ from the Gateway only by its policies.
const gatewayRequire = createRequire(new URL('../../packages/gateway/package.json', import.meta.url));
const { Pool } = (await import(pathToFileURL(gatewayRequire.resolve('undici')).href)) as typeof Undici;

const [port, backend] = [Number(process.argv[2]), process.argv[3]];
const pool = new Pool(backend, { connections: 128, keepAliveTimeout: 30_000 });
createServer((req, res) => {
  pool
    .stream({ method: (req.method ?? 'GET') as 'GET', path: req.url ?? '/', headers: req.headers as Record<string, string>, body: req.method === 'GET' ? null : req }, ({ statusCode, headers }) => {
      res.writeHead(statusCode, headers as Record<string, string>);
      return res;
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
}).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0)); // lets --cpu-prof write its profile

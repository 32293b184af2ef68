/**
 * Benchmark child, the ceiling: bare fastify + @fastify/formbody answering a constant JSON body
 * of a token response's size. Prints `ready x y`.
 */
import formbody from '@fastify/formbody';
import { fastify } from 'fastify';

const port = Number(process.argv[2]);
const app = fastify();
await app.register(formbody);
const body = { access_token: 'x'.repeat(560), token_type: 'Bearer', expires_in: 3600, scope: 'default' };
app.post('/token', async (_request, reply) => reply.header('Cache-Control', 'no-store').send(body));
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write('ready x y\n');
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));

import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { CoreErrors } from '@gatehouse/core';
import { httpCall } from '@gatehouse/testing';
import { createControlPlane, type ControlPlaneServer } from '../src/runtime/control-plane.ts';
import { Health, loadOrCreateTls } from '@gatehouse/runtime';
import { tempDir } from '@gatehouse/testing';

let server: ControlPlaneServer;
let base: string;
let dir: Awaited<ReturnType<typeof tempDir>>;

before(async () => {
  dir = await tempDir();
  const tls = await loadOrCreateTls({ certFile: '', keyFile: '', dataDir: dir.path });
  server = await createControlPlane({
    host: '127.0.0.1',
    httpsPort: 0,
    httpPort: 0,
    tls,
    logger: pino({ level: 'silent' }),
    metrics: new Registry(),
    health: new Health(),
    components: [
      {
        name: 'publisher',
        routes(app) {
          app.post(
            '/things',
            { schema: { body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string' }, count: { type: 'integer' } } } } },
            async (request) => request.body,
          );
          app.get('/page', { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer' } } } } }, async (request) => request.query);
          app.get(
            '/shaped',
            { schema: { response: { 200: { type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' } } } } } },
            async () => ({ id: 'a', n: 1, secret: 'not in the schema' }),
          );
          app.get('/slow', async () => {
            await new Promise((r) => setTimeout(r, 400));
            return { done: true };
          });
          app.get('/boom', async () => {
            throw new Error('database password is hunter2');
          });
          app.get('/missing', async () => {
            throw CoreErrors.create('CORE_ERR_NOT_FOUND', { description: 'No thing with id 42' });
          });
        },
      },
    ],
  });
  const [, http] = await server.start();
  base = http.url;
});
after(async () => {
  await server.stop(1000); // idempotent: the drain test stops it first
  await dir.remove();
});

const post = (body: string) => httpCall(`${base}/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

it('answers a schema violation with WSO2 400 naming each field', async () => {
  const res = await post(JSON.stringify({ count: 'three', colour: 'red' }));
  assert.equal(res.status, 400);
  const body = res.json<{ code: number; message: string; description: string; error: { message: string }[] }>();
  assert.equal(body.code, 900400);
  assert.equal(body.message, 'Bad Request');
  assert.ok(body.error.length >= 1);
  assert.match(body.description, /body/);
});

it('lists every field problem at once', async () => {
  const res = await httpCall(`${base}/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ colour: 'red' }) });
  assert.equal(res.status, 400);
  const messages = res.json<{ error: { message: string }[] }>().error.map((e) => e.message).join(' | ');
  assert.match(messages, /name/, 'the missing required field is named');
});

it('never coerces body values, but reads query values from their text', async () => {
  const res = await post(JSON.stringify({ name: 'a', count: '3' }));
  assert.equal(res.status, 400, 'a string where an integer belongs');
  const page = await httpCall(`${base}/page?limit=25`);
  assert.deepEqual(page.json(), { limit: 25 });
  assert.equal((await httpCall(`${base}/page?limit=many`)).status, 400);
});

it('answers malformed JSON with 400, and a valid body passes', async () => {
  assert.equal((await post('{"name":')).status, 400);
  const ok = await post(JSON.stringify({ name: 'a', count: 2 }));
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json(), { name: 'a', count: 2 });
});

it('compiles route validators and serializers on first use, with the same effect', async () => {
  const pending = server.schemas.size;
  assert.ok(pending > 0, 'some route schemas are still uncompiled after start');
  const res = await httpCall(`${base}/shaped`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.json(), { id: 'a', n: 1 }, 'the response schema still drops undeclared fields');
  assert.ok(server.schemas.size < pending, 'the serializer used was compiled');
  server.schemas.flush();
  assert.equal(server.schemas.size, 0);
  assert.equal((await httpCall(`${base}/page?limit=many`)).status, 400, 'a validator compiled by flush() still validates');
});

it('hides the message of an unexpected error and maps registry errors to their status', async () => {
  const boom = await httpCall(`${base}/boom`);
  assert.equal(boom.status, 500);
  assert.doesNotMatch(boom.text, /hunter2/);
  const missing = await httpCall(`${base}/missing`);
  assert.equal(missing.status, 404);
  assert.equal(missing.json<{ description: string }>().description, 'No thing with id 42');
});

it('drains on stop: a request in flight completes, new connections are refused', async () => {
  const inFlight = httpCall(`${base}/slow`);
  await new Promise((r) => setTimeout(r, 100));
  const stopping = server.stop(5_000);
  await new Promise((r) => setTimeout(r, 50));
  const late = await httpCall(`${base}/slow`, { timeoutMs: 2_000 }).catch((err: Error) => err);
  assert.ok(late instanceof Error, 'no new connection accepted while draining');
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.deepEqual(res.json(), { done: true });
  await stopping;
});

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { Health, serveOps } from './health.ts';

const down = async () => {
  throw new Error('not connected to NATS');
};
const up = async () => undefined;

it('a failing non-critical check is reported but leaves the process ready', async () => {
  const health = new Health();
  health.add({ name: 'state', check: up });
  health.add({ name: 'event-hub', critical: false, check: down });
  assert.deepEqual(await health.readiness(), {
    status: 'UP',
    checks: [
      { name: 'state', status: 'UP' },
      { name: 'event-hub', status: 'DOWN', critical: false, error: 'not connected to NATS' },
    ],
  });
  health.add({ name: 'state', check: down }); // same name: replaced
  const report = await health.readiness();
  assert.equal(report.status, 'DOWN');
  assert.equal(report.checks.length, 2);
  health.startDraining();
  assert.equal((await health.readiness()).checks.at(-1)?.name, 'shutdown');
});

it('a hung check answers DOWN within the timeout', async () => {
  const health = new Health(50);
  health.add({ name: 'db', check: () => new Promise(() => undefined) });
  const report = await health.readiness();
  assert.equal(report.status, 'DOWN');
  assert.match(report.checks[0]?.error ?? '', /no answer within 50 ms/);
});

it('GET /health answers the report with details; /health/ready without', async () => {
  const health = new Health();
  health.add({ name: 'event-hub', critical: false, check: down });
  health.addDetails('sync', () => ({ source: 'snapshot' }));
  health.addDetails('broken', () => {
    throw new Error('boom');
  });
  const server: Server = createServer((req, res) => {
    if (!serveOps(req, res, health, undefined)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const ready = await fetch(`${base}/health/ready`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { details?: unknown }).details, undefined);
    const all = await fetch(`${base}/health`);
    assert.equal(all.status, 200);
    assert.deepEqual(await all.json(), {
      status: 'UP',
      checks: [{ name: 'event-hub', status: 'DOWN', critical: false, error: 'not connected to NATS' }],
      details: { sync: { source: 'snapshot' }, broken: { error: 'boom' } },
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

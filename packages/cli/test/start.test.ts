import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, httpCall, spawnNode, tempDir, type Spawned } from '@gatehouse/testing';
import { NATS_SERVER_BIN, PrivateNats } from '@gatehouse/testing/cluster';

const bin = new URL('../src/bin.ts', import.meta.url).pathname;

/** The environment of a child: this one's, without the variables a developer may have set. */
function childEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GATEHOUSE_') || k.startsWith('GATEHOUSE_TEST_')) env[k] = v;
  return { ...env, ...extra };
}

async function allInOneFlags(dataDir: string): Promise<{ flags: string[]; ports: Record<string, number> }> {
  const [https, http, gw, gws, tm] = await freePorts(5);
  const ports = { https, http, gw, gws, tm };
  return {
    ports,
    flags: [
      '--data-dir', dataDir,
      '--server.https_port', String(https),
      '--server.http_port', String(http),
      '--gateway.http_port', String(gw),
      '--gateway.https_port', String(gws),
      '--traffic_manager.health_port', String(tm),
      '--log.level', 'warn',
    ],
  };
}

describe('gatehouse start (all-in-one)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let proc: Spawned | undefined;
  let ports: Record<string, number>;
  let flags: string[];
  let ca: string;

  before(async () => {
    dir = await tempDir();
    ({ flags, ports } = await allInOneFlags(join(dir.path, 'data')));
  });
  after(async () => {
    proc?.kill('SIGKILL');
    await dir.remove();
  });

  it('starts on a fresh data directory, creates the admin with a generated password printed once', async () => {
    proc = spawnNode([bin, 'start', ...flags], { env: childEnv() });
    await proc.waitFor('Gatehouse is running');
    const out = proc.stderr();
    assert.match(out, /created user "admin" with this generated password/);
    const password = /generated password[^\n]*\n\s+(\S+)/.exec(out)?.[1];
    assert.ok(password && password.length >= 20, 'a generated password of at least 20 characters');
    assert.doesNotMatch(proc.stdout(), new RegExp(password), 'the password never goes to the JSON logs');
    for (const f of ['apim.db', 'shared.db', 'local.db', 'server-secret', 'tls/self-signed-cert.pem', 'tls/self-signed-key.pem']) {
      assert.ok(existsSync(join(dir.path, 'data', f)), `${f} exists`);
    }
    ca = readFileSync(join(dir.path, 'data', 'tls', 'self-signed-cert.pem'), 'utf8');
  });

  it('answers health on the control plane (HTTPS with the generated certificate, and HTTP)', async () => {
    for (const url of [`https://127.0.0.1:${ports.https}`, `http://127.0.0.1:${ports.http}`]) {
      const live = await httpCall(`${url}/health/live`, { ca });
      assert.equal(live.status, 200);
      const ready = await httpCall(`${url}/health/ready`, { ca });
      assert.equal(ready.status, 200, ready.text);
      const report = ready.json<{ status: string; checks: { name: string; status: string }[] }>();
      assert.equal(report.status, 'UP');
      const names = report.checks.map((c) => c.name);
      assert.ok(names.includes('databases') && names.includes('event-hub'), names.join());
    }
  });

  it('serves Prometheus metrics with the node and profile labels', async () => {
    const res = await httpCall(`http://127.0.0.1:${ports.http}/metrics`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/plain/);
    assert.match(res.text, /gatehouse_component_up\{component="gateway",node="[^"]+",profile="all-in-one"\} 1/);
    assert.match(res.text, /gatehouse_process_resident_memory_bytes/);
    // The Publisher's usage consumer, read at scrape time (its counting is tested in publisher/test/usage.test.ts).
    for (const name of ['batches', 'duplicate_batches', 'events', 'skipped_events', 'failed_batches', 'lost_batches']) {
      assert.match(res.text, new RegExp(`^gatehouse_usage_${name}_total\\{node="[^"]+",profile="all-in-one"\\} \\d+$`, 'm'), name);
    }
  });

  it('answers a management API without a token with 401 in WSO2 error shape, unknown paths with 404', async () => {
    // The publisher is built now: it refuses an unauthenticated call (it answered 501 as a placeholder).
    const res = await httpCall(`http://127.0.0.1:${ports.http}/api/am/publisher/v4/apis`);
    assert.equal(res.status, 401);
    const body = res.json<{ code: number; message: string; description: string }>();
    assert.equal(body.code, 900902);
    const missing = await httpCall(`http://127.0.0.1:${ports.http}/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json<{ code: number }>().code, 900404);
  });

  it('listens on the gateway and traffic manager ports', async () => {
    assert.equal((await httpCall(`http://127.0.0.1:${ports.gw}/health/live`)).status, 200);
    assert.equal((await httpCall(`https://127.0.0.1:${ports.gws}/health/ready`, { ca })).status, 200);
    assert.equal((await httpCall(`http://127.0.0.1:${ports.tm}/health/ready`)).status, 200);
  });

  it('drains and exits 0 on SIGTERM', async () => {
    const running = proc as Spawned;
    running.kill('SIGTERM');
    assert.equal(await running.exited, 0);
  });

  it('starts again on the same data, keeping the admin and printing no password', async () => {
    proc = spawnNode([bin, 'start', ...flags], { env: childEnv() });
    await proc.waitFor('Gatehouse is running');
    assert.doesNotMatch(proc.stderr(), /generated password/);
    assert.equal((await httpCall(`https://127.0.0.1:${ports.https}/health/ready`, { ca })).status, 200);
    proc.kill('SIGTERM');
    assert.equal(await proc.exited, 0);
  });
});

describe('gatehouse start with bad configuration', () => {
  it('lists every problem in one message, exits 2, and writes nothing', async () => {
    const dir = await tempDir();
    try {
      const dataDir = join(dir.path, 'data');
      const toml = join(dir.path, 'gatehouse.toml');
      writeFileSync(toml, '[server]\nhtps_port = 9443\n\n[log]\nlevel = 42\n');
      const proc = spawnNode([bin, 'start', '--config', toml, '--data-dir', dataDir, '--no-such-flag', 'x'], {
        env: childEnv({ GATEHOUSE_SHUTDOWN_TIMEOUT_MS: 'soon' }),
      });
      assert.equal(await proc.exited, 2);
      const err = proc.stderr();
      assert.match(err, /server\.htps_port/);
      assert.match(err, /log\.level/);
      assert.match(err, /GATEHOUSE_SHUTDOWN_TIMEOUT_MS/);
      assert.match(err, /no-such-flag/);
      assert.equal(existsSync(dataDir), false, 'nothing written to the data directory');
    } finally {
      await dir.remove();
    }
  });

  it('reports an unreachable PostgreSQL as a problem, exits 2, and writes nothing', async () => {
    const dir = await tempDir();
    try {
      const dataDir = join(dir.path, 'data');
      const url = 'postgres://postgres@127.0.0.1:1/nowhere';
      const proc = spawnNode(
        [bin, 'start', '--data-dir', dataDir, '--database.apim.type', 'postgres', '--database.apim.url', url, '--database.shared.type', 'postgres', '--database.shared.url', url, '--security.secret', 'a-server-secret-of-at-least-32-characters'],
        { env: childEnv() },
      );
      assert.equal(await proc.exited, 2);
      assert.match(proc.stderr(), /database/);
      assert.match(proc.stderr(), /127\.0\.0\.1:1/);
      assert.equal(existsSync(dataDir), false, 'nothing written to the data directory');
    } finally {
      await dir.remove();
    }
  });
});

describe('gatehouse profiles without a database', () => {
  for (const profile of ['gateway', 'traffic-manager'] as const) {
    it(`${profile} starts with no database and creates no database file`, async () => {
      const dir = await tempDir();
      const dataDir = join(dir.path, 'data');
      const { flags, ports } = await allInOneFlags(dataDir);
      const client = ['--control_plane.client_id', 'gw-client', '--control_plane.client_secret', 'gw-secret'];
      const proc = spawnNode([bin, 'start', '--profile', profile, '--control-plane', 'http://127.0.0.1:1', ...client, ...flags], { env: childEnv() });
      try {
        await proc.waitFor('Gatehouse is running');
        const port = profile === 'gateway' ? ports.gw : ports.tm;
        assert.equal((await httpCall(`http://127.0.0.1:${port}/health/live`)).status, 200);
        // A gateway is ready once it has a state to serve: pulled, or loaded from its local
        // snapshot. This one has neither (no snapshot yet, and no control plane answers).
        const ready = await httpCall(`http://127.0.0.1:${port}/health/ready`);
        assert.equal(ready.status, profile === 'gateway' ? 503 : 200, ready.text);
        if (profile === 'gateway') assert.match(ready.text, /no runtime state yet/);
        assert.equal(existsSync(join(dataDir, 'apim.db')), false);
        assert.equal(existsSync(join(dataDir, 'shared.db')), false);
        assert.equal(existsSync(join(dataDir, 'local.db')), true, 'its own local store');
        const cp = await httpCall(`http://127.0.0.1:${ports.http}/health/live`).catch((e: Error) => e);
        assert.ok(cp instanceof Error, 'no control plane listener in this profile');
        proc.kill('SIGTERM');
        assert.equal(await proc.exited, 0);
      } finally {
        proc.kill('SIGKILL');
        await dir.remove();
      }
    });
  }
});

describe('gatehouse start with NATS unreachable', () => {
  const client = ['--control_plane.client_id', 'gw-client', '--control_plane.client_secret', 'gw-secret'];

  it('the control plane fails fast: exits 2 with the event hub as the problem', async () => {
    const dir = await tempDir();
    try {
      const { flags } = await allInOneFlags(join(dir.path, 'data'));
      const proc = spawnNode([bin, 'start', '--profile', 'control-plane', '--event-hub', 'nats://127.0.0.1:1', ...flags], { env: childEnv() });
      assert.equal(await proc.exited, 2);
      assert.match(proc.stderr(), /event_hub: .*127\.0\.0\.1:1/);
    } finally {
      await dir.remove();
    }
  });

  for (const profile of ['gateway', 'traffic-manager'] as const) {
    it(`${profile} starts without it, says so, and is live (it connects in the background)`, async () => {
      const dir = await tempDir();
      const { flags, ports } = await allInOneFlags(join(dir.path, 'data'));
      const [natsPort] = await freePorts(1);
      // The traffic manager with the store of a real deployment: its JetStream KV bucket waits for NATS too.
      const store = profile === 'traffic-manager' ? ['--traffic_manager.store', 'nats-kv'] : [];
      const proc = spawnNode([bin, 'start', '--profile', profile, '--control-plane', 'http://127.0.0.1:1', ...client, '--event-hub', `nats://127.0.0.1:${natsPort}`, ...store, ...flags], { env: childEnv() });
      try {
        await proc.waitFor('Gatehouse is running');
        assert.match(proc.stdout(), /NATS is unreachable: starting without the event hub/);
        const port = profile === 'gateway' ? ports.gw : ports.tm;
        assert.equal((await httpCall(`http://127.0.0.1:${port}/health/live`)).status, 200);
        const report = (await httpCall(`http://127.0.0.1:${port}/health`)).json<{ checks: { name: string; status: string }[] }>();
        assert.equal(report.checks.find((c) => c.name === 'event-hub')?.status, 'DOWN');
        if (profile === 'traffic-manager') {
          assert.equal(report.checks.find((c) => c.name === 'window-store')?.status, 'DOWN');
          assert.match(proc.stdout(), /NATS is unreachable: not ready and serving no lease until the JetStream KV store opens/);
        }
        proc.kill('SIGTERM');
        assert.equal(await proc.exited, 0);
      } finally {
        proc.kill('SIGKILL');
        await dir.remove();
      }
    });
  }

  it('a gateway whose NATS credentials are refused exits 2: a config problem', { skip: existsSync(NATS_SERVER_BIN) ? false : 'nats-server is not installed' }, async () => {
    const dir = await tempDir();
    const [natsPort] = await freePorts(1);
    const nats = new PrivateNats({ dir: join(dir.path, 'nats'), port: natsPort, logFile: join(dir.path, 'nats.log') });
    try {
      await nats.start();
      const { flags } = await allInOneFlags(join(dir.path, 'data'));
      const proc = spawnNode(
        [bin, 'start', '--profile', 'gateway', '--control-plane', 'http://127.0.0.1:1', ...client, '--event-hub', nats.url, '--event_hub.user', nats.platform.user, '--event_hub.password', 'wrong', ...flags],
        { env: childEnv() },
      );
      assert.equal(await proc.exited, 2);
      assert.match(proc.stderr(), /event_hub: .*[Aa]uthorization/);
      assert.equal(existsSync(join(dir.path, 'data')), false, 'nothing written to the data directory');
    } finally {
      await nats.close();
      await dir.remove();
    }
  });
});

describe('gatehouse commands', () => {
  it('--help explains commands and profiles, exit 0', async () => {
    const proc = spawnNode([bin, '--help']);
    assert.equal(await proc.exited, 0);
    assert.match(proc.stdout(), /gatehouse start/);
    assert.match(proc.stdout(), /traffic-manager/);
  });

  it('migrate brings a fresh database up to date, then reports nothing to do', async () => {
    const dir = await tempDir();
    try {
      const args = [bin, 'migrate', '--data-dir', join(dir.path, 'data')];
      const first = spawnNode(args, { env: childEnv() });
      assert.equal(await first.exited, 0, first.stderr());
      assert.match(first.stdout(), /apim: applied/);
      assert.match(first.stdout(), /shared: applied/);
      const second = spawnNode(args, { env: childEnv() });
      assert.equal(await second.exited, 0, second.stderr());
      assert.match(second.stdout(), /apim: up to date/);
      assert.match(second.stdout(), /shared: up to date/);
    } finally {
      await dir.remove();
    }
  });

  it('config check prints the effective configuration with secrets hidden', async () => {
    const proc = spawnNode([bin, 'config', 'check', '--admin.password', 'very-secret-value'], { env: childEnv() });
    assert.equal(await proc.exited, 0, proc.stderr());
    assert.doesNotMatch(proc.stdout(), /very-secret-value/);
    const config = JSON.parse(proc.stdout()) as { server: { https_port: number } };
    assert.equal(config.server.https_port, 9443);
  });

  it('an unknown command exits 2 with a hint', async () => {
    const proc = spawnNode([bin, 'strat']);
    assert.equal(await proc.exited, 2);
    assert.match(proc.stderr(), /gatehouse --help/);
  });
});

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePorts, httpCall, tempDir } from '@gatehouse/testing';
import { accepts, ManagedProcess, PrivateNginx, until } from '@gatehouse/testing/cluster';
import { renderLbConfig, runLbConfig } from '../src/lb-config/command.ts';
import { LB_FAULT_STATUSES, lbFaultBody } from '../src/lb-config/routes.ts';
import { loadTopology, TopologyError, validateTopology } from '../src/lb-config/topology.ts';

const EXAMPLE = new URL('../../../deploy/topology.example.toml', import.meta.url).pathname;

let dir: string;
let topologyFile: string;
let splitFile: string;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-lb-'));
  // Replicas on 127.0.0.1 so that nginx -t can resolve them; a self-made certificate for the LB.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-days', '1',
    '-keyout', join(dir, 'lb.pem.key'), '-out', join(dir, 'lb.pem')], { stdio: 'ignore' });
  topologyFile = join(dir, 'topology.toml');
  writeFileSync(topologyFile, `
[tls]
cert = "lb.pem"
key = "lb.pem.key"

[upstreams.control-plane]
replicas = ["127.0.0.1:19443", { host = "127.0.0.2", https_port = 29443, http_port = 29763 }]

[upstreams.key-manager]
replicas = ["127.0.0.3"]

[upstreams.gateway]
replicas = ["127.0.0.1", "127.0.0.2"]
`);
  splitFile = join(dir, 'split.json');
  writeFileSync(splitFile, JSON.stringify({
    listeners: { bind: '127.0.0.1' },
    tls: { cert: join(dir, 'lb.pem'), key: join(dir, 'lb.pem.key') },
    upstreams: { publisher: { replicas: ['127.0.0.1'] }, devportal: { replicas: ['127.0.0.2'] }, 'key-manager': { replicas: ['127.0.0.3'] }, gateway: { replicas: ['127.0.0.4'] } },
  }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('topology', () => {
  it('reads the example file', () => {
    const t = loadTopology(EXAMPLE);
    assert.deepEqual(t.listeners, { bind: '0.0.0.0', controlPlane: { https: 9443, http: 9763 }, gateway: { https: 8243, http: 8280 } });
    assert.equal(t.upstreams.gateway?.[2].httpsPort, 9243);
    assert.equal(t.upstreams['control-plane']?.length, 2);
  });

  it('reports every problem at once', () => {
    let err: TopologyError | undefined;
    try {
      validateTopology({
        listeners: { 'control-plane': { https_port: 70000 }, gateway: { http_port: 9763 }, extra: 1 },
        upstreams: { publisher: { replicas: [] }, gateway: { replicas: ['gw-1', 'gw-1', 'bad host!', 3] } },
      }, { file: 't.toml', baseDir: '/' });
    } catch (e) {
      if (e instanceof TopologyError) err = e;
      else throw e;
    }
    assert.ok(err, 'expected a TopologyError');
    const paths = err.problems.map((p) => p.path);
    for (const p of ['listeners.extra', 'listeners.control-plane.https_port', 'listeners.gateway.http_port', 'tls.cert', 'tls.key',
      'upstreams.publisher.replicas', 'upstreams.gateway.replicas[1]', 'upstreams.gateway.replicas[2]', 'upstreams.gateway.replicas[3]',
      'upstreams.devportal', 'upstreams.key-manager']) {
      assert.ok(paths.includes(p), `expected a problem at ${p}, got:\n${err.message}`);
    }
    assert.match(err.message, /^Invalid topology \(\d+ problems\):/);
  });

  it('the command exits 2 with the problems, and on bad arguments', () => {
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, '[upstreams.gateway]\nreplicas = []\n');
    let c = capture();
    assert.equal(runLbConfig(['nginx', '--topology', bad], c.io), 2);
    assert.match(c.err.join('\n'), /upstreams\.gateway\.replicas: expected a non-empty list/);
    assert.match(c.err.join('\n'), /tls\.cert: required/);
    c = capture();
    assert.equal(runLbConfig(['envoy'], c.io), 2);
    assert.match(c.err.join('\n'), /unknown load balancer "envoy"[\s\S]*missing --topology/);
    c = capture();
    assert.equal(runLbConfig(['nginx', '--topology', join(dir, 'nope.toml')], c.io), 2);
    assert.match(c.err.join('\n'), /topology file not found/);
  });
});

describe('nginx', () => {
  it('renders upstreams, routes, passive checks and idempotent-only retries', () => {
    const conf = renderLbConfig('nginx', loadTopology(topologyFile));
    assert.match(conf, /upstream control_plane_https \{\n\s+server 127\.0\.0\.1:19443 max_fails=3 fail_timeout=2s;\n\s+server 127\.0\.0\.2:29443 max_fails=3 fail_timeout=2s;\n\s+keepalive 32;/);
    assert.match(conf, /upstream control_plane_http \{\n\s+server 127\.0\.0\.1:9763 [^\n]*\n\s+server 127\.0\.0\.2:29763 /);
    assert.match(conf, /upstream gateway_https \{\n\s+server 127\.0\.0\.1:8243 /);
    assert.match(conf, /listen 0\.0\.0\.0:9443 ssl;/);
    assert.match(conf, /listen 0\.0\.0\.0:9763;/);
    assert.match(conf, /listen 0\.0\.0\.0:8243 ssl;/);
    assert.match(conf, /listen 0\.0\.0\.0:8280;/);
    assert.match(conf, /location \^~ \/oauth2\/ \{ proxy_pass https:\/\/key_manager_https; \}/);
    assert.match(conf, /location = \/\.well-known \{ proxy_pass http:\/\/key_manager_http; \}/);
    assert.match(conf, /location \/ \{ proxy_pass https:\/\/control_plane_https; \}/);
    assert.doesNotMatch(conf, /\/api\/am\/publisher/, 'no publisher group: its paths go to the control plane');
    // Regression: with http_503 here, a PostgreSQL outage (every replica 503) became nginx's 502 "no live upstreams".
    assert.match(conf, /^\s+proxy_next_upstream error timeout;$/m);
    assert.doesNotMatch(conf, /proxy_next_upstream [^;]*http_50[234]/);
    assert.match(conf, /proxy_next_upstream_tries 3;/);
    assert.doesNotMatch(conf, /proxy_next_upstream [^;]*non_idempotent/);
    assert.doesNotMatch(conf, /ip_hash|hash |sticky/);
    for (const h of ['X-Forwarded-For $remote_addr', 'X-Forwarded-Proto $scheme', 'X-Forwarded-Host $host']) assert.ok(conf.includes(`proxy_set_header ${h};`), h);
    // Regression: `$proxy_add_x_forwarded_for` kept the client's own X-Forwarded-For in front, so a gateway
    // trusting it took a made-up first address: IP blocking and permitted IPs bypassed, a new basic-auth
    // lockout key per guess.
    assert.doesNotMatch(conf, /proxy_add_x_forwarded_for/);
    assert.ok(conf.includes(`ssl_certificate ${join(dir, 'lb.pem')};`), 'relative TLS paths resolve against the topology file');
  });

  it('routes every control-plane path to its profile when they are split, and 404s the rest', () => {
    const conf = renderLbConfig('nginx', loadTopology(splitFile));
    for (const [prefix, up] of [['/api/am/publisher/v4', 'publisher'], ['/api/am/admin/v4', 'publisher'], ['/internal/data/v1', 'publisher'],
      ['/api/am/devportal/v3', 'devportal'], ['/api/identity', 'devportal'], ['/oauth2', 'key_manager'], ['/client-registration', 'key_manager'], ['/.well-known', 'key_manager']]) {
      assert.ok(conf.includes(`location ^~ ${prefix}/ { proxy_pass https://${up}_https; }`), `${prefix} → ${up}`);
    }
    assert.ok(conf.includes(`location / { default_type application/json; return 404 '${lbFaultBody('control-plane', 404)}'; }`));
    assert.match(conf, /listen 127\.0\.0\.1:9443 ssl;/);
  });
});

describe('haproxy', () => {
  it('renders backends with active checks, round robin and idempotent-only L7 retries', () => {
    const conf = renderLbConfig('haproxy', loadTopology(topologyFile));
    assert.match(conf, /frontend fe_control_plane_https\n\s+bind 0\.0\.0\.0:9443 ssl crt \S+lb\.pem alpn http\/1\.1/);
    assert.match(conf, /acl to_key_manager path \/oauth2 \/client-registration \/\.well-known\n/);
    assert.match(conf, /acl to_key_manager path_beg \/oauth2\/ \/client-registration\/ \/\.well-known\/\n\s+use_backend be_key_manager_https if to_key_manager/);
    assert.match(conf, /default_backend be_control_plane_https/);
    assert.match(conf, /frontend fe_gateway_http\n\s+bind 0\.0\.0\.0:8280\n/);
    const backend = /backend be_gateway_https\n((?:\s{4}.*\n)+)/.exec(conf)?.[1] ?? '';
    for (const l of ['balance roundrobin', 'option httpchk GET /health/ready', 'http-check expect status 200', 'retries 2', 'option redispatch',
      'retry-on conn-failure empty-response response-timeout', 'http-request disable-l7-retry unless { method GET HEAD OPTIONS PUT DELETE TRACE }',
      'server gateway_1 127.0.0.1:8243 check ssl verify none', 'server gateway_2 127.0.0.2:8243 check ssl verify none']) {
      assert.ok(backend.includes(`    ${l}\n`), `be_gateway_https has "${l}":\n${backend}`);
    }
    assert.match(conf, /backend be_control_plane_http\n[\s\S]*?server control_plane_2 127\.0\.0\.2:29763 check\n/);
    assert.doesNotMatch(conf, /stick|cookie|balance source/);
  });

  it('regression: option forwardfor kept the client\'s own X-Forwarded-For first, which a gateway trusting it took as the address', () => {
    const conf = renderLbConfig('haproxy', loadTopology(topologyFile));
    for (const frontend of conf.split(/\n(?=frontend )/).slice(1)) {
      assert.match(frontend, /\n\s+http-request del-header X-Forwarded-For\n/, frontend.split('\n')[0]);
    }
    assert.match(conf, /option forwardfor/);
  });

  it('refuses a key HAProxy cannot find', () => {
    const t = { ...loadTopology(topologyFile), tls: { cert: '/x/lb.crt', key: '/x/lb.key' } };
    assert.throws(() => renderLbConfig('haproxy', t), /tls\.key: HAProxy reads the private key/);
    assert.doesNotThrow(() => renderLbConfig('nginx', t));
  });
});

/** Skips (with a visible note) when the binary is missing, unless GATEHOUSE_TEST_REQUIRE_SERVICES=1. */
function skipUnlessBinary(path: string): false | string {
  if (existsSync(path)) return false;
  const message = `${path} is not installed`;
  if (process.env.GATEHOUSE_TEST_REQUIRE_SERVICES === '1') throw new Error(`${message} and GATEHOUSE_TEST_REQUIRE_SERVICES=1`);
  process.stderr.write(`# NOTE: skipping ${path} config validation: ${message}\n`);
  return `${message} (skipped)`;
}

describe('the rendered configs pass the real parsers', () => {
  it('nginx -t', { skip: skipUnlessBinary('/usr/sbin/nginx') }, () => {
    for (const [name, file] of [['one', topologyFile], ['split', splitFile]]) {
      const conf = join(dir, `nginx-${name}.conf`);
      const c = capture();
      assert.equal(runLbConfig(['nginx', '--topology', file, '--out', conf], c.io), 0, c.err.join('\n'));
      const r = spawnSync('/usr/sbin/nginx', ['-t', '-q', '-c', conf, '-p', dir, '-g', `pid ${join(dir, 'nginx.pid')}; error_log stderr;`], { encoding: 'utf8' });
      assert.equal(r.status, 0, `nginx -t ${name}: ${r.stderr}\n${readFileSync(conf, 'utf8')}`);
    }
  });

  it('haproxy -c', { skip: skipUnlessBinary('/usr/sbin/haproxy') }, () => {
    for (const [name, file] of [['one', topologyFile], ['split', splitFile]]) {
      const conf = join(dir, `haproxy-${name}.cfg`);
      const c = capture();
      assert.equal(runLbConfig(['haproxy', '--topology', file, '--out', conf], c.io), 0, c.err.join('\n'));
      const r = spawnSync('/usr/sbin/haproxy', ['-c', '-f', conf], { encoding: 'utf8' });
      assert.equal(r.status, 0, `haproxy -c ${name}: ${r.stdout}${r.stderr}\n${readFileSync(conf, 'utf8')}`);
      assert.doesNotMatch(`${r.stdout}${r.stderr}`, /\[WARNING\]/, `haproxy -c ${name} warns: ${r.stdout}${r.stderr}`);
    }
  });
});

describe('the load balancer\'s own errors are JSON in the replicas\' shapes', () => {
  it('renders one JSON answer per status and listener kind, in both configs', () => {
    for (const lb of ['nginx', 'haproxy'] as const) {
      const conf = renderLbConfig(lb, loadTopology(topologyFile));
      for (const status of LB_FAULT_STATUSES) {
        for (const kind of ['gateway', 'control-plane'] as const) {
          const body = lbFaultBody(kind, status);
          const rendered = lb === 'nginx' ? `return ${status} '${body}';` : `http-error status ${status} content-type application/json string '${body}'`;
          assert.ok(conf.includes(rendered), `${lb} ${kind} ${status}`);
        }
      }
      assert.doesNotMatch(conf, /proxy_intercept_errors/, 'a replica\'s own 502/503/504 passes through');
    }
    assert.deepEqual(JSON.parse(lbFaultBody('gateway', 504)), { code: 101504, message: 'Gateway Timeout', description: 'No gateway replica answered the load balancer in time' });
    assert.deepEqual(Object.keys(JSON.parse(lbFaultBody('control-plane', 503))), ['code', 'message', 'description', 'moreInfo', 'error']);
    const haproxy = renderLbConfig('haproxy', loadTopology(splitFile));
    assert.ok(haproxy.includes(`http-request return status 404 content-type application/json string '${lbFaultBody('control-plane', 404)}'`));
  });

  interface Listeners { readonly controlPlaneHttp: number; readonly controlPlaneHttps: number; readonly gatewayHttp: number; readonly gatewayHttps: number }

  /** Listener ports, and replica ports nothing listens on (refused), all free right now. */
  async function ports(): Promise<{ listeners: Listeners; controlPlane: { host: string; httpPort: number; httpsPort: number }; gateway: { host: string; httpPort: number; httpsPort: number } }> {
    const p = await freePorts(8);
    return {
      listeners: { controlPlaneHttp: p[0]!, controlPlaneHttps: p[1]!, gatewayHttp: p[2]!, gatewayHttps: p[3]! },
      controlPlane: { host: '127.0.0.1', httpPort: p[4]!, httpsPort: p[5]! },
      gateway: { host: '127.0.0.1', httpPort: p[6]!, httpsPort: p[7]! },
    };
  }

  /** Every replica is down: the LB answers itself, on each gateway and control-plane listener. */
  async function expectOwnFault(l: Listeners, status: 502 | 503, ca: string) {
    const calls = [
      [`http://127.0.0.1:${l.gatewayHttp}/pizzashack/1.0.0/menu`, 'gateway'],
      [`https://127.0.0.1:${l.gatewayHttps}/pizzashack/1.0.0/menu`, 'gateway'],
      [`http://127.0.0.1:${l.controlPlaneHttp}/api/am/publisher/v4/apis`, 'control-plane'],
      [`https://127.0.0.1:${l.controlPlaneHttps}/api/am/publisher/v4/apis`, 'control-plane'],
    ] as const;
    for (const [url, kind] of calls) {
      const res = await httpCall(url, { ca });
      assert.equal(res.status, status, `${url}: ${res.text}`);
      assert.equal(res.headers['content-type'], 'application/json', url);
      assert.deepEqual(res.json(), JSON.parse(lbFaultBody(kind, status)), url);
    }
  }

  it('nginx answers 502 JSON when no replica is up', { skip: skipUnlessBinary('/usr/sbin/nginx') }, async () => {
    const tmp = await tempDir('gatehouse-lb-nginx-');
    const { listeners, controlPlane, gateway } = await ports();
    const nginx = new PrivateNginx({ dir: tmp.path, ports: listeners, controlPlane: [controlPlane], gateways: [gateway], logFile: join(tmp.path, 'nginx.log') });
    try {
      await nginx.start();
      await expectOwnFault(listeners, 502, readFileSync(nginx.certFile, 'utf8'));
    } finally {
      await nginx.close();
      await tmp.remove();
    }
  });

  it('HAProxy answers 503 JSON when no replica is up', { skip: skipUnlessBinary('/usr/sbin/haproxy') }, async () => {
    const tmp = await tempDir('gatehouse-lb-haproxy-');
    const { listeners: l, controlPlane, gateway } = await ports();
    const cert = join(tmp.path, 'lb.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', `${cert}.key`, '-out', cert], { stdio: 'ignore' });
    const replica = (r: typeof gateway) => ({ host: r.host, http_port: r.httpPort, https_port: r.httpsPort });
    const topology = join(tmp.path, 'topology.json');
    writeFileSync(topology, JSON.stringify({
      listeners: { bind: '127.0.0.1', 'control-plane': { http_port: l.controlPlaneHttp, https_port: l.controlPlaneHttps }, gateway: { http_port: l.gatewayHttp, https_port: l.gatewayHttps } },
      tls: { cert, key: `${cert}.key` },
      upstreams: { 'control-plane': { replicas: [replica(controlPlane)] }, gateway: { replicas: [replica(gateway)] } },
    }));
    const conf = join(tmp.path, 'haproxy.cfg');
    const c = capture();
    assert.equal(runLbConfig(['haproxy', '--topology', topology, '--out', conf], c.io), 0, c.err.join('\n'));
    // -n: the rendered maxconn (20000) needs more file descriptors than a test's limit may allow.
    const haproxy = new ManagedProcess({ name: 'haproxy', command: '/usr/sbin/haproxy', args: ['-db', '-n', '1000', '-f', conf], env: { PATH: '/usr/sbin:/usr/bin:/bin' }, cwd: tmp.path, logFile: join(tmp.path, 'haproxy.log') });
    try {
      haproxy.start();
      await until(async () => {
        if (!haproxy.running) throw new Error(`haproxy exited: ${haproxy.output.slice(-2000)}`);
        return (await Promise.all(Object.values(l).map((p) => accepts(p)))).every(Boolean);
      }, 'haproxy listeners', 15_000, 20);
      await expectOwnFault(l, 503, readFileSync(cert, 'utf8'));
    } finally {
      await haproxy.stop('SIGTERM', 5_000);
      await haproxy.close();
      await tmp.remove();
    }
  });
});

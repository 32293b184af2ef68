import { connect } from 'node:net';

/**
 * Test services: PostgreSQL and NATS suites run when the server is reachable and are skipped with
 * a visible note otherwise. With GATEHOUSE_TEST_REQUIRE_SERVICES=1 (as `.ci/run` sets) a missing
 * service fails the run instead of skipping it.
 */
export const testServices = {
  postgres: {
    host: process.env.GATEHOUSE_TEST_PG_HOST ?? '127.0.0.1',
    port: Number(process.env.GATEHOUSE_TEST_PG_PORT ?? 5432),
    user: process.env.GATEHOUSE_TEST_PG_USER ?? 'postgres',
  },
  nats: {
    host: process.env.GATEHOUSE_TEST_NATS_HOST ?? '127.0.0.1',
    port: Number(process.env.GATEHOUSE_TEST_NATS_PORT ?? 4222),
  },
} as const;

export type ServiceName = keyof typeof testServices;

const probes = new Map<ServiceName, Promise<boolean>>();

function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function servicesRequired(): boolean {
  return process.env.GATEHOUSE_TEST_REQUIRE_SERVICES === '1';
}

/**
 * Resolves to `false` (run the tests) when the service answers, or to a skip message when it does
 * not. Throws when services are required. Use as `describe(name, { skip: await skipUnless('postgres') }, ...)`.
 */
export async function skipUnless(service: ServiceName): Promise<false | string> {
  const { host, port } = testServices[service];
  let probe = probes.get(service);
  if (!probe) {
    probe = reachable(host, port);
    probes.set(service, probe);
  }
  if (await probe) return false;
  const message = `${service} is not reachable on ${host}:${port}`;
  if (servicesRequired()) throw new Error(`${message} and GATEHOUSE_TEST_REQUIRE_SERVICES=1`);
  process.stderr.write(`# NOTE: skipping ${service} tests: ${message}\n`);
  return `${message} (skipped)`;
}

/** A PostgreSQL connection string for the test server, database `db`. */
export function postgresUrl(db: string): string {
  const { host, port, user } = testServices.postgres;
  return `postgres://${encodeURIComponent(user)}@${host}:${port}/${db}`;
}

export function natsUrl(): string {
  const { host, port } = testServices.nats;
  return `nats://${host}:${port}`;
}

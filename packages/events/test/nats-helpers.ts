import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connect as tcpConnect, createServer } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsUrl } from '@gatehouse/testing';
import { streamNames } from '../src/transports/nats/hub.ts';

const NATS_SERVER = '/usr/sbin/nats-server';

/** Deletes every stream a hub prefix created on the shared test server. */
export async function dropStreams(prefixes: Iterable<string>, server = natsUrl()): Promise<void> {
  const nc = await connect({ servers: [server], timeout: 2000 });
  try {
    const jsm = await jetstreamManager(nc);
    for (const prefix of prefixes) {
      await Promise.all(streamNames(prefix).map((name) => jsm.streams.delete(name).catch(() => false)));
    }
  } finally {
    await nc.close();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
  });
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A throwaway nats-server on its own port and store directory, which a test can kill and restart. */
export class ThrowawayNats {
  readonly port: number;
  readonly storeDir: string;
  readonly args: string[];
  #proc: ChildProcess | undefined;

  constructor(port: number, storeDir: string, args: string[] = []) {
    this.port = port;
    this.storeDir = storeDir;
    this.args = args;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const proc = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, ...this.args], { stdio: 'ignore' });
    this.#proc = proc;
    await waitUntil(async () => {
      if (proc.exitCode !== null) throw new Error(`nats-server exited with ${proc.exitCode}`);
      return accepts(this.port);
    }, `nats-server on ${this.port}`);
  }

  /** Kills the server (SIGKILL: no graceful shutdown) and waits for it to exit. */
  async kill(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }
}

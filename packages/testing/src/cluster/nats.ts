import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { accepts, ManagedProcess, until } from './processes.ts';

export const NATS_SERVER_BIN = '/usr/sbin/nats-server';

/** A NATS user of the private server. */
export interface NatsUser {
  readonly user: string;
  readonly password: string;
}

export interface PrivateNatsOptions {
  /** A directory of its own (created): the config file and the JetStream store. */
  readonly dir: string;
  readonly port: number;
  readonly bin?: string;
  /** The server's output is appended here. Default `<dir>.log`. */
  readonly logFile?: string;
}

const secret = () => randomBytes(24).toString('base64url');
const quote = (s: string) => JSON.stringify(s);

/**
 * A throwaway `nats-server` with JetStream and authentication: no anonymous access (no
 * `no_auth_user`), so a client without credentials is refused at CONNECT. Two users:
 *
 * - `platform`: publishes and subscribes to everything; every Gatehouse process uses it;
 * - `observer`: may subscribe, may publish nothing (the proof that permissions are enforced per
 *   subject: its publish of a revocation or a deployment is refused by the server).
 *
 * Passwords are random per instance and kept in the config file (mode 0600); `stop()` /
 * `kill()` and `start()` again keep the JetStream store, as a real restart would.
 */
export class PrivateNats {
  readonly port: number;
  readonly platform: NatsUser = { user: 'platform', password: secret() };
  readonly observer: NatsUser = { user: 'observer', password: secret() };
  readonly configFile: string;
  readonly #o: PrivateNatsOptions;
  #proc: ManagedProcess | undefined;

  constructor(options: PrivateNatsOptions) {
    this.#o = options;
    this.port = options.port;
    this.configFile = join(options.dir, 'nats.conf');
  }

  /** The URL without credentials (they go in `event_hub.user` / `event_hub.password`). */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#proc?.running ?? false;
  }

  async start(): Promise<void> {
    if (!this.#proc) {
      await mkdir(join(this.#o.dir, 'jetstream'), { recursive: true, mode: 0o700 });
      const config = [
        `listen: "127.0.0.1:${this.port}"`,
        'server_name: "gatehouse-private"',
        `jetstream { store_dir: ${quote(join(this.#o.dir, 'jetstream'))}, max_memory_store: 64MB, max_file_store: 1GB }`,
        'authorization {',
        '  users = [',
        `    { user: ${quote(this.platform.user)}, password: ${quote(this.platform.password)}, permissions: { publish: ">", subscribe: ">" } }`,
        `    { user: ${quote(this.observer.user)}, password: ${quote(this.observer.password)}, permissions: { publish: { deny: ">" }, subscribe: ">" } }`,
        '  ]',
        '}',
        '',
      ].join('\n');
      await writeFile(this.configFile, config, { mode: 0o600 });
      this.#proc = new ManagedProcess({
        name: 'nats-server',
        command: this.#o.bin ?? NATS_SERVER_BIN,
        args: ['-c', this.configFile],
        env: { PATH: '/usr/bin:/bin' },
        logFile: this.#o.logFile ?? `${this.#o.dir}.log`,
      });
    }
    const proc = this.#proc;
    proc.start();
    await until(async () => {
      if (!proc.running) throw new Error(`nats-server exited: ${proc.output.slice(-2000)}`);
      return accepts(this.port);
    }, `nats-server on ${this.port}`, 15_000, 20);
  }

  /** Graceful stop (SIGTERM): clients see the connection close and start reconnecting. */
  async stop(): Promise<void> {
    await this.#proc?.stop('SIGTERM', 10_000);
  }

  async kill(): Promise<void> {
    await this.#proc?.kill();
  }

  async close(): Promise<void> {
    await this.stop();
    await this.#proc?.close();
  }
}

import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Clock, ComponentName, ProfileName, ServerKeys } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import type { Databases, LocalStore, Repositories } from '@gatehouse/data';
import type { EventHub } from '@gatehouse/events';
import type { Logger, TlsMaterial } from '@gatehouse/runtime';

/** What a component gets from the process that hosts it. */
export interface ComponentDeps {
  readonly nodeId: string;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly clock: Clock;
  readonly hub: EventHub;
  readonly tls: TlsMaterial;
  /** HMAC and sealing keys derived from `security.secret` (present in profiles with databases). */
  readonly keys?: ServerKeys;
  /** This node's own store in its data directory (every profile). */
  readonly localStore: LocalStore;
  /** This process's own control plane (loopback HTTP), once it listens; undefined in profiles without one. */
  readonly ownControlPlaneUrl: () => string | undefined;
  /** Present only in profiles that host a control-plane component (never in gateway or traffic-manager). */
  readonly databases?: Databases;
  readonly repositories?: Repositories;
}

/**
 * A running component of a process. Control-plane components add routes to the shared
 * control-plane server; the gateway and traffic manager own their listeners.
 */
export interface Component {
  readonly name: ComponentName;
  /** Adds the component's routes to the control-plane server (ports 9443/9763). */
  routes?(app: FastifyInstance): void | Promise<void>;
  start?(): Promise<void>;
  /** Stops accepting work and drains in flight within the shutdown deadline. */
  stop?(): Promise<void>;
  /** Throws when the component cannot serve (used by /health/ready). */
  ready?(): Promise<void>;
  /** Human-readable endpoints to print at start. */
  urls?(): string[];
}

export type ComponentFactory = (config: GatehouseConfig, deps: ComponentDeps) => Promise<Component>;

/** Which components each profile runs (ARCHITECTURE.md, "Which process serves what"). */
export const profileComponents: Readonly<Record<ProfileName, readonly ComponentName[]>> = Object.freeze({
  'all-in-one': ['key-manager', 'publisher', 'admin', 'devportal', 'internal-data', 'gateway', 'traffic-manager'],
  'control-plane': ['key-manager', 'publisher', 'admin', 'devportal', 'internal-data'],
  publisher: ['publisher', 'admin', 'internal-data'],
  devportal: ['devportal'],
  'key-manager': ['key-manager'],
  gateway: ['gateway'],
  'traffic-manager': ['traffic-manager'],
});

const controlPlaneComponents: ReadonlySet<ComponentName> = new Set(['key-manager', 'publisher', 'admin', 'devportal', 'internal-data']);

/** Whether a profile hosts the control-plane server, and so opens the apim and shared databases. */
export function profileUsesDatabases(profile: ProfileName): boolean {
  return profileComponents[profile].some((c) => controlPlaneComponents.has(c));
}

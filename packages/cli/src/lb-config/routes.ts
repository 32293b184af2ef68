import type { Replica, Topology, UpstreamProfile } from './topology.ts';

/**
 * Which profile serves which path prefix on the control-plane listener (docs/architecture.md,
 * "which process serves what"). A prefix matches the path itself and anything below it
 * (`/oauth2` matches `/oauth2` and `/oauth2/token`, not `/oauth2x`).
 */
export const CONTROL_PLANE_ROUTES: readonly { readonly profile: 'publisher' | 'devportal' | 'key-manager'; readonly prefixes: readonly string[] }[] = [
  { profile: 'publisher', prefixes: ['/api/am/publisher/v4', '/api/am/admin/v4', '/internal/data/v1', '/publisher', '/admin'] },
  { profile: 'devportal', prefixes: ['/api/am/devportal/v3', '/api/identity', '/devportal'] },
  { profile: 'key-manager', prefixes: ['/oauth2', '/client-registration', '/.well-known'] },
];

export interface Route {
  /** The upstream group that serves the prefixes. */
  readonly profile: UpstreamProfile;
  readonly prefixes: readonly string[];
}

export interface ControlPlaneRouting {
  /** Prefix routes to dedicated profiles (only for profiles the topology has a group for). */
  readonly routes: readonly Route[];
  /** Where every other path goes: the control-plane group, or nowhere (404) when there is none. */
  readonly fallback: 'control-plane' | undefined;
}

/** The control-plane listener's routing for a topology. */
export function controlPlaneRouting(topology: Topology): ControlPlaneRouting {
  const routes = CONTROL_PLANE_ROUTES.filter((r) => topology.upstreams[r.profile] !== undefined);
  return { routes, fallback: topology.upstreams['control-plane'] !== undefined ? 'control-plane' : undefined };
}

/** The groups present in the topology, in a stable order, with their replicas. */
export function groups(topology: Topology): { profile: UpstreamProfile; replicas: readonly Replica[] }[] {
  return Object.entries(topology.upstreams).map(([profile, replicas]) => ({ profile: profile as UpstreamProfile, replicas: replicas ?? [] }));
}

/** `control-plane` → `control_plane`: a name both nginx and HAProxy accept. */
export function ident(profile: UpstreamProfile): string {
  return profile.replace(/-/g, '_');
}

/** Health and retry settings shared by both renderers. */
export const POLICY = {
  /**
   * Passive (nginx): a replica is out for `failTimeout` after `maxFails` failures within it. Short,
   * because nginx has no active check to bring a replica back: a restarted one stays out until it
   * expires, and a rolling restart that takes the next replica down before that leaves no live
   * upstream (measured: 10s gave 6 s of 502s restarting two gateways 3 s apart).
   */
  maxFails: 3,
  failTimeout: '2s',
  /** Active (HAProxy): probe every `interval`, out after `fall` failures, back after `rise` successes. */
  interval: '5s',
  fall: 3,
  rise: 2,
  healthPath: '/health/ready',
  /** Total attempts per request (nginx counts the first one; HAProxy `retries` counts the extra ones). */
  tries: 3,
  keepalive: 32,
  clientMaxBodySize: '100m',
} as const;

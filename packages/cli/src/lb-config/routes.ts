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

/** Which kind of listener an answer is for: API traffic, or the management (control-plane) one. */
export type ListenerKind = 'gateway' | 'control-plane';

/** The statuses the load balancer answers itself when no replica could (nginx, HAProxy). */
export const LB_FAULT_STATUSES = [502, 503, 504] as const;
type Fault = { readonly code: number; readonly message: string; readonly description: string };

const LB_FAULTS: { readonly [K in ListenerKind]: Readonly<Partial<Record<(typeof LB_FAULT_STATUSES)[number] | 404, Fault>>> } = {
  // WSO2's gateway fault, as the gateways answer an unreachable or slow backend (gateway/src/faults.ts).
  gateway: {
    502: { code: 101503, message: 'Bad Gateway', description: 'No gateway replica could be reached by the load balancer' },
    503: { code: 101503, message: 'Service Unavailable', description: 'No gateway replica is available at the load balancer' },
    504: { code: 101504, message: 'Gateway Timeout', description: 'No gateway replica answered the load balancer in time' },
  },
  // The management APIs' error shape (core's CORE_ERR_UNAVAILABLE / CORE_ERR_NOT_FOUND).
  'control-plane': {
    404: { code: 900404, message: 'The requested resource was not found', description: 'No control-plane profile serves this path' },
    502: { code: 900503, message: 'A dependency of this service is unavailable', description: 'No control-plane replica could be reached by the load balancer' },
    503: { code: 900503, message: 'A dependency of this service is unavailable', description: 'No control-plane replica is available at the load balancer' },
    504: { code: 900504, message: 'A dependency of this service did not answer in time', description: 'No control-plane replica answered the load balancer in time' },
  },
};

/**
 * The JSON body of an answer the load balancer gives itself, in the shape the replicas behind that
 * listener use, so a client parses one shape whoever answered: WSO2's gateway fault
 * (`{ code, message, description }`) on the gateway listeners, WSO2's REST error
 * (`{ code, message, description, moreInfo, error[] }`) on the control-plane ones, which also have a
 * 404 for paths no group serves. Plain ASCII without `'` or `$`, so both renderers can put it in a
 * single-quoted string as it is.
 */
export function lbFaultBody(kind: ListenerKind, status: (typeof LB_FAULT_STATUSES)[number] | 404): string {
  const f = LB_FAULTS[kind][status];
  if (!f) throw new RangeError(`no ${status} answer for the ${kind} listeners`);
  return JSON.stringify(kind === 'gateway' ? f : { ...f, moreInfo: '', error: [] });
}

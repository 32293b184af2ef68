/** WSO2's super tenant: the single tenant until multi-tenancy lands. Every table carries a tenant id. */
export const SUPER_TENANT_DOMAIN = 'carbon.super';
export const SUPER_TENANT_ID = -1234;

/** WSO2's built-in roles, with their internal names. */
export const Roles = {
  Admin: 'admin',
  Creator: 'Internal/creator',
  Publisher: 'Internal/publisher',
  Subscriber: 'Internal/subscriber',
  Everyone: 'Internal/everyone',
} as const;
export type RoleName = (typeof Roles)[keyof typeof Roles];

/** The components and the profiles that group them (ARCHITECTURE.md). */
export const Components = {
  Publisher: 'publisher',
  Admin: 'admin',
  DevPortal: 'devportal',
  KeyManager: 'key-manager',
  Gateway: 'gateway',
  TrafficManager: 'traffic-manager',
  /** The internal data API gateways pull, and the consumers of their heartbeats and acks. */
  InternalData: 'internal-data',
} as const;
export type ComponentName = (typeof Components)[keyof typeof Components];

export const Profiles = {
  AllInOne: 'all-in-one',
  ControlPlane: 'control-plane',
  Publisher: 'publisher',
  DevPortal: 'devportal',
  KeyManager: 'key-manager',
  Gateway: 'gateway',
  TrafficManager: 'traffic-manager',
} as const;
export type ProfileName = (typeof Profiles)[keyof typeof Profiles];

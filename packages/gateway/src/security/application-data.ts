import type { GatewayData, RuntimeKeyMapping } from './gateway-data.ts';

/** An application as `GET /internal/data/v1/applications` lists it (WSO2's shape). */
export interface SourceApplication {
  readonly uuid: string;
  readonly name: string;
  /** The owner. */
  readonly subName: string;
  /** The application throttling tier. */
  readonly policy: string;
}

/** A key mapping as `GET /internal/data/v1/application-key-mappings` lists it. */
export interface SourceKeyMapping {
  readonly applicationId: string;
  readonly consumerKey: string;
  readonly keyType: string;
  readonly keyManager: string;
}

function mapping(m: Partial<SourceKeyMapping>): RuntimeKeyMapping | undefined {
  if (typeof m.applicationId !== 'string' || typeof m.consumerKey !== 'string' || typeof m.keyManager !== 'string') return undefined;
  return { applicationId: m.applicationId, consumerKey: m.consumerKey, keyManager: m.keyManager, keyType: m.keyType === 'SANDBOX' ? 'SANDBOX' : 'PRODUCTION' };
}

/** Replaces the gateway's applications and key mappings with the control plane's (a full pull). */
export function loadApplications(data: GatewayData, applications: readonly SourceApplication[], mappings: readonly SourceKeyMapping[]): void {
  data.setApplications(
    applications.map((a) => ({ id: a.uuid, name: a.name, owner: a.subName, tier: a.policy })),
    mappings.map(mapping).filter((m) => m !== undefined),
  );
}

/**
 * The Developer Portal's application and key-mapping events (`notification` topic, WSO2's
 * names), applied at once. Returns false for other event types.
 */
export function applyApplicationEvent(data: GatewayData, type: string, payload: Record<string, unknown>): boolean {
  switch (type) {
    case 'APPLICATION_CREATE':
    case 'APPLICATION_UPDATE': {
      const { applicationId, name, subscriber, tier } = payload;
      if (typeof applicationId === 'string' && typeof name === 'string' && typeof subscriber === 'string' && typeof tier === 'string') data.putApplication({ id: applicationId, name, owner: subscriber, tier });
      return true;
    }
    case 'APPLICATION_DELETE':
      if (typeof payload.applicationId === 'string') data.removeApplication(payload.applicationId);
      return true;
    case 'APPLICATION_REGISTRATION_CREATE': {
      const m = mapping(payload);
      if (m) data.putKeyMapping(m);
      return true;
    }
    case 'REMOVE_APPLICATION_KEYMAPPING': {
      const m = mapping(payload);
      if (m) data.removeKeyMapping(m.keyManager, m.consumerKey);
      return true;
    }
    default:
      return false;
  }
}

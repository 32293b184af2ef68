import type { ComponentName } from '@gatehouse/core';
import type { ComponentFactory } from './components.ts';

/**
 * Lazy imports, one per component, so a gateway process never loads the Publisher's code
 * (STYLE.md). Components not built yet are placeholders that answer 501 on their paths.
 */
export const componentLoaders: Readonly<Record<ComponentName, () => Promise<ComponentFactory>>> = Object.freeze({
  publisher: async () => (await import('./placeholders.ts')).controlPlanePlaceholder('publisher', ['/api/am/publisher/v4', '/internal/data/v1']),
  admin: async () => (await import('./placeholders.ts')).controlPlanePlaceholder('admin', ['/api/am/admin/v4']),
  devportal: async () => (await import('./placeholders.ts')).controlPlanePlaceholder('devportal', ['/api/am/devportal/v3']),
  'key-manager': async () =>
    (await import('./placeholders.ts')).controlPlanePlaceholder('key-manager', ['/oauth2', '/client-registration', '/.well-known']),
  gateway: async () => {
    const { createGateway } = await import('@gatehouse/gateway');
    return async (config, deps) => createGateway(config, deps);
  },
  'traffic-manager': async () => (await import('./placeholders.ts')).trafficManagerPlaceholder,
});

import { startConsoleApp } from '../../kit/index.ts';
import { ApisPage } from './pages/ApisPage.tsx';

/** What WSO2's Developer Portal asks for; the Key Manager grants those the user's roles allow. */
export const DEVPORTAL_SCOPES = [
  'openid',
  'apim:subscribe',
  'apim:app_manage',
  'apim:sub_manage',
  'apim:api_key',
  'apim:store_settings',
  'apim:sub_alert_manage',
  'apim:app_import_export',
] as const;

void startConsoleApp({
  app: 'devportal',
  title: 'Developer Portal',
  scopes: DEVPORTAL_SCOPES,
  home: '/apis',
  anonymous: true,
  nav: [{ label: 'APIs', to: '/apis', public: true }],
  routes: [{ path: 'apis', element: <ApisPage /> }],
});

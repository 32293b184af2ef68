import { startConsoleApp } from '../../kit/index.ts';
import { ApiPage } from './pages/ApiPage.tsx';
import { ApisPage } from './pages/ApisPage.tsx';
import { ApplicationPage } from './pages/ApplicationPage.tsx';
import { ApplicationsPage } from './pages/ApplicationsPage.tsx';
import { SignUpPage } from './pages/SignUpPage.tsx';

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
  nav: [
    { label: 'APIs', to: '/apis', public: true },
    { label: 'Applications', to: '/applications', scopes: ['apim:subscribe', 'apim:app_manage'] },
  ],
  routes: [
    { path: 'apis', element: <ApisPage /> },
    { path: 'apis/:apiId', element: <ApiPage /> },
    { path: 'applications', element: <ApplicationsPage /> },
    { path: 'applications/:applicationId', element: <ApplicationPage /> },
    { path: 'sign-up', element: <SignUpPage /> },
  ],
});

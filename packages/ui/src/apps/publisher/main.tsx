import { startConsoleApp } from '../../kit/index.ts';
import { ApiDetailPage } from './pages/ApiDetailPage.tsx';
import { ApisPage } from './pages/ApisPage.tsx';
import { CreateApiPage } from './pages/CreateApiPage.tsx';

/** What WSO2's Publisher portal asks for; the Key Manager grants those the user's roles allow. */
export const PUBLISHER_SCOPES = [
  'openid',
  'apim:api_view',
  'apim:api_create',
  'apim:api_delete',
  'apim:api_publish',
  'apim:api_manage',
  'apim:api_import_export',
  'apim:api_generate_key',
  'apim:document_create',
  'apim:document_manage',
  'apim:subscription_view',
  'apim:subscription_block',
  'apim:subscription_manage',
  'apim:tier_view',
  'apim:publisher_settings',
  'apim:mediation_policy_view',
  'apim:mediation_policy_manage',
  'apim:api_mediation_policy_manage',
  'apim:common_operation_policy_view',
  'apim:comment_view',
  'apim:comment_write',
  'apim:shared_scope_manage',
  'apim:ep_certificates_view',
  'apim:client_certificates_view',
  // Gatehouse: the deploy dialog lists the gateway environments from the Admin API (WSO2 reads them from /settings).
  'apim:environment_read',
] as const;

void startConsoleApp({
  app: 'publisher',
  title: 'Publisher',
  scopes: PUBLISHER_SCOPES,
  home: '/apis',
  nav: [{ label: 'APIs', to: '/apis', scopes: ['apim:api_view', 'apim:api_create', 'apim:api_manage'] }],
  routes: [
    { path: 'apis', element: <ApisPage /> },
    { path: 'apis/create', element: <CreateApiPage /> },
    { path: 'apis/:apiId/:tab?', element: <ApiDetailPage /> },
  ],
});

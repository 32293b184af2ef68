import { startConsoleApp } from '../../kit/index.ts';
import { ThrottlingPoliciesPage } from './pages/ThrottlingPoliciesPage.tsx';

/** What WSO2's Admin portal asks for; the Key Manager grants those the user's roles allow. */
export const ADMIN_SCOPES = [
  'openid',
  'apim:admin',
  'apim:tier_view',
  'apim:tier_manage',
  'apim:bl_view',
  'apim:bl_manage',
  'apim:environment_read',
  'apim:environment_manage',
  'apim:admin_operations',
  'apim:admin_settings',
  'apim:api_workflow_view',
  'apim:api_workflow_approve',
  'apim:app_owner_change',
  'apim:scope_manage',
  'apim:policies_import_export',
  'apim:admin_alert_manage',
] as const;

void startConsoleApp({
  app: 'admin',
  title: 'Admin',
  scopes: ADMIN_SCOPES,
  home: '/throttling-policies',
  nav: [{ label: 'Throttling policies', to: '/throttling-policies', scopes: ['apim:admin', 'apim:tier_view'] }],
  routes: [{ path: 'throttling-policies', element: <ThrottlingPoliciesPage /> }],
});

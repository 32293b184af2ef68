import { startConsoleApp } from '../../kit/index.ts';
import { BlockingConditionsPage } from './pages/BlockingConditionsPage.tsx';
import { EnvironmentsPage } from './pages/EnvironmentsPage.tsx';
import { KeyManagersPage } from './pages/KeyManagersPage.tsx';
import { SettingsPage } from './pages/SettingsPage.tsx';
import { ThrottlingPoliciesPage } from './pages/ThrottlingPoliciesPage.tsx';
import { WorkflowsPage } from './pages/WorkflowsPage.tsx';

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
  nav: [
    { label: 'Throttling policies', to: '/throttling-policies', scopes: ['apim:admin', 'apim:tier_view'] },
    { label: 'Blocking conditions', to: '/blocking-conditions', scopes: ['apim:admin', 'apim:bl_view'] },
    { label: 'Gateway environments', to: '/environments', scopes: ['apim:admin', 'apim:environment_read'] },
    { label: 'Key managers', to: '/key-managers', scopes: ['apim:admin', 'apim:admin_operations'] },
    { label: 'Approvals', to: '/workflows', scopes: ['apim:admin', 'apim:api_workflow_view'] },
    { label: 'Settings', to: '/settings', scopes: ['apim:admin'] },
  ],
  routes: [
    { path: 'throttling-policies', element: <ThrottlingPoliciesPage /> },
    { path: 'blocking-conditions', element: <BlockingConditionsPage /> },
    { path: 'environments', element: <EnvironmentsPage /> },
    { path: 'key-managers', element: <KeyManagersPage /> },
    { path: 'workflows', element: <WorkflowsPage /> },
    { path: 'settings', element: <SettingsPage /> },
  ],
});

// The shared UI kit: everything a page of the Publisher, Developer Portal or Admin app needs.
export { apiColumns } from './api-columns.tsx';
export { ApiClient, ApiError, type RequestOptions } from './api.ts';
export { Auth, type Session } from './auth.ts';
export { AppNames, type AppName, type RuntimeConfig } from './config.ts';
export { useApi, useConsole, useHasScope, useSession } from './console.tsx';
export { ConfirmButton, useConfirm, type ConfirmButtonProps, type ConfirmOptions } from './ConfirmDialog.tsx';
export { DataTable, filterRows, tableState, type Column, type DataTableProps } from './DataTable.tsx';
export { serverErrors, useServerForm, type ServerForm } from './form.ts';
export { ConsoleShell, PageHeader, RequireScopes, visibleNav, type NavItem } from './layout.tsx';
export { useResource, type Resource } from './resource.ts';
export { SecretDisplay } from './SecretDisplay.tsx';
export { startConsoleApp, type ConsoleAppOptions } from './start.tsx';
export { EmptyState, ErrorState, FormActions, FormError, LoadingState } from './states.tsx';
export { ThemeToggle } from './theme.tsx';
export { useDebouncedValue, usePagedSearch, useSearchParam, useSearchQuery } from './url-state.ts';
export { Pager, type Paginated } from './Pager.tsx';
export { parseProblem, type ProblemDetails } from './wso2-error.ts';
export type { ApiSummary, DocumentSummary, VirtualHost } from './wso2.ts';

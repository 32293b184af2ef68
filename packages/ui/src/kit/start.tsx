import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { setNonce } from 'get-nonce';
import { Button, Center, MantineProvider, Paper, Stack, Text, Title } from '@mantine/core';
import { createBrowserRouter, Navigate, useLocation, useNavigate, type RouteObject } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { ApiClient } from './api.ts';
import { Auth } from './auth.ts';
import { loadRuntimeConfig, type AppName } from './config.ts';
import { ConsoleProvider, useConsole } from './console.tsx';
import { ConsoleShell, type NavItem } from './layout.tsx';
import { ErrorState, LoadingState } from './states.tsx';
import { colorSchemeManager, cssVariablesResolver, theme } from './theme.tsx';
import '@mantine/core/styles.css';

export interface ConsoleAppOptions {
  readonly app: AppName;
  /** Shown in the header and the page title ("Publisher"). */
  readonly title: string;
  /** The scopes the app asks the Key Manager for (it grants those the user's roles allow). */
  readonly scopes: readonly string[];
  readonly nav: readonly NavItem[];
  /** The app's pages, paths relative to its base (`apis`, `apis/:id`). */
  readonly routes: readonly RouteObject[];
  /** Where `/` goes (`/apis`). */
  readonly home: string;
  /** Anonymous visitors may browse (the Developer Portal). */
  readonly anonymous?: boolean;
}

/** The nonce the control plane put in index.html, for the `<style>` tags Mantine adds (CSP `style-src`). */
function styleNonce(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]');
  return meta?.nonce || meta?.getAttribute('nonce') || '';
}

const completions = new Map<string, Promise<string>>();

function Callback() {
  const { auth } = useConsole();
  const location = useLocation();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let live = true;
    // Once per callback URL (the state is single-use), also when StrictMode runs effects twice.
    let completion = completions.get(location.search);
    if (!completion) {
      completion = auth.completeSignIn(location.search);
      completions.set(location.search, completion);
    }
    completion.then(
      (returnTo) => live && navigate(returnTo, { replace: true }),
      (err: unknown) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [auth, location.search, navigate]);
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="xl" maw={480} w="100%" component="main">
        {error ? (
          <Stack>
            <Title order={1} size="h3">
              Sign-in failed
            </Title>
            <ErrorState error={error} title="The sign-in did not complete" />
            <Button onClick={() => void auth.signIn('/')}>Sign in again</Button>
          </Stack>
        ) : (
          <LoadingState label="Signing in…" />
        )}
      </Paper>
    </Center>
  );
}

function SignedOut() {
  const { auth, title } = useConsole();
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="xl" maw={420} w="100%" component="main">
        <Stack>
          <Title order={1} size="h3">
            You are signed out
          </Title>
          <Text size="sm" c="dimmed">
            You signed out of the Gatehouse {title}.
          </Text>
          <Button onClick={() => void auth.signIn('/')} data-testid="sign-in-again">
            Sign in
          </Button>
        </Stack>
      </Paper>
    </Center>
  );
}

function RouteError() {
  return (
    <Center mih="50vh" p="md">
      <ErrorState error={new Error('This page failed to load. Reload the page, or go back to the start.')} title="Page error" />
    </Center>
  );
}

/**
 * Starts one app: reads its runtime config, sets up auth, the API client, Mantine (theme,
 * persisted light/dark, CSP nonce) and the router under the app's base path. Each app's
 * `main.tsx` is one call to this.
 *
 * @example
 * ```ts
 * startConsoleApp({ app: 'admin', title: 'Admin', scopes: ADMIN_SCOPES, home: '/policies',
 *   nav: [{ label: 'Throttling policies', to: '/policies', scopes: ['apim:tier_view'] }],
 *   routes: [{ path: 'policies', element: <ThrottlingPoliciesPage /> }] });
 * ```
 */
export async function startConsoleApp(options: ConsoleAppOptions): Promise<void> {
  const root = createRoot(document.getElementById('root')!);
  const nonce = styleNonce();
  // The <style> tag Mantine's modals add to lock scrolling (react-remove-scroll) takes its nonce from here.
  setNonce(nonce);
  const mantine = (children: React.ReactNode) => (
    <StrictMode>
      <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} colorSchemeManager={colorSchemeManager} defaultColorScheme="light" getStyleNonce={() => nonce}>
        {children}
      </MantineProvider>
    </StrictMode>
  );
  let config;
  try {
    config = await loadRuntimeConfig(options.app);
  } catch (err) {
    root.render(mantine(<ErrorState error={err} title="The console could not start" />));
    return;
  }
  const auth = new Auth(config, options.scopes);
  const api = new ApiClient(auth, {
    onSignInRequired: () => {
      const path = window.location.pathname.slice(config.basePath.length) || '/';
      void auth.signIn(path + window.location.search);
    },
  });
  const router = createBrowserRouter(
    [
      { path: '/callback', element: <Callback />, errorElement: <RouteError /> },
      { path: '/signed-out', element: <SignedOut />, errorElement: <RouteError /> },
      {
        path: '/',
        element: <ConsoleShell nav={options.nav} anonymous={options.anonymous} />,
        errorElement: <RouteError />,
        children: [{ index: true, element: <Navigate to={options.home} replace /> }, ...options.routes, { path: '*', element: <NotFound /> }],
      },
    ],
    { basename: config.basePath },
  );
  document.title = `${options.title} · Gatehouse`;
  root.render(
    mantine(
      <ConsoleProvider value={{ config, auth, api, title: options.title }}>
        <RouterProvider router={router} />
      </ConsoleProvider>,
    ),
  );
}

function NotFound() {
  return (
    <Stack>
      <Title order={1} size="h2">
        Page not found
      </Title>
      <Text c="dimmed">There is no page at this address.</Text>
    </Stack>
  );
}

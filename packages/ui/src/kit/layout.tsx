import { useEffect, type ReactNode } from 'react';
import { Anchor, AppShell, Avatar, Burger, Button, Group, Menu, NavLink, ScrollArea, Text, Title, UnstyledButton } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Navigate, NavLink as RouterNavLink, Outlet, useLocation } from 'react-router';
import { AppNames, type AppName } from './config.ts';
import { useConsole, useSession } from './console.tsx';
import { EmptyState } from './states.tsx';
import { ThemeToggle } from './theme.tsx';

/** A menu entry; shown when the session has any of `scopes`, or to everyone when `public`. */
export interface NavItem {
  readonly label: string;
  /** Path inside the app (`/apis`). */
  readonly to: string;
  readonly scopes?: readonly string[];
  /** Shown to anonymous visitors too (the Developer Portal's catalogue). */
  readonly public?: boolean;
}

const APP_TITLES: Record<AppName, string> = { publisher: 'Publisher', devportal: 'Developer Portal', admin: 'Admin' };

/** The menu entries this session may see. */
export function visibleNav(nav: readonly NavItem[], scopes: readonly string[] | undefined): NavItem[] {
  return nav.filter((item) => item.public || (scopes !== undefined && (!item.scopes || item.scopes.length === 0 || item.scopes.some((s) => scopes.includes(s)))));
}

function UserMenu() {
  const { auth } = useConsole();
  const session = useSession();
  const location = useLocation();
  if (!session) {
    return (
      <Button size="sm" onClick={() => void auth.signIn(location.pathname + location.search)} data-testid="sign-in">
        Sign in
      </Button>
    );
  }
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <UnstyledButton aria-label={`${session.username} (account menu)`} data-testid="user-menu">
          <Group gap="xs" wrap="nowrap">
            <Avatar size="sm" radius="xl" color="indigo" aria-hidden="true" />
            <Text size="sm" visibleFrom="sm">
              {session.username}
            </Text>
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Signed in as {session.username}</Menu.Label>
        <Menu.Item
          data-testid="sign-out"
          onClick={() => void auth.signOut()}
        >
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

/** Links to the other apps this node serves. */
function AppSwitcher() {
  const { config } = useConsole();
  const others = AppNames.filter((a) => a !== config.app && config.apps[a]);
  if (others.length === 0) return null;
  return (
    <Group gap="md" visibleFrom="md" component="nav" aria-label="Other consoles">
      {others.map((a) => (
        <Anchor key={a} href={config.apps[a]} size="sm">
          {APP_TITLES[a]}
        </Anchor>
      ))}
    </Group>
  );
}

export interface ConsoleShellProps {
  readonly nav: readonly NavItem[];
  /** Anonymous visitors may use the app (the Developer Portal); otherwise they are sent to sign in. */
  readonly anonymous?: boolean;
  readonly children?: ReactNode;
}

/**
 * The page frame of every app: a header (menu button on small screens, app name, links to the
 * other consoles, theme toggle, user menu) and a navbar with the entries the session's scopes
 * allow. Renders the current route in the main area.
 */
export function ConsoleShell({ nav, anonymous, children }: ConsoleShellProps) {
  const { auth, title } = useConsole();
  const session = useSession();
  const location = useLocation();
  const [opened, { toggle, close }] = useDisclosure();
  const items = visibleNav(nav, session?.scopes);
  const mustSignIn = !anonymous && !session;
  // After "Sign out", a "signed out" page rather than straight back to the sign-in form.
  const signedOut = mustSignIn && auth.signedOut;

  useEffect(close, [location.pathname, close]);
  useEffect(() => {
    if (mustSignIn && !signedOut) void auth.signIn(location.pathname + location.search);
  }, [mustSignIn, signedOut, auth, location.pathname, location.search]);
  if (signedOut) return <Navigate to="/signed-out" replace />;

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="lg">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close the menu' : 'Open the menu'} />
            <Title order={2} size="h4" style={{ whiteSpace: 'nowrap' }}>
              Gatehouse <Text span c="dimmed" inherit fw={400}>{title}</Text>
            </Title>
          </Group>
          <Group gap="md" wrap="nowrap">
            <AppSwitcher />
            <ThemeToggle />
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={`${title} menu`}>
        <ScrollArea>
          {items.map((item) => (
            <NavLink key={item.to} component={RouterNavLink} to={item.to} label={item.label} active={location.pathname === item.to || location.pathname.startsWith(`${item.to}/`)} />
          ))}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        <div id="content">
          {mustSignIn ? (
            <EmptyState title="Signing in…" description="Taking you to the sign-in page." />
          ) : session && items.length === 0 && !anonymous ? (
            <EmptyState title={`Your account has no access to the ${title}`} description="Ask an administrator for a role that grants it, or sign in as another user." />
          ) : (
            (children ?? <Outlet />)
          )}
        </div>
      </AppShell.Main>
    </AppShell>
  );
}

/** A page's title row: heading plus optional actions. */
export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  const app = useConsole().title;
  useEffect(() => {
    document.title = `${title} · ${app} · Gatehouse`;
  }, [title, app]);
  return (
    <Group justify="space-between" align="flex-start" mb="lg" wrap="wrap">
      <div>
        <Title order={1} size="h2">
          {title}
        </Title>
        {description && (
          <Text c="dimmed" size="sm" mt={4}>
            {description}
          </Text>
        )}
      </div>
      {actions && <Group gap="sm">{actions}</Group>}
    </Group>
  );
}

/** Shows its children only with one of the scopes; otherwise a "not allowed" state. */
export function RequireScopes({ any, children }: { any: readonly string[]; children: ReactNode }) {
  const session = useSession();
  const { auth } = useConsole();
  const location = useLocation();
  if (!session) {
    return (
      <EmptyState
        title="Sign in to see this page"
        action={
          <Button onClick={() => void auth.signIn(location.pathname + location.search)} data-testid="sign-in-required">
            Sign in
          </Button>
        }
      />
    );
  }
  if (!any.some((s) => session.scopes.includes(s))) return <EmptyState title="You are not allowed to see this page" description={`It needs one of: ${any.join(', ')}.`} />;
  return children;
}

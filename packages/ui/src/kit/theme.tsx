import { ActionIcon, Modal, Tooltip, createTheme, localStorageColorSchemeManager, useComputedColorScheme, useMantineColorScheme, type CSSVariablesResolver } from '@mantine/core';

/** One look for the three apps. */
export const theme = createTheme({
  primaryColor: 'indigo',
  // Filled buttons (white text) of every colour meet WCAG AA (4.5:1) at shade 8.
  primaryShade: { light: 8, dark: 8 },
  defaultRadius: 'sm',
  // Collapses, menus and modals open without animation for users who ask the system for less motion.
  respectReducedMotion: true,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  fontFamilyMonospace: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
  components: {
    // Icon-only close buttons get a name screen readers can say.
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
  },
});

/** Dimmed text and light variants meet WCAG AA contrast too (Mantine's default grey is 3.3:1 on white). */
export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-anchor': 'var(--mantine-color-indigo-8)',
    '--mantine-color-error': 'var(--mantine-color-red-9)',
    // Text of `light` variants (badges, light buttons, alerts) on their tinted background: shade 9, darkened.
    ...Object.fromEntries(Object.keys(t.colors).map((c) => [`--mantine-color-${c}-light-color`, `color-mix(in srgb, var(--mantine-color-${c}-9), black 30%)`])),
    // Text and border of `outline` variants on white: shade 8 of teal, green or yellow is under 4.5:1, so the same darkened 9.
    ...Object.fromEntries(Object.keys(t.colors).map((c) => [`--mantine-color-${c}-outline`, `color-mix(in srgb, var(--mantine-color-${c}-9), black 30%)`])),
  },
  dark: { '--mantine-color-dimmed': 'var(--mantine-color-dark-1)' },
});

/** The chosen scheme is kept per browser, shared by the three apps (same origin). */
export const colorSchemeManager = localStorageColorSchemeManager({ key: 'gatehouse-color-scheme' });

/** Light/dark switch for the header. */
export function ThemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme('light', { getInitialValueInEffect: false });
  const next = computed === 'dark' ? 'light' : 'dark';
  const label = `Switch to the ${next} theme`;
  return (
    <Tooltip label={label}>
      <ActionIcon variant="default" size="lg" aria-label={label} onClick={() => setColorScheme(next)} data-testid="theme-toggle">
        <span aria-hidden="true">{computed === 'dark' ? '☀' : '☾'}</span>
      </ActionIcon>
    </Tooltip>
  );
}

import { useState } from 'react';
import { ActionIcon, Alert, Button, Code, CopyButton, Group, Stack, Text, Tooltip } from '@mantine/core';

export interface SecretDisplayProps {
  /** What the secret is ("Consumer secret", "API key"). */
  readonly label: string;
  readonly value: string;
  /** Called when the user confirms they copied it; the caller then forgets the value. */
  readonly onDone?: () => void;
}

/**
 * A secret the server shows once (consumer secret, API key): monospace, copy button, a warning,
 * and an "I have copied it" button after which the caller drops the value for good.
 *
 * @example
 * ```tsx
 * {secret && <SecretDisplay label="Consumer secret" value={secret} onDone={() => setSecret(undefined)} />}
 * ```
 */
export function SecretDisplay({ label, value, onDone }: SecretDisplayProps) {
  const [copiedOnce, setCopiedOnce] = useState(false);
  return (
    <Alert color="yellow" title={`${label}: shown once`} data-testid="secret-display">
      <Stack gap="xs">
        <Text size="sm">Copy it now and keep it safe: it cannot be shown again. If it is lost, generate a new one.</Text>
        <Group gap="xs" wrap="nowrap" align="center">
          <Code block style={{ flex: 1, overflowX: 'auto', whiteSpace: 'nowrap' }} aria-label={label} data-testid="secret-value">
            {value}
          </Code>
          <CopyButton value={value} timeout={2000}>
            {({ copied, copy }) => (
              <Tooltip label={copied ? 'Copied' : `Copy the ${label.toLowerCase()}`}>
                <ActionIcon
                  variant="light"
                  size="lg"
                  aria-label={copied ? 'Copied' : `Copy the ${label.toLowerCase()}`}
                  onClick={() => {
                    copy();
                    setCopiedOnce(true);
                  }}
                >
                  <span aria-hidden="true">{copied ? '✓' : '⧉'}</span>
                </ActionIcon>
              </Tooltip>
            )}
          </CopyButton>
        </Group>
        {onDone && (
          <Group>
            <Button size="xs" variant={copiedOnce ? 'filled' : 'light'} onClick={onDone}>
              I have copied it
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}

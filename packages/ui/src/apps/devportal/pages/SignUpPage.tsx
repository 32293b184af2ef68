import { Alert, Button, Group, Paper, PasswordInput, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { FormActions, PageHeader, useApi, useConsole, useServerForm, useSession } from '../../../kit/index.ts';
import { onField, Wso2Codes } from '../model.ts';

/** WSO2's self-registration endpoint (identity server's `/api/identity/user/v1.0/me`). */
export const SELF_SIGNUP = '/api/identity/user/v1.0/me';

const CLAIM = 'http://wso2.org/claims/';

/** Self sign-up for anonymous visitors: creates a subscriber account, then offers to sign in. */
export function SignUpPage() {
  const api = useApi();
  const { auth } = useConsole();
  const session = useSession();
  const [created, setCreated] = useState<{ username: string; pending: boolean } | undefined>();
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: { username: '', password: '', confirmPassword: '', email: '', givenName: '', lastName: '' },
    validate: {
      username: (v: string) => (v.trim() ? null : 'Choose a username'),
      password: (v: string) => (v ? null : 'Choose a password'),
      confirmPassword: (v: string, values) => (v === values.password ? null : 'The passwords do not match'),
      email: (v: string) => (!v || /^[^\s@]+@[^\s@]+$/.test(v) ? null : 'Enter an email address'),
    },
    fieldMap: { 'user.username': 'username', 'user.password': 'password', 'user.realm': 'username' },
    submit: async (v) => {
      const claims = [
        ['emailaddress', v.email],
        ['givenname', v.givenName],
        ['lastname', v.lastName],
      ]
        .filter(([, value]) => value)
        .map(([uri, value]) => ({ uri: `${CLAIM}${uri}`, value }));
      let res: { notificationChannel?: string } | undefined;
      try {
        res = await api.post<{ notificationChannel?: string }>(SELF_SIGNUP, { anonymous: true, body: { user: { username: v.username.trim(), realm: 'PRIMARY', password: v.password, claims }, properties: [] } });
      } catch (err) {
        throw onField(err, { [Wso2Codes.UserExists]: 'username', [Wso2Codes.WeakPassword]: 'password' });
      }
      // The account exists: its password does not stay in the page's state.
      form.setValues({ password: '', confirmPassword: '' });
      setCreated({ username: v.username.trim(), pending: res?.notificationChannel === 'PENDING_APPROVAL' });
    },
  });

  return (
    <>
      <PageHeader title="Create an account" description="Sign up to subscribe to APIs, create applications and get keys." />
      <Paper withBorder p="lg" maw={640}>
        {session ? (
          <Text size="sm">You are signed in as {session.username}. Sign out first to create another account.</Text>
        ) : created ? (
          <Stack>
            <Alert color="teal" title="Account created" role="status" data-testid="signup-done">
              {created.pending
                ? `The account ${created.username} waits for an administrator's approval. You can sign in once it is approved.`
                : `The account ${created.username} is ready. Sign in with it to continue.`}
            </Alert>
            <Group>
              <Button onClick={() => void auth.signIn('/applications')} data-testid="signup-sign-in">
                Sign in
              </Button>
            </Group>
          </Stack>
        ) : (
          <form onSubmit={onSubmit} noValidate data-testid="signup-form">
            <Stack gap="sm">
              <TextInput label="Username" required autoComplete="username" {...form.getInputProps('username')} key={form.key('username')} />
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <PasswordInput label="Password" required autoComplete="new-password" description="At least 8 characters, not the username" {...form.getInputProps('password')} key={form.key('password')} />
                <PasswordInput label="Confirm password" required autoComplete="new-password" {...form.getInputProps('confirmPassword')} key={form.key('confirmPassword')} />
              </SimpleGrid>
              <TextInput label="Email" type="email" autoComplete="email" {...form.getInputProps('email')} key={form.key('email')} />
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <TextInput label="First name" autoComplete="given-name" {...form.getInputProps('givenName')} key={form.key('givenName')} />
                <TextInput label="Last name" autoComplete="family-name" {...form.getInputProps('lastName')} key={form.key('lastName')} />
              </SimpleGrid>
              <FormActions error={formError}>
                <Button type="submit" loading={submitting} data-testid="signup-submit">
                  Create account
                </Button>
                <Button variant="subtle" onClick={() => void auth.signIn('/apis')}>
                  I have an account: sign in
                </Button>
              </FormActions>
            </Stack>
          </form>
        )}
      </Paper>
    </>
  );
}

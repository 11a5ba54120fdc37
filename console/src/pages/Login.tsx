// Log in with an access key and secret (or STS credentials: the session token field). The server
// checks them and sets an HttpOnly session cookie; the secret is not kept by the page.
import { Alert, Box, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { ApiError } from '../api/api';
import { ThemeToggle } from '../components/ThemeToggle';
import { useSession } from '../session';

export function LoginPage() {
  const { info, lost, login } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [accessKey, setAccessKey] = useState('');
  const [secret, setSecret] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  if (info) return <Navigate to={(location.state as { from?: string } | null)?.from ?? '/'} replace />;
  return (
    <Center h="100vh" pos="relative">
      <Box pos="absolute" top={16} right={16}>
        <ThemeToggle />
      </Box>
      <Paper
        withBorder
        shadow="sm"
        p="xl"
        w={380}
        component="form"
        aria-labelledby="login-title"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          login(accessKey.trim(), secret, token.trim() || undefined)
            .then(() => navigate('/'))
            .catch((err: unknown) => setError(err instanceof ApiError ? err : new ApiError('Error', String(err), 0)))
            .finally(() => setBusy(false));
        }}
      >
        <Stack>
          <div>
            <Title order={1} size="h2" id="login-title">
              Strata console
            </Title>
            <Text size="sm" c="dimmed">
              Log in with an access key and its secret. The server checks them and keeps the session in a cookie this page cannot read; the secret is not stored
              in the browser.
            </Text>
          </div>
          {lost && !error && (
            <Alert color="yellow" title="Session ended" data-testid="session-ended">
              The server ended your session: it expired, or its key or user was disabled or deleted. Log in again.
            </Alert>
          )}
          {error && (
            <Alert color="red" title={error.code} role="alert">
              {error.message}
            </Alert>
          )}
          <TextInput
            label="Access key"
            required
            data-autofocus
            autoFocus
            autoComplete="username"
            value={accessKey}
            onChange={(e) => setAccessKey(e.currentTarget.value)}
          />
          <PasswordInput label="Secret key" required autoComplete="current-password" value={secret} onChange={(e) => setSecret(e.currentTarget.value)} />
          <TextInput label="Session token (STS credentials only)" value={token} onChange={(e) => setToken(e.currentTarget.value)} />
          <Button type="submit" loading={busy}>
            Log in
          </Button>
        </Stack>
      </Paper>
    </Center>
  );
}

// Log in with an access key and secret (or STS credentials: the session token field). The server
// checks them and sets an HttpOnly session cookie; the secret is not kept by the page.
import { Alert, Button, Center, Paper, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { ApiError } from '../api/api';
import { useSession } from '../session';

export function LoginPage() {
  const { info, login } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [accessKey, setAccessKey] = useState('');
  const [secret, setSecret] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  if (info) return <Navigate to={(location.state as { from?: string } | null)?.from ?? '/'} replace />;
  return (
    <Center h="100vh">
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
          <Title order={1} size="h2" id="login-title">
            Strata console
          </Title>
          {error && (
            <Alert color="red" title={error.code} role="alert">
              {error.message}
            </Alert>
          )}
          <TextInput label="Access key" required autoComplete="username" value={accessKey} onChange={(e) => setAccessKey(e.currentTarget.value)} />
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

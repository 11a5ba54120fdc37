// The users list and the create-user dialog (name, managed policies to attach, an access key made
// at once: its secret is shown once).
import { Anchor, Badge, Button, Checkbox, Group, Loader, Modal, MultiSelect, Paper, Stack, Table, Text, TextInput } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import type { ApiError } from '../../api/api';
import { policies, users } from '../../api/identity';
import { ErrorAlert } from '../../components/ErrorAlert';
import { SecretModal, type ShownKey } from '../../components/SecretModal';
import { asApiError } from '../../lib/errors';
import { formatDate } from '../../lib/format';
import { useLoad } from '../../lib/use-load';

export const IAM_NAME = /^[A-Za-z0-9+=,.@_-]+$/;

export function statusBadge(status: string) {
  return (
    <Badge color={status === 'enabled' || status === 'Active' ? 'teal' : 'gray'} variant="light">
      {status}
    </Badge>
  );
}

function CreateUserModal({ opened, onClose, onCreated }: { opened: boolean; onClose: () => void; onCreated: (name: string, key?: ShownKey) => void }) {
  const [name, setName] = useState('');
  const [attach, setAttach] = useState<string[]>([]);
  const [withKey, setWithKey] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const names = useLoad(async () => (opened ? (await policies.list()).map((p) => p.name) : []), [opened]);
  useEffect(() => {
    if (!opened) return;
    setName('');
    setAttach([]);
    setWithKey(true);
    setError(undefined);
  }, [opened]);
  const problem = name !== '' && (name.length > 64 || !IAM_NAME.test(name)) ? '1 to 64 of A-Z a-z 0-9 + = , . @ _ -' : undefined;
  return (
    <Modal opened={opened} onClose={onClose} title="Create user" size="lg">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            const r = await users.create(name, withKey, attach);
            onCreated(name, r.accessKey && r.secretKey ? { user: name, accessKey: r.accessKey, secretKey: r.secretKey } : undefined);
          } catch (err) {
            setError(asApiError(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <Stack>
          <ErrorAlert error={error} />
          <TextInput
            label="User name"
            required
            data-autofocus
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={problem}
            autoComplete="off"
          />
          <MultiSelect
            label="Policies to attach"
            description="What the user may do; nothing is allowed without a policy."
            data={names.data ?? []}
            value={attach}
            onChange={setAttach}
            searchable
            error={names.error ? `${names.error.code}: ${names.error.message}` : undefined}
          />
          <Checkbox label="Create an access key now (its secret is shown once)" checked={withKey} onChange={(e) => setWithKey(e.currentTarget.checked)} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy} disabled={name === '' || problem !== undefined}>
              Create user
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function UsersList() {
  const list = useLoad(() => users.list(), []);
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<ShownKey | undefined>();
  const navigate = useNavigate();
  const [after, setAfter] = useState<string | undefined>();
  return (
    <>
      <Group justify="space-between" mb="sm">
        <Text size="sm" c="dimmed">
          Users sign requests with their access keys; what they may do comes from the policies attached to them and to their groups.
        </Text>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
          Create user
        </Button>
      </Group>
      <ErrorAlert error={list.error} />
      {list.loading && !list.data && <Loader aria-label="Loading users" />}
      {list.data && (
        <Paper withBorder>
          <Table striped highlightOnHover aria-label="Users">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Name</Table.Th>
                <Table.Th scope="col">Status</Table.Th>
                <Table.Th scope="col">Created</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={3}>
                    <Text c="dimmed">No users yet (the root key is not a user).</Text>
                  </Table.Td>
                </Table.Tr>
              )}
              {list.data.map((u) => (
                <Table.Tr key={u.name}>
                  <Table.Td>
                    <Anchor component={Link} to={`/identity/users/${encodeURIComponent(u.name)}`}>
                      {u.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{statusBadge(u.status)}</Table.Td>
                  <Table.Td>{formatDate(u.created)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
      <CreateUserModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(name, key) => {
          setCreating(false);
          list.reload();
          if (key) {
            setShown(key);
            setAfter(name);
          } else navigate(`/identity/users/${encodeURIComponent(name)}`);
        }}
      />
      <SecretModal
        shown={shown}
        onClose={() => {
          setShown(undefined);
          if (after) navigate(`/identity/users/${encodeURIComponent(after)}`);
        }}
      />
    </>
  );
}

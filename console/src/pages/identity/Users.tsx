// The users list and the create-user dialog (name, managed policies to attach, an access key made
// at once: its secret is shown once).
import { Badge, Button, Checkbox, Group, Modal, MultiSelect, Stack, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import type { ApiError } from '../../api/api';
import { policies, users } from '../../api/identity';
import { EntityTable } from '../../components/EntityTable';
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
      <EntityTable
        label="Users"
        intro="Users sign requests with their access keys; what they may do comes from the policies attached to them and to their groups."
        create={{ label: 'Create user', onClick: () => setCreating(true) }}
        list={list}
        linkTo={(n) => `/identity/users/${encodeURIComponent(n)}`}
        columns={[
          { title: 'Status', cell: (u) => statusBadge(u.status) },
          { title: 'Created', cell: (u) => formatDate(u.created) },
        ]}
        empty="No users yet (the root key is not a user)."
      />
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

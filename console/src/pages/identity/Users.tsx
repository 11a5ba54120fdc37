// The users list and the create-user dialog (name, managed policies to attach, an access key made
// at once: its secret is shown once).
import { Badge, Checkbox, MultiSelect } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { policies, users } from '../../api/identity';
import { EntityTable } from '../../components/EntityTable';
import { CreateDialog, useSubmit } from '../../components/CreateDialog';
import { SecretModal, type ShownKey } from '../../components/SecretModal';
import { formatDate } from '../../lib/format';
import { useLoad } from '../../lib/use-load';

const IAM_NAME = /^[A-Za-z0-9+=,.@_-]+$/;

/** What is wrong with a user, group or policy name (IAM's rules: 1 to `max` of A-Z a-z 0-9 + = , . @ _ -), or undefined. */
export function iamNameProblem(name: string, max: number): string | undefined {
  return name !== '' && (name.length > max || !IAM_NAME.test(name)) ? `1 to ${max} of A-Z a-z 0-9 + = , . @ _ -` : undefined;
}

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
  const { busy, error, setError, submit } = useSubmit();
  const names = useLoad(async () => (opened ? (await policies.list()).map((p) => p.name) : []), [opened]);
  useEffect(() => {
    if (!opened) return;
    setName('');
    setAttach([]);
    setWithKey(true);
    setError(undefined);
  }, [opened, setError]);
  return (
    <CreateDialog
      title="Create user"
      size="lg"
      opened={opened}
      onClose={onClose}
      onSubmit={submit(async () => {
        const r = await users.create(name, withKey, attach);
        onCreated(name, r.accessKey && r.secretKey ? { user: name, accessKey: r.accessKey, secretKey: r.secretKey } : undefined);
      })}
      busy={busy}
      error={error}
      nameLabel="User name"
      name={name}
      onName={setName}
      nameProblem={iamNameProblem(name, 64)}
      submitLabel="Create user"
    >
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
    </CreateDialog>
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

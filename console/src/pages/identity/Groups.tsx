// Groups: the list (create with members), and one group's members and attached policies.
import { Group, Loader, MultiSelect, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { groups, policies, users } from '../../api/identity';
import { DeleteEntityButton } from '../../components/DeleteEntityButton';
import { EntityTable } from '../../components/EntityTable';
import { CreateDialog, useSubmit } from '../../components/CreateDialog';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDate } from '../../lib/format';
import { useAct } from '../../lib/use-act';
import { useLoad } from '../../lib/use-load';
import { iamNameProblem } from './Users';
import { NameList } from '../../components/NameList';

const userNames = async () => (await users.list()).map((u) => u.name);

function CreateGroupModal({ opened, onClose, onCreated }: { opened: boolean; onClose: () => void; onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [members, setMembers] = useState<string[]>([]);
  const { busy, error, setError, submit } = useSubmit();
  const all = useLoad(async () => (opened ? userNames() : []), [opened]);
  useEffect(() => {
    if (!opened) return;
    setName('');
    setMembers([]);
    setError(undefined);
  }, [opened, setError]);
  return (
    <CreateDialog
      title="Create group"
      opened={opened}
      onClose={onClose}
      onSubmit={submit(async () => {
        await groups.create(name, members);
        onCreated(name);
      })}
      busy={busy}
      error={error}
      nameLabel="Group name"
      name={name}
      onName={setName}
      nameProblem={iamNameProblem(name, 128)}
      submitLabel="Create group"
    >
      <MultiSelect label="Members" data={all.data ?? []} value={members} onChange={setMembers} searchable />
    </CreateDialog>
  );
}

export function GroupsList() {
  const list = useLoad(() => groups.list(), []);
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();
  return (
    <>
      <EntityTable
        label="Groups"
        intro="A group's policies apply to each of its members."
        create={{ label: 'Create group', onClick: () => setCreating(true) }}
        list={list}
        linkTo={(n) => `/identity/groups/${encodeURIComponent(n)}`}
        columns={[{ title: 'Members', cell: (g) => (g.members.length === 0 ? <Text c="dimmed">none</Text> : g.members.join(', ')) }]}
        empty="No groups yet."
      />
      <CreateGroupModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(name) => {
          setCreating(false);
          notifications.show({ color: 'teal', message: `Group ${name} created.` });
          navigate(`/identity/groups/${encodeURIComponent(name)}`);
        }}
      />
    </>
  );
}

export function GroupDetail() {
  const name = useParams().name ?? '';
  const group = useLoad(() => groups.get(name), [name]);
  const allUsers = useLoad(userNames, []);
  const allPolicies = useLoad(async () => (await policies.list()).map((p) => p.name), []);
  const { error, setError, act, removeAndLeave } = useAct(group.reload);
  const d = group.data;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>Group {name}</Title>
        <DeleteEntityButton
          onDelete={removeAndLeave}
          what={{
            title: `Delete group ${name}?`,
            text: 'Its memberships and policy attachments go with it; the users stay.',
            confirm: 'Delete group',
            remove: () => groups.remove(name),
            done: `Group ${name} deleted.`,
            to: '/identity/groups',
          }}
        />
      </Group>
      <ErrorAlert error={group.error} />
      <ErrorAlert error={error} onClose={() => setError(undefined)} />
      {group.loading && !d && <Loader aria-label="Loading group" />}
      {d && (
        <>
          <Text size="sm" c="dimmed">
            Created {formatDate(d.created)}.
          </Text>
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <NameList
              title="Members"
              sentence="Each member has this group's policies."
              names={d.members}
              linkTo={(n) => `/identity/users/${encodeURIComponent(n)}`}
              choices={allUsers.data ?? []}
              pickLabel="Users to add"
              onAdd={(names) => act(() => groups.addMembers(name, names), `Added to ${name}: ${names.join(', ')}.`)}
              onRemove={(n) => act(() => groups.removeMembers(name, [n]), `${n} removed from ${name}.`)}
            />
            <NameList
              title="Attached policies"
              sentence="What every member of the group may do."
              names={d.policies}
              linkTo={(n) => `/identity/policies/${encodeURIComponent(n)}`}
              choices={allPolicies.data ?? []}
              pickLabel="Policies to attach"
              onAdd={async (names) => {
                for (const p of names) if (!(await act(() => policies.attach(p, { group: name }), `Policy ${p} attached to ${name}.`))) return false;
                return true;
              }}
              onRemove={(p) => act(() => policies.detach(p, { group: name }), `Policy ${p} detached from ${name}.`)}
            />
          </SimpleGrid>
        </>
      )}
    </Stack>
  );
}

// Groups: the list (create with members), and one group's members and attached policies.
import { ActionIcon, Anchor, Button, Group, Loader, Modal, MultiSelect, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlus, IconTrash, IconX } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import type { ApiError } from '../../api/api';
import { groups, policies, users } from '../../api/identity';
import { ErrorAlert } from '../../components/ErrorAlert';
import { confirmDanger } from '../../lib/confirm';
import { asApiError } from '../../lib/errors';
import { formatDate } from '../../lib/format';
import { useAct } from '../../lib/use-act';
import { useLoad } from '../../lib/use-load';
import { IAM_NAME } from './Users';

const userNames = async () => (await users.list()).map((u) => u.name);

function CreateGroupModal({ opened, onClose, onCreated }: { opened: boolean; onClose: () => void; onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [members, setMembers] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const all = useLoad(async () => (opened ? userNames() : []), [opened]);
  useEffect(() => {
    if (!opened) return;
    setName('');
    setMembers([]);
    setError(undefined);
  }, [opened]);
  const problem = name !== '' && (name.length > 128 || !IAM_NAME.test(name)) ? '1 to 128 of A-Z a-z 0-9 + = , . @ _ -' : undefined;
  return (
    <Modal opened={opened} onClose={onClose} title="Create group">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            await groups.create(name, members);
            onCreated(name);
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
            label="Group name"
            required
            data-autofocus
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={problem}
            autoComplete="off"
          />
          <MultiSelect label="Members" data={all.data ?? []} value={members} onChange={setMembers} searchable />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy} disabled={name === '' || problem !== undefined}>
              Create group
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function GroupsList() {
  const list = useLoad(() => groups.list(), []);
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();
  return (
    <>
      <Group justify="space-between" mb="sm">
        <Text size="sm" c="dimmed">
          A group's policies apply to each of its members.
        </Text>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
          Create group
        </Button>
      </Group>
      <ErrorAlert error={list.error} />
      {list.loading && !list.data && <Loader aria-label="Loading groups" />}
      {list.data && (
        <Paper withBorder>
          <Table striped highlightOnHover aria-label="Groups">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Name</Table.Th>
                <Table.Th scope="col">Members</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={2}>
                    <Text c="dimmed">No groups yet.</Text>
                  </Table.Td>
                </Table.Tr>
              )}
              {list.data.map((g) => (
                <Table.Tr key={g.name}>
                  <Table.Td>
                    <Anchor component={Link} to={`/identity/groups/${encodeURIComponent(g.name)}`}>
                      {g.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{g.members.length === 0 ? <Text c="dimmed">none</Text> : g.members.join(', ')}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
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

/** A titled list of names with a remove button each, and a picker to add one. */
function NameList({
  title,
  sentence,
  names,
  linkTo,
  choices,
  pickLabel,
  onAdd,
  onRemove,
}: {
  title: string;
  sentence: string;
  names: string[];
  linkTo: (n: string) => string;
  choices: string[];
  pickLabel: string;
  onAdd: (names: string[]) => Promise<boolean>;
  onRemove: (n: string) => void;
}) {
  const [picked, setPicked] = useState<string[]>([]);
  return (
    <Paper withBorder p="md" component="section" aria-label={title}>
      <Title order={4}>{title}</Title>
      <Text size="sm" c="dimmed" mb="xs">
        {sentence}
      </Text>
      <Stack gap={4} mb="sm">
        {names.length === 0 && <Text size="sm">None.</Text>}
        {names.map((n) => (
          <Group key={n} justify="space-between">
            <Anchor component={Link} to={linkTo(n)}>
              {n}
            </Anchor>
            <Tooltip label="Remove">
              <ActionIcon variant="subtle" color="red" aria-label={`Remove ${n}`} onClick={() => onRemove(n)}>
                <IconX size={16} />
              </ActionIcon>
            </Tooltip>
          </Group>
        ))}
      </Stack>
      <Group align="flex-end">
        <MultiSelect label={pickLabel} data={choices.filter((c) => !names.includes(c))} value={picked} onChange={setPicked} searchable style={{ flex: 1 }} />
        <Button disabled={picked.length === 0} onClick={async () => (await onAdd(picked)) && setPicked([])}>
          Add
        </Button>
      </Group>
    </Paper>
  );
}

export function GroupDetail() {
  const name = useParams().name ?? '';
  const navigate = useNavigate();
  const group = useLoad(() => groups.get(name), [name]);
  const allUsers = useLoad(userNames, []);
  const allPolicies = useLoad(async () => (await policies.list()).map((p) => p.name), []);
  const { error, setError, act } = useAct(group.reload);
  const d = group.data;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>Group {name}</Title>
        <Button
          color="red"
          variant="light"
          leftSection={<IconTrash size={16} />}
          onClick={async () => {
            if (!(await confirmDanger(`Delete group ${name}?`, 'Its memberships and policy attachments go with it; the users stay.', 'Delete group'))) return;
            try {
              await groups.remove(name);
              notifications.show({ color: 'teal', message: `Group ${name} deleted.` });
              navigate('/identity/groups');
            } catch (err) {
              setError(asApiError(err));
            }
          }}
        >
          Delete group
        </Button>
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

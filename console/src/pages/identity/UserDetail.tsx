// One user: enable/disable, delete, its groups, its attached policies (attach/detach), its access
// keys (create with the secret shown once, enable/disable, delete) and a link to its effective rights.
import { ActionIcon, Anchor, Badge, Button, Group, Loader, Paper, Select, SimpleGrid, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconKey, IconPlayerPause, IconPlayerPlay, IconTrash, IconX } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { groups, keys, policies, users } from '../../api/identity';
import { ErrorAlert } from '../../components/ErrorAlert';
import { SecretModal, type ShownKey } from '../../components/SecretModal';
import { confirmDanger } from '../../lib/confirm';
import { asApiError } from '../../lib/errors';
import { formatDate } from '../../lib/format';
import { useAct } from '../../lib/use-act';
import { useLoad } from '../../lib/use-load';
import { statusBadge } from './Users';

export function UserDetail() {
  const name = useParams().name ?? '';
  const navigate = useNavigate();
  const user = useLoad(() => users.get(name), [name]);
  const allPolicies = useLoad(async () => (await policies.list()).map((p) => p.name), []);
  const allGroups = useLoad(async () => (await groups.list()).map((g) => g.name), []);
  const { error, setError, act } = useAct(user.reload);
  const [shown, setShown] = useState<ShownKey | undefined>();
  const [toAttach, setToAttach] = useState<string | null>(null);
  const [toJoin, setToJoin] = useState<string | null>(null);
  const d = user.data;
  const enabled = d?.user.status === 'enabled';
  return (
    <Stack>
      <Group justify="space-between">
        <Group gap="sm">
          <Title order={3}>User {name}</Title>
          {d && statusBadge(d.user.status)}
        </Group>
        {d && (
          <Group gap="xs">
            <Button variant="default" component={Link} to={`/identity/explain?user=${encodeURIComponent(name)}`}>
              Effective rights
            </Button>
            <Button
              variant="default"
              leftSection={enabled ? <IconPlayerPause size={16} /> : <IconPlayerPlay size={16} />}
              onClick={() => act(() => users.setEnabled(name, !enabled), `User ${name} ${enabled ? 'disabled' : 'enabled'}.`)}
            >
              {enabled ? 'Disable user' : 'Enable user'}
            </Button>
            <Button
              color="red"
              variant="light"
              leftSection={<IconTrash size={16} />}
              onClick={async () => {
                if (
                  !(await confirmDanger(
                    `Delete user ${name}?`,
                    'Its access keys, group memberships and policy attachments are deleted with it.',
                    'Delete user',
                  ))
                )
                  return;
                setError(undefined);
                try {
                  await users.remove(name);
                  notifications.show({ color: 'teal', message: `User ${name} deleted.` });
                  navigate('/identity/users');
                } catch (err) {
                  setError(asApiError(err));
                }
              }}
            >
              Delete user
            </Button>
          </Group>
        )}
      </Group>
      <ErrorAlert error={user.error} />
      <ErrorAlert error={error} onClose={() => setError(undefined)} />
      {user.loading && !d && <Loader aria-label="Loading user" />}
      {d && (
        <>
          <Text size="sm" c="dimmed">
            User id {d.user.userId}, created {formatDate(d.user.created)}. A disabled user's keys are refused (InvalidAccessKeyId) until it is enabled again.
          </Text>
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <Paper withBorder p="md" component="section" aria-label="Attached policies">
              <Title order={4} mb={4}>
                Attached policies
              </Title>
              <Text size="sm" c="dimmed" mb="xs">
                The user's own policies; those of its groups apply too.
              </Text>
              <Stack gap={4} mb="sm">
                {d.policies.length === 0 && <Text size="sm">None: the user may do nothing but what its groups or bucket policies allow.</Text>}
                {d.policies.map((p) => (
                  <Group key={p} justify="space-between">
                    <Anchor component={Link} to={`/identity/policies/${encodeURIComponent(p)}`}>
                      {p}
                    </Anchor>
                    <Tooltip label="Detach">
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={`Detach policy ${p}`}
                        onClick={() => act(() => policies.detach(p, { user: name }), `Policy ${p} detached from ${name}.`)}
                      >
                        <IconX size={16} />
                      </ActionIcon>
                    </Tooltip>
                  </Group>
                ))}
              </Stack>
              <Group align="flex-end">
                <Select
                  label="Policy to attach"
                  data={(allPolicies.data ?? []).filter((p) => !d.policies.includes(p))}
                  value={toAttach}
                  onChange={setToAttach}
                  searchable
                  style={{ flex: 1 }}
                />
                <Button
                  disabled={!toAttach}
                  onClick={async () =>
                    toAttach && (await act(() => policies.attach(toAttach, { user: name }), `Policy ${toAttach} attached to ${name}.`)) && setToAttach(null)
                  }
                >
                  Attach
                </Button>
              </Group>
            </Paper>
            <Paper withBorder p="md" component="section" aria-label="Groups">
              <Title order={4} mb={4}>
                Groups
              </Title>
              <Text size="sm" c="dimmed" mb="xs">
                The user has the policies of every group it belongs to.
              </Text>
              <Stack gap={4} mb="sm">
                {d.groups.length === 0 && <Text size="sm">In no group.</Text>}
                {d.groups.map((g) => (
                  <Group key={g} justify="space-between">
                    <Anchor component={Link} to={`/identity/groups/${encodeURIComponent(g)}`}>
                      {g}
                    </Anchor>
                    <Tooltip label="Leave group">
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={`Remove ${name} from group ${g}`}
                        onClick={() => act(() => groups.removeMembers(g, [name]), `${name} removed from ${g}.`)}
                      >
                        <IconX size={16} />
                      </ActionIcon>
                    </Tooltip>
                  </Group>
                ))}
              </Stack>
              <Group align="flex-end">
                <Select
                  label="Group to join"
                  data={(allGroups.data ?? []).filter((g) => !d.groups.includes(g))}
                  value={toJoin}
                  onChange={setToJoin}
                  searchable
                  style={{ flex: 1 }}
                />
                <Button
                  disabled={!toJoin}
                  onClick={async () => toJoin && (await act(() => groups.addMembers(toJoin, [name]), `${name} added to ${toJoin}.`)) && setToJoin(null)}
                >
                  Add
                </Button>
              </Group>
            </Paper>
          </SimpleGrid>
          <Paper withBorder p="md" component="section" aria-label="Access keys">
            <Group justify="space-between" mb="xs">
              <div>
                <Title order={4}>Access keys</Title>
                <Text size="sm" c="dimmed">
                  Each key signs requests as this user; a key's secret is shown only when the key is created.
                </Text>
              </div>
              <Button
                leftSection={<IconKey size={16} />}
                onClick={async () => {
                  setError(undefined);
                  try {
                    const k = await users.createKey(name);
                    setShown({ user: name, accessKey: k.accessKey, secretKey: k.secretKey });
                    user.reload();
                  } catch (err) {
                    setError(asApiError(err));
                  }
                }}
              >
                Create access key
              </Button>
            </Group>
            <Table aria-label="Access keys">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Access key</Table.Th>
                  <Table.Th scope="col">Status</Table.Th>
                  <Table.Th scope="col">Created</Table.Th>
                  <Table.Th scope="col">Expires</Table.Th>
                  <Table.Th scope="col">Actions</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {d.accessKeys.length === 0 && (
                  <Table.Tr>
                    <Table.Td colSpan={5}>
                      <Text size="sm" c="dimmed">
                        No keys: the user cannot sign requests.
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                )}
                {d.accessKeys.map((k) => {
                  const on = k.status === 'enabled';
                  return (
                    <Table.Tr key={k.accessKey}>
                      <Table.Td ff="monospace">
                        {k.accessKey} {k.policy && <Badge variant="outline">narrowed by an inline policy</Badge>}
                      </Table.Td>
                      <Table.Td>{statusBadge(k.status)}</Table.Td>
                      <Table.Td>{formatDate(k.created)}</Table.Td>
                      <Table.Td>{k.expiry ? formatDate(k.expiry) : 'never'}</Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap">
                          <Button
                            size="xs"
                            variant="default"
                            onClick={() => act(() => keys.setEnabled(k.accessKey, !on), `Key ${k.accessKey} ${on ? 'disabled' : 'enabled'}.`)}
                          >
                            {on ? 'Disable' : 'Enable'}
                          </Button>
                          <Button
                            size="xs"
                            color="red"
                            variant="light"
                            aria-label={`Delete key ${k.accessKey}`}
                            onClick={async () =>
                              (await confirmDanger(`Delete key ${k.accessKey}?`, 'Requests signed with it are refused from now on.', 'Delete key')) &&
                              act(() => keys.remove(k.accessKey), `Key ${k.accessKey} deleted.`)
                            }
                          >
                            Delete
                          </Button>
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Paper>
        </>
      )}
      <SecretModal shown={shown} onClose={() => setShown(undefined)} />
    </Stack>
  );
}

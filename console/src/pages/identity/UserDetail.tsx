// One user: enable/disable, delete, its groups, its attached policies (attach/detach), its access
// keys (create with the secret shown once, enable/disable, delete) and a link to its effective rights.
import { Badge, Button, Group, Loader, Paper, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { IconKey, IconPlayerPause, IconPlayerPlay } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { groups, keys, policies, users } from '../../api/identity';
import { DeleteEntityButton } from '../../components/DeleteEntityButton';
import { ErrorAlert } from '../../components/ErrorAlert';
import { SecretModal, type ShownKey } from '../../components/SecretModal';
import { confirmDanger } from '../../lib/confirm';
import { asApiError } from '../../lib/errors';
import { formatDate } from '../../lib/format';
import { useAct } from '../../lib/use-act';
import { NameList } from '../../components/NameList';
import { useLoad } from '../../lib/use-load';
import { statusBadge } from './Users';

export function UserDetail() {
  const name = useParams().name ?? '';
  const user = useLoad(() => users.get(name), [name]);
  const allPolicies = useLoad(async () => (await policies.list()).map((p) => p.name), []);
  const allGroups = useLoad(async () => (await groups.list()).map((g) => g.name), []);
  const { error, setError, act, removeAndLeave } = useAct(user.reload);
  const [shown, setShown] = useState<ShownKey | undefined>();
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
            <DeleteEntityButton
              onDelete={removeAndLeave}
              what={{
                title: `Delete user ${name}?`,
                text: 'Its access keys, group memberships and policy attachments are deleted with it.',
                confirm: 'Delete user',
                remove: () => users.remove(name),
                done: `User ${name} deleted.`,
                to: '/identity/users',
              }}
            />
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
            <NameList
              title="Attached policies"
              sentence="The user's own policies; those of its groups apply too."
              empty="None: the user may do only what its groups or bucket policies allow."
              names={d.policies}
              linkTo={(p) => `/identity/policies/${encodeURIComponent(p)}`}
              choices={allPolicies.data ?? []}
              pickLabel="Policies to attach"
              onAdd={async (names) => {
                for (const p of names) if (!(await act(() => policies.attach(p, { user: name }), `Policy ${p} attached to ${name}.`))) return false;
                return true;
              }}
              removeLabel={(p) => `Detach policy ${p}`}
              onRemove={(p) => act(() => policies.detach(p, { user: name }), `Policy ${p} detached from ${name}.`)}
            />
            <NameList
              title="Groups"
              sentence="The user has the policies of every group it belongs to."
              empty="In no group."
              names={d.groups}
              linkTo={(g) => `/identity/groups/${encodeURIComponent(g)}`}
              choices={allGroups.data ?? []}
              pickLabel="Groups to join"
              onAdd={async (names) => {
                for (const g of names) if (!(await act(() => groups.addMembers(g, [name]), `${name} added to ${g}.`))) return false;
                return true;
              }}
              removeLabel={(g) => `Remove ${name} from group ${g}`}
              onRemove={(g) => act(() => groups.removeMembers(g, [name]), `${name} removed from ${g}.`)}
            />
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

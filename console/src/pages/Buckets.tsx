// The buckets list: every bucket the user may list, with its object count and size (the admin
// API's usage figures, "—" when the server has none or the user may not read them), a link to its
// objects and settings, create and delete.
import { ActionIcon, Anchor, Button, Group, Loader, Paper, Table, Text, TextInput, Title, Tooltip, VisuallyHidden } from '@mantine/core';
import { IconPlus, IconRefresh, IconSettings, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { bucketUsage } from '../api/buckets';
import { listBuckets } from '../api/s3';
import { CreateBucketModal, DeleteBucketModal } from '../components/BucketModals';
import { ErrorAlert } from '../components/ErrorAlert';
import { formatBytes, formatCount, formatDate } from '../lib/format';
import { useLoad } from '../lib/use-load';

/** When the list is refused (no s3:ListAllMyBuckets), a bucket the user may read can still be opened by name. */
function OpenByName() {
  const [name, setName] = useState('');
  const navigate = useNavigate();
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim()) navigate(`/browse/${encodeURIComponent(name.trim())}/`);
      }}
    >
      <Group align="flex-end" mt="md">
        <TextInput
          label="Open a bucket by name"
          description="Your policies may allow a bucket without allowing the list."
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          w={360}
        />
        <Button type="submit" variant="default" disabled={name.trim() === ''}>
          Open
        </Button>
      </Group>
    </form>
  );
}

export function BucketsPage() {
  const list = useLoad(async () => {
    const [buckets, usage] = await Promise.all([listBuckets(), bucketUsage()]);
    return { buckets, usage: usage instanceof Map ? usage : undefined, usageError: usage instanceof Map ? undefined : usage };
  }, []);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<string | undefined>();
  const usage = list.data?.usage;
  const totals =
    usage && list.data
      ? list.data.buckets.reduce((t, b) => ({ objects: t.objects + (usage.get(b.name)?.objects ?? 0), bytes: t.bytes + (usage.get(b.name)?.bytes ?? 0) }), {
          objects: 0,
          bytes: 0,
        })
      : undefined;
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>Buckets</Title>
        <Group gap="xs">
          <Button variant="default" leftSection={<IconRefresh size={16} />} onClick={list.reload} loading={list.loading && list.data !== undefined}>
            Refresh
          </Button>
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
            Create bucket
          </Button>
        </Group>
      </Group>
      <ErrorAlert error={list.error} />
      {list.error && <OpenByName />}
      {list.loading && !list.data && <Loader aria-label="Loading buckets" />}
      {list.data && (
        <Paper withBorder>
          <Table striped highlightOnHover verticalSpacing="xs" aria-label="Buckets">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Name</Table.Th>
                <Table.Th scope="col">Created</Table.Th>
                <Table.Th scope="col" ta="right">
                  Objects
                </Table.Th>
                <Table.Th scope="col" ta="right">
                  Size (all versions)
                </Table.Th>
                <Table.Th scope="col" ta="right">
                  Versions
                </Table.Th>
                <Table.Th scope="col">
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.buckets.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={6}>
                    <Text c="dimmed">No buckets yet: create one.</Text>
                  </Table.Td>
                </Table.Tr>
              )}
              {list.data.buckets.map((b) => {
                const u = usage?.get(b.name);
                return (
                  <Table.Tr key={b.name} data-bucket={b.name}>
                    <Table.Td>
                      <Anchor component={Link} to={`/browse/${encodeURIComponent(b.name)}/`} fw={500}>
                        {b.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{formatDate(b.created)}</Table.Td>
                    <Table.Td ta="right" data-testid="objects">
                      {formatCount(u?.objects)}
                    </Table.Td>
                    <Table.Td ta="right" data-testid="bytes">
                      {formatBytes(u?.bytes)}
                    </Table.Td>
                    <Table.Td ta="right" data-testid="versions">
                      {formatCount(u?.versions)}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} justify="flex-end" wrap="nowrap">
                        <Tooltip label="Settings">
                          <ActionIcon
                            component={Link}
                            to={`/buckets/${encodeURIComponent(b.name)}/settings`}
                            variant="subtle"
                            aria-label={`Settings of bucket ${b.name}`}
                          >
                            <IconSettings size={18} />
                          </ActionIcon>
                        </Tooltip>
                        <Tooltip label="Delete">
                          <ActionIcon variant="subtle" color="red" aria-label={`Delete bucket ${b.name}`} onClick={() => setDeleting(b.name)}>
                            <IconTrash size={18} />
                          </ActionIcon>
                        </Tooltip>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
            {totals && list.data.buckets.length > 1 && (
              <Table.Tfoot>
                <Table.Tr>
                  <Table.Th scope="row">Total ({list.data.buckets.length} buckets)</Table.Th>
                  <Table.Td />
                  <Table.Td ta="right">{formatCount(totals.objects)}</Table.Td>
                  <Table.Td ta="right">{formatBytes(totals.bytes)}</Table.Td>
                  <Table.Td />
                  <Table.Td />
                </Table.Tr>
              </Table.Tfoot>
            )}
          </Table>
        </Paper>
      )}
      {list.data?.usageError && (
        <Text size="sm" c="dimmed" mt="xs" data-testid="usage-unavailable">
          Object counts and sizes are not available: {list.data.usageError.code} ({list.data.usageError.message}). They come from the server's usage figures,
          which need the admin:ServerInfo permission.
        </Text>
      )}
      <CreateBucketModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={() => {
          setCreating(false);
          list.reload();
        }}
        onChanged={list.reload}
      />
      <DeleteBucketModal
        bucket={deleting}
        onClose={() => setDeleting(undefined)}
        onDeleted={() => {
          setDeleting(undefined);
          list.reload();
        }}
      />
    </>
  );
}

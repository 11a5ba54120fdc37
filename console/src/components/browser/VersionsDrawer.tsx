// The versions of one object (ListObjectVersions): download or preview any of them, restore an old
// one (CopyObject of that version over the current: the old data becomes a new latest version,
// nothing is lost), delete one version for good (DeleteObject with its versionId).
import { ActionIcon, Badge, Drawer, Group, Loader, Stack, Table, Text, Tooltip } from '@mantine/core';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { IconDownload, IconEye, IconRestore, IconTrash } from '@tabler/icons-react';
import { useCallback, useEffect, useState } from 'react';
import type { ApiError } from '../../api/api';
import { deleteOne, downloadObject, listVersions, restoreVersion, type VersionEntry } from '../../api/objects';
import { asApiError } from '../../lib/errors';
import { formatBytes, formatDate } from '../../lib/format';
import { ErrorAlert } from '../ErrorAlert';

interface Props {
  bucket: string;
  objectKey?: string;
  onClose: () => void;
  onPreview: (key: string, versionId: string) => void;
  /** Called after a restore or delete (the listing may have changed). */
  onChanged: () => void;
}

export function VersionsDrawer({ bucket, objectKey, onClose, onPreview, onChanged }: Props) {
  const [versions, setVersions] = useState<VersionEntry[] | undefined>();
  const [error, setError] = useState<ApiError | undefined>();

  const load = useCallback(() => {
    if (objectKey === undefined) return;
    setError(undefined);
    listVersions(bucket, objectKey).then(setVersions, (e) => {
      setVersions(undefined);
      setError(asApiError(e));
    });
  }, [bucket, objectKey]);

  useEffect(() => {
    setVersions(undefined);
    load();
  }, [load]);

  const act = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
      notifications.show({ color: 'green', message: what });
      load();
      onChanged();
    } catch (e) {
      const err = asApiError(e);
      notifications.show({ color: 'red', title: err.code, message: err.message });
    }
  };

  const restore = (v: VersionEntry) =>
    modals.openConfirmModal({
      title: 'Restore this version?',
      children: (
        <Text size="sm">
          The version of {formatDate(v.lastModified)} is copied over the current one and becomes the latest version. The current version stays in the history.
        </Text>
      ),
      labels: { confirm: 'Restore', cancel: 'Cancel' },
      onConfirm: () => void act('Version restored', () => restoreVersion(bucket, v.key, v.versionId)),
    });

  const remove = (v: VersionEntry) =>
    modals.openConfirmModal({
      title: v.deleteMarker ? 'Remove this delete marker?' : 'Delete this version for good?',
      children: (
        <Text size="sm">
          {v.deleteMarker
            ? 'Removing the delete marker makes the version before it current again.'
            : `Version ${v.versionId} (${formatBytes(v.size)}) is removed permanently; this cannot be undone.`}
        </Text>
      ),
      labels: { confirm: 'Delete', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: () => void act('Version deleted', () => deleteOne(bucket, v.key, v.versionId)),
    });

  return (
    <Drawer opened={objectKey !== undefined} onClose={onClose} position="right" size="xl" title={`Versions of ${objectKey ?? ''}`}>
      <Stack data-testid="versions">
        <ErrorAlert error={error} />
        {!error && !versions && <Loader aria-label="Loading versions" />}
        {versions && versions.length === 0 && <Text>No versions.</Text>}
        {versions && versions.length > 0 && (
          <Table aria-label="Versions" verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Version</Table.Th>
                <Table.Th>Modified</Table.Th>
                <Table.Th>Size</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {versions.map((v) => (
                <Table.Tr key={v.versionId} data-testid="version-row" data-version-id={v.versionId}>
                  <Table.Td>
                    <Group gap={4}>
                      <Text size="xs" ff="monospace">
                        {v.versionId}
                      </Text>
                      {v.isLatest && <Badge size="xs">latest</Badge>}
                      {v.deleteMarker && (
                        <Badge size="xs" color="gray">
                          delete marker
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{formatDate(v.lastModified)}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{v.deleteMarker ? '–' : formatBytes(v.size)}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={2} wrap="nowrap">
                      {!v.deleteMarker && (
                        <>
                          <Tooltip label="Preview">
                            <ActionIcon variant="subtle" aria-label={`Preview version ${v.versionId}`} onClick={() => onPreview(v.key, v.versionId)}>
                              <IconEye size={16} />
                            </ActionIcon>
                          </Tooltip>
                          <Tooltip label="Download">
                            <ActionIcon
                              variant="subtle"
                              aria-label={`Download version ${v.versionId}`}
                              onClick={() => void act('Download started', () => downloadObject(bucket, v.key, v.versionId))}
                            >
                              <IconDownload size={16} />
                            </ActionIcon>
                          </Tooltip>
                          {!v.isLatest && (
                            <Tooltip label="Restore (copy over the current version)">
                              <ActionIcon variant="subtle" aria-label={`Restore version ${v.versionId}`} onClick={() => restore(v)}>
                                <IconRestore size={16} />
                              </ActionIcon>
                            </Tooltip>
                          )}
                        </>
                      )}
                      <Tooltip label="Delete this version">
                        <ActionIcon variant="subtle" color="red" aria-label={`Delete version ${v.versionId}`} onClick={() => remove(v)}>
                          <IconTrash size={16} />
                        </ActionIcon>
                      </Tooltip>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Drawer>
  );
}

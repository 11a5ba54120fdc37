// Uploading into the folder shown: drop files or folders anywhere on the page (folders are walked
// through the DataTransfer items), or pick files or a whole folder (webkitdirectory). The panel shows
// the total progress and each file's, with cancel (which aborts a multipart upload) and retry.
import { Badge, Button, CloseButton, Group, Paper, Progress, ScrollArea, Stack, Text } from '@mantine/core';
import { Dropzone } from '@mantine/dropzone';
import { IconFolderUp, IconRefresh, IconUpload, IconX } from '@tabler/icons-react';
import { useRef, useSyncExternalStore } from 'react';
import type { UploadItem, UploadQueue } from '../../api/upload';
import { formatBytes } from '../../lib/format';

const STATUS_COLOR: Record<UploadItem['status'], string> = {
  queued: 'gray',
  uploading: 'blue',
  done: 'green',
  failed: 'red',
  cancelled: 'orange',
};

/** The two pickers and the page-wide drop target. */
export function UploadButtons({ onFiles }: { onFiles: (files: File[]) => void }) {
  const filesRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const take = (input: HTMLInputElement) => {
    const files = Array.from(input.files ?? []);
    input.value = '';
    if (files.length > 0) onFiles(files);
  };
  return (
    <>
      <Button variant="default" leftSection={<IconUpload size={16} />} onClick={() => filesRef.current?.click()}>
        Upload files
      </Button>
      <Button variant="default" leftSection={<IconFolderUp size={16} />} onClick={() => folderRef.current?.click()}>
        Upload folder
      </Button>
      <input ref={filesRef} type="file" multiple hidden aria-label="Files to upload" data-testid="upload-files-input" onChange={(e) => take(e.currentTarget)} />
      <input
        ref={folderRef}
        type="file"
        multiple
        hidden
        aria-label="Folder to upload"
        data-testid="upload-folder-input"
        {...{ webkitdirectory: '', directory: '' }}
        onChange={(e) => take(e.currentTarget)}
      />
      <Dropzone.FullScreen onDrop={onFiles} multiple activateOnClick={false}>
        <Stack align="center" justify="center" mih={200} style={{ pointerEvents: 'none' }}>
          <IconUpload size={48} aria-hidden />
          <Text size="xl">Drop files or folders to upload them here</Text>
        </Stack>
      </Dropzone.FullScreen>
    </>
  );
}

export function UploadPanel({ queue }: { queue: UploadQueue }) {
  const items = useSyncExternalStore(queue.subscribe, queue.getSnapshot);
  if (items.length === 0) return null;
  const total = items.reduce((a, i) => a + (i.status === 'cancelled' ? 0 : i.size), 0);
  const loaded = items.reduce((a, i) => a + (i.status === 'cancelled' ? 0 : i.loaded), 0);
  const pct = total === 0 ? 100 : Math.floor((loaded / total) * 100);
  const count = (s: UploadItem['status']) => items.filter((i) => i.status === s).length;
  const active = count('queued') + count('uploading');
  const failed = count('failed') + count('cancelled');
  return (
    <Paper withBorder p="sm" data-testid="upload-panel" aria-label="Uploads" component="section">
      <Stack gap="xs">
        <Group justify="space-between">
          <Text fw={600} data-testid="upload-summary">
            {active > 0 ? 'Uploading' : 'Uploaded'} {count('done')} of {items.length} files · {formatBytes(loaded)} of {formatBytes(total)} ({pct}%)
          </Text>
          <Group gap="xs">
            {active > 0 && (
              <Button size="xs" variant="default" color="red" leftSection={<IconX size={14} />} onClick={() => queue.cancelAll()}>
                Cancel all
              </Button>
            )}
            {failed > 0 && active === 0 && (
              <Button size="xs" variant="default" leftSection={<IconRefresh size={14} />} onClick={() => queue.retryFailed()}>
                Retry {failed}
              </Button>
            )}
            {active === 0 && (
              <Button size="xs" variant="subtle" onClick={() => queue.clearFinished()}>
                Clear
              </Button>
            )}
          </Group>
        </Group>
        <Progress.Root size="lg">
          <Progress.Section value={pct} aria-label="Total upload progress" data-testid="upload-total" animated={active > 0} />
        </Progress.Root>
        <ScrollArea.Autosize mah={180} type="auto">
          <Stack gap={4} component="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
            {items.map((i) => {
              const p = i.size === 0 ? (i.status === 'done' ? 100 : 0) : Math.floor((i.loaded / i.size) * 100);
              return (
                <Group key={i.id} component="li" gap="xs" wrap="nowrap" data-testid="upload-item" data-status={i.status}>
                  <Text size="xs" style={{ flex: '0 1 40%', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={i.key}>
                    {i.key}
                  </Text>
                  <Progress.Root size="sm" style={{ flex: 1 }}>
                    <Progress.Section value={p} aria-label={`Progress of ${i.key}`} color={STATUS_COLOR[i.status]} />
                  </Progress.Root>
                  <Text size="xs" w={70} ta="right">
                    {formatBytes(i.size)}
                  </Text>
                  <Badge size="xs" w={84} color={STATUS_COLOR[i.status]} title={i.error ? `${i.error.code}: ${i.error.message}` : undefined}>
                    {i.status === 'failed' && i.error ? i.error.code : i.status}
                  </Badge>
                  {(i.status === 'queued' || i.status === 'uploading') && (
                    <CloseButton size="sm" aria-label={`Cancel upload of ${i.key}`} onClick={() => queue.cancel(i.id)} />
                  )}
                </Group>
              );
            })}
          </Stack>
        </ScrollArea.Autosize>
        {items
          .filter((i) => i.status === 'failed' && i.error)
          .slice(0, 3)
          .map((i) => (
            <Text key={i.id} size="xs" c="red" role="alert">
              {i.key}: {i.error?.code} — {i.error?.message}
            </Text>
          ))}
      </Stack>
    </Paper>
  );
}

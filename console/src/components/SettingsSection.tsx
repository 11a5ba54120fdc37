// What every settings form shares: a titled panel with the one sentence saying what the setting
// does, the load error or a loader, the save error (S3's code and message), a save hook that
// notifies on success, and an editor of key/value rows (tags).
import { ActionIcon, Button, Group, Loader, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { useCallback, useState, type ReactNode } from 'react';
import type { ApiError } from '../api/api';
import type { Tag } from '../api/buckets';
import { useAct } from '../lib/use-act';
import { ErrorAlert } from './ErrorAlert';

export function SettingsSection({
  title,
  sentence,
  loaded,
  save,
  children,
}: {
  title: string;
  sentence: string;
  /** The form's data: a loader until it first arrives, its error instead of the form. */
  loaded: { loading: boolean; data: unknown; error: ApiError | undefined };
  save: { error: ApiError | undefined };
  children: ReactNode;
}) {
  const loading = loaded.loading && loaded.data === undefined;
  const loadError = loaded.error;
  const saveError = save.error;
  return (
    <Paper withBorder p="md" component="section" aria-label={title}>
      <Stack gap="sm">
        <div>
          <Title order={3} size="h4">
            {title}
          </Title>
          <Text size="sm" c="dimmed" data-testid="sentence">
            {sentence}
          </Text>
        </div>
        <ErrorAlert error={loadError} />
        <ErrorAlert error={saveError} />
        {loading ? <Loader size="sm" aria-label={`Loading ${title}`} /> : !loadError && children}
      </Stack>
    </Paper>
  );
}

/** Runs a save: busy while it runs, the error kept for the section, a notification and `reload` on success. */
export function useSave(reload: () => void): {
  busy: boolean;
  error: ApiError | undefined;
  run: (fn: () => Promise<unknown>, done: string) => Promise<boolean>;
} {
  const { error, act } = useAct(reload);
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async (fn: () => Promise<unknown>, done: string) => {
      setBusy(true);
      try {
        return await act(fn, done);
      } finally {
        setBusy(false);
      }
    },
    [act],
  );
  return { busy, error, run };
}

/** Rows of key and value inputs with add and remove buttons; `what` names them in labels ("Tag"). */
export function TagRows({ tags, onChange, what = 'Tag' }: { tags: Tag[]; onChange: (t: Tag[]) => void; what?: string }) {
  const set = (i: number, t: Partial<Tag>) => onChange(tags.map((x, j) => (j === i ? { ...x, ...t } : x)));
  return (
    <Stack gap="xs">
      {tags.map((t, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place; their keys may repeat while typed
        <Group key={i} gap="xs" align="flex-end" wrap="nowrap">
          <TextInput label={`${what} ${i + 1} key`} value={t.key} onChange={(e) => set(i, { key: e.currentTarget.value })} style={{ flex: 1 }} />
          <TextInput label={`${what} ${i + 1} value`} value={t.value} onChange={(e) => set(i, { value: e.currentTarget.value })} style={{ flex: 1 }} />
          <ActionIcon
            variant="subtle"
            color="red"
            size="lg"
            aria-label={`Remove ${what.toLowerCase()} ${i + 1}`}
            onClick={() => onChange(tags.filter((_, j) => j !== i))}
          >
            <IconTrash size={18} />
          </ActionIcon>
        </Group>
      ))}
      <Group>
        <Button variant="default" size="xs" leftSection={<IconPlus size={14} />} onClick={() => onChange([...tags, { key: '', value: '' }])}>
          Add {what.toLowerCase()}
        </Button>
      </Group>
    </Stack>
  );
}

// A titled list of names (links), each with a remove button, and a picker to add more: a user's
// policies and groups, a group's members and policies.
import { ActionIcon, Anchor, Button, Group, MultiSelect, Paper, Stack, Text, Title, Tooltip } from '@mantine/core';
import { IconX } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';

export function NameList({
  title,
  sentence,
  names,
  linkTo,
  choices,
  pickLabel,
  onAdd,
  onRemove,
  removeLabel = (n) => `Remove ${n}`,
  empty = 'None.',
}: {
  title: string;
  sentence: string;
  names: string[];
  linkTo: (n: string) => string;
  choices: string[];
  pickLabel: string;
  onAdd: (names: string[]) => Promise<boolean>;
  onRemove: (n: string) => void;
  /** The remove button's label for a name (default `Remove NAME`). */
  removeLabel?: (n: string) => string;
  empty?: string;
}) {
  const [picked, setPicked] = useState<string[]>([]);
  return (
    <Paper withBorder p="md" component="section" aria-label={title}>
      <Title order={4}>{title}</Title>
      <Text size="sm" c="dimmed" mb="xs">
        {sentence}
      </Text>
      <Stack gap={4} mb="sm">
        {names.length === 0 && <Text size="sm">{empty}</Text>}
        {names.map((n) => (
          <Group key={n} justify="space-between">
            <Anchor component={Link} to={linkTo(n)}>
              {n}
            </Anchor>
            <Tooltip label="Remove">
              <ActionIcon variant="subtle" color="red" aria-label={removeLabel(n)} onClick={() => onRemove(n)}>
                <IconX size={16} />
              </ActionIcon>
            </Tooltip>
          </Group>
        ))}
      </Stack>
      <Group align="flex-end">
        <MultiSelect label={pickLabel} data={choices.filter((c) => !names.includes(c))} value={picked} onChange={setPicked} searchable style={{ flex: 1 }} />
        <Button disabled={picked.length === 0} onClick={async () => (await onAdd(picked)) && setPicked([])} aria-label={`Add: ${pickLabel}`}>
          Add
        </Button>
      </Group>
    </Paper>
  );
}

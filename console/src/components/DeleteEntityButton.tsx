// The "Delete user/group/policy" button of an entity's page: confirms, deletes, then leaves for
// the list (useAct's removeAndLeave); its label is the confirmation's.
import { Button } from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import type { RemoveAndLeave } from '../lib/use-act';

export function DeleteEntityButton({ onDelete, what }: { onDelete: (w: RemoveAndLeave) => void; what: RemoveAndLeave }) {
  return (
    <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={() => onDelete(what)}>
      {what.confirm}
    </Button>
  );
}

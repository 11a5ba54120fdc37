// A confirmation dialog for destructive actions (delete a user, a group, a key…): resolves true
// when the user confirms. Mantine's modal traps focus and returns it on close.
import { Text } from '@mantine/core';
import { modals } from '@mantine/modals';

export function confirmDanger(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    modals.openConfirmModal({
      title,
      children: <Text size="sm">{text}</Text>,
      labels: { confirm: confirmLabel, cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: () => resolve(true),
      onCancel: () => resolve(false),
      onClose: () => resolve(false),
    });
  });
}

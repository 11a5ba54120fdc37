// The dialog that creates a named thing (bucket, user, group): a form with the server's error on
// top, the name field (focused on open, checked as typed), the caller's other fields, and Cancel /
// Create buttons. `useSubmit` runs its submission: busy meanwhile, the error kept for the alert.
import { Button, Group, Modal, Stack, TextInput } from '@mantine/core';
import { type FormEvent, type ReactNode, useCallback, useState } from 'react';
import type { ApiError } from '../api/api';
import { asApiError } from '../lib/errors';
import { ErrorAlert } from './ErrorAlert';

export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  /** A form's onSubmit running `fn`: no page load, busy while it runs, its error kept. */
  const submit = useCallback(
    (fn: () => Promise<void>) => async (e?: FormEvent) => {
      e?.preventDefault();
      setBusy(true);
      setError(undefined);
      try {
        await fn();
      } catch (err) {
        setError(asApiError(err));
      } finally {
        setBusy(false);
      }
    },
    [],
  );
  return { busy, error, setError, submit };
}

export function CreateDialog({
  title,
  opened,
  onClose,
  onSubmit,
  busy,
  error,
  nameLabel,
  name,
  onName,
  nameProblem,
  submitLabel,
  submitDisabled = false,
  cancelLabel = 'Cancel',
  size,
  children,
}: {
  title: string;
  opened: boolean;
  onClose: () => void;
  onSubmit: (e: FormEvent) => void;
  busy: boolean;
  error: ApiError | undefined;
  nameLabel: string;
  name: string;
  onName: (v: string) => void;
  nameProblem: string | undefined;
  submitLabel: string;
  submitDisabled?: boolean;
  cancelLabel?: string;
  size?: string;
  children?: ReactNode;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title={title} size={size}>
      <form onSubmit={onSubmit}>
        <Stack>
          <ErrorAlert error={error} />
          <TextInput
            label={nameLabel}
            required
            data-autofocus
            value={name}
            onChange={(e) => onName(e.currentTarget.value)}
            error={nameProblem}
            autoComplete="off"
          />
          {children}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {cancelLabel}
            </Button>
            <Button type="submit" loading={busy} disabled={submitDisabled || name === '' || nameProblem !== undefined}>
              {submitLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

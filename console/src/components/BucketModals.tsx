// The create-bucket dialog (name, versioning, object lock, default encryption) and the delete
// dialog, which asks for the bucket's name typed out before it deletes.
import { Button, Checkbox, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useEffect, useState } from 'react';
import { createBucket, deleteBucket, type EncryptionSetting } from '../api/buckets';
import { CreateDialog, useSubmit } from './CreateDialog';
import { ErrorAlert } from './ErrorAlert';

/** S3's bucket naming rules, checked as the user types (the server checks again: InvalidBucketName). */
export function bucketNameProblem(name: string): string | undefined {
  if (name === '') return undefined;
  if (name.length < 3 || name.length > 63) return 'Between 3 and 63 characters.';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return 'Lower-case letters, digits, dots and hyphens; starting and ending with a letter or digit.';
  if (name.includes('..')) return 'No two dots in a row.';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'Not shaped like an IP address.';
  return undefined;
}

/**
 * `onCreated` when the bucket and all its options were made; when a later option is refused the
 * bucket exists: `onChanged` refreshes the list and the dialog stays open with the error.
 */
export function CreateBucketModal({
  opened,
  onClose,
  onCreated,
  onChanged,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (name: string) => void;
  onChanged: () => void;
}) {
  const [name, setName] = useState('');
  const [versioning, setVersioning] = useState(false);
  const [objectLock, setObjectLock] = useState(false);
  const [algorithm, setAlgorithm] = useState<EncryptionSetting['algorithm']>('none');
  const [keyId, setKeyId] = useState('');
  const { busy, error, setError, submit } = useSubmit();
  const [made, setMade] = useState(false);
  useEffect(() => {
    if (!opened) return;
    setMade(false);
    setName('');
    setVersioning(false);
    setObjectLock(false);
    setAlgorithm('none');
    setKeyId('');
    setError(undefined);
  }, [opened, setError]);
  return (
    <CreateDialog
      title="Create bucket"
      size="lg"
      opened={opened}
      onClose={onClose}
      onSubmit={submit(async () => {
        const refused = await createBucket(name, { versioning, objectLock, encryption: { algorithm, keyId: keyId.trim() || undefined } });
        if (refused) {
          setMade(true);
          setError(refused);
          onChanged();
          return;
        }
        notifications.show({ color: 'teal', message: `Bucket ${name} created.` });
        onCreated(name);
      })}
      busy={busy}
      error={error}
      nameLabel="Bucket name"
      name={name}
      onName={(v) => {
        setName(v);
        setMade(false);
      }}
      nameProblem={bucketNameProblem(name)}
      submitLabel="Create"
      submitDisabled={made}
      cancelLabel={made ? 'Close' : 'Cancel'}
    >
      <Checkbox
        label="Versioning"
        description="Keep every version of an object: overwrites and deletes can be undone."
        checked={versioning || objectLock}
        disabled={objectLock}
        onChange={(e) => setVersioning(e.currentTarget.checked)}
      />
      <Checkbox
        label="Object lock"
        description="Allow retention periods and legal holds that stop versions being deleted (turns versioning on, and cannot be turned off)."
        checked={objectLock}
        onChange={(e) => setObjectLock(e.currentTarget.checked)}
      />
      <Select
        label="Default encryption"
        description="How objects written without encryption headers are encrypted at rest."
        data={[
          { value: 'none', label: "Server's default" },
          { value: 'AES256', label: 'SSE-S3 (AES-256, keys managed by the server)' },
          { value: 'aws:kms', label: 'SSE-KMS (a key of the key service)' },
        ]}
        value={algorithm}
        onChange={(v) => setAlgorithm((v ?? 'none') as EncryptionSetting['algorithm'])}
        allowDeselect={false}
      />
      {algorithm === 'aws:kms' && (
        <TextInput label="KMS key id" description="Empty: the key service's default key." value={keyId} onChange={(e) => setKeyId(e.currentTarget.value)} />
      )}
    </CreateDialog>
  );
}

export function DeleteBucketModal({ bucket, onClose, onDeleted }: { bucket: string | undefined; onClose: () => void; onDeleted: () => void }) {
  const [typed, setTyped] = useState('');
  const { busy, error, setError, submit } = useSubmit();
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new bucket to delete starts a clean form
  useEffect(() => {
    setTyped('');
    setError(undefined);
  }, [bucket]);
  return (
    <Modal opened={bucket !== undefined} onClose={onClose} title={`Delete bucket ${bucket ?? ''}`}>
      <form
        onSubmit={submit(async () => {
          if (!bucket || typed !== bucket) return;
          await deleteBucket(bucket);
          notifications.show({ color: 'teal', message: `Bucket ${bucket} deleted.` });
          onDeleted();
        })}
      >
        <Stack>
          <Text size="sm">
            This deletes the bucket <b>{bucket}</b>. S3 deletes only an empty bucket (no objects, versions or uploads in progress). It cannot be undone.
          </Text>
          <ErrorAlert error={error} />
          <TextInput
            label={`Type ${bucket ?? ''} to confirm`}
            data-autofocus
            value={typed}
            onChange={(e) => setTyped(e.currentTarget.value)}
            autoComplete="off"
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" color="red" loading={busy} disabled={typed !== bucket}>
              Delete bucket
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

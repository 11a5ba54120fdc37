// A refused or failed action as the server said it: the S3/admin error code as the title, its
// message as the text (role="alert": screen readers announce it).
import { Alert } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import type { ApiError } from '../api/api';

export function ErrorAlert({ error, onClose }: { error: ApiError | undefined; onClose?: () => void }) {
  if (!error) return null;
  return (
    <Alert
      color="red"
      variant="light"
      title={error.code}
      icon={<IconAlertTriangle size={18} />}
      role="alert"
      data-testid="error"
      withCloseButton={onClose !== undefined}
      closeButtonLabel="Dismiss error"
      onClose={onClose}
    >
      {error.message}
    </Alert>
  );
}

// A new access key's secret, shown once: the server never gives it again. Copy buttons for both
// parts; closing needs an explicit acknowledgement.
import { Alert, Button, Code, CopyButton, Group, Modal, Stack, Text } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';

export interface ShownKey {
  user: string;
  accessKey: string;
  secretKey: string;
}

function CopyRow({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div>
      <Text size="sm" fw={500}>
        {label}
      </Text>
      <Group gap="xs" wrap="nowrap">
        <Code block style={{ flex: 1, wordBreak: 'break-all' }} data-testid={testId}>
          {value}
        </Code>
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Button
              variant={copied ? 'light' : 'default'}
              color={copied ? 'teal' : undefined}
              onClick={copy}
              leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
              aria-label={`Copy ${label.toLowerCase()}`}
            >
              {copied ? 'Copied' : 'Copy'}
            </Button>
          )}
        </CopyButton>
      </Group>
    </div>
  );
}

export function SecretModal({ shown, onClose }: { shown: ShownKey | undefined; onClose: () => void }) {
  return (
    <Modal opened={shown !== undefined} onClose={onClose} title={`New access key of ${shown?.user ?? ''}`} size="lg" closeOnClickOutside={false}>
      {shown && (
        <Stack>
          <Alert color="yellow" title="Shown once">
            Copy the secret key now: the server keeps it sealed and never shows it again. If it is lost, delete this key and create another.
          </Alert>
          <CopyRow label="Access key" value={shown.accessKey} testId="new-access-key" />
          <CopyRow label="Secret key" value={shown.secretKey} testId="new-secret-key" />
          <Group justify="flex-end">
            <Button onClick={onClose} data-autofocus>
              I have saved the secret
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

// A share link: a presigned GET URL for one object (or version) made by the server (/api/presign)
// with the session's own key, valid for the chosen time; copied to the clipboard.
import { Button, Group, Modal, NativeSelect, Stack, Text, TextInput } from '@mantine/core';
import { IconCheck, IconCopy, IconLink } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import type { ApiError } from '../../api/api';
import { presign, type PresignResult } from '../../api/objects';
import { asApiError } from '../../lib/errors';
import { formatDate } from '../../lib/format';
import { ErrorAlert } from '../ErrorAlert';

const EXPIRIES = [
  { value: '900', label: '15 minutes' },
  { value: '3600', label: '1 hour' },
  { value: '43200', label: '12 hours' },
  { value: '86400', label: '1 day' },
  { value: '604800', label: '7 days (the most S3 allows)' },
];

/** Copies text; falls back to a selected textarea where the Clipboard API is missing (plain http). */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.append(ta);
  ta.select();
  const ok = document.execCommand('copy');
  ta.remove();
  if (!ok) throw new Error('The browser refused to copy');
}

export function ShareModal({ bucket, objectKey, versionId, onClose }: { bucket: string; objectKey?: string; versionId?: string; onClose: () => void }) {
  const [expiry, setExpiry] = useState('3600');
  const [result, setResult] = useState<PresignResult | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new object starts a new link
  useEffect(() => {
    setResult(undefined);
    setError(undefined);
    setCopied(false);
  }, [objectKey, versionId]);

  const create = async () => {
    if (objectKey === undefined) return;
    setBusy(true);
    setError(undefined);
    setCopied(false);
    try {
      const r = await presign(bucket, objectKey, Number(expiry), versionId);
      setResult(r);
      try {
        await copyText(r.url);
        setCopied(true);
      } catch {
        // shown, to be copied by hand
      }
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={objectKey !== undefined} onClose={onClose} title={`Share ${objectKey?.split('/').pop() ?? ''}`} size="lg" centered>
      <Stack>
        <Text size="sm">
          Anyone with the link can download this object until it expires, with your permissions; no login is needed. Deleting or disabling your access key ends
          it earlier.
        </Text>
        <Group align="flex-end">
          <NativeSelect label="Link valid for" data={EXPIRIES} value={expiry} onChange={(e) => setExpiry(e.currentTarget.value)} w={260} />
          <Button leftSection={<IconLink size={16} />} onClick={() => void create()} loading={busy}>
            Create link
          </Button>
        </Group>
        <ErrorAlert error={error} />
        {result && (
          <>
            <TextInput label="Share link" value={result.url} readOnly onFocus={(e) => e.currentTarget.select()} data-testid="share-url" />
            <Group justify="space-between">
              <Text size="sm" data-testid="share-expiry">
                Expires {formatDate(result.expiresAt)}
              </Text>
              <Button
                variant="light"
                leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                onClick={() =>
                  copyText(result.url).then(
                    () => setCopied(true),
                    () => setCopied(false),
                  )
                }
              >
                {copied ? 'Copied' : 'Copy link'}
              </Button>
            </Group>
          </>
        )}
      </Stack>
    </Modal>
  );
}

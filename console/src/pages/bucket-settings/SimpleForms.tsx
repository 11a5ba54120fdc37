// The short bucket settings forms: versioning, tags, default encryption, object lock's default
// retention. Each reads its subresource with S3's GET and writes it with S3's PUT (or DELETE).
import { Button, Checkbox, Group, NumberInput, Radio, Select, Stack, Text, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import {
  type EncryptionSetting,
  getEncryption,
  getObjectLock,
  getTags,
  getVersioning,
  type ObjectLockSetting,
  putEncryption,
  putObjectLock,
  putTags,
  putVersioning,
  type Tag,
  type VersioningStatus,
} from '../../api/buckets';
import { SettingsSection, TagRows, useSave } from '../../components/SettingsSection';
import { useEditable, useLoad } from '../../lib/use-load';

export function VersioningForm({ bucket }: { bucket: string }) {
  const loaded = useEditable<VersioningStatus>(() => getVersioning(bucket), [bucket], 'Unversioned');
  const { value: status, setValue: setStatus } = loaded;
  const save = useSave(loaded.reload);
  return (
    <SettingsSection
      title="Versioning"
      sentence="Versioning keeps every version of each object, so an overwrite or a delete can be undone; once enabled it can be suspended but never turned off."
      loaded={loaded}
      save={save}
    >
      <Text size="sm" data-testid="versioning-status">
        Current status: <b>{loaded.data === 'Unversioned' ? 'never enabled' : loaded.data}</b>
      </Text>
      <Radio.Group label="Versioning" value={status} onChange={(v) => setStatus(v as VersioningStatus)}>
        <Group mt="xs">
          <Radio value="Enabled" label="Enabled" />
          <Radio value="Suspended" label="Suspended" disabled={loaded.data === 'Unversioned'} />
        </Group>
      </Radio.Group>
      <Group>
        <Button
          loading={save.busy}
          disabled={status === 'Unversioned' || status === loaded.data}
          onClick={async () => {
            if (status !== 'Unversioned') await save.run(() => putVersioning(bucket, status), `Versioning of ${bucket}: ${status}.`);
          }}
        >
          Save versioning
        </Button>
      </Group>
    </SettingsSection>
  );
}

export function TagsForm({ bucket }: { bucket: string }) {
  const loaded = useEditable<Tag[]>(() => getTags(bucket), [bucket], []);
  const { value: tags, setValue: setTags } = loaded;
  const save = useSave(loaded.reload);
  const keys = tags.map((t) => t.key);
  const problem = keys.some((k) => k.trim() === '')
    ? 'Every tag needs a key.'
    : new Set(keys).size !== keys.length
      ? 'Tag keys must differ.'
      : tags.length > 50
        ? 'At most 50 tags.'
        : undefined;
  return (
    <SettingsSection
      title="Tags"
      sentence="Tags are key/value labels on the bucket, for your own bookkeeping and for policy conditions; saving an empty list removes them."
      loaded={loaded}
      save={save}
    >
      <TagRows tags={tags} onChange={setTags} />
      {problem && (
        <Text size="sm" c="red" role="status">
          {problem}
        </Text>
      )}
      <Group>
        <Button loading={save.busy} disabled={problem !== undefined} onClick={() => save.run(() => putTags(bucket, tags), `Tags of ${bucket} saved.`)}>
          Save tags
        </Button>
      </Group>
    </SettingsSection>
  );
}

export function EncryptionForm({ bucket }: { bucket: string }) {
  const loaded = useEditable<EncryptionSetting>(() => getEncryption(bucket), [bucket], { algorithm: 'none' });
  const { value: s, setValue: setS } = loaded;
  const save = useSave(loaded.reload);
  return (
    <SettingsSection
      title="Default encryption"
      sentence="Default encryption says how objects written without encryption headers of their own are encrypted at rest."
      loaded={loaded}
      save={save}
    >
      <Select
        label="Encryption of new objects"
        data={[
          { value: 'none', label: "Server's default (no rule on the bucket)" },
          { value: 'AES256', label: 'SSE-S3 (AES-256, keys managed by the server)' },
          { value: 'aws:kms', label: 'SSE-KMS (a key of the key service)' },
        ]}
        value={s.algorithm}
        allowDeselect={false}
        onChange={(v) => setS({ ...s, algorithm: (v ?? 'none') as EncryptionSetting['algorithm'] })}
      />
      {s.algorithm === 'aws:kms' && (
        <>
          <TextInput
            label="KMS key id"
            description="Empty: the key service's default key."
            value={s.keyId ?? ''}
            onChange={(e) => setS({ ...s, keyId: e.currentTarget.value || undefined })}
          />
          <Checkbox
            label="Bucket key"
            description="Recorded as S3 does; Strata derives keys per object either way."
            checked={s.bucketKey ?? false}
            onChange={(e) => setS({ ...s, bucketKey: e.currentTarget.checked })}
          />
        </>
      )}
      <Group>
        <Button loading={save.busy} onClick={() => save.run(() => putEncryption(bucket, s), `Default encryption of ${bucket} saved.`)}>
          Save encryption
        </Button>
      </Group>
    </SettingsSection>
  );
}

export function ObjectLockForm({ bucket }: { bucket: string }) {
  const loaded = useLoad(() => getObjectLock(bucket), [bucket]);
  const [s, setS] = useState<ObjectLockSetting>({ enabled: false });
  const [unit, setUnit] = useState<'days' | 'years'>('days');
  const save = useSave(loaded.reload);
  useEffect(() => {
    if (!loaded.data) return;
    setS(loaded.data);
    setUnit(loaded.data.years !== undefined ? 'years' : 'days');
  }, [loaded.data]);
  const period = unit === 'years' ? s.years : s.days;
  const invalid = s.mode !== undefined && (period === undefined || period < 1);
  return (
    <SettingsSection
      title="Object lock"
      sentence="Object lock's default retention protects every new object version from deletion and overwrite for a set period (GOVERNANCE: privileged users may bypass it; COMPLIANCE: nobody may)."
      loaded={loaded}
      save={save}
    >
      <Text size="sm" data-testid="object-lock-status">
        {loaded.data?.enabled
          ? 'Object lock is enabled on this bucket.'
          : 'Object lock is off. Saving a configuration turns it on for good (the bucket must have versioning enabled).'}
      </Text>
      <Radio.Group
        label="Default retention mode"
        value={s.mode ?? 'none'}
        onChange={(v) => setS({ ...s, mode: v === 'none' ? undefined : (v as 'GOVERNANCE' | 'COMPLIANCE') })}
      >
        <Group mt="xs">
          <Radio value="none" label="None" />
          <Radio value="GOVERNANCE" label="Governance" />
          <Radio value="COMPLIANCE" label="Compliance" />
        </Group>
      </Radio.Group>
      {s.mode && (
        <Stack gap="xs">
          <Group align="flex-end">
            <NumberInput
              label="Retention period"
              min={1}
              value={period ?? ''}
              onChange={(v) => {
                const n = typeof v === 'number' ? v : undefined;
                setS(unit === 'years' ? { ...s, years: n, days: undefined } : { ...s, days: n, years: undefined });
              }}
              error={invalid ? 'A whole number of days or years, at least 1.' : undefined}
            />
            <Select
              label="Unit"
              data={[
                { value: 'days', label: 'days' },
                { value: 'years', label: 'years' },
              ]}
              value={unit}
              allowDeselect={false}
              onChange={(v) => {
                const u = v === 'years' ? 'years' : 'days';
                setUnit(u);
                setS(u === 'years' ? { ...s, years: period, days: undefined } : { ...s, days: period, years: undefined });
              }}
              w={120}
            />
          </Group>
        </Stack>
      )}
      <Group>
        <Button loading={save.busy} disabled={invalid} onClick={() => save.run(() => putObjectLock(bucket, s), `Object lock of ${bucket} saved.`)}>
          Save object lock
        </Button>
      </Group>
    </SettingsSection>
  );
}

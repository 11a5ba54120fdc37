// A bucket's settings, one tab per S3 subresource (the tab is in the URL: ?tab=policy), each a
// form that reads and writes it through S3's own API as the logged-in user.
import { Anchor, Breadcrumbs, Group, Tabs, Title } from '@mantine/core';
import { Link, useParams, useSearchParams } from 'react-router';
import { PolicyForm } from './bucket-settings/PolicyForm';
import { CorsForm, LifecycleForm } from './bucket-settings/RuleForms';
import { EncryptionForm, ObjectLockForm, TagsForm, VersioningForm } from './bucket-settings/SimpleForms';

const TABS = [
  { value: 'versioning', label: 'Versioning', Form: VersioningForm },
  { value: 'lifecycle', label: 'Lifecycle', Form: LifecycleForm },
  { value: 'cors', label: 'CORS', Form: CorsForm },
  { value: 'tags', label: 'Tags', Form: TagsForm },
  { value: 'policy', label: 'Policy', Form: PolicyForm },
  { value: 'encryption', label: 'Encryption', Form: EncryptionForm },
  { value: 'object-lock', label: 'Object lock', Form: ObjectLockForm },
] as const;

export function BucketSettingsPage() {
  const bucket = useParams().bucket ?? '';
  const [params, setParams] = useSearchParams();
  const tab = TABS.find((t) => t.value === params.get('tab'))?.value ?? 'versioning';
  return (
    <>
      <Breadcrumbs mb="xs" aria-label="Breadcrumb">
        <Anchor component={Link} to="/buckets">
          Buckets
        </Anchor>
        <Anchor component={Link} to={`/browse/${encodeURIComponent(bucket)}/`}>
          {bucket}
        </Anchor>
      </Breadcrumbs>
      <Group justify="space-between" mb="md">
        <Title order={2}>Settings of {bucket}</Title>
      </Group>
      <Tabs value={tab} onChange={(v) => v && setParams({ tab: v }, { replace: true })} keepMounted={false}>
        <Tabs.List mb="md" aria-label="Bucket settings">
          {TABS.map((t) => (
            <Tabs.Tab key={t.value} value={t.value}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {TABS.map((t) => (
          <Tabs.Panel key={t.value} value={t.value}>
            <t.Form bucket={bucket} />
          </Tabs.Panel>
        ))}
      </Tabs>
    </>
  );
}

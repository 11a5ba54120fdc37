// The bucket policy: a JSON editor checked as you type, templates made from the server's canned
// policies (for everyone or for one user), save (PutBucketPolicy: the server's MalformedPolicy
// reason is shown as it is) and delete.
import { Button, Group, Select, TextInput } from '@mantine/core';
import { useState } from 'react';
import { deletePolicy, getPolicy, putPolicy } from '../../api/buckets';
import { JsonEditor, jsonEditorValid } from '../../components/JsonEditor';
import { SettingsSection, useSave } from '../../components/SettingsSection';
import { BUCKET_TEMPLATES, bucketTemplate, prettyJson } from '../../lib/policy';
import { useEditable } from '../../lib/use-load';

export function PolicyForm({ bucket }: { bucket: string }) {
  const loaded = useEditable(async () => prettyJson(await getPolicy(bucket)), [bucket], '');
  const { value: text, setValue: setText } = loaded;
  const [template, setTemplate] = useState<string | null>(null);
  const [who, setWho] = useState('*');
  const save = useSave(loaded.reload);
  return (
    <SettingsSection
      title="Bucket policy"
      sentence="A bucket policy allows or denies other users, or anyone at all (anonymous callers), actions on this bucket and its objects."
      loaded={loaded}
      save={save}
    >
      <Group align="flex-end">
        <Select
          label="Start from a canned policy"
          placeholder="Choose a template"
          data={BUCKET_TEMPLATES.map((t) => ({ value: t.name, label: `${t.name}: ${t.description}` }))}
          value={template}
          onChange={setTemplate}
          w={420}
          comboboxProps={{ withinPortal: true }}
        />
        <TextInput
          label="For whom"
          description="* = everyone, anonymous included; or a user name"
          value={who}
          onChange={(e) => setWho(e.currentTarget.value)}
          w={240}
        />
        <Button variant="default" disabled={!template} onClick={() => template && setText(bucketTemplate(template, bucket, who))}>
          Use template
        </Button>
      </Group>
      <JsonEditor label="Policy document" kind="bucket" value={text} onChange={setText} />
      <Group>
        <Button
          loading={save.busy}
          disabled={!jsonEditorValid(text, 'bucket')}
          onClick={() => save.run(() => putPolicy(bucket, text), `Policy of ${bucket} saved.`)}
        >
          Save policy
        </Button>
        <Button
          variant="default"
          color="red"
          disabled={loaded.data === ''}
          onClick={() => save.run(() => deletePolicy(bucket), `Policy of ${bucket} deleted.`)}
        >
          Delete policy
        </Button>
      </Group>
    </SettingsSection>
  );
}

// The bucket settings made of rule lists: lifecycle rules and CORS rules. Each rule is a fieldset
// of labelled inputs; the whole list is saved at once (S3 replaces the configuration; an empty
// list deletes it).
import { Button, Checkbox, Fieldset, Group, NumberInput, Switch, Text, Textarea, TextInput } from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { type CorsRule, getCors, getLifecycle, type LifecycleRule, putCors, putLifecycle } from '../../api/buckets';
import { SettingsSection, TagRows, useSave } from '../../components/SettingsSection';
import { useEditable } from '../../lib/use-load';

const days = (v: string | number): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function newRuleId(rules: LifecycleRule[]): string {
  let n = rules.length + 1;
  while (rules.some((r) => r.id === `rule-${n}`)) n++;
  return `rule-${n}`;
}

/** What is wrong with a lifecycle rule, or undefined. */
function lifecycleProblem(r: LifecycleRule): string | undefined {
  if (
    r.expirationDays === undefined &&
    !r.expirationDate &&
    !r.expiredObjectDeleteMarker &&
    r.noncurrentDays === undefined &&
    r.abortIncompleteDays === undefined
  )
    return 'Give the rule at least one action (an expiry, noncurrent versions or unfinished uploads).';
  if (r.tags.some((t) => t.key.trim() === '')) return 'Every tag of the filter needs a key.';
  if (r.abortIncompleteDays !== undefined && r.tags.length > 0) return 'S3 refuses removing unfinished uploads in a rule that filters by tags.';
  return undefined;
}

export function LifecycleForm({ bucket }: { bucket: string }) {
  const loaded = useEditable<LifecycleRule[]>(() => getLifecycle(bucket), [bucket], []);
  const { value: rules, setValue: setRules } = loaded;
  const save = useSave(loaded.reload);
  const set = (i: number, r: Partial<LifecycleRule>) => setRules(rules.map((x, j) => (j === i ? { ...x, ...r } : x)));
  const problems = rules.map(lifecycleProblem);
  return (
    <SettingsSection
      title="Lifecycle rules"
      sentence="Lifecycle rules delete objects, old versions and unfinished multipart uploads automatically a number of days after they were written or replaced."
      loaded={loaded}
      save={save}
    >
      {rules.length === 0 && <Text size="sm">No rules: nothing is deleted automatically.</Text>}
      {rules.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rules are edited in place; their ids change as typed
        <Fieldset key={i} legend={`Rule ${i + 1}${r.id ? `: ${r.id}` : ''}`} data-testid="lifecycle-rule">
          <Group align="flex-end" grow>
            <TextInput label="Rule ID" value={r.id} onChange={(e) => set(i, { id: e.currentTarget.value })} />
            <TextInput label="Key prefix (empty: every object)" value={r.prefix} onChange={(e) => set(i, { prefix: e.currentTarget.value })} />
          </Group>
          <Switch mt="sm" label="Rule enabled" checked={r.enabled} onChange={(e) => set(i, { enabled: e.currentTarget.checked })} />
          <Text size="sm" fw={500} mt="sm">
            Only objects with these tags
          </Text>
          <TagRows tags={r.tags} onChange={(tags) => set(i, { tags })} what={`Rule ${i + 1} filter tag`} />
          <Group grow mt="sm" align="flex-start">
            <NumberInput
              label="Expire current versions after (days)"
              min={1}
              value={r.expirationDays ?? ''}
              onChange={(v) => set(i, { expirationDays: days(v), expirationDate: undefined })}
            />
            <NumberInput
              label="Delete noncurrent versions after (days)"
              min={1}
              value={r.noncurrentDays ?? ''}
              onChange={(v) => set(i, { noncurrentDays: days(v) })}
            />
            <NumberInput
              label="Keep this many newer noncurrent versions"
              min={1}
              max={100}
              disabled={r.noncurrentDays === undefined}
              value={r.newerNoncurrentVersions ?? ''}
              onChange={(v) => set(i, { newerNoncurrentVersions: days(v) })}
            />
            <NumberInput
              label="Abort unfinished uploads after (days)"
              min={1}
              value={r.abortIncompleteDays ?? ''}
              onChange={(v) => set(i, { abortIncompleteDays: days(v) })}
            />
          </Group>
          {r.expirationDate && (
            <Text size="sm" mt="xs">
              Expires current versions on {r.expirationDate} (set by another client; giving a number of days replaces it).
            </Text>
          )}
          <Checkbox
            mt="sm"
            label="Remove expired delete markers (a delete marker with no versions left behind it)"
            disabled={r.expirationDays !== undefined || !!r.expirationDate}
            checked={r.expiredObjectDeleteMarker ?? false}
            onChange={(e) => set(i, { expiredObjectDeleteMarker: e.currentTarget.checked })}
          />
          {problems[i] && (
            <Text size="sm" c="red" mt="xs" role="status">
              {problems[i]}
            </Text>
          )}
          <Group justify="flex-end" mt="sm">
            <Button variant="subtle" color="red" size="xs" leftSection={<IconTrash size={14} />} onClick={() => setRules(rules.filter((_, j) => j !== i))}>
              Remove rule {i + 1}
            </Button>
          </Group>
        </Fieldset>
      ))}
      <Group>
        <Button
          variant="default"
          leftSection={<IconPlus size={16} />}
          onClick={() => setRules([...rules, { id: newRuleId(rules), enabled: true, prefix: '', tags: [], expirationDays: 30 }])}
        >
          Add rule
        </Button>
        <Button
          loading={save.busy}
          disabled={problems.some((p) => p !== undefined)}
          onClick={() => save.run(() => putLifecycle(bucket, rules), `Lifecycle rules of ${bucket} saved.`)}
        >
          Save lifecycle rules
        </Button>
      </Group>
    </SettingsSection>
  );
}

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];
const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

/** A list of strings edited one a line (blank lines dropped when the field is left). */
function LinesInput({ label, description, value, onChange }: { label: string; description: string; value: string[]; onChange: (v: string[]) => void }) {
  return (
    <Textarea
      label={label}
      description={description}
      autosize
      minRows={2}
      value={value.join('\n')}
      onChange={(e) => onChange(e.currentTarget.value.split('\n'))}
      onBlur={() => onChange(lines(value.join('\n')))}
    />
  );
}

export function CorsForm({ bucket }: { bucket: string }) {
  const loaded = useEditable<CorsRule[]>(() => getCors(bucket), [bucket], []);
  const { value: rules, setValue: setRules } = loaded;
  const save = useSave(loaded.reload);
  const set = (i: number, r: Partial<CorsRule>) => setRules(rules.map((x, j) => (j === i ? { ...x, ...r } : x)));
  const bad = rules.some((r) => r.allowedOrigins.length === 0 || r.allowedMethods.length === 0);
  return (
    <SettingsSection
      title="CORS"
      sentence="CORS rules let web pages served from other origins call this bucket from a browser, with the methods and headers listed."
      loaded={loaded}
      save={save}
    >
      {rules.length === 0 && <Text size="sm">No rules: browsers on other origins are refused (unless the server has a default).</Text>}
      {rules.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rules are edited in place
        <Fieldset key={i} legend={`CORS rule ${i + 1}`} data-testid="cors-rule">
          <Group grow align="flex-start">
            <LinesInput
              label="Allowed origins (one a line)"
              description="e.g. https://app.example.com, or *"
              value={r.allowedOrigins}
              onChange={(v) => set(i, { allowedOrigins: v })}
            />
            <LinesInput
              label="Allowed headers (one a line)"
              description="Request headers a page may send; * for any."
              value={r.allowedHeaders}
              onChange={(v) => set(i, { allowedHeaders: v })}
            />
            <LinesInput
              label="Exposed headers (one a line)"
              description="Response headers the page may read, e.g. ETag."
              value={r.exposeHeaders}
              onChange={(v) => set(i, { exposeHeaders: v })}
            />
          </Group>
          <Checkbox.Group label="Allowed methods" value={r.allowedMethods} onChange={(v) => set(i, { allowedMethods: v })} mt="sm">
            <Group mt={4}>
              {METHODS.map((m) => (
                <Checkbox key={m} value={m} label={m} />
              ))}
            </Group>
          </Checkbox.Group>
          <Group align="flex-end" mt="sm">
            <NumberInput label="Preflight cache (seconds)" min={0} value={r.maxAgeSeconds ?? ''} onChange={(v) => set(i, { maxAgeSeconds: days(v) })} w={220} />
            <Button variant="subtle" color="red" size="xs" leftSection={<IconTrash size={14} />} onClick={() => setRules(rules.filter((_, j) => j !== i))}>
              Remove CORS rule {i + 1}
            </Button>
          </Group>
        </Fieldset>
      ))}
      {bad && (
        <Text size="sm" c="red" role="status">
          Every rule needs at least one origin and one method.
        </Text>
      )}
      <Group>
        <Button
          variant="default"
          leftSection={<IconPlus size={16} />}
          onClick={() => setRules([...rules, { allowedOrigins: ['*'], allowedMethods: ['GET', 'HEAD'], allowedHeaders: [], exposeHeaders: ['ETag'] }])}
        >
          Add CORS rule
        </Button>
        <Button
          loading={save.busy}
          disabled={bad}
          onClick={async () => {
            const clean = rules.map((r) => ({
              ...r,
              allowedOrigins: lines(r.allowedOrigins.join('\n')),
              allowedHeaders: lines(r.allowedHeaders.join('\n')),
              exposeHeaders: lines(r.exposeHeaders.join('\n')),
            }));
            await save.run(() => putCors(bucket, clean), `CORS rules of ${bucket} saved.`);
          }}
        >
          Save CORS rules
        </Button>
      </Group>
    </SettingsSection>
  );
}

// Managed policies: the list, and an editor for one (new or existing) with a JSON editor that checks
// the document as you type, a start from any existing policy (the canned ones included), save,
// delete (refused with DeleteConflict while attached), and where it is attached.
import { Badge, Button, Group, Loader, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { documentText, policies } from '../../api/identity';
import { DeleteEntityButton } from '../../components/DeleteEntityButton';
import { EntityTable } from '../../components/EntityTable';
import { ErrorAlert } from '../../components/ErrorAlert';
import { JsonEditor, jsonEditorValid } from '../../components/JsonEditor';
import { asApiError } from '../../lib/errors';
import { formatDate } from '../../lib/format';
import { useAct } from '../../lib/use-act';
import { useLoad } from '../../lib/use-load';
import { iamNameProblem } from './Users';

/** The server's canned policies (src/iam/canned-policies.ts), marked in the list. */
const CANNED = ['readonly', 'readwrite', 'writeonly', 'diagnostics', 'consoleAdmin'];

export function PoliciesList() {
  const list = useLoad(() => policies.list(), []);
  return (
    <EntityTable
      label="Policies"
      intro="A managed policy is a named document of Allow and Deny statements, attached to users and groups."
      create={{ label: 'Create policy', to: '/identity/policies/new' }}
      list={list}
      linkTo={(n) => `/identity/policies/${encodeURIComponent(n)}`}
      nameExtra={(p) =>
        CANNED.includes(p.name) && (
          <Badge variant="outline" size="sm" ml="xs">
            canned
          </Badge>
        )
      }
      columns={[{ title: 'Updated', cell: (p) => formatDate(p.updated) }]}
      empty="No policies."
    />
  );
}

const EMPTY_POLICY = JSON.stringify(
  { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::BUCKET/*'] }] },
  null,
  2,
);

export function PolicyEditor() {
  const param = useParams().name ?? 'new';
  const isNew = param === 'new';
  const navigate = useNavigate();
  const loaded = useLoad(async () => (isNew ? undefined : policies.get(param)), [param]);
  const names = useLoad(async () => (isNew ? (await policies.list()).map((p) => p.name) : []), [isNew]);
  const [name, setName] = useState('');
  const [text, setText] = useState(isNew ? EMPTY_POLICY : '');
  const [from, setFrom] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { error, setError, act, removeAndLeave } = useAct(loaded.reload);
  useEffect(() => {
    if (loaded.data) setText(documentText(loaded.data.document));
  }, [loaded.data]);
  const nameProblem = isNew ? iamNameProblem(name, 128) : undefined;
  const target = isNew ? name : param;
  const d = loaded.data;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>{isNew ? 'New policy' : `Policy ${param}`}</Title>
        {!isNew && (
          <DeleteEntityButton
            onDelete={removeAndLeave}
            what={{
              title: `Delete policy ${param}?`,
              text: 'The server refuses to delete a policy that is still attached (DeleteConflict).',
              confirm: 'Delete policy',
              remove: () => policies.remove(param),
              done: `Policy ${param} deleted.`,
              to: '/identity/policies',
            }}
          />
        )}
      </Group>
      <ErrorAlert error={loaded.error} />
      <ErrorAlert error={error} onClose={() => setError(undefined)} />
      {!isNew && loaded.loading && !d && <Loader aria-label="Loading policy" />}
      {isNew && (
        <Group align="flex-end">
          <TextInput
            label="Policy name"
            required
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={nameProblem}
            autoComplete="off"
            w={280}
          />
          <Select
            label="Start from an existing policy"
            placeholder="e.g. readonly"
            data={names.data ?? []}
            value={from}
            onChange={setFrom}
            searchable
            w={280}
          />
          <Button
            variant="default"
            disabled={!from}
            onClick={async () => {
              if (!from) return;
              try {
                setText(documentText((await policies.get(from)).document));
              } catch (err) {
                setError(asApiError(err));
              }
            }}
          >
            Copy its document
          </Button>
        </Group>
      )}
      {d && (
        <Text size="sm" c="dimmed">
          Created {formatDate(d.created)}, updated {formatDate(d.updated)}. Attached to users: {d.attachedTo.users.join(', ') || 'none'}; groups:{' '}
          {d.attachedTo.groups.join(', ') || 'none'}.
        </Text>
      )}
      {(isNew || d) && (
        <>
          <JsonEditor label="Policy document" kind="identity" value={text} onChange={setText} />
          <Group>
            <Button
              loading={busy}
              disabled={!jsonEditorValid(text, 'identity') || target === '' || nameProblem !== undefined}
              onClick={async () => {
                setBusy(true);
                const ok = await act(() => policies.put(target, text), `Policy ${target} saved.`);
                setBusy(false);
                if (ok && isNew) navigate(`/identity/policies/${encodeURIComponent(target)}`);
              }}
            >
              Save policy
            </Button>
          </Group>
        </>
      )}
    </Stack>
  );
}

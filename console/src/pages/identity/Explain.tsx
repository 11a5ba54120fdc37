// A user's effective rights: which of the chosen actions the user may do on the chosen resources,
// as the server's own policy evaluator decides (POST /api/explain: the user's and its groups'
// policies, and the bucket policy of the resource's bucket), each decision said in words.
import { Badge, Button, Group, Paper, Select, SimpleGrid, Stack, Table, TagsInput, Text } from '@mantine/core';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { type ExplainResult, explain, users } from '../../api/identity';
import { useSubmit } from '../../components/CreateDialog';
import { ErrorAlert } from '../../components/ErrorAlert';
import { useLoad } from '../../lib/use-load';
import { useSession } from '../../session';

const COMMON_ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
  's3:ListBucket',
  's3:ListAllMyBuckets',
  's3:CreateBucket',
  's3:DeleteBucket',
  's3:GetBucketPolicy',
  's3:PutBucketPolicy',
  's3:GetObjectVersion',
  's3:PutBucketVersioning',
  's3:PutLifecycleConfiguration',
  'admin:ListUsers',
  'admin:CreateUser',
  'admin:ServerInfo',
];

const ME = '(me)';

/** Where a statement comes from, in words. */
function origin(m: ExplainResult['matched'][number]): string {
  const sid = m.statementSid ? `statement "${m.statementSid}" of ` : '';
  switch (m.source) {
    case 'identity':
      return `${sid}the policy ${m.policy} (the user's or a group's)`;
    case 'resource':
      return m.policy === 'bucket policy' ? `${sid}the bucket policy` : `${sid}${m.policy}`;
    case 'key':
      return `${sid}the access key's own policy`;
    case 'session':
      return `${sid}the session policy`;
    default:
      return `${sid}${m.policy}`;
  }
}

function by(matched: ExplainResult['matched'], effect: string): string {
  return matched
    .filter((m) => m.effect.toLowerCase() === effect.toLowerCase())
    .map(origin)
    .join(' and ');
}

/** One decision in a sentence. */
export function inWords(who: string, r: ExplainResult): string {
  const subject = `${who} ${r.decision === 'allow' ? 'may' : 'may not'} ${r.action} on ${r.resource}`;
  if (r.decision === 'allow') return `${subject}: allowed by ${by(r.matched, 'Allow') || 'a policy'}.`;
  if (r.decision === 'deny') return `${subject}: explicitly denied by ${by(r.matched, 'Deny') || 'a policy'} (an explicit Deny wins over any Allow).`;
  return `${subject}: no policy statement allows it, so it is denied by default (implicit deny).`;
}

const COLORS = { allow: 'teal', deny: 'red', implicitDeny: 'orange' } as const;
const LABELS = { allow: 'Allowed', deny: 'Denied (explicit)', implicitDeny: 'Denied (implicit)' } as const;

export function ExplainPage() {
  const { info } = useSession();
  const [params, setParams] = useSearchParams();
  const user = params.get('user') ?? ME;
  const names = useLoad(async () => (await users.list()).map((u) => u.name), []);
  const [actions, setActions] = useState<string[]>(['s3:GetObject', 's3:PutObject', 's3:ListBucket']);
  const [resources, setResources] = useState<string[]>(['arn:aws:s3:::*']);
  const [results, setResults] = useState<ExplainResult[] | undefined>();
  const [asked, setAsked] = useState('');
  const { busy, error, submit } = useSubmit();
  const who = user === ME ? (info?.user ?? 'you') : user;
  const allowed = results?.filter((r) => r.decision === 'allow').length ?? 0;
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        The effective rights of a user: for each action and resource, what the server's policy evaluator decides from the user's policies, its groups' and the
        bucket policy of the resource's bucket.
      </Text>
      <Paper withBorder p="md">
        <form
          onSubmit={submit(async () => {
            setResults(undefined);
            setResults(await explain(user === ME ? undefined : user, actions, resources));
            setAsked(who);
          })}
        >
          <Stack>
            <Select
              label="User"
              maw={360}
              data={[ME, ...(names.data ?? []).filter((n) => n !== info?.user)]}
              value={user}
              allowDeselect={false}
              searchable
              onChange={(v) => setParams(v && v !== ME ? { user: v } : {}, { replace: true })}
              description={names.error ? `Other users cannot be listed (${names.error.code}).` : undefined}
            />
            <SimpleGrid cols={{ base: 1, md: 2 }}>
              <TagsInput label="Actions" description="Press Enter after each action." data={COMMON_ACTIONS} value={actions} onChange={setActions} clearable />
              <TagsInput
                label="Resources"
                description="An object: arn:aws:s3:::BUCKET/KEY; a bucket: arn:aws:s3:::BUCKET; Enter after each."
                value={resources}
                onChange={setResources}
                clearable
              />
            </SimpleGrid>
            <Group>
              <Button type="submit" loading={busy} disabled={actions.length === 0 || resources.length === 0}>
                Explain
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
      <ErrorAlert error={error} />
      {results && (
        <Paper withBorder p="md" component="section" aria-label="Decisions">
          <Text fw={500} mb="xs" data-testid="explain-summary">
            {asked} may do {allowed} of the {results.length} request{results.length === 1 ? '' : 's'} asked.
          </Text>
          <Table aria-label="Decisions">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Decision</Table.Th>
                <Table.Th scope="col">Why</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {results.map((r) => (
                <Table.Tr key={`${r.action} ${r.resource}`} data-action={r.action} data-decision={r.decision}>
                  <Table.Td w={170}>
                    <Badge color={COLORS[r.decision]} variant="light">
                      {LABELS[r.decision]}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{inWords(asked, r)}</Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
    </Stack>
  );
}

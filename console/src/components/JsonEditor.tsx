// A JSON text editor for policy documents: a labelled monospace textarea (Tab indents instead of
// leaving the field only when Ctrl/Alt is not held; Escape then Tab leaves it, as in code editors),
// the problems of the text listed live under it, and a button to pretty-print it.
import { Button, Group, List, Text, Textarea } from '@mantine/core';
import { useId, useState, type KeyboardEvent } from 'react';
import { type PolicyKind, policyProblems, prettyJson } from '../lib/policy';

export interface JsonEditorProps {
  label: string;
  value: string;
  onChange: (v: string) => void;
  kind: PolicyKind;
  description?: string;
  minRows?: number;
}

export function JsonEditor({ label, value, onChange, kind, description, minRows = 12 }: JsonEditorProps) {
  const problemsId = useId();
  const [tabTraps, setTabTraps] = useState(true);
  const problems = value.trim() === '' ? [] : policyProblems(value, kind);
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Escape') {
      setTabTraps(false);
      return;
    }
    if (e.key !== 'Tab' || !tabTraps || e.ctrlKey || e.altKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    const t = e.currentTarget;
    const { selectionStart: s, selectionEnd: end } = t;
    const next = `${value.slice(0, s)}  ${value.slice(end)}`;
    onChange(next);
    requestAnimationFrame(() => t.setSelectionRange(s + 2, s + 2));
  };
  return (
    <div>
      <Textarea
        label={label}
        description={description ?? 'Tab indents; press Escape, then Tab, to move on.'}
        value={value}
        onChange={(e) => onChange(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        onFocus={() => setTabTraps(true)}
        autosize
        minRows={minRows}
        maxRows={24}
        spellCheck={false}
        styles={{ input: { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', fontSize: 13 } }}
        aria-describedby={problemsId}
        error={problems.length > 0 ? 'The document has problems (listed below).' : undefined}
      />
      <div id={problemsId} aria-live="polite">
        {problems.length > 0 ? (
          <List size="sm" c="red" mt={4} data-testid="json-problems">
            {problems.map((p) => (
              <List.Item key={p}>{p}</List.Item>
            ))}
          </List>
        ) : value.trim() !== '' ? (
          <Text size="sm" c="teal" mt={4}>
            Valid JSON, shaped like a {kind} policy.
          </Text>
        ) : null}
      </div>
      <Group mt="xs">
        <Button variant="default" size="xs" onClick={() => onChange(prettyJson(value))} disabled={value.trim() === ''}>
          Format JSON
        </Button>
      </Group>
    </div>
  );
}

/** Whether the editor's text may be sent. */
export function jsonEditorValid(value: string, kind: PolicyKind): boolean {
  return policyProblems(value, kind).length === 0;
}

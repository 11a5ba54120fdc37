// The README's configuration table lists exactly the flags `--help` lists (each with its environment twins).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { helpText } from './config-flags.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** `--flag` → environment variables, from --help's lines ("  --flag ARG   text  [ENV1, ENV2]"). */
function helpFlags(): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  for (const line of helpText().split('\n')) {
    const m = /^\s+(--[a-z0-9-]+)\b.*?(?:\[([A-Z_, ]+)\])?$/.exec(line);
    if (m) flags.set(m[1]!, m[2] ? m[2].split(',').map((e) => e.trim()) : []);
  }
  return flags;
}

/** The same from the README's table rows ("| `--flag ARG` | `ENV1`, `ENV2` | default | meaning |"). */
function readmeFlags(): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  for (const line of README.split('\n')) {
    const m = /^\| `(--[a-z0-9-]+)(?=[ `])[^`]*` \|([^|]*)\|/.exec(line);
    if (m)
      flags.set(
        m[1]!,
        [...m[2]!.matchAll(/`([A-Z_]+)`/g)].map((e) => e[1]!),
      );
  }
  return flags;
}

describe('README', () => {
  it('configuration table › the flags of --help, no more, with the same environment variables', () => {
    const help = helpFlags();
    assert.ok(help.size >= 10, `parsed ${help.size} flags from --help`);
    assert.deepEqual(Object.fromEntries(readmeFlags()), Object.fromEntries(help));
  });

  it('quick start › shows how to change the port', () => {
    assert.match(README, /npm start -- --address :9100/);
  });
});

// `strata admin …`: the admin API (docs/admin-api.md) from the command line, against a running
// server (--endpoint), signed with SigV4 by the root keys from flags or the usual environment
// variables. Human output by default, `--json` for scripts; a secret is printed once, at creation.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type HealStatusJson, healStatusText } from './heal-table.js';
import { type ClusterStatusJson, clusterStatusText } from './cluster-table.js';

export const ADMIN_USAGE = `usage: strata admin [--endpoint URL] [--access-key AK --secret-key SK] [--region R] [--json] COMMAND

  user add NAME [--access-key AK --secret-key SK] [--policy NAME]...   (a key is generated unless given)
  user list | info NAME | enable NAME | disable NAME | remove NAME
  key add USER [--access-key AK] [--secret-key SK] [--expiry ISO-DATE] [--policy FILE.json]
  key list USER | info AK | enable AK | disable AK | remove AK
  group add NAME [USER...] | list | info NAME | remove NAME
  group members add|remove GROUP USER...
  policy add NAME FILE.json | list | info NAME | remove NAME
  policy attach|detach NAME (--user U | --group G | --role R)
  role add NAME --trust FILE.json [--policy NAME]... [--max-duration SECONDS] | list | info NAME | remove NAME
  kms list | create KEY-ID | describe KEY-ID | rotate KEY-ID | enable KEY-ID | disable KEY-ID
  heal status                                   (drives, degraded objects, bytes healed, scrub: docs/drives.md)
  cluster status                                (gateways, job leader, PostgreSQL and etcd: docs/cluster.md)

The endpoint defaults to STRATA_ENDPOINT or http://127.0.0.1:9000; the keys (root's, or a user's
whose policies allow the admin actions) come from --access-key/--secret-key before the command,
STRATA_ACCESS_KEY/STRATA_SECRET_KEY or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
`;

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
  json: boolean;
}

/** Splits argv into positionals and `--flag value` / `--flag=value` pairs (`--json` takes none). */
function parseArgs(argv: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') {
      json = true;
      continue;
    }
    if (a === '-h' || a === '--help') throw new UsageError('');
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, [...(flags.get(name) ?? []), value]);
      continue;
    }
    positional.push(a);
  }
  return { positional, flags, json };
}

interface Client {
  call(method: 'GET' | 'POST' | 'DELETE', path: string[], body?: object): Promise<Record<string, unknown>>;
}

/** A SigV4 signer of its own (not the server's verifier: a shared bug would hide itself). */
function sign(method: string, url: URL, body: Buffer, ak: string, sk: string, region: string, now = new Date()): Record<string, string> {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payload = createHash('sha256').update(body).digest('hex');
  const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': payload, 'x-amz-date': amzDate };
  const names = Object.keys(headers).sort();
  const canonical = [method, url.pathname, '', ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), payload].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${sk}`).update(day).digest();
  for (const part of [region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${ak}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

/** An admin API error answered by the server. */
export class AdminCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

function client(endpoint: string, ak: string, sk: string, region: string): Client {
  const base = endpoint.replace(/\/+$/, '');
  return {
    async call(method, path, body) {
      const url = new URL(
        `${base}/_strata/admin/v1/${path.map((p) => encodeURIComponent(p).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/')}`,
      );
      const bytes = Buffer.from(body === undefined ? '' : JSON.stringify(body));
      const headers = sign(method, url, bytes, ak, sk, region);
      delete headers.host; // fetch sets it (the same url.host)
      const res = await fetch(url, { method, headers: { ...headers, ...(body && { 'content-type': 'application/json' }) }, ...(body && { body: bytes }) });
      const text = await res.text();
      let json: Record<string, unknown> = {};
      try {
        json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        throw new AdminCallError(res.status, 'BadResponse', `the server answered ${res.status} without JSON: is ${base} a Strata server?`);
      }
      if (!res.ok) throw new AdminCallError(res.status, String(json.Code ?? res.status), String(json.Message ?? text));
      return json;
    },
  };
}

const one = (p: Parsed, flag: string): string | undefined => p.flags.get(flag)?.at(-1);
function need(args: string[], n: number, what: string): string[] {
  if (args.length < n) throw new UsageError(`missing ${what}`);
  return args;
}
function readJsonFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
}
function target(p: Parsed): { user: string } | { group: string } | { role: string } {
  const user = one(p, 'user');
  const group = one(p, 'group');
  const role = one(p, 'role');
  if ([user, group, role].filter((x) => x !== undefined).length !== 1) throw new UsageError('name exactly one of --user, --group and --role');
  return user !== undefined ? { user } : group !== undefined ? { group } : { role: role! };
}

type Out = (json: unknown, human: string) => void;

/** A master key as the admin API shows it (docs/admin-api.md, "Key service"). */
interface KmsKey {
  keyId: string;
  arn: string;
  keyState: string;
  created: string;
  currentVersion: number;
  rotated: string;
  default: boolean;
}
const kmsLine = (k: KmsKey) =>
  `${k.keyId.padEnd(24)} ${k.keyState.padEnd(9)} v${String(k.currentVersion).padEnd(4)} ${k.created}${k.default ? ' (default)' : ''}\n`;

/** Runs one command (after the global flags are taken); prints through `out`. */
async function run(c: Client, p: Parsed, out: Out): Promise<void> {
  const [noun, verb, ...rest] = p.positional;
  const done = (r: object, text: string) => out(r, text);
  switch (`${noun} ${verb}`) {
    case 'user add': {
      const [name] = need(rest, 1, 'NAME');
      const ak = one(p, 'access-key');
      const sk = one(p, 'secret-key');
      const r = await c.call('POST', ['users'], {
        name,
        key: true,
        ...(ak !== undefined && { accessKey: ak }),
        ...(sk !== undefined && { secretKey: sk }),
        policies: p.flags.get('policy') ?? [],
      });
      return done(r, `Added user ${name}\nAccess key: ${r.accessKey}\nSecret key: ${r.secretKey}\n(the secret key is shown only now)\n`);
    }
    case 'user list': {
      const r = await c.call('GET', ['users']);
      const users = r.users as Array<{ name: string; status: string; created: string }>;
      return done(r, users.map((u) => `${u.name.padEnd(24)} ${u.status.padEnd(9)} ${u.created}\n`).join(''));
    }
    case 'user info': {
      const r = await c.call('GET', ['users', need(rest, 1, 'NAME')[0]!]);
      const u = r.user as Record<string, string>;
      const keys = r.accessKeys as Array<Record<string, string>>;
      return done(
        r,
        `Name: ${u.name}\nUser id: ${u.userId}\nStatus: ${u.status}\nCreated: ${u.created}\nGroups: ${(r.groups as string[]).join(', ')}\nPolicies: ${(r.policies as string[]).join(', ')}\n` +
          keys.map((k) => `Access key: ${k.accessKey} ${k.status}${k.expiry ? ` expires ${k.expiry}` : ''}${k.policy ? ' (inline policy)' : ''}\n`).join(''),
      );
    }
    case 'user enable':
    case 'user disable':
    case 'user remove': {
      const [name] = need(rest, 1, 'NAME');
      const r = verb === 'remove' ? await c.call('DELETE', ['users', name!]) : await c.call('POST', ['users', name!, verb!]);
      return done(r, `${verb === 'remove' ? 'Removed' : verb === 'enable' ? 'Enabled' : 'Disabled'} user ${name}\n`);
    }
    case 'key add': {
      const [user] = need(rest, 1, 'USER');
      const policy = one(p, 'policy');
      const expiry = one(p, 'expiry');
      const ak = one(p, 'access-key');
      const sk = one(p, 'secret-key');
      const r = await c.call('POST', ['users', user!, 'keys'], {
        ...(ak !== undefined && { accessKey: ak }),
        ...(sk !== undefined && { secretKey: sk }),
        ...(expiry !== undefined && { expiry }),
        ...(policy !== undefined && { policy: readJsonFile(policy) }),
      });
      return done(r, `Added access key for ${user}\nAccess key: ${r.accessKey}\nSecret key: ${r.secretKey}\n(the secret key is shown only now)\n`);
    }
    case 'key list': {
      const r = await c.call('GET', ['users', need(rest, 1, 'USER')[0]!, 'keys']);
      const keys = r.accessKeys as Array<Record<string, string>>;
      return done(r, keys.map((k) => `${String(k.accessKey).padEnd(24)} ${String(k.status).padEnd(9)} ${k.expiry ?? ''}\n`).join(''));
    }
    case 'key info': {
      const r = await c.call('GET', ['keys', need(rest, 1, 'AK')[0]!]);
      return done(r, `${JSON.stringify(r, null, 2)}\n`);
    }
    case 'key enable':
    case 'key disable':
    case 'key remove': {
      const [ak] = need(rest, 1, 'AK');
      const r = verb === 'remove' ? await c.call('DELETE', ['keys', ak!]) : await c.call('POST', ['keys', ak!, verb!]);
      return done(r, `${verb === 'remove' ? 'Removed' : verb === 'enable' ? 'Enabled' : 'Disabled'} access key ${ak}\n`);
    }
    case 'group add': {
      const [name, ...members] = need(rest, 1, 'NAME');
      const r = await c.call('POST', ['groups'], { name, members });
      return done(r, `Added group ${name}\n`);
    }
    case 'group list': {
      const r = await c.call('GET', ['groups']);
      return done(r, (r.groups as Array<{ name: string; members: string[] }>).map((g) => `${g.name.padEnd(24)} ${g.members.join(', ')}\n`).join(''));
    }
    case 'group info': {
      const r = await c.call('GET', ['groups', need(rest, 1, 'NAME')[0]!]);
      return done(r, `Name: ${r.name}\nMembers: ${(r.members as string[]).join(', ')}\nPolicies: ${(r.policies as string[]).join(', ')}\n`);
    }
    case 'group remove': {
      const [name] = need(rest, 1, 'NAME');
      return done(await c.call('DELETE', ['groups', name!]), `Removed group ${name}\n`);
    }
    case 'group members': {
      const [how, group, ...users] = need(rest, 3, 'add|remove GROUP USER...');
      if (how !== 'add' && how !== 'remove') throw new UsageError('group members add|remove GROUP USER...');
      const r = await c.call('POST', how === 'add' ? ['groups', group!, 'members'] : ['groups', group!, 'members', 'remove'], { users });
      return done(r, `${how === 'add' ? 'Added' : 'Removed'} ${users.join(', ')} ${how === 'add' ? 'to' : 'from'} group ${group}\n`);
    }
    case 'policy add': {
      const [name, file] = need(rest, 2, 'NAME FILE.json');
      const r = await c.call('POST', ['policies'], { name, document: readFileSync(file!, 'utf8') });
      return done(r, `Added policy ${name}\n`);
    }
    case 'policy list': {
      const r = await c.call('GET', ['policies']);
      return done(r, (r.policies as Array<{ name: string }>).map((x) => `${x.name}\n`).join(''));
    }
    case 'policy info': {
      const r = await c.call('GET', ['policies', need(rest, 1, 'NAME')[0]!]);
      return done(r, `${JSON.stringify(r.document, null, 2)}\n`);
    }
    case 'policy remove': {
      const [name] = need(rest, 1, 'NAME');
      return done(await c.call('DELETE', ['policies', name!]), `Removed policy ${name}\n`);
    }
    case 'policy attach':
    case 'policy detach': {
      const [name] = need(rest, 1, 'NAME');
      const t = target(p);
      const r = await c.call('POST', ['policies', name!, verb!], t);
      const who = 'user' in t ? `user ${t.user}` : 'group' in t ? `group ${t.group}` : `role ${t.role}`;
      return done(r, verb === 'attach' ? `Attached policy ${name} to ${who}\n` : `Detached policy ${name} from ${who}\n`);
    }
    case 'role add': {
      const [name] = need(rest, 1, 'NAME');
      const trust = one(p, 'trust');
      if (trust === undefined) throw new UsageError('role add needs --trust FILE.json (the trust policy)');
      const max = one(p, 'max-duration');
      if (max !== undefined && !/^\d+$/.test(max)) throw new UsageError('--max-duration is a number of seconds');
      const r = await c.call('POST', ['roles'], {
        name,
        trustPolicy: readFileSync(trust, 'utf8'),
        policies: p.flags.get('policy') ?? [],
        ...(max !== undefined && { maxSessionDuration: Number(max) }),
      });
      return done(r, `Added role ${name}\nARN: ${(r.role as Record<string, string>).arn}\n`);
    }
    case 'role list': {
      const r = await c.call('GET', ['roles']);
      const roles = r.roles as Array<{ name: string; arn: string; maxSessionDuration: number }>;
      return done(r, roles.map((x) => `${x.name.padEnd(24)} ${x.arn} max ${x.maxSessionDuration}s\n`).join(''));
    }
    case 'role info': {
      const r = await c.call('GET', ['roles', need(rest, 1, 'NAME')[0]!]);
      const role = r.role as Record<string, string>;
      return done(
        r,
        `Name: ${role.name}\nARN: ${role.arn}\nRole id: ${role.roleId}\nMax session duration: ${role.maxSessionDuration}s\nCreated: ${role.created}\n` +
          `Policies: ${(r.policies as string[]).join(', ')}\nTrust policy: ${JSON.stringify(r.trustPolicy, null, 2)}\n`,
      );
    }
    case 'role remove': {
      const [name] = need(rest, 1, 'NAME');
      return done(await c.call('DELETE', ['roles', name!]), `Removed role ${name}\n`);
    }
    case 'kms list': {
      const r = await c.call('GET', ['kms', 'keys']);
      return done(r, (r.keys as KmsKey[]).map(kmsLine).join(''));
    }
    case 'kms create': {
      const [id] = need(rest, 1, 'KEY-ID');
      const r = await c.call('POST', ['kms', 'keys'], { keyId: id });
      return done(r, `Created key ${id}\nARN: ${(r.key as KmsKey).arn}\n`);
    }
    case 'kms describe': {
      const r = await c.call('GET', ['kms', 'keys', need(rest, 1, 'KEY-ID')[0]!]);
      const k = r.key as KmsKey;
      return done(
        r,
        `Key id: ${k.keyId}${k.default ? ' (default)' : ''}\nARN: ${k.arn}\nState: ${k.keyState}\nCreated: ${k.created}\nVersion: ${k.currentVersion}\nRotated: ${k.rotated}\n`,
      );
    }
    case 'kms rotate':
    case 'kms enable':
    case 'kms disable': {
      const [id] = need(rest, 1, 'KEY-ID');
      const r = await c.call('POST', ['kms', 'keys', id!, verb!]);
      const k = r.key as KmsKey;
      return done(r, verb === 'rotate' ? `Rotated key ${id}: version ${k.currentVersion}\n` : `${verb === 'enable' ? 'Enabled' : 'Disabled'} key ${id}\n`);
    }
    case 'heal status': {
      const r = await c.call('GET', ['heal', 'status']);
      return done(r, healStatusText(r as unknown as HealStatusJson));
    }
    case 'cluster status': {
      const r = await c.call('GET', ['cluster', 'status']);
      return done(r, clusterStatusText(r as unknown as ClusterStatusJson));
    }
    default:
      throw new UsageError(`unknown command: ${p.positional.join(' ') || '(none)'}`);
  }
}

/**
 * `strata admin ARGS`: returns the exit code (0 done, 1 the server refused or is unreachable, 2 a
 * usage error). Global flags (--endpoint, --access-key, --secret-key, --region) come before the
 * command; after it, --access-key/--secret-key are the new key's.
 */
export async function adminMain(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    stdout.write(ADMIN_USAGE);
    return 0;
  }
  const firstCommand = argv.findIndex(
    (a, i) => !a.startsWith('-') && (i === 0 || !argv[i - 1]!.startsWith('--') || argv[i - 1]!.includes('=') || argv[i - 1] === '--json'),
  );
  const globalArgs = firstCommand < 0 ? argv : argv.slice(0, firstCommand);
  const commandArgs = firstCommand < 0 ? [] : argv.slice(firstCommand);
  let parsed: Parsed;
  let globals: Parsed;
  try {
    globals = parseArgs(globalArgs);
    parsed = parseArgs(commandArgs);
    if (parsed.positional.length === 0) throw new UsageError('');
  } catch (err) {
    stderr.write(`${err instanceof Error && err.message ? `strata admin: ${err.message}\n` : ''}${ADMIN_USAGE}`);
    return 2;
  }
  const json = globals.json || parsed.json;
  const endpoint = one(globals, 'endpoint') ?? env.STRATA_ENDPOINT ?? 'http://127.0.0.1:9000';
  const ak = one(globals, 'access-key') ?? env.STRATA_ACCESS_KEY ?? env.AWS_ACCESS_KEY_ID;
  const sk = one(globals, 'secret-key') ?? env.STRATA_SECRET_KEY ?? env.AWS_SECRET_ACCESS_KEY;
  const region = one(globals, 'region') ?? env.STRATA_REGION ?? env.AWS_REGION ?? 'us-east-1';
  if (!ak || !sk) {
    stderr.write(
      'strata admin: no root keys: set STRATA_ACCESS_KEY/STRATA_SECRET_KEY (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or pass --access-key/--secret-key before the command\n',
    );
    return 2;
  }
  const out: Out = (j, human) => stdout.write(json ? `${JSON.stringify(j, null, 2)}\n` : human);
  try {
    await run(client(endpoint, ak, sk, region), parsed, out);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`strata admin: ${err.message}\n${ADMIN_USAGE}`);
      return 2;
    }
    if (err instanceof AdminCallError) {
      stderr.write(json ? `${JSON.stringify({ status: err.status, code: err.code, message: err.message })}\n` : `strata admin: ${err.message}\n`);
      return 1;
    }
    const e = err as Error & { cause?: { code?: string } };
    stderr.write(`strata admin: ${e.cause?.code ? `cannot reach ${endpoint}: ${e.cause.code}` : e.message}\n`);
    return 1;
  }
}

// The PostgreSQL IdentityStore (../../identities.ts), twin of sqlite-identities.ts: users, groups,
// managed policies, attachments, roles and access keys in the iam_* tables (migration
// 0003-identities). Writes are SERIALIZABLE transactions (retried on serialization failures) that
// check what they need in the database, change it, bump the `identity` generation and notify.
// Reads are synchronous: they are served from an in-memory snapshot of the tables (snapshot.ts),
// read in one transaction with the generation, so the generation lookupAccessKey returns is the
// one the key, its user, groups and policies were read at: a principal resolved from a snapshot
// older than the database is tagged with that older generation, and resolved again once the
// snapshot catches up (src/iam/credentials.ts). The tables are small (people and their keys).
import { StoreError } from '../../errors.js';
import type {
  AccessKeyRecord,
  AttachTarget,
  GroupRecord,
  IdentityStatus,
  IdentityStore,
  KeyWithUser,
  PolicyRecord,
  RoleRecord,
  UserRecord,
} from '../../identities.js';
import type { Migration, PgClient, PgDb } from './db.js';
import { type ChangeFeed, generationRowDdl, readGeneration, SnapshotStore } from './snapshot.js';

/** The strata_generations row (and notification payload) of the identity tables. */
export const IDENTITY = 'identity';

export const IDENTITIES_MIGRATION: Migration = {
  id: '0003-identities',
  up: `
${generationRowDdl(IDENTITY)}
CREATE TABLE iam_users (
  name       text COLLATE "C" PRIMARY KEY,
  user_id    text NOT NULL UNIQUE,
  status     text NOT NULL CHECK (status IN ('enabled', 'disabled')),
  created_at bigint NOT NULL
);
CREATE TABLE iam_groups (
  name       text COLLATE "C" PRIMARY KEY,
  created_at bigint NOT NULL
);
CREATE TABLE iam_group_members (
  group_name text COLLATE "C" NOT NULL REFERENCES iam_groups(name) ON DELETE CASCADE,
  user_name  text COLLATE "C" NOT NULL REFERENCES iam_users(name) ON DELETE CASCADE,
  PRIMARY KEY (group_name, user_name)
);
CREATE INDEX iam_group_members_user ON iam_group_members(user_name);
CREATE TABLE iam_policies (
  name       text COLLATE "C" PRIMARY KEY,
  document   text NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE TABLE iam_attachments (
  kind   text NOT NULL CHECK (kind IN ('user', 'group', 'role')),
  target text COLLATE "C" NOT NULL,
  policy text COLLATE "C" NOT NULL REFERENCES iam_policies(name),
  PRIMARY KEY (kind, target, policy)
);
CREATE INDEX iam_attachments_policy ON iam_attachments(policy);
CREATE TABLE iam_access_keys (
  access_key_id text COLLATE "C" PRIMARY KEY,
  user_name     text COLLATE "C" NOT NULL REFERENCES iam_users(name) ON DELETE CASCADE,
  secret_key_id text NOT NULL,
  secret        bytea NOT NULL,
  status        text NOT NULL CHECK (status IN ('enabled', 'disabled')),
  expires_at    bigint,
  policy        text,
  created_at    bigint NOT NULL
);
CREATE INDEX iam_access_keys_user ON iam_access_keys(user_name);
CREATE TABLE iam_roles (
  name                 text COLLATE "C" PRIMARY KEY,
  role_id              text NOT NULL UNIQUE,
  trust_policy         text NOT NULL,
  max_session_duration integer NOT NULL,
  created_at           bigint NOT NULL
);
`,
};

interface KeyRow {
  access_key_id: string;
  user_name: string;
  secret_key_id: string;
  secret: Buffer;
  status: IdentityStatus;
  expires_at: string | null;
  policy: string | null;
  created_at: string;
}

function toKey(r: KeyRow): AccessKeyRecord {
  return Object.freeze({
    accessKeyId: r.access_key_id,
    userName: r.user_name,
    secret: Object.freeze({ keyId: r.secret_key_id, sealed: r.secret }),
    status: r.status,
    ...(r.expires_at !== null && { expires: Number(r.expires_at) }),
    ...(r.policy !== null && { policy: r.policy }),
    created: Number(r.created_at),
  });
}

type Targets = { users: string[]; groups: string[]; roles: string[] };

/** Everything the reads answer from, as of one generation. Lists in byte order of their names. */
interface Identities {
  readonly generation: number;
  readonly users: Map<string, UserRecord>;
  readonly groups: Map<string, { name: string; created: number }>;
  readonly members: Map<string, string[]>;
  readonly groupsOf: Map<string, string[]>;
  readonly policies: Map<string, PolicyRecord>;
  /** Policies by `kind\0target`. */
  readonly attached: Map<string, string[]>;
  readonly targets: Map<string, Targets>;
  readonly keys: Map<string, AccessKeyRecord>;
  /** Keys by user, in creation order. */
  readonly keysOf: Map<string, AccessKeyRecord[]>;
  readonly roles: Map<string, RoleRecord>;
}

const empty = (): Identities => ({
  generation: -1,
  users: new Map(),
  groups: new Map(),
  members: new Map(),
  groupsOf: new Map(),
  policies: new Map(),
  attached: new Map(),
  targets: new Map(),
  keys: new Map(),
  keysOf: new Map(),
  roles: new Map(),
});

const push = <K, V>(m: Map<K, V[]>, k: K, v: V): void => {
  const a = m.get(k);
  if (a === undefined) m.set(k, [v]);
  else a.push(v);
};

/** Reads the identity tables and their generation (in the snapshot's REPEATABLE READ transaction). */
async function loadIdentities(c: PgClient): Promise<Identities> {
  const s = empty();
  const q = async <R>(sql: string): Promise<R[]> => (await c.query(sql)).rows as R[];
  const generation = await readGeneration(c, IDENTITY);
  for (const r of await q<{ name: string; user_id: string; status: IdentityStatus; created_at: string }>('SELECT * FROM iam_users ORDER BY name'))
    s.users.set(r.name, Object.freeze({ name: r.name, userId: r.user_id, status: r.status, created: Number(r.created_at) }));
  for (const r of await q<{ name: string; created_at: string }>('SELECT * FROM iam_groups ORDER BY name'))
    s.groups.set(r.name, { name: r.name, created: Number(r.created_at) });
  for (const r of await q<{ group_name: string; user_name: string }>('SELECT * FROM iam_group_members ORDER BY group_name, user_name')) {
    push(s.members, r.group_name, r.user_name);
    push(s.groupsOf, r.user_name, r.group_name);
  }
  for (const r of await q<{ name: string; document: string; created_at: string; updated_at: string }>('SELECT * FROM iam_policies ORDER BY name'))
    s.policies.set(r.name, Object.freeze({ name: r.name, document: r.document, created: Number(r.created_at), updated: Number(r.updated_at) }));
  for (const r of await q<{ kind: string; target: string; policy: string }>('SELECT * FROM iam_attachments ORDER BY kind, target, policy')) {
    push(s.attached, `${r.kind}\0${r.target}`, r.policy);
    let t = s.targets.get(r.policy);
    if (t === undefined) s.targets.set(r.policy, (t = { users: [], groups: [], roles: [] }));
    (r.kind === 'user' ? t.users : r.kind === 'group' ? t.groups : t.roles).push(r.target);
  }
  for (const r of await q<KeyRow>('SELECT * FROM iam_access_keys ORDER BY user_name, created_at, access_key_id')) {
    const k = toKey(r);
    s.keys.set(k.accessKeyId, k);
    push(s.keysOf, k.userName, k);
  }
  for (const r of await q<{ name: string; role_id: string; trust_policy: string; max_session_duration: number; created_at: string }>(
    'SELECT * FROM iam_roles ORDER BY name',
  ))
    s.roles.set(
      r.name,
      Object.freeze({
        name: r.name,
        roleId: r.role_id,
        trustPolicy: r.trust_policy,
        maxSessionDuration: r.max_session_duration,
        created: Number(r.created_at),
      }),
    );
  return { ...s, generation };
}

const targetOf = (t: AttachTarget): [string, string] => ('user' in t ? ['user', t.user] : 'group' in t ? ['group', t.group] : ['role', t.role]);

/** Whether a row exists (`sql` selects by $1). */
async function exists(c: PgClient, sql: string, arg: string): Promise<boolean> {
  return ((await c.query(sql, [arg])).rowCount ?? 0) > 0;
}

async function mustUser(c: PgClient, name: string): Promise<void> {
  if (!(await exists(c, 'SELECT 1 FROM iam_users WHERE name = $1', name))) throw new StoreError('NoSuchEntity', `The user with name ${name} cannot be found.`);
}
async function mustGroup(c: PgClient, name: string): Promise<void> {
  if (!(await exists(c, 'SELECT 1 FROM iam_groups WHERE name = $1', name)))
    throw new StoreError('NoSuchEntity', `The group with name ${name} cannot be found.`);
}
async function mustPolicy(c: PgClient, name: string): Promise<void> {
  if (!(await exists(c, 'SELECT 1 FROM iam_policies WHERE name = $1', name)))
    throw new StoreError('NoSuchEntity', `The policy with name ${name} cannot be found.`);
}
async function mustRole(c: PgClient, name: string): Promise<void> {
  if (!(await exists(c, 'SELECT 1 FROM iam_roles WHERE name = $1', name))) throw new StoreError('NoSuchEntity', `The role with name ${name} cannot be found.`);
}
async function insertKey(c: PgClient, k: AccessKeyRecord): Promise<void> {
  if (await exists(c, 'SELECT 1 FROM iam_access_keys WHERE access_key_id = $1', k.accessKeyId))
    throw new StoreError('EntityAlreadyExists', 'The access key exists already.');
  await c.query(
    'INSERT INTO iam_access_keys(access_key_id, user_name, secret_key_id, secret, status, expires_at, policy, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [k.accessKeyId, k.userName, k.secret.keyId, k.secret.sealed, k.status, k.expires ?? null, k.policy ?? null, k.created],
  );
}

export class PgIdentityStore extends SnapshotStore<Identities> implements IdentityStore {
  constructor(db: PgDb, feed?: ChangeFeed) {
    super(db, IDENTITY, loadIdentities, empty(), feed);
  }

  private get s(): Identities {
    return this.snap.current;
  }

  /** One write transaction: checks and changes in the database, bumps the generation; then reloads. */
  private run(fn: (c: PgClient) => Promise<void>): Promise<void> {
    return this.snap.write(fn);
  }

  identityGeneration(): number {
    return Math.max(0, this.s.generation);
  }

  lookupAccessKey(accessKeyId: string): { generation: number; key?: KeyWithUser } {
    // One snapshot object: the key, its user and the generation all as of the same read.
    const s = this.s;
    const generation = Math.max(0, s.generation);
    const key = this.keyWithUser(s, accessKeyId);
    return key === undefined ? { generation } : { generation, key };
  }

  private keyWithUser(s: Identities, accessKeyId: string): KeyWithUser | undefined {
    const k = s.keys.get(accessKeyId);
    const u = k && s.users.get(k.userName);
    return k && u && { ...k, userId: u.userId, userStatus: u.status };
  }

  createUser(user: UserRecord, key?: AccessKeyRecord): Promise<void> {
    return this.run(async (c) => {
      if (await exists(c, 'SELECT 1 FROM iam_users WHERE name = $1', user.name))
        throw new StoreError('EntityAlreadyExists', `User with name ${user.name} already exists.`);
      await c.query('INSERT INTO iam_users(name, user_id, status, created_at) VALUES ($1, $2, $3, $4)', [user.name, user.userId, user.status, user.created]);
      if (key) await insertKey(c, key);
    });
  }
  getUser(name: string): UserRecord | undefined {
    return this.s.users.get(name);
  }
  listUsers(): UserRecord[] {
    return [...this.s.users.values()];
  }
  setUserStatus(name: string, status: IdentityStatus): Promise<void> {
    return this.run(async (c) => {
      if ((await c.query('UPDATE iam_users SET status = $1 WHERE name = $2', [status, name])).rowCount === 0) await mustUser(c, name);
    });
  }
  deleteUser(name: string): Promise<void> {
    return this.run(async (c) => {
      await mustUser(c, name);
      await c.query("DELETE FROM iam_attachments WHERE kind = 'user' AND target = $1", [name]);
      await c.query('DELETE FROM iam_users WHERE name = $1', [name]); // keys and memberships cascade
    });
  }

  createGroup(name: string, created: number): Promise<void> {
    return this.run(async (c) => {
      if (await exists(c, 'SELECT 1 FROM iam_groups WHERE name = $1', name))
        throw new StoreError('EntityAlreadyExists', `Group with name ${name} already exists.`);
      await c.query('INSERT INTO iam_groups(name, created_at) VALUES ($1, $2)', [name, created]);
    });
  }
  getGroup(name: string): GroupRecord | undefined {
    const g = this.s.groups.get(name);
    return g && { name: g.name, created: g.created, members: [...(this.s.members.get(name) ?? [])] };
  }
  listGroups(): GroupRecord[] {
    return [...this.s.groups.keys()].map((n) => this.getGroup(n)!);
  }
  deleteGroup(name: string): Promise<void> {
    return this.run(async (c) => {
      await mustGroup(c, name);
      await c.query("DELETE FROM iam_attachments WHERE kind = 'group' AND target = $1", [name]);
      await c.query('DELETE FROM iam_groups WHERE name = $1', [name]); // memberships cascade
    });
  }
  updateGroupMembers(name: string, add: readonly string[], remove: readonly string[]): Promise<void> {
    return this.run(async (c) => {
      await mustGroup(c, name);
      for (const u of add) {
        await mustUser(c, u);
        await c.query('INSERT INTO iam_group_members(group_name, user_name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [name, u]);
      }
      for (const u of remove) await c.query('DELETE FROM iam_group_members WHERE group_name = $1 AND user_name = $2', [name, u]);
    });
  }
  groupsOfUser(userName: string): string[] {
    return [...(this.s.groupsOf.get(userName) ?? [])];
  }

  putPolicy(name: string, document: string, now: number): Promise<void> {
    return this.run(async (c) => {
      await c.query(
        `INSERT INTO iam_policies(name, document, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
        [name, document, now],
      );
    });
  }
  getPolicy(name: string): PolicyRecord | undefined {
    return this.s.policies.get(name);
  }
  listPolicies(): PolicyRecord[] {
    return [...this.s.policies.values()];
  }
  deletePolicy(name: string): Promise<void> {
    return this.run(async (c) => {
      await mustPolicy(c, name);
      if (await exists(c, 'SELECT 1 FROM iam_attachments WHERE policy = $1', name))
        throw new StoreError('DeleteConflict', 'The policy is attached: detach it first.');
      await c.query('DELETE FROM iam_policies WHERE name = $1', [name]);
    });
  }
  attachPolicy(policy: string, target: AttachTarget): Promise<void> {
    return this.run(async (c) => {
      await mustPolicy(c, policy);
      const [kind, name] = targetOf(target);
      await (kind === 'user' ? mustUser : kind === 'group' ? mustGroup : mustRole)(c, name);
      await c.query('INSERT INTO iam_attachments(kind, target, policy) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [kind, name, policy]);
    });
  }
  detachPolicy(policy: string, target: AttachTarget): Promise<void> {
    return this.run(async (c) => {
      const [kind, name] = targetOf(target);
      if ((await c.query('DELETE FROM iam_attachments WHERE kind = $1 AND target = $2 AND policy = $3', [kind, name, policy])).rowCount === 0)
        throw new StoreError('NoSuchEntity', `The policy ${policy} is not attached to the ${kind} ${name}.`);
    });
  }
  attachedPolicies(target: AttachTarget): string[] {
    const [kind, name] = targetOf(target);
    return [...(this.s.attached.get(`${kind}\0${name}`) ?? [])];
  }
  policyTargets(policy: string): Targets {
    const t = this.s.targets.get(policy);
    return { users: [...(t?.users ?? [])], groups: [...(t?.groups ?? [])], roles: [...(t?.roles ?? [])] };
  }

  createRole(role: RoleRecord): Promise<void> {
    return this.run(async (c) => {
      if (await exists(c, 'SELECT 1 FROM iam_roles WHERE name = $1', role.name))
        throw new StoreError('EntityAlreadyExists', `Role with name ${role.name} already exists.`);
      await c.query('INSERT INTO iam_roles(name, role_id, trust_policy, max_session_duration, created_at) VALUES ($1, $2, $3, $4, $5)', [
        role.name,
        role.roleId,
        role.trustPolicy,
        role.maxSessionDuration,
        role.created,
      ]);
    });
  }
  getRole(name: string): RoleRecord | undefined {
    return this.s.roles.get(name);
  }
  listRoles(): RoleRecord[] {
    return [...this.s.roles.values()];
  }
  deleteRole(name: string): Promise<void> {
    return this.run(async (c) => {
      await mustRole(c, name);
      await c.query("DELETE FROM iam_attachments WHERE kind = 'role' AND target = $1", [name]);
      await c.query('DELETE FROM iam_roles WHERE name = $1', [name]);
    });
  }

  createAccessKey(key: AccessKeyRecord): Promise<void> {
    return this.run(async (c) => {
      await mustUser(c, key.userName);
      await insertKey(c, key);
    });
  }
  getAccessKey(accessKeyId: string): KeyWithUser | undefined {
    return this.keyWithUser(this.s, accessKeyId);
  }
  listAccessKeys(userName: string): AccessKeyRecord[] {
    return [...(this.s.keysOf.get(userName) ?? [])];
  }
  setAccessKeyStatus(accessKeyId: string, status: IdentityStatus): Promise<void> {
    return this.run(async (c) => {
      if ((await c.query('UPDATE iam_access_keys SET status = $1 WHERE access_key_id = $2', [status, accessKeyId])).rowCount === 0)
        throw new StoreError('NoSuchEntity', `The access key ${accessKeyId} cannot be found.`);
    });
  }
  deleteAccessKey(accessKeyId: string): Promise<void> {
    return this.run(async (c) => {
      if ((await c.query('DELETE FROM iam_access_keys WHERE access_key_id = $1', [accessKeyId])).rowCount === 0)
        throw new StoreError('NoSuchEntity', `The access key ${accessKeyId} cannot be found.`);
    });
  }
  secretKeyIds(): string[] {
    return [...new Set([...this.s.keys.values()].map((k) => k.secret.keyId))];
  }
}

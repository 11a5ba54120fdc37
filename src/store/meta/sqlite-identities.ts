// The SQLite IdentityStore (../identities.ts): users, groups, managed policies, attachments and
// access keys in the format-7 tables (sqlite-schema.ts). Each change is one small transaction
// through the store's write scheduler (durable like any metadata write) that also bumps the
// identity generation (the `meta` row IDENTITY_GENERATION); reads are primary-key or index reads,
// so another process's change is seen by the next read.
import { StoreError } from '../errors.js';
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
} from '../identities.js';
import { read } from './sqlite-busy.js';
import type { Db, Stmt } from './sqlite-sql.js';

type Write = <T>(run: () => T) => T | Promise<T>;

interface UserRow {
  name: string;
  user_id: string;
  status: IdentityStatus;
  created_at: number;
}
interface KeyRow {
  access_key_id: string;
  user_name: string;
  secret_key_id: string;
  secret: Buffer;
  status: IdentityStatus;
  expires_at: number | null;
  policy: string | null;
  created_at: number;
}
interface PolicyRow {
  name: string;
  document: string;
  created_at: number;
  updated_at: number;
}

const toUser = (r: UserRow): UserRecord => ({ name: r.name, userId: r.user_id, status: r.status, created: r.created_at });
const toPolicy = (r: PolicyRow): PolicyRecord => ({ name: r.name, document: r.document, created: r.created_at, updated: r.updated_at });
function toKey(r: KeyRow): AccessKeyRecord {
  return {
    accessKeyId: r.access_key_id,
    userName: r.user_name,
    secret: { keyId: r.secret_key_id, sealed: r.secret },
    status: r.status,
    ...(r.expires_at !== null && { expires: r.expires_at }),
    ...(r.policy !== null && { policy: r.policy }),
    created: r.created_at,
  };
}
interface RoleRow {
  name: string;
  role_id: string;
  trust_policy: string;
  max_session_duration: number;
  created_at: number;
}
const toRole = (r: RoleRow): RoleRecord => ({
  name: r.name,
  roleId: r.role_id,
  trustPolicy: r.trust_policy,
  maxSessionDuration: r.max_session_duration,
  created: r.created_at,
});
const targetOf = (t: AttachTarget): [string, string] => ('user' in t ? ['user', t.user] : 'group' in t ? ['group', t.group] : ['role', t.role]);

/**
 * The `meta` row counting identity changes (no row: 0). Every transaction that changes what a
 * credential lookup resolves (users, groups, members, policies, attachments, keys; later roles)
 * adds one, so a process that cached a resolved principal sees the change on its next lookup.
 */
export const IDENTITY_GENERATION = 'identity_generation';
const BUMP_GENERATION = `INSERT INTO meta(name, value) VALUES ('${IDENTITY_GENERATION}', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1`;
const GENERATION = `SELECT coalesce((SELECT value FROM meta WHERE name = '${IDENTITY_GENERATION}'), 0)`;
const bumpStatements = new WeakMap<Db, Stmt>();

/**
 * Adds one to the identity generation of `db`. Call it inside every write transaction that
 * changes what a credential lookup resolves (SqliteIdentities' writes do; roles, STS sessions…
 * must too), so that every process drops the principals it cached (src/iam/credentials.ts) on its
 * next lookup.
 */
export function bumpIdentityGeneration(db: Db): void {
  let st = bumpStatements.get(db);
  if (st === undefined) bumpStatements.set(db, (st = db.prepare(BUMP_GENERATION)));
  st.run();
}

export class SqliteIdentities implements IdentityStore {
  private readonly st: Record<string, Stmt>;
  private readonly tx: <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => void;

  constructor(
    private readonly db: Db,
    private readonly write: Write,
  ) {
    const p = (sql: string): Stmt => db.prepare(sql);
    this.tx = (fn) => db.transaction(fn).immediate as never;
    this.st = {
      getUser: p('SELECT name, user_id, status, created_at FROM iam_users WHERE name = ?'),
      listUsers: p('SELECT name, user_id, status, created_at FROM iam_users ORDER BY name'),
      addUser: p('INSERT INTO iam_users(name, user_id, status, created_at) VALUES (?, ?, ?, ?)'),
      userStatus: p('UPDATE iam_users SET status = ? WHERE name = ?'),
      dropUser: p('DELETE FROM iam_users WHERE name = ?'),
      getGroup: p('SELECT name, created_at FROM iam_groups WHERE name = ?'),
      listGroups: p('SELECT name, created_at FROM iam_groups ORDER BY name'),
      addGroup: p('INSERT INTO iam_groups(name, created_at) VALUES (?, ?)'),
      dropGroup: p('DELETE FROM iam_groups WHERE name = ?'),
      members: p('SELECT user_name FROM iam_group_members WHERE group_name = ? ORDER BY user_name'),
      addMember: p('INSERT OR IGNORE INTO iam_group_members(group_name, user_name) VALUES (?, ?)'),
      dropMember: p('DELETE FROM iam_group_members WHERE group_name = ? AND user_name = ?'),
      groupsOf: p('SELECT group_name FROM iam_group_members WHERE user_name = ? ORDER BY group_name'),
      getPolicy: p('SELECT name, document, created_at, updated_at FROM iam_policies WHERE name = ?'),
      listPolicies: p('SELECT name, document, created_at, updated_at FROM iam_policies ORDER BY name'),
      putPolicy: p(
        'INSERT INTO iam_policies(name, document, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at',
      ),
      dropPolicy: p('DELETE FROM iam_policies WHERE name = ?'),
      attach: p('INSERT OR IGNORE INTO iam_attachments(kind, target, policy) VALUES (?, ?, ?)'),
      detach: p('DELETE FROM iam_attachments WHERE kind = ? AND target = ? AND policy = ?'),
      attached: p('SELECT policy FROM iam_attachments WHERE kind = ? AND target = ? ORDER BY policy'),
      targets: p('SELECT kind, target FROM iam_attachments WHERE policy = ? ORDER BY kind, target'),
      dropTargets: p('DELETE FROM iam_attachments WHERE kind = ? AND target = ?'),
      addKey: p(
        'INSERT INTO iam_access_keys(access_key_id, user_name, secret_key_id, secret, status, expires_at, policy, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      getKey: p(
        `SELECT k.*, u.user_id AS user_id, u.status AS user_status FROM iam_access_keys k JOIN iam_users u ON u.name = k.user_name
         WHERE k.access_key_id = ?`,
      ),
      keyExists: p('SELECT 1 FROM iam_access_keys WHERE access_key_id = ?'),
      keysOf: p('SELECT * FROM iam_access_keys WHERE user_name = ? ORDER BY created_at, access_key_id'),
      keyStatus: p('UPDATE iam_access_keys SET status = ? WHERE access_key_id = ?'),
      dropKey: p('DELETE FROM iam_access_keys WHERE access_key_id = ?'),
      keyIds: p('SELECT DISTINCT secret_key_id FROM iam_access_keys'),
      getRole: p('SELECT * FROM iam_roles WHERE name = ?'),
      listRoles: p('SELECT * FROM iam_roles ORDER BY name'),
      addRole: p('INSERT INTO iam_roles(name, role_id, trust_policy, max_session_duration, created_at) VALUES (?, ?, ?, ?, ?)'),
      dropRole: p('DELETE FROM iam_roles WHERE name = ?'),
      generation: p(GENERATION).pluck(),
      // One statement (one read snapshot): the generation, and the key with its user when it exists.
      lookupKey: p(
        `SELECT (${GENERATION}) AS generation, k.*, u.user_id AS user_id, u.status AS user_status
         FROM (SELECT 1) LEFT JOIN iam_access_keys k ON k.access_key_id = ? LEFT JOIN iam_users u ON u.name = k.user_name`,
      ),
    };
  }

  /** One write transaction that also bumps the identity generation. */
  private run<A extends unknown[]>(fn: (...args: A) => void, ...args: A): void | Promise<void> {
    const t = this.tx((...a: A) => {
      fn(...a);
      bumpIdentityGeneration(this.db);
    });
    return this.write(() => t(...args));
  }

  /** The identity generation (0 before the first identity change). */
  identityGeneration(): number {
    return read(() => this.st.generation!.get() as number);
  }

  lookupAccessKey(accessKeyId: string): { generation: number; key?: KeyWithUser } {
    return read(() => {
      const r = this.st.lookupKey!.get(accessKeyId) as { generation: number } & Partial<KeyRow & { user_id: string; user_status: IdentityStatus }>;
      if (r.access_key_id == null || r.user_id == null) return { generation: r.generation };
      const k = r as KeyRow & { user_id: string; user_status: IdentityStatus };
      return { generation: r.generation, key: { ...toKey(k), userId: k.user_id, userStatus: k.user_status } };
    });
  }

  private mustUser(name: string): void {
    if (this.st.getUser!.get(name) === undefined) throw new StoreError('NoSuchEntity', `The user with name ${name} cannot be found.`);
  }
  private mustGroup(name: string): void {
    if (this.st.getGroup!.get(name) === undefined) throw new StoreError('NoSuchEntity', `The group with name ${name} cannot be found.`);
  }
  private mustPolicy(name: string): void {
    if (this.st.getPolicy!.get(name) === undefined) throw new StoreError('NoSuchEntity', `The policy with name ${name} cannot be found.`);
  }

  private insertKey(k: AccessKeyRecord): void {
    if (this.st.keyExists!.get(k.accessKeyId) !== undefined) throw new StoreError('EntityAlreadyExists', 'The access key exists already.');
    this.st.addKey!.run(k.accessKeyId, k.userName, k.secret.keyId, k.secret.sealed, k.status, k.expires ?? null, k.policy ?? null, k.created);
  }

  createUser(user: UserRecord, key?: AccessKeyRecord): void | Promise<void> {
    return this.run(() => {
      if (this.st.getUser!.get(user.name) !== undefined) throw new StoreError('EntityAlreadyExists', `User with name ${user.name} already exists.`);
      this.st.addUser!.run(user.name, user.userId, user.status, user.created);
      if (key) this.insertKey(key);
    });
  }
  getUser(name: string): UserRecord | undefined {
    return read(() => {
      const r = this.st.getUser!.get(name) as UserRow | undefined;
      return r && toUser(r);
    });
  }
  listUsers(): UserRecord[] {
    return read(() => (this.st.listUsers!.all() as UserRow[]).map(toUser));
  }
  setUserStatus(name: string, status: IdentityStatus): void | Promise<void> {
    return this.run(() => {
      if (this.st.userStatus!.run(status, name).changes === 0) this.mustUser(name);
    });
  }
  deleteUser(name: string): void | Promise<void> {
    return this.run(() => {
      this.mustUser(name);
      this.st.dropTargets!.run('user', name);
      this.st.dropUser!.run(name); // keys and memberships cascade
    });
  }

  createGroup(name: string, created: number): void | Promise<void> {
    return this.run(() => {
      if (this.st.getGroup!.get(name) !== undefined) throw new StoreError('EntityAlreadyExists', `Group with name ${name} already exists.`);
      this.st.addGroup!.run(name, created);
    });
  }
  private groupOf(row: { name: string; created_at: number }): GroupRecord {
    const members = (this.st.members!.all(row.name) as Array<{ user_name: string }>).map((m) => m.user_name);
    return { name: row.name, created: row.created_at, members };
  }
  getGroup(name: string): GroupRecord | undefined {
    return read(() => {
      const r = this.st.getGroup!.get(name) as { name: string; created_at: number } | undefined;
      return r && this.groupOf(r);
    });
  }
  listGroups(): GroupRecord[] {
    return read(() => (this.st.listGroups!.all() as Array<{ name: string; created_at: number }>).map((r) => this.groupOf(r)));
  }
  deleteGroup(name: string): void | Promise<void> {
    return this.run(() => {
      this.mustGroup(name);
      this.st.dropTargets!.run('group', name);
      this.st.dropGroup!.run(name); // memberships cascade
    });
  }
  updateGroupMembers(name: string, add: readonly string[], remove: readonly string[]): void | Promise<void> {
    return this.run(() => {
      this.mustGroup(name);
      for (const u of add) {
        this.mustUser(u);
        this.st.addMember!.run(name, u);
      }
      for (const u of remove) this.st.dropMember!.run(name, u);
    });
  }
  groupsOfUser(userName: string): string[] {
    return read(() => (this.st.groupsOf!.all(userName) as Array<{ group_name: string }>).map((r) => r.group_name));
  }

  putPolicy(name: string, document: string, now: number): void | Promise<void> {
    return this.run(() => {
      this.st.putPolicy!.run(name, document, now, now);
    });
  }
  getPolicy(name: string): PolicyRecord | undefined {
    return read(() => {
      const r = this.st.getPolicy!.get(name) as PolicyRow | undefined;
      return r && toPolicy(r);
    });
  }
  listPolicies(): PolicyRecord[] {
    return read(() => (this.st.listPolicies!.all() as PolicyRow[]).map(toPolicy));
  }
  deletePolicy(name: string): void | Promise<void> {
    return this.run(() => {
      this.mustPolicy(name);
      if ((this.st.targets!.all(name) as unknown[]).length > 0) throw new StoreError('DeleteConflict', 'The policy is attached: detach it first.');
      this.st.dropPolicy!.run(name);
    });
  }
  attachPolicy(policy: string, target: AttachTarget): void | Promise<void> {
    return this.run(() => {
      this.mustPolicy(policy);
      const [kind, name] = targetOf(target);
      if (kind === 'user') this.mustUser(name);
      else if (kind === 'group') this.mustGroup(name);
      else this.mustRole(name);
      this.st.attach!.run(kind, name, policy);
    });
  }
  detachPolicy(policy: string, target: AttachTarget): void | Promise<void> {
    return this.run(() => {
      const [kind, name] = targetOf(target);
      if (this.st.detach!.run(kind, name, policy).changes === 0)
        throw new StoreError('NoSuchEntity', `The policy ${policy} is not attached to the ${kind} ${name}.`);
    });
  }
  attachedPolicies(target: AttachTarget): string[] {
    const [kind, name] = targetOf(target);
    return read(() => (this.st.attached!.all(kind, name) as Array<{ policy: string }>).map((r) => r.policy));
  }
  policyTargets(policy: string): { users: string[]; groups: string[]; roles: string[] } {
    return read(() => {
      const out = { users: [] as string[], groups: [] as string[], roles: [] as string[] };
      for (const r of this.st.targets!.all(policy) as Array<{ kind: string; target: string }>)
        (r.kind === 'user' ? out.users : r.kind === 'group' ? out.groups : out.roles).push(r.target);
      return out;
    });
  }

  private mustRole(name: string): void {
    if (this.st.getRole!.get(name) === undefined) throw new StoreError('NoSuchEntity', `The role with name ${name} cannot be found.`);
  }
  createRole(role: RoleRecord): void | Promise<void> {
    return this.run(() => {
      if (this.st.getRole!.get(role.name) !== undefined) throw new StoreError('EntityAlreadyExists', `Role with name ${role.name} already exists.`);
      this.st.addRole!.run(role.name, role.roleId, role.trustPolicy, role.maxSessionDuration, role.created);
    });
  }
  getRole(name: string): RoleRecord | undefined {
    return read(() => {
      const r = this.st.getRole!.get(name) as RoleRow | undefined;
      return r && toRole(r);
    });
  }
  listRoles(): RoleRecord[] {
    return read(() => (this.st.listRoles!.all() as RoleRow[]).map(toRole));
  }
  deleteRole(name: string): void | Promise<void> {
    return this.run(() => {
      this.mustRole(name);
      this.st.dropTargets!.run('role', name);
      this.st.dropRole!.run(name);
    });
  }

  createAccessKey(key: AccessKeyRecord): void | Promise<void> {
    return this.run(() => {
      this.mustUser(key.userName);
      this.insertKey(key);
    });
  }
  getAccessKey(accessKeyId: string): KeyWithUser | undefined {
    return read(() => {
      const r = this.st.getKey!.get(accessKeyId) as (KeyRow & { user_id: string; user_status: IdentityStatus }) | undefined;
      return r && { ...toKey(r), userId: r.user_id, userStatus: r.user_status };
    });
  }
  listAccessKeys(userName: string): AccessKeyRecord[] {
    return read(() => (this.st.keysOf!.all(userName) as KeyRow[]).map(toKey));
  }
  setAccessKeyStatus(accessKeyId: string, status: IdentityStatus): void | Promise<void> {
    return this.run(() => {
      if (this.st.keyStatus!.run(status, accessKeyId).changes === 0) throw new StoreError('NoSuchEntity', `The access key ${accessKeyId} cannot be found.`);
    });
  }
  deleteAccessKey(accessKeyId: string): void | Promise<void> {
    return this.run(() => {
      if (this.st.dropKey!.run(accessKeyId).changes === 0) throw new StoreError('NoSuchEntity', `The access key ${accessKeyId} cannot be found.`);
    });
  }
  secretKeyIds(): string[] {
    return read(() => (this.st.keyIds!.all() as Array<{ secret_key_id: string }>).map((r) => r.secret_key_id));
  }
}

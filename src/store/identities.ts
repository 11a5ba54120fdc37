// Identities the server stores (format 7): users, groups, managed policies, their attachments and
// users' access keys. The root user is never stored (it comes from configuration). Secrets arrive
// here already sealed (src/iam/secret-box.ts): the store keeps opaque ciphertext and its key id.

export type IdentityStatus = 'enabled' | 'disabled';

export interface UserRecord {
  /** AWS IAM user-name rules: 1–64 of [A-Za-z0-9+=,.@_-]. */
  readonly name: string;
  /** Generated, stable, never reused: what buckets record as their owner. */
  readonly userId: string;
  readonly status: IdentityStatus;
  /** ms since the epoch. */
  readonly created: number;
}

export interface GroupRecord {
  readonly name: string;
  readonly created: number;
  readonly members: string[];
}

export interface PolicyRecord {
  readonly name: string;
  /** The policy document as JSON text, as given. */
  readonly document: string;
  readonly created: number;
  readonly updated: number;
}

/** A secret as stored: ciphertext (IV, ciphertext and tag) and the id of the key that sealed it. */
export interface SealedSecret {
  readonly keyId: string;
  readonly sealed: Buffer;
}

export interface AccessKeyRecord {
  readonly accessKeyId: string;
  readonly userName: string;
  readonly secret: SealedSecret;
  readonly status: IdentityStatus;
  /** ms since the epoch; absent: never expires. */
  readonly expires?: number;
  /** An inline policy (JSON text) that narrows the user's rights for this key. */
  readonly policy?: string;
  readonly created: number;
}

/** An access key found for authentication, with its user's id and status (one primary-key read). */
export interface KeyWithUser extends AccessKeyRecord {
  readonly userId: string;
  readonly userStatus: IdentityStatus;
}

/** A role (format 8): what STS's AssumeRole hands out sessions of (src/iam/sessions.ts). */
export interface RoleRecord {
  /** AWS IAM role-name rules: 1–64 of [A-Za-z0-9+=,.@_-]. */
  readonly name: string;
  /** Generated, stable, never reused (`AROA…`): a session names it, so a role deleted and made again does not revive old sessions. */
  readonly roleId: string;
  /** The trust policy (JSON text): who may assume the role. */
  readonly trustPolicy: string;
  /** Seconds, 900–43200 (AWS's bounds; default 3600). */
  readonly maxSessionDuration: number;
  readonly created: number;
}

export type AttachTarget = { readonly user: string } | { readonly group: string } | { readonly role: string };

type MaybeAsync<T> = T | Promise<T>;

/**
 * The identity tables of the metadata store. Failures are StoreErrors: 'NoSuchEntity' (a named
 * user, group, policy or key does not exist), 'EntityAlreadyExists', 'DeleteConflict' (a policy
 * still attached). Reads are synchronous primary-key or index reads.
 */
export interface IdentityStore {
  createUser(user: UserRecord, key?: AccessKeyRecord): MaybeAsync<void>;
  getUser(name: string): UserRecord | undefined;
  listUsers(): UserRecord[];
  setUserStatus(name: string, status: IdentityStatus): MaybeAsync<void>;
  /** Removes the user, its keys, its group memberships and its attachments. */
  deleteUser(name: string): MaybeAsync<void>;

  createGroup(name: string, created: number): MaybeAsync<void>;
  getGroup(name: string): GroupRecord | undefined;
  listGroups(): GroupRecord[];
  /** Removes the group, its memberships and its attachments (the users stay). */
  deleteGroup(name: string): MaybeAsync<void>;
  /** Adds then removes members in one transaction; every named user must exist. */
  updateGroupMembers(name: string, add: readonly string[], remove: readonly string[]): MaybeAsync<void>;
  groupsOfUser(userName: string): string[];

  /** Creates or replaces the document (created kept, updated set). */
  putPolicy(name: string, document: string, now: number): MaybeAsync<void>;
  getPolicy(name: string): PolicyRecord | undefined;
  listPolicies(): PolicyRecord[];
  deletePolicy(name: string): MaybeAsync<void>;
  attachPolicy(policy: string, target: AttachTarget): MaybeAsync<void>;
  detachPolicy(policy: string, target: AttachTarget): MaybeAsync<void>;
  /** Names of the policies attached to a user or a group. */
  attachedPolicies(target: AttachTarget): string[];
  /** The users, groups and roles a policy is attached to. */
  policyTargets(policy: string): { users: string[]; groups: string[]; roles: string[] };

  createRole(role: RoleRecord): MaybeAsync<void>;
  getRole(name: string): RoleRecord | undefined;
  listRoles(): RoleRecord[];
  /** Removes the role and its attachments (its sessions fail at their next request: src/iam/sessions.ts). */
  deleteRole(name: string): MaybeAsync<void>;

  createAccessKey(key: AccessKeyRecord): MaybeAsync<void>;
  /** The key and its user, or undefined. */
  getAccessKey(accessKeyId: string): KeyWithUser | undefined;
  /**
   * The per-request authentication read, one statement: the identity generation and the key with
   * its user (absent: no such key). The generation changes with every identity write, in every
   * process sharing the store: a principal resolved at an equal generation is still current.
   */
  lookupAccessKey(accessKeyId: string): { generation: number; key?: KeyWithUser };
  /** The identity generation (0 before the first identity change). */
  identityGeneration(): number;
  listAccessKeys(userName: string): AccessKeyRecord[];
  setAccessKeyStatus(accessKeyId: string, status: IdentityStatus): MaybeAsync<void>;
  deleteAccessKey(accessKeyId: string): MaybeAsync<void>;
  /** The distinct key ids that sealed stored secrets (start-up check: can this server open them?). */
  secretKeyIds(): string[];
}

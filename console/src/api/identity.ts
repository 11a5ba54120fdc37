// The identity side of the admin API (docs/admin-api.md) through /api/admin, and the console's
// /api/explain (a user's effective rights, evaluated by the server's own policy evaluator).
import { adminJson, apiJson } from './api';

const enc = encodeURIComponent;

export interface UserSummary {
  name: string;
  userId: string;
  status: string;
  created: string;
}

export interface AccessKeyInfo {
  accessKey: string;
  user: string;
  status: string;
  created: string;
  expiry?: string;
  policy?: string;
}

export interface UserDetail {
  user: UserSummary;
  groups: string[];
  policies: string[];
  accessKeys: AccessKeyInfo[];
}

export interface NewKey {
  accessKey: string;
  secretKey: string;
}

export interface GroupSummary {
  name: string;
  members: string[];
}

export interface GroupDetail {
  name: string;
  created: string;
  members: string[];
  policies: string[];
}

export interface PolicySummary {
  name: string;
  updated: string;
}

export interface PolicyDetail {
  name: string;
  created: string;
  updated: string;
  document: string | object;
  attachedTo: { users: string[]; groups: string[] };
}

export const users = {
  list: async () => (await adminJson<{ users: UserSummary[] }>('GET', 'v1/users')).users,
  get: (name: string) => adminJson<UserDetail>('GET', `v1/users/${enc(name)}`),
  create: (name: string, key: boolean, policies: string[]) =>
    adminJson<{ user: UserSummary; policies: string[]; accessKey?: string; secretKey?: string }>('POST', 'v1/users', { name, key, policies }),
  setEnabled: (name: string, enabled: boolean) => adminJson<object>('POST', `v1/users/${enc(name)}/${enabled ? 'enable' : 'disable'}`),
  remove: (name: string) => adminJson<object>('DELETE', `v1/users/${enc(name)}`),
  createKey: (name: string, opts: { expiry?: string; policy?: string } = {}) =>
    adminJson<AccessKeyInfo & { secretKey: string }>('POST', `v1/users/${enc(name)}/keys`, opts),
};

export const keys = {
  setEnabled: (key: string, enabled: boolean) => adminJson<object>('POST', `v1/keys/${enc(key)}/${enabled ? 'enable' : 'disable'}`),
  remove: (key: string) => adminJson<object>('DELETE', `v1/keys/${enc(key)}`),
};

export const groups = {
  list: async () => (await adminJson<{ groups: GroupSummary[] }>('GET', 'v1/groups')).groups,
  get: (name: string) => adminJson<GroupDetail>('GET', `v1/groups/${enc(name)}`),
  create: (name: string, members: string[]) => adminJson<GroupSummary>('POST', 'v1/groups', { name, members }),
  remove: (name: string) => adminJson<object>('DELETE', `v1/groups/${enc(name)}`),
  addMembers: (name: string, members: string[]) => adminJson<object>('POST', `v1/groups/${enc(name)}/members`, { users: members }),
  removeMembers: (name: string, members: string[]) => adminJson<object>('POST', `v1/groups/${enc(name)}/members/remove`, { users: members }),
};

export type AttachTarget = { user: string } | { group: string };

export const policies = {
  list: async () => (await adminJson<{ policies: PolicySummary[] }>('GET', 'v1/policies')).policies,
  get: (name: string) => adminJson<PolicyDetail>('GET', `v1/policies/${enc(name)}`),
  put: (name: string, document: string) => adminJson<{ name: string }>('POST', 'v1/policies', { name, document }),
  remove: (name: string) => adminJson<object>('DELETE', `v1/policies/${enc(name)}`),
  attach: (name: string, to: AttachTarget) => adminJson<object>('POST', `v1/policies/${enc(name)}/attach`, to),
  detach: (name: string, to: AttachTarget) => adminJson<object>('POST', `v1/policies/${enc(name)}/detach`, to),
};

/** A policy document as pretty JSON text (the admin API gives it back as stored: text or object). */
export function documentText(d: string | object): string {
  if (typeof d !== 'string') return JSON.stringify(d, null, 2);
  try {
    return JSON.stringify(JSON.parse(d), null, 2);
  } catch {
    return d;
  }
}

export type Decision = 'allow' | 'deny' | 'implicitDeny';

export interface ExplainResult {
  action: string;
  resource: string;
  decision: Decision;
  /** The statements that applied; `source`: identity (the user's or a group's), resource (bucket policy or ACL), key (a key's inline policy), session (STS). */
  matched: Array<{ policy: string; source?: string; statementSid?: string; effect: string }>;
}

/** The effective rights of `user` (default: the caller) for each action × resource. */
export async function explain(user: string | undefined, actions: string[], resources: string[]): Promise<ExplainResult[]> {
  const r = await apiJson<{ results: ExplainResult[] }>('POST', '/api/explain', { ...(user ? { user } : {}), actions, resources });
  return r.results;
}

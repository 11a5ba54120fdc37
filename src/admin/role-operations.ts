// The admin API's role operations (docs/admin-api.md, "Roles"): create, list, describe and delete
// roles for STS (docs/iam.md, "Roles and STS"). Attaching managed policies to a role goes through
// the policies' attach/detach operations (operations.ts) with `{"role": NAME}`.
import { parseTrustPolicy, newRoleId, roleArn } from '../iam/roles.js';
import type { RoleRecord } from '../store/identities.js';
import { AdminError, type AdminRoute, type Json } from './operations.js';

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** AWS's bounds of a role's MaxSessionDuration in seconds (Strata allows down to 900). */
const MIN_SESSION_S = 900;
const MAX_SESSION_S = 43_200;
const DEFAULT_SESSION_S = 3600;
const MAX_TRUST_BYTES = 4096;

const invalid = (message: string) => new AdminError('InvalidArgument', 400, message);

export function roleName(v: unknown): string {
  if (typeof v !== 'string' || !ROLE_NAME.test(v)) throw invalid('Invalid role name: it must be 1-64 characters of A-Z a-z 0-9 and +=,.@_-');
  return v;
}

/** A trust policy (JSON text or object): Principal required, no Resource, sts: actions (MalformedPolicy otherwise). */
function trustDocument(v: unknown): string {
  if (v === undefined) throw new AdminError('MalformedPolicy', 400, 'A role needs a trust policy (trustPolicy).');
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  if (Buffer.byteLength(text) > MAX_TRUST_BYTES) throw new AdminError('MalformedPolicy', 400, `The trust policy is larger than ${MAX_TRUST_BYTES} bytes.`);
  const parsed = parseTrustPolicy(typeof v === 'string' ? v : (v as unknown));
  if (!parsed.ok) throw new AdminError('MalformedPolicy', 400, parsed.error.message);
  return text;
}

function maxDuration(v: unknown): number {
  if (v === undefined) return DEFAULT_SESSION_S;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_SESSION_S || v > MAX_SESSION_S)
    throw invalid(`maxSessionDuration must be a whole number of seconds from ${MIN_SESSION_S} to ${MAX_SESSION_S}`);
  return v;
}

const iso = (ms: number) => new Date(ms).toISOString();
function roleInfo(r: RoleRecord): Json {
  return { name: r.name, arn: roleArn(r.name), roleId: r.roleId, maxSessionDuration: r.maxSessionDuration, created: iso(r.created) };
}

export const ROLE_ROUTES: readonly AdminRoute[] = [
  { method: 'GET', path: ['roles'], action: 'admin:ListRoles', run: (c) => ({ roles: c.identities.listRoles().map(roleInfo) }) },
  {
    method: 'POST',
    path: ['roles'],
    action: 'admin:CreateRole',
    run: async (c, r) => {
      const name = roleName(r.body.name);
      const trustPolicy = trustDocument(r.body.trustPolicy);
      const policies = r.body.policies ?? [];
      if (!Array.isArray(policies) || policies.some((p) => typeof p !== 'string')) throw invalid('policies must be a list of names');
      for (const p of policies as string[])
        if (!c.identities.getPolicy(p)) throw new AdminError('NoSuchEntity', 404, `The policy with name ${p} cannot be found.`);
      const role: RoleRecord = { name, roleId: newRoleId(), trustPolicy, maxSessionDuration: maxDuration(r.body.maxSessionDuration), created: c.now() };
      await c.identities.createRole(role);
      for (const p of policies as string[]) await c.identities.attachPolicy(p, { role: name });
      return { role: roleInfo(role), policies };
    },
  },
  {
    method: 'GET',
    path: ['roles', ':role'],
    action: 'admin:GetRole',
    run: (c, r) => {
      const role = c.identities.getRole(r.params[0]!);
      if (!role) throw new AdminError('NoSuchEntity', 404, `The role with name ${r.params[0]} cannot be found.`);
      return { role: roleInfo(role), trustPolicy: JSON.parse(role.trustPolicy) as unknown, policies: c.identities.attachedPolicies({ role: role.name }) };
    },
  },
  { method: 'DELETE', path: ['roles', ':role'], action: 'admin:DeleteRole', run: async (c, r) => (await c.identities.deleteRole(r.params[0]!), {}) },
];

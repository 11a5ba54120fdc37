// Who may call an admin operation: the one decision point (iam/authorize.ts) asked for the route's
// admin action (admin:CreateUser…) on the service resource, with the request's global condition keys.
// Root is always allowed; a user what its identity policies (own, groups', narrowed by its key's
// inline policy) allow. Admin actions are not scoped to an entity: any Resource element of a statement
// applies to them (as MinIO). docs/admin-api.md, "Who may call it".
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { type AdminAction, authorize, authorizeKms, type ConditionContext, type KmsAction } from '../iam/authorize.js';
import type { Principal } from '../iam/principal.js';
import type { IdentityStore } from '../store/identities.js';

/** The admin actions that give a user a usable access key (a new one, or a disabled one back). */
const KEY_MINTING: ReadonlySet<string> = new Set(['admin:CreateAccessKey', 'admin:EnableAccessKey']);

/**
 * Why `principal` may not run `action` (undefined: it may). `params`: the route's path parameters
 * (the user of `users/:user/keys`, the key of `keys/:key/enable`). The reason is for the access log
 * only; the caller answers AccessDenied without it. A kms: action is asked on `keyArn` (a key's ARN,
 * or `*` for the actions on no key).
 */
export function authorizeAdmin(
  req: IncomingMessage,
  principal: Principal,
  action: AdminAction | KmsAction,
  params: readonly string[],
  identities: Pick<IdentityStore, 'getAccessKey'>,
  keyArn = '*',
): string | undefined {
  if (principal.kind === 'root') return undefined;
  const h = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const conditions: ConditionContext = {
    secureTransport: (req.socket as TLSSocket | undefined)?.encrypted === true,
    sourceIp: req.socket?.remoteAddress,
    operation: action,
    values: { 'aws:UserAgent': h('user-agent'), 'aws:Referer': h('referer') },
  };
  const decision = action.startsWith('kms:')
    ? authorizeKms(principal, action as KmsAction, keyArn, conditions)
    : authorize(principal, action as AdminAction, { kind: 'service' }, conditions);
  if (!decision.allowed) return decision.reason;
  // A key narrowed by an inline policy must not escape its narrowing by minting (or re-enabling) an
  // unrestricted key of its own user: MinIO refuses a service account the same for its parent.
  if (principal.keyPolicy !== undefined && KEY_MINTING.has(action)) {
    const owner = action === 'admin:CreateAccessKey' ? params[0] : identities.getAccessKey(params[0] ?? '')?.userName;
    if (owner !== undefined && owner === principal.userName) return 'a key with an inline policy may not create or enable keys of its own user';
  }
  return undefined;
}

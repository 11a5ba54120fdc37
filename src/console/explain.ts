// POST /api/explain {user?, actions, resources}: the effective rights of a user (default: the
// caller's session) for each action on each resource, decided by the real authorizer
// (iam/authorize.ts: the user's and its groups' identity policies, its key's narrowing policy for
// the caller's own session, the bucket's policy and ACLs) with the statements that applied. Asking
// about another user needs admin:GetUser.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import {
  type AdminAction,
  authorize,
  type ConditionContext,
  explainAuthorization,
  type MatchedStatement,
  type Resource,
  type S3Action,
} from '../iam/authorize.js';
import { compileStoredPolicy, identityPolicies } from '../iam/credentials.js';
import type { Principal } from '../iam/principal.js';
import { loadBucketAccess } from '../s3/bucket-access.js';
import type { Store } from '../store/store.js';
import { type ApiEndpoint, readJsonObject, sendJson } from './http.js';
import { ConsoleError, type ConsoleSession } from './session.js';

/** At most this many actions and resources per call (the answer has one result per pair). */
const MAX_ITEMS = 50;

/** A resource as the page names it: `*`, an S3 ARN (`arn:aws:s3:::b`, `arn:aws:s3:::b/k`) or `b`, `b/k`. */
export function parseResource(text: string): { bucket?: string; key?: string } | undefined {
  const path = text.startsWith('arn:aws:s3:::') ? text.slice('arn:aws:s3:::'.length) : text.startsWith('arn:') ? undefined : text;
  if (path === undefined) return undefined;
  if (path === '*' || path === '') return {};
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: path };
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

/** Another user's principal as a request of theirs would carry it (identity policies only: no key, no session). */
function userPrincipal(store: Store, name: string): Principal {
  const user = store.identities.getUser(name);
  if (user === undefined) throw new ConsoleError(404, 'NoSuchEntity', `The user ${name} does not exist.`);
  const { policies } = identityPolicies(store.identities, name);
  return {
    accessKeyId: '',
    userId: user.userId,
    kind: 'user',
    userName: name,
    policies: { identity: [...policies].map(([n, doc]) => compileStoredPolicy(n, doc)) },
  };
}

const ANSWER = { Allow: 'allow', ExplicitDeny: 'deny', ImplicitDeny: 'implicitDeny' } as const;

export function explainEndpoint(deps: { store: Store }): ApiEndpoint {
  return async (req: IncomingMessage, res: ServerResponse, session: ConsoleSession) => {
    const body = await readJsonObject(req);
    const { user, actions, resources } = body;
    const strings = (v: unknown): v is string[] =>
      Array.isArray(v) && v.length > 0 && v.length <= MAX_ITEMS && v.every((x) => typeof x === 'string' && x !== '');
    if (!strings(actions) || !strings(resources))
      throw new ConsoleError(400, 'InvalidArgument', `Give actions and resources: arrays of 1 to ${MAX_ITEMS} strings.`);
    if (user !== undefined && (typeof user !== 'string' || user === '')) throw new ConsoleError(400, 'InvalidArgument', 'user, when given, is a user name.');
    for (const a of actions) if (!/^(s3|admin):[A-Za-z0-9*?]+$/.test(a)) throw new ConsoleError(400, 'InvalidArgument', `Not an s3: or admin: action: ${a}`);
    const conditions: ConditionContext = { secureTransport: (req.socket as TLSSocket).encrypted === true, sourceIp: req.socket.remoteAddress };
    const caller = session.principal;
    let principal = caller;
    if (user !== undefined && !(caller.kind === 'user' && caller.session === undefined && caller.userName === user)) {
      if (!authorize(caller, 'admin:GetUser', { kind: 'service' }, conditions).allowed)
        throw new ConsoleError(403, 'AccessDenied', "Explaining another user's rights needs admin:GetUser.");
      principal = userPrincipal(deps.store, user);
    }
    const results = [];
    for (const resourceText of resources) {
      const parsed = parseResource(resourceText);
      if (parsed === undefined) throw new ConsoleError(400, 'InvalidArgument', `Not an S3 resource: ${resourceText}`);
      const record = parsed.bucket !== undefined ? await deps.store.getBucket(parsed.bucket) : undefined;
      const access = record !== undefined ? await loadBucketAccess(deps.store, record) : undefined;
      for (const action of actions) {
        const resource: Resource =
          action.startsWith('admin:') || parsed.bucket === undefined
            ? { kind: 'service' }
            : parsed.key === undefined
              ? { kind: 'bucket', bucket: parsed.bucket, ...(record && { owner: record.owner }) }
              : { kind: 'object', bucket: parsed.bucket, key: parsed.key, ...(record && { owner: record.owner }) };
        const act = action as S3Action | AdminAction;
        let e = explainAuthorization(principal, act, resource, conditions, access);
        const matched: MatchedStatement[] = e.matched;
        // No statement decided: an ACL grant may still allow (as S3's check does).
        if (
          !e.decision.allowed &&
          e.decision.implicit === true &&
          access?.acl !== undefined &&
          action.startsWith('s3:') &&
          (await access.acl(principal, act as S3Action, resource))
        ) {
          e = explainAuthorization(principal, act, resource, conditions, access, { aclAllows: true });
          if (e.decision.allowed) matched.push({ policy: 'bucket or object ACL', source: 'resource', effect: 'Allow' });
        }
        const decision = e.decision.allowed ? ANSWER.Allow : e.explicitDeny ? ANSWER.ExplicitDeny : ANSWER.ImplicitDeny;
        results.push({ action, resource: resourceText, decision, matched });
      }
    }
    sendJson(res, 200, { principal: { kind: principal.kind, ...(principal.userName !== undefined && { user: principal.userName }) }, results });
  };
}

// Access control lists as S3 speaks them, pure: the canned ACLs (x-amz-acl, the POST form's `acl`)
// and the grants they stand for, the x-amz-grant-* headers, the AccessControlPolicy document both
// ways, which permission each IAM action needs, and which grants are public. Stored as StoredAcl
// (store/types.ts). https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
import type { StoredAcl } from '../store/types.js';
import { S3Error } from './errors.js';
import type { CanonicalUser } from './owner.js';
import { children, parseXml, text, token, type XmlNode, type XmlValue } from './xml.js';

export type AclPermission = 'FULL_CONTROL' | 'WRITE' | 'WRITE_ACP' | 'READ' | 'READ_ACP';
const PERMISSIONS: ReadonlySet<string> = new Set<AclPermission>(['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP']);

export type StoredGrant = StoredAcl['grants'][number];

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const GROUPS: ReadonlySet<string> = new Set([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]);

export const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

/** The x-amz-grant-* headers and the permission each grants. */
export const GRANT_HEADERS: readonly (readonly [string, AclPermission])[] = [
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
];

/** What a request asks for: a canned ACL, or explicit grants (headers or an XML document). */
export type AclRequest = { readonly canned: CannedAcl } | { readonly grants: readonly StoredGrant[]; readonly ownerId?: string };

const invalidArgument = (message: string, name: string, value: string): S3Error =>
  new S3Error('InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });

/** A canned ACL's name, checked (InvalidArgument for another). */
export function parseCanned(value: string, name = 'x-amz-acl'): CannedAcl {
  if ((CANNED_ACLS as readonly string[]).includes(value)) return value as CannedAcl;
  throw invalidArgument('', name, value);
}

const userGrant = (u: CanonicalUser, permission: AclPermission): StoredGrant => ({ id: u.ID, name: u.DisplayName, permission });
const groupGrant = (uri: string, permission: AclPermission): StoredGrant => ({ uri, permission });

/**
 * The ACL a canned ACL stands for. `owner`: the resource's owner; `bucketOwner`: the owner of the
 * object's bucket (bucket-owner-read / -full-control; for a bucket they are plain `private`).
 * aws-exec-read's EC2 grant has no one to go to here: it is `private`.
 */
export function cannedAcl(canned: CannedAcl, owner: CanonicalUser, bucketOwner?: CanonicalUser): StoredAcl {
  const grants: StoredGrant[] = [userGrant(owner, 'FULL_CONTROL')];
  switch (canned) {
    case 'public-read':
      grants.push(groupGrant(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      grants.push(groupGrant(ALL_USERS, 'READ'), groupGrant(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(groupGrant(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'log-delivery-write':
      grants.push(groupGrant(LOG_DELIVERY, 'WRITE'), groupGrant(LOG_DELIVERY, 'READ_ACP'));
      break;
    case 'bucket-owner-read':
    case 'bucket-owner-full-control':
      if (bucketOwner !== undefined && bucketOwner.ID !== owner.ID) {
        grants.push(userGrant(bucketOwner, canned === 'bucket-owner-read' ? 'READ' : 'FULL_CONTROL'));
      }
      break;
    default:
      break; // private, aws-exec-read
  }
  return { owner: { id: owner.ID, name: owner.DisplayName }, grants };
}

const CANONICAL_ID = /^[0-9a-f]{64}$/;

/** A grantee named by a header (`id`, `uri`, `emailAddress`) or a document (ID, URI, EmailAddress). */
function grantee(kind: 'id' | 'uri' | 'email', value: string, permission: AclPermission): StoredGrant {
  switch (kind) {
    case 'id':
      if (!CANONICAL_ID.test(value)) throw invalidArgument('Invalid id', 'CanonicalUser/ID', value);
      return { id: value, permission };
    case 'uri':
      if (!GROUPS.has(value)) throw invalidArgument('Invalid group uri', 'Group/URI', value);
      return { uri: value, permission };
    default:
      // Strata has no e-mail addresses for its users: AWS's answer for an address it cannot resolve.
      throw new S3Error('UnresolvableGrantByEmailAddress', undefined, { EmailAddress: value });
  }
}

/**
 * The grants of one x-amz-grant-* header: a comma-separated list of `id="…"`, `uri="…"`,
 * `emailAddress="…"` (quotes optional). Anything else: InvalidArgument, as AWS.
 */
export function parseGrantHeader(name: string, value: string, permission: AclPermission): StoredGrant[] {
  const out: StoredGrant[] = [];
  const re = /\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,"\s]*))\s*(,|$)/y;
  let at = 0;
  while (at < value.length) {
    re.lastIndex = at;
    const m = re.exec(value);
    if (m === null) throw invalidArgument('Argument format not recognized', name, value);
    const type = m[1]!.toLowerCase();
    const v = m[2] ?? m[3] ?? '';
    const kind = type === 'id' ? 'id' : type === 'uri' ? 'uri' : type === 'emailaddress' ? 'email' : undefined;
    if (kind === undefined || v === '') throw invalidArgument('Argument format not recognized', name, value);
    out.push(grantee(kind, v, permission));
    at = re.lastIndex;
    if (m[4] === '' && at < value.length) throw invalidArgument('Argument format not recognized', name, value);
  }
  if (out.length === 0) throw invalidArgument('Argument format not recognized', name, value);
  return out;
}

const malformedAcl = (): S3Error => new S3Error('MalformedACLError');

const isNode = (v: XmlValue | undefined): v is XmlNode => v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);

/**
 * An AccessControlPolicy document (PutBucketAcl, PutObjectAcl): its grants and the Owner ID it names.
 * The grantee's kind is read from the element it carries (ID, URI, EmailAddress; the xsi:type
 * attribute says the same). Not XML, another root, no AccessControlList, a grant without grantee or
 * with an unknown permission: MalformedACLError; a bad id or group: InvalidArgument.
 */
export function parseAccessControlPolicy(xml: string): AclRequest {
  let root: XmlNode;
  try {
    root = parseXml(xml, 'AccessControlPolicy');
  } catch {
    throw malformedAcl();
  }
  const list = root['AccessControlList'];
  if (list === undefined || Array.isArray(list)) throw malformedAcl();
  const grants: StoredGrant[] = [];
  for (const g of isNode(list) ? children(list, 'Grant') : []) {
    if (!isNode(g)) throw malformedAcl();
    const permission = token(text(g['Permission']));
    const who = g['Grantee'];
    if (permission === undefined || !PERMISSIONS.has(permission) || !isNode(who)) throw malformedAcl();
    const id = token(text(who['ID']));
    const uri = token(text(who['URI']));
    const email = token(text(who['EmailAddress']));
    const named = [id, uri, email].filter((v) => v !== undefined && v !== '');
    if (named.length !== 1) throw malformedAcl();
    const p = permission as AclPermission;
    if (id !== undefined && id !== '') grants.push(grantee('id', id, p));
    else if (uri !== undefined && uri !== '') grants.push(grantee('uri', uri, p));
    else grants.push(grantee('email', email!, p));
  }
  const owner = root['Owner'];
  if (owner !== undefined && !isNode(owner)) throw malformedAcl();
  const ownerId = isNode(owner) ? token(text(owner['ID'])) : undefined;
  return { grants, ...(ownerId !== undefined && ownerId !== '' && { ownerId }) };
}

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** The AccessControlPolicy document of an ACL (GetBucketAcl, GetObjectAcl). */
export function accessControlPolicyXml(acl: StoredAcl): XmlNode {
  const owner = { ID: acl.owner.id, DisplayName: acl.owner.name };
  return {
    Owner: owner,
    AccessControlList: {
      Grant: acl.grants.map((g) => ({
        Grantee:
          g.uri !== undefined
            ? { '@_xmlns:xsi': XSI, '@_xsi:type': 'Group', URI: g.uri }
            : { '@_xmlns:xsi': XSI, '@_xsi:type': 'CanonicalUser', ID: g.id, ...(g.name !== undefined && { DisplayName: g.name }) },
        Permission: g.permission,
      })),
    },
  };
}

/** Grants to everyone (AllUsers) or to every signed caller (AuthenticatedUsers): what Block Public Access calls public. */
export function isPublicGrant(g: StoredGrant): boolean {
  return g.uri === ALL_USERS || g.uri === AUTHENTICATED_USERS;
}

/** Canned ACLs that grant to AllUsers or AuthenticatedUsers. */
export function isPublicCanned(canned: CannedAcl): boolean {
  return canned === 'public-read' || canned === 'public-read-write' || canned === 'authenticated-read';
}

/** Does the request ask for a public ACL (BlockPublicAcls refuses it)? */
export function isPublicRequest(req: AclRequest): boolean {
  return 'canned' in req ? isPublicCanned(req.canned) : req.grants.some(isPublicGrant);
}

/** Which ACL decides an action and the permission it needs there. */
export interface AclNeed {
  readonly on: 'bucket' | 'object';
  readonly permission: AclPermission;
}

const need = (on: AclNeed['on'], permission: AclPermission): AclNeed => Object.freeze({ on, permission });

/**
 * The permission an action needs, and in which ACL, as AWS maps them ("Mapping of ACL permissions
 * and access policy permissions"): bucket READ lists, bucket WRITE writes and deletes its objects,
 * READ_ACP / WRITE_ACP read and write an ACL, object READ reads the object; FULL_CONTROL covers all.
 * Undefined: no ACL grants the action (bucket configuration, tagging…: policies only).
 */
const NEEDS: ReadonlyMap<string, AclNeed> = new Map([
  ['s3:ListBucket', need('bucket', 'READ')],
  ['s3:ListBucketVersions', need('bucket', 'READ')],
  ['s3:ListBucketMultipartUploads', need('bucket', 'READ')],
  ['s3:PutObject', need('bucket', 'WRITE')],
  ['s3:DeleteObject', need('bucket', 'WRITE')],
  ['s3:DeleteObjectVersion', need('bucket', 'WRITE')],
  ['s3:AbortMultipartUpload', need('bucket', 'WRITE')],
  ['s3:GetBucketAcl', need('bucket', 'READ_ACP')],
  ['s3:PutBucketAcl', need('bucket', 'WRITE_ACP')],
  ['s3:GetObject', need('object', 'READ')],
  ['s3:GetObjectVersion', need('object', 'READ')],
  ['s3:GetObjectAttributes', need('object', 'READ')],
  ['s3:GetObjectVersionAttributes', need('object', 'READ')],
  ['s3:GetObjectTorrent', need('object', 'READ')],
  ['s3:GetObjectAcl', need('object', 'READ_ACP')],
  ['s3:GetObjectVersionAcl', need('object', 'READ_ACP')],
  ['s3:PutObjectAcl', need('object', 'WRITE_ACP')],
  ['s3:PutObjectVersionAcl', need('object', 'WRITE_ACP')],
]);

export function aclNeedOf(action: string): AclNeed | undefined {
  return NEEDS.get(action);
}

/**
 * Does the ACL grant `permission` to a caller with canonical id `id` (undefined: anonymous)?
 * AllUsers grants count for everyone, AuthenticatedUsers for every signed caller; FULL_CONTROL
 * stands for every permission. `ignorePublic`: public grants count for nothing (IgnorePublicAcls).
 */
export function aclGrants(acl: StoredAcl, id: string | undefined, permission: AclPermission, ignorePublic: boolean): boolean {
  return acl.grants.some((g) => {
    if (g.permission !== permission && g.permission !== 'FULL_CONTROL') return false;
    if (g.uri !== undefined) {
      if (ignorePublic && isPublicGrant(g)) return false;
      return g.uri === ALL_USERS || (g.uri === AUTHENTICATED_USERS && id !== undefined);
    }
    return id !== undefined && g.id === id;
  });
}

/** Is the ACL only its owner with FULL_CONTROL (what BucketOwnerEnforced accepts)? */
export function isOwnerOnly(acl: StoredAcl): boolean {
  return acl.grants.every((g) => g.id === acl.owner.id && g.permission === 'FULL_CONTROL');
}

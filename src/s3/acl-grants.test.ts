// The ACL grammar (acl-grants.ts) and the request side of acl.ts: grant headers, canned ACLs and
// the grants they stand for, AccessControlPolicy documents both ways, the action → permission map,
// what counts as public, and what Object Ownership / Block Public Access let through.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredAcl } from '../store/types.js';
import {
  ALL_USERS,
  AUTHENTICATED_USERS,
  CANNED_ACLS,
  LOG_DELIVERY,
  accessControlPolicyXml,
  aclGrants,
  aclNeedOf,
  cannedAcl,
  isOwnerOnly,
  isPublicRequest,
  parseAccessControlPolicy,
  parseCanned,
  parseGrantHeader,
} from './acl-grants.js';
import { resolveAcl } from './acl.js';
import { S3Error } from './errors.js';
import { canonicalUserOf, ownerOf, userCanonicalId } from './owner.js';
import { buildXml } from './xml.js';

const owner = { ID: 'a'.repeat(64), DisplayName: 'alice' };
const other = { ID: 'b'.repeat(64), DisplayName: 'bob' };
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
  return 'no error';
};
const grantees = (acl: StoredAcl): string[] => acl.grants.map((g) => `${g.uri ?? g.name}:${g.permission}`);

describe('canonical user ids', () => {
  it('root keeps the id derived from its access key; users get a stable 64-hex id from their user id', () => {
    assert.deepEqual(canonicalUserOf('AKROOT', 'root'), ownerOf('AKROOT'));
    const u = canonicalUserOf('AKROOT', 'u-123', 'carol');
    assert.match(u.ID, /^[0-9a-f]{64}$/);
    assert.equal(u.ID, userCanonicalId('u-123'));
    assert.equal(u.DisplayName, 'carol');
    assert.notEqual(u.ID, canonicalUserOf('AKROOT', 'u-124').ID);
    assert.notEqual(u.ID, ownerOf('AKROOT').ID);
  });
});

describe('canned ACLs', () => {
  it('each canned ACL stands for AWS’s grants; the owner always has FULL_CONTROL', () => {
    const expect: Record<string, string[]> = {
      private: ['alice:FULL_CONTROL'],
      'public-read': ['alice:FULL_CONTROL', `${ALL_USERS}:READ`],
      'public-read-write': ['alice:FULL_CONTROL', `${ALL_USERS}:READ`, `${ALL_USERS}:WRITE`],
      'authenticated-read': ['alice:FULL_CONTROL', `${AUTHENTICATED_USERS}:READ`],
      'aws-exec-read': ['alice:FULL_CONTROL'],
      'bucket-owner-read': ['alice:FULL_CONTROL', 'bob:READ'],
      'bucket-owner-full-control': ['alice:FULL_CONTROL', 'bob:FULL_CONTROL'],
      'log-delivery-write': ['alice:FULL_CONTROL', `${LOG_DELIVERY}:WRITE`, `${LOG_DELIVERY}:READ_ACP`],
    };
    for (const c of CANNED_ACLS) {
      const acl = cannedAcl(c, owner, other);
      assert.deepEqual(acl.owner, { id: owner.ID, name: 'alice' }, c);
      assert.deepEqual(grantees(acl), expect[c], c);
    }
    // The bucket owner writing its own object: bucket-owner-* add nothing.
    assert.deepEqual(grantees(cannedAcl('bucket-owner-full-control', owner, owner)), ['alice:FULL_CONTROL']);
  });
  it('an unknown canned ACL is InvalidArgument naming the header or field', () => {
    assert.equal(parseCanned('public-read'), 'public-read');
    assert.equal(
      code(() => parseCanned('Public-Read')),
      'InvalidArgument',
    );
    try {
      parseCanned('everyone', 'acl');
    } catch (e) {
      assert.equal((e as S3Error).fields.ArgumentName, 'acl');
    }
  });
});

describe('x-amz-grant-* headers', () => {
  it('lists of id, uri and emailAddress, quoted or not, with spaces', () => {
    const g = parseGrantHeader('x-amz-grant-read', ` id="${owner.ID}", uri="${ALL_USERS}",id=${other.ID}`, 'READ');
    assert.deepEqual(g, [
      { id: owner.ID, permission: 'READ' },
      { uri: ALL_USERS, permission: 'READ' },
      { id: other.ID, permission: 'READ' },
    ]);
  });
  it('malformed lists, bad ids and unknown groups are InvalidArgument; e-mail addresses are unresolvable', () => {
    for (const bad of ['', 'id', 'id=""', `foo="${owner.ID}"`, `id="${owner.ID}" uri="${ALL_USERS}"`, `id="${owner.ID}",,`]) {
      assert.equal(
        code(() => parseGrantHeader('x-amz-grant-read', bad, 'READ')),
        'InvalidArgument',
        bad,
      );
    }
    assert.equal(
      code(() => parseGrantHeader('x-amz-grant-read', 'id="not-hex"', 'READ')),
      'InvalidArgument',
    );
    assert.equal(
      code(() => parseGrantHeader('x-amz-grant-read', 'uri="http://acs.amazonaws.com/groups/global/Everyone"', 'READ')),
      'InvalidArgument',
    );
    assert.equal(
      code(() => parseGrantHeader('x-amz-grant-read', 'emailAddress="x@example.com"', 'READ')),
      'UnresolvableGrantByEmailAddress',
    );
  });
});

describe('AccessControlPolicy documents', () => {
  const doc = (grants: string, ownerXml = `<Owner><ID>${owner.ID}</ID></Owner>`) =>
    `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${ownerXml}<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
  const grant = (grantee: string, permission: string) =>
    `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x">${grantee}</Grantee><Permission>${permission}</Permission></Grant>`;

  it('reads canonical-user and group grants and the Owner ID', () => {
    const req = parseAccessControlPolicy(doc(grant(`<ID>${owner.ID}</ID>`, 'FULL_CONTROL') + grant(`<URI>${ALL_USERS}</URI>`, 'READ')));
    assert.deepEqual(req, {
      grants: [
        { id: owner.ID, permission: 'FULL_CONTROL' },
        { uri: ALL_USERS, permission: 'READ' },
      ],
      ownerId: owner.ID,
    });
    assert.deepEqual(parseAccessControlPolicy(doc('', '')), { grants: [] });
  });
  it('not XML, another root, no AccessControlList, no or two grantees, a bad permission → MalformedACLError', () => {
    for (const bad of [
      'nope',
      '<Other/>',
      '<AccessControlPolicy/>',
      doc(grant('', 'READ')),
      doc(grant(`<ID>${owner.ID}</ID><URI>${ALL_USERS}</URI>`, 'READ')),
      doc(grant(`<ID>${owner.ID}</ID>`, 'EVERYTHING')),
      doc(`<Grant><Permission>READ</Permission></Grant>`),
    ]) {
      assert.equal(
        code(() => parseAccessControlPolicy(bad)),
        'MalformedACLError',
        bad,
      );
    }
    assert.equal(
      code(() => parseAccessControlPolicy(doc(grant('<EmailAddress>a@b.c</EmailAddress>', 'READ')))),
      'UnresolvableGrantByEmailAddress',
    );
    assert.equal(
      code(() => parseAccessControlPolicy(doc(grant('<URI>http://example.com/</URI>', 'READ')))),
      'InvalidArgument',
    );
  });
  it('answers with xsi:type CanonicalUser / Group', () => {
    const xml = buildXml({ root: 'AccessControlPolicy', content: accessControlPolicyXml(cannedAcl('public-read', owner)) });
    assert.match(xml, new RegExp(`<Owner><ID>${owner.ID}</ID><DisplayName>alice</DisplayName></Owner>`));
    assert.match(
      xml,
      /<Grantee xmlns:xsi="http:\/\/www.w3.org\/2001\/XMLSchema-instance" xsi:type="CanonicalUser"><ID>a{64}<\/ID><DisplayName>alice<\/DisplayName><\/Grantee><Permission>FULL_CONTROL<\/Permission>/,
    );
    assert.match(xml, /xsi:type="Group"><URI>http:\/\/acs.amazonaws.com\/groups\/global\/AllUsers<\/URI><\/Grantee><Permission>READ<\/Permission>/);
  });
});

describe('permissions and checks', () => {
  it('maps actions to the ACL and permission AWS documents', () => {
    const table: Array<[string, string | undefined]> = [
      ['s3:ListBucket', 'bucket READ'],
      ['s3:ListBucketVersions', 'bucket READ'],
      ['s3:ListBucketMultipartUploads', 'bucket READ'],
      ['s3:PutObject', 'bucket WRITE'],
      ['s3:DeleteObject', 'bucket WRITE'],
      ['s3:GetBucketAcl', 'bucket READ_ACP'],
      ['s3:PutBucketAcl', 'bucket WRITE_ACP'],
      ['s3:GetObject', 'object READ'],
      ['s3:GetObjectVersion', 'object READ'],
      ['s3:GetObjectAcl', 'object READ_ACP'],
      ['s3:PutObjectVersionAcl', 'object WRITE_ACP'],
      ['s3:PutBucketPolicy', undefined],
      ['s3:GetObjectTagging', undefined],
      ['s3:PutBucketOwnershipControls', undefined],
    ];
    for (const [action, want] of table) {
      const n = aclNeedOf(action);
      assert.equal(n === undefined ? undefined : `${n.on} ${n.permission}`, want, action);
    }
  });
  it('AllUsers counts for everyone, AuthenticatedUsers for signed callers, FULL_CONTROL for every permission; IgnorePublicAcls drops both groups', () => {
    const acl: StoredAcl = {
      owner: { id: owner.ID, name: 'alice' },
      grants: [
        { id: owner.ID, permission: 'FULL_CONTROL' },
        { uri: AUTHENTICATED_USERS, permission: 'READ' },
      ],
    };
    assert.equal(aclGrants(acl, owner.ID, 'WRITE_ACP', false), true);
    assert.equal(aclGrants(acl, other.ID, 'READ', false), true);
    assert.equal(aclGrants(acl, undefined, 'READ', false), false, 'anonymous is not authenticated');
    assert.equal(aclGrants(acl, other.ID, 'WRITE', false), false);
    assert.equal(aclGrants(acl, other.ID, 'READ', true), false);
    const pub = cannedAcl('public-read', owner);
    assert.equal(aclGrants(pub, undefined, 'READ', false), true);
    assert.equal(aclGrants(pub, undefined, 'READ', true), false);
    assert.equal(aclGrants(pub, owner.ID, 'READ', true), true, 'the owner’s own grant is not public');
  });
  it('public requests: the public canned ACLs and grants to AllUsers / AuthenticatedUsers', () => {
    for (const c of CANNED_ACLS) {
      assert.equal(isPublicRequest({ canned: c }), ['public-read', 'public-read-write', 'authenticated-read'].includes(c), c);
    }
    assert.equal(isPublicRequest({ grants: [{ uri: LOG_DELIVERY, permission: 'WRITE' }] }), false);
    assert.equal(isPublicRequest({ grants: [{ uri: AUTHENTICATED_USERS, permission: 'READ' }] }), true);
    assert.equal(isOwnerOnly(cannedAcl('private', owner)), true);
    assert.equal(isOwnerOnly(cannedAcl('bucket-owner-read', owner, other)), false);
  });
  it('resolveAcl: BucketOwnerEnforced accepts only the owner’s FULL_CONTROL; BlockPublicAcls refuses public ACLs; the Owner cannot change', () => {
    const open = { ownership: 'ObjectWriter' as const, blockPublicAcls: false };
    const enforced = { ownership: 'BucketOwnerEnforced' as const, blockPublicAcls: false };
    const blocked = { ownership: 'ObjectWriter' as const, blockPublicAcls: true };
    assert.deepEqual(grantees(resolveAcl({ canned: 'public-read' }, owner, owner, open)), ['alice:FULL_CONTROL', `${ALL_USERS}:READ`]);
    assert.equal(
      code(() => resolveAcl({ canned: 'public-read' }, owner, owner, enforced)),
      'AccessControlListNotSupported',
    );
    assert.equal(
      code(() => resolveAcl({ grants: [{ id: other.ID, permission: 'READ' }] }, owner, owner, enforced)),
      'AccessControlListNotSupported',
    );
    assert.doesNotThrow(() => resolveAcl({ canned: 'bucket-owner-full-control' }, owner, owner, enforced));
    assert.doesNotThrow(() => resolveAcl({ grants: [{ id: owner.ID, permission: 'FULL_CONTROL' }] }, owner, owner, enforced));
    assert.equal(
      code(() => resolveAcl({ canned: 'authenticated-read' }, owner, owner, blocked)),
      'AccessDenied',
    );
    assert.equal(
      code(() => resolveAcl({ grants: [{ uri: ALL_USERS, permission: 'READ' }] }, owner, owner, blocked)),
      'AccessDenied',
    );
    assert.doesNotThrow(() => resolveAcl({ canned: 'log-delivery-write' }, owner, owner, blocked));
    assert.equal(
      code(() => resolveAcl({ grants: [], ownerId: other.ID }, owner, owner, open)),
      'AccessDenied',
    );
  });
});

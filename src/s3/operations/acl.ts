// GetObjectAcl, PutObjectAcl, GetBucketAcl, PutBucketAcl —
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAcl.html (and _PutObjectAcl,
// _GetBucketAcl, _PutBucketAcl). Until identity and access management (issue 12) every bucket and
// object has the one ACL AWS gives by default and recommends (Object Ownership "bucket owner
// enforced"): the owner with FULL_CONTROL. Reads answer it (the object ones accept versionId); a PUT
// that asks for exactly that (x-amz-acl: private, no ACL, or a policy granting the owner FULL_CONTROL
// and nothing else) is accepted and changes nothing; any other ACL is 501 NotImplemented.
import type { BucketRequest, ObjectRequest, RequestContext, S3Response } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../errors.js';
import { loadObject } from '../object-read.js';
import { ownerOf } from '../owner.js';
import { children, parseXml, text, token, type XmlNode } from '../xml.js';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const GRANT_HEADERS = ['x-amz-grant-full-control', 'x-amz-grant-read', 'x-amz-grant-read-acp', 'x-amz-grant-write', 'x-amz-grant-write-acp'];
const BEYOND_PRIVATE =
  'ACLs other than the owner with FULL_CONTROL (the canned ACL private) are not implemented; they come with identity and access management (issue 12).';

/** The AccessControlPolicy every bucket and object has: the owner, granted FULL_CONTROL. */
function ownerPolicy(ctx: RequestContext): S3Response {
  const owner = ownerOf(ctx.auth!.accessKey);
  return {
    status: 200,
    body: {
      root: 'AccessControlPolicy',
      content: {
        Owner: { ...owner },
        AccessControlList: {
          Grant: {
            Grantee: { '@_xmlns:xsi': XSI, '@_xsi:type': 'CanonicalUser', ...owner },
            Permission: 'FULL_CONTROL',
          },
        },
      },
    },
  };
}

/**
 * Accepts only an ACL that is what the resource already has; 501 NotImplemented for any other
 * (a canned ACL other than private, an x-amz-grant-* header, a policy with other grants).
 */
function acceptOnlyPrivate(ctx: RequestContext): void {
  const canned = header(ctx, 'x-amz-acl');
  const grant = GRANT_HEADERS.find((name) => header(ctx, name) !== undefined);
  const body = ctx.bodyText ?? '';
  // One way of naming the ACL at a time (AWS's message for a canned ACL with grant headers).
  if ((canned !== undefined ? 1 : 0) + (grant !== undefined ? 1 : 0) + (body.trim() !== '' ? 1 : 0) > 1) {
    throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  }
  if (canned !== undefined && canned !== 'private') throw new S3Error('NotImplemented', BEYOND_PRIVATE, { Header: 'x-amz-acl' });
  if (grant !== undefined) throw new S3Error('NotImplemented', BEYOND_PRIVATE, { Header: grant });
  if (body.trim() === '') return;
  const root = parseXml(body, 'AccessControlPolicy');
  const owner = ownerOf(ctx.auth!.accessKey);
  const acl = root['AccessControlList'];
  const grants = acl !== undefined && typeof acl === 'object' && !Array.isArray(acl) ? children(acl as XmlNode, 'Grant') : [];
  const onlyOwner =
    grants.length === 1 &&
    grants.every((g) => {
      if (g === null || typeof g !== 'object' || Array.isArray(g)) return false;
      const grantee = g['Grantee'];
      if (grantee === null || typeof grantee !== 'object' || Array.isArray(grantee)) return false;
      return token(text(grantee['ID'])) === owner.ID && token(text(g['Permission'])) === 'FULL_CONTROL';
    });
  const ownerNode = root['Owner'];
  const ownerId = ownerNode !== null && typeof ownerNode === 'object' && !Array.isArray(ownerNode) ? token(text(ownerNode['ID'])) : undefined;
  if (!onlyOwner || (ownerId !== undefined && ownerId !== owner.ID)) throw new S3Error('NotImplemented', BEYOND_PRIVATE);
}

export async function getBucketAcl(ctx: BucketRequest): Promise<S3Response> {
  return ownerPolicy(ctx);
}

export async function putBucketAcl(ctx: BucketRequest): Promise<S3Response> {
  acceptOnlyPrivate(ctx);
  return { status: 200 };
}

/** The object (or its version) must exist: NoSuchKey / NoSuchVersion / a delete marker as GetObject. */
async function requireObject(ctx: ObjectRequest): Promise<void> {
  const handle = await loadObject(ctx, ctx.bucket, ctx.key, ctx.endpoint.versionId);
  handle.release(); // metadata only
}

export async function getObjectAcl(ctx: ObjectRequest): Promise<S3Response> {
  await requireObject(ctx);
  return ownerPolicy(ctx);
}

export async function putObjectAcl(ctx: ObjectRequest): Promise<S3Response> {
  acceptOnlyPrivate(ctx);
  await requireObject(ctx);
  return { status: 200 };
}

#!/usr/bin/env python3
"""ACLs and Object Ownership through boto3 (acls.test.ts): a canned ACL on put_object, a grant of
READ to another user's canonical id (S3_GRANTEE_ID) by header, an AccessControlPolicy body on
put_bucket_acl, a version's own ACL, a POST form's acl field, and ownership controls (BucketOwnerEnforced refuses ACLs with
AccessControlListNotSupported). Leaves public.txt public and granted.txt readable by the grantee
for the test to check as those callers. Environment: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY,
S3_BUCKET, S3_GRANTEE_ID. Exit code = number of failed checks."""
import os
import urllib.request
import uuid

from botocore.exceptions import ClientError

from s3checks import BUCKET, run_checks, s3

ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
GRANTEE = os.environ['S3_GRANTEE_ID']


def error(fn, **kwargs):
    try:
        r = fn(**kwargs)
    except ClientError as e:
        return e.response['Error'].get('Code'), e.response['ResponseMetadata']['HTTPStatusCode']
    raise AssertionError(f'{fn.__name__}: expected an error, got {r!r}')


def grants(acl):
    return sorted((g['Grantee'].get('URI') or g['Grantee'].get('ID'), g['Permission']) for g in acl['Grants'])


def put_public_read():
    s3.put_object(Bucket=BUCKET, Key='public.txt', Body=b'public', ACL='public-read')
    acl = s3.get_object_acl(Bucket=BUCKET, Key='public.txt')
    owner = acl['Owner']['ID']
    assert grants(acl) == sorted([(owner, 'FULL_CONTROL'), (ALL_USERS, 'READ')]), acl['Grants']
    assert error(s3.put_object, Bucket=BUCKET, Key='x', Body=b'x', ACL='nobody-read') == ('InvalidArgument', 400)


def grant_read():
    s3.put_object(Bucket=BUCKET, Key='granted.txt', Body=b'granted', GrantRead=f'id="{GRANTEE}"')
    acl = s3.get_object_acl(Bucket=BUCKET, Key='granted.txt')
    assert grants(acl) == [(GRANTEE, 'READ')], acl['Grants']
    assert error(s3.put_object_acl, Bucket=BUCKET, Key='granted.txt', GrantRead='emailAddress="a@b.example"') == ('UnresolvableGrantByEmailAddress', 400)


def xml_body():
    owner = s3.get_bucket_acl(Bucket=BUCKET)['Owner']
    policy = {
        'Owner': owner,
        'Grants': [
            {'Grantee': {'Type': 'CanonicalUser', 'ID': owner['ID']}, 'Permission': 'FULL_CONTROL'},
            {'Grantee': {'Type': 'Group', 'URI': ALL_USERS}, 'Permission': 'READ'},
        ],
    }
    s3.put_bucket_acl(Bucket=BUCKET, AccessControlPolicy=policy)
    assert grants(s3.get_bucket_acl(Bucket=BUCKET)) == sorted([(owner['ID'], 'FULL_CONTROL'), (ALL_USERS, 'READ')])
    bad = {'Owner': owner, 'Grants': [{'Grantee': {'Type': 'Group', 'URI': 'http://example.com/all'}, 'Permission': 'READ'}]}
    assert error(s3.put_bucket_acl, Bucket=BUCKET, AccessControlPolicy=bad) == ('InvalidArgument', 400)
    s3.put_bucket_acl(Bucket=BUCKET, ACL='private')
    assert len(s3.get_bucket_acl(Bucket=BUCKET)['Grants']) == 1


def version_acl():
    b = BUCKET + '-v'
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={'Status': 'Enabled'})
    v1 = s3.put_object(Bucket=b, Key='k', Body=b'1')['VersionId']
    s3.put_object(Bucket=b, Key='k', Body=b'2')
    s3.put_object_acl(Bucket=b, Key='k', VersionId=v1, ACL='authenticated-read')
    assert len(s3.get_object_acl(Bucket=b, Key='k', VersionId=v1)['Grants']) == 2
    assert len(s3.get_object_acl(Bucket=b, Key='k')['Grants']) == 1


def post_acl():
    """A browser form (PostObject) with the field acl=public-read, covered by its policy."""
    post = s3.generate_presigned_post(BUCKET, 'posted.txt', Fields={'acl': 'public-read'}, Conditions=[{'acl': 'public-read'}])
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in post['fields'].items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.txt"\r\n\r\nposted\r\n--{boundary}--\r\n'.encode())
    req = urllib.request.Request(post['url'], data=b''.join(parts), method='POST',
                                 headers={'Content-Type': f'multipart/form-data; boundary={boundary}'})
    with urllib.request.urlopen(req) as r:
        assert r.status == 204, r.status
    acl = s3.get_object_acl(Bucket=BUCKET, Key='posted.txt')
    assert (ALL_USERS, 'READ') in grants(acl), acl['Grants']


def ownership_enforced():
    b = BUCKET + '-o'
    s3.create_bucket(Bucket=b)
    assert error(s3.get_bucket_ownership_controls, Bucket=b) == ('OwnershipControlsNotFoundError', 404)
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={'Rules': [{'ObjectOwnership': 'BucketOwnerEnforced'}]})
    rules = s3.get_bucket_ownership_controls(Bucket=b)['OwnershipControls']['Rules']
    assert rules == [{'ObjectOwnership': 'BucketOwnerEnforced'}], rules
    assert error(s3.put_object, Bucket=b, Key='k', Body=b'x', ACL='public-read') == ('AccessControlListNotSupported', 400)
    s3.put_object(Bucket=b, Key='k', Body=b'x', ACL='bucket-owner-full-control')
    s3.delete_bucket_ownership_controls(Bucket=b)
    assert error(s3.get_bucket_ownership_controls, Bucket=b) == ('OwnershipControlsNotFoundError', 404)


run_checks([put_public_read, grant_read, xml_body, version_acl, post_acl, ownership_enforced])

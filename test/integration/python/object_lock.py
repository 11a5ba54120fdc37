#!/usr/bin/env python3
"""Object lock with boto3 (issue 11): a bucket made with object lock, its default retention applied
to put_object and to a multipart upload_fileobj (whose requests need Content-MD5 or a checksum:
Debian's boto3 sends MD5, the newest CRC32), lock headers and a POST form's lock fields, retention
and legal hold calls, and the refusals of deleting a locked version. Environment: S3_ENDPOINT,
S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET (a bucket without lock; '<S3_BUCKET>-lock' gets it).
Exit code = number of failed checks; works with boto3 1.26 (Debian) and the newest."""
import datetime
import io
import urllib.request
import uuid

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from s3checks import BUCKET, run_checks, s3

LOCK = BUCKET + '-lock'
UTC = datetime.timezone.utc
LOCKED = 'Access Denied because object protected by object lock.'


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f'{what}: expected {expected!r}, got {actual!r}')


def error_of(fn, **kwargs):
    try:
        r = fn(**kwargs)
    except ClientError as e:
        err = e.response.get('Error', {})
        return err.get('Code'), e.response['ResponseMetadata']['HTTPStatusCode'], err.get('Message')
    raise AssertionError(f'{fn.__name__}: expected an error, the call succeeded: {r!r}')


def in_hours(h):
    return (datetime.datetime.now(UTC) + datetime.timedelta(hours=h)).replace(microsecond=0)


def version_of(key):
    r = s3.list_object_versions(Bucket=LOCK, Prefix=key)
    return [v['VersionId'] for v in r.get('Versions', []) if v['Key'] == key and v['IsLatest']][0]


def bucket_with_object_lock():
    s3.create_bucket(Bucket=LOCK, ObjectLockEnabledForBucket=True)
    eq(s3.get_bucket_versioning(Bucket=LOCK).get('Status'), 'Enabled', 'versioning')
    eq(s3.get_object_lock_configuration(Bucket=LOCK)['ObjectLockConfiguration'], {'ObjectLockEnabled': 'Enabled'}, 'configuration')
    eq(error_of(s3.get_object_lock_configuration, Bucket=BUCKET)[:2], ('ObjectLockConfigurationNotFoundError', 404), 'bucket without lock')


def lock_headers_on_put_and_head():
    until = in_hours(2)
    s3.put_object(Bucket=LOCK, Key='hdr', Body=b'x', ObjectLockMode='GOVERNANCE', ObjectLockRetainUntilDate=until,
                  ObjectLockLegalHoldStatus='ON')
    h = s3.head_object(Bucket=LOCK, Key='hdr')
    eq((h['ObjectLockMode'], h['ObjectLockRetainUntilDate'], h['ObjectLockLegalHoldStatus']), ('GOVERNANCE', until, 'ON'), 'HEAD')
    eq(s3.get_object_retention(Bucket=LOCK, Key='hdr')['Retention'], {'Mode': 'GOVERNANCE', 'RetainUntilDate': until}, 'retention')
    eq(s3.get_object_legal_hold(Bucket=LOCK, Key='hdr')['LegalHold'], {'Status': 'ON'}, 'legal hold')
    code, status, message = error_of(s3.put_object, Bucket=BUCKET, Key='k', Body=b'x', ObjectLockLegalHoldStatus='ON')
    eq((code, status, message), ('InvalidRequest', 400, 'Bucket is missing Object Lock Configuration'), 'bucket without lock')


def retention_rules_and_bypass():
    s3.put_object(Bucket=LOCK, Key='ret', Body=b'x')
    s3.put_object_retention(Bucket=LOCK, Key='ret', Retention={'Mode': 'GOVERNANCE', 'RetainUntilDate': in_hours(1)})
    s3.put_object_retention(Bucket=LOCK, Key='ret', Retention={'Mode': 'GOVERNANCE', 'RetainUntilDate': in_hours(3)})
    eq(error_of(s3.put_object_retention, Bucket=LOCK, Key='ret', Retention={'Mode': 'GOVERNANCE', 'RetainUntilDate': in_hours(1)}),
       ('AccessDenied', 403, LOCKED), 'shortened without bypass')
    eq(error_of(s3.put_object_retention, Bucket=LOCK, Key='ret', Retention={'Mode': 'COMPLIANCE', 'RetainUntilDate': in_hours(3)})[:2],
       ('AccessDenied', 403), 'made COMPLIANCE without bypass')
    s3.put_object_retention(Bucket=LOCK, Key='ret', Retention={'Mode': 'GOVERNANCE', 'RetainUntilDate': in_hours(1)},
                            BypassGovernanceRetention=True)
    s3.put_object_retention(Bucket=LOCK, Key='ret', Retention={}, BypassGovernanceRetention=True)
    eq(error_of(s3.get_object_retention, Bucket=LOCK, Key='ret')[:2], ('NoSuchObjectLockConfiguration', 404), 'removed')


def default_retention_on_put_and_multipart():
    s3.put_object_lock_configuration(Bucket=LOCK, ObjectLockConfiguration={
        'ObjectLockEnabled': 'Enabled', 'Rule': {'DefaultRetention': {'Mode': 'GOVERNANCE', 'Days': 1}}})
    eq(s3.get_object_lock_configuration(Bucket=LOCK)['ObjectLockConfiguration']['Rule'],
       {'DefaultRetention': {'Mode': 'GOVERNANCE', 'Days': 1}}, 'rule')
    try:
        before = datetime.datetime.now(UTC)
        s3.put_object(Bucket=LOCK, Key='def', Body=b'default')
        # 6 MiB over a 5 MiB threshold: CreateMultipartUpload + UploadPart x2 + Complete.
        s3.upload_fileobj(io.BytesIO(b'm' * (6 * 1024 * 1024)), LOCK, 'def-mp',
                          Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
        after = datetime.datetime.now(UTC)
        for key in ['def', 'def-mp']:
            h = s3.head_object(Bucket=LOCK, Key=key)
            eq(h.get('ObjectLockMode'), 'GOVERNANCE', f'{key} mode')
            until = h['ObjectLockRetainUntilDate']
            day = datetime.timedelta(days=1)
            if not (before + day - datetime.timedelta(seconds=1) <= until <= after + day + datetime.timedelta(seconds=1)):
                raise AssertionError(f'{key}: retain until {until} is not one day after the write')
    finally:
        s3.put_object_lock_configuration(Bucket=LOCK, ObjectLockConfiguration={'ObjectLockEnabled': 'Enabled'})


def post_form_with_lock_fields():
    until = in_hours(2).strftime('%Y-%m-%dT%H:%M:%SZ')
    fields = {'x-amz-object-lock-mode': 'COMPLIANCE', 'x-amz-object-lock-retain-until-date': until,
              'x-amz-object-lock-legal-hold': 'ON'}
    post = s3.generate_presigned_post(Bucket=LOCK, Key='form', Fields=dict(fields),
                                      Conditions=[{k: v} for k, v in fields.items()], ExpiresIn=300)
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in post['fields'].items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'.encode() + b'form bytes\r\n')
    body = b''.join(parts) + f'--{boundary}--\r\n'.encode()
    req = urllib.request.Request(post['url'], data=body, method='POST', headers={'Content-Type': f'multipart/form-data; boundary={boundary}'})
    with urllib.request.urlopen(req) as r:
        eq(r.status, 204, 'POST status')
    h = s3.head_object(Bucket=LOCK, Key='form')
    eq((h['ObjectLockMode'], h['ObjectLockRetainUntilDate'].strftime('%Y-%m-%dT%H:%M:%SZ'), h['ObjectLockLegalHoldStatus']),
       ('COMPLIANCE', until, 'ON'), 'the form\'s lock fields')


def deleting_locked_versions():
    s3.put_object(Bucket=LOCK, Key='del-gov', Body=b'x', ObjectLockMode='GOVERNANCE', ObjectLockRetainUntilDate=in_hours(1))
    s3.put_object(Bucket=LOCK, Key='del-held', Body=b'x', ObjectLockLegalHoldStatus='ON')
    gov, held = version_of('del-gov'), version_of('del-held')
    eq(error_of(s3.delete_object, Bucket=LOCK, Key='del-gov', VersionId=gov), ('AccessDenied', 403, LOCKED), 'GOVERNANCE without bypass')
    eq(error_of(s3.delete_object, Bucket=LOCK, Key='del-held', VersionId=held, BypassGovernanceRetention=True)[:2],
       ('AccessDenied', 403), 'legal hold with bypass')
    r = s3.delete_objects(Bucket=LOCK, Delete={'Objects': [{'Key': 'del-gov', 'VersionId': gov}, {'Key': 'del-held', 'VersionId': held}]})
    eq(sorted((e['Key'], e['Code']) for e in r.get('Errors', [])), [('del-gov', 'AccessDenied'), ('del-held', 'AccessDenied')], 'DeleteObjects')
    s3.delete_object(Bucket=LOCK, Key='del-gov', VersionId=gov, BypassGovernanceRetention=True)
    s3.put_object_legal_hold(Bucket=LOCK, Key='del-held', VersionId=held, LegalHold={'Status': 'OFF'})
    s3.delete_object(Bucket=LOCK, Key='del-held', VersionId=held)
    left = s3.list_object_versions(Bucket=LOCK, Prefix='del-')
    eq(left.get('Versions', []), [], 'both versions gone')
    eq(error_of(s3.put_bucket_versioning, Bucket=LOCK, VersioningConfiguration={'Status': 'Suspended'})[:2],
       ('InvalidBucketState', 409), 'suspending a lock bucket')


run_checks([bucket_with_object_lock, lock_headers_on_put_and_head, retention_rules_and_bypass,
            default_retention_on_put_and_multipart, post_form_with_lock_fields, deleting_locked_versions])

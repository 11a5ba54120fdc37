"""Users' keys under boto3 (iam-clients.test.ts). MODE=narrowed: the key's inline policy narrows its
user's readwrite to S3_BUCKET — put, get, list and delete there work; in OTHER_BUCKET each is refused
with AccessDenied (403). MODE=deleted: the key was deleted — every call is refused with
InvalidAccessKeyId (403). Prints one ok line per check (the test asserts them); exits non-zero on the
first failure."""
import os

from botocore.exceptions import ClientError

from s3checks import BUCKET, s3

MODE = os.environ['MODE']


def refused(call, code):
    try:
        call()
    except ClientError as e:
        got = (e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'])
        assert got == (code, 403), got
        return
    raise AssertionError('the call was allowed')


if MODE == 'narrowed':
    other = os.environ['OTHER_BUCKET']
    s3.put_object(Bucket=BUCKET, Key='from-boto3', Body=b'mine')
    assert s3.get_object(Bucket=BUCKET, Key='from-boto3')['Body'].read() == b'mine'
    keys = [o['Key'] for o in s3.list_objects_v2(Bucket=BUCKET).get('Contents', [])]
    assert 'from-boto3' in keys, keys
    s3.delete_object(Bucket=BUCKET, Key='from-boto3')
    print('ok   own bucket: put, get, list, delete', flush=True)
    refused(lambda: s3.put_object(Bucket=other, Key='from-boto3', Body=b'x'), 'AccessDenied')
    refused(lambda: s3.get_object(Bucket=other, Key='seed.txt'), 'AccessDenied')
    refused(lambda: s3.list_objects_v2(Bucket=other), 'AccessDenied')
    refused(lambda: s3.delete_object(Bucket=other, Key='seed.txt'), 'AccessDenied')
    print('ok   other bucket: put, get, list, delete refused AccessDenied', flush=True)
elif MODE == 'deleted':
    refused(lambda: s3.get_object(Bucket=BUCKET, Key='seed.txt'), 'InvalidAccessKeyId')
    refused(lambda: s3.list_objects_v2(Bucket=BUCKET), 'InvalidAccessKeyId')
    print('ok   deleted key refused InvalidAccessKeyId', flush=True)
else:
    raise AssertionError(f'unknown MODE {MODE}')

"""SSE-S3 and SSE-KMS with boto3 against a server with the key service (sse-s3-kms.test.ts): the
headers boto3 sends and reads back on put/get/head, the key ARN, the encryption context and bucket key
echoed, bucket default encryption put/get/delete, and an object without headers getting the default.
S3_KMS_KEY names a master key the test created."""
import base64
import hashlib
import json
import os

from botocore.exceptions import ClientError

from s3checks import BUCKET, run_checks, s3

KEY_ID = os.environ['S3_KMS_KEY']
ARN = f'arn:aws:kms:us-east-1:000000000000:key/{KEY_ID}'
DEFAULT_ARN = 'arn:aws:kms:us-east-1:000000000000:key/strata-test'
BODY = b'secret payload ' * 1000


def sse_s3_put_get_head():
    put = s3.put_object(Bucket=BUCKET, Key='s3', Body=BODY, ServerSideEncryption='AES256')
    assert put['ServerSideEncryption'] == 'AES256', put
    assert put['ETag'] == f'"{hashlib.md5(BODY).hexdigest()}"', put['ETag']  # SSE-S3: the MD5, as AWS
    got = s3.get_object(Bucket=BUCKET, Key='s3')
    assert got['Body'].read() == BODY
    assert got['ServerSideEncryption'] == 'AES256'
    assert 'SSEKMSKeyId' not in got
    ranged = s3.get_object(Bucket=BUCKET, Key='s3', Range='bytes=100-199')
    assert ranged['Body'].read() == BODY[100:200]
    assert s3.head_object(Bucket=BUCKET, Key='s3')['ServerSideEncryption'] == 'AES256'


def sse_kms_named_key_context_bucket_key():
    context = base64.b64encode(json.dumps({'project': 'strata'}).encode()).decode()
    put = s3.put_object(Bucket=BUCKET, Key='kms', Body=BODY, ServerSideEncryption='aws:kms', SSEKMSKeyId=KEY_ID,
                        SSEKMSEncryptionContext=context, BucketKeyEnabled=True)
    assert put['ServerSideEncryption'] == 'aws:kms', put
    assert put['SSEKMSKeyId'] == ARN, put['SSEKMSKeyId']
    assert put['SSEKMSEncryptionContext'] == context
    assert put['BucketKeyEnabled'] is True
    assert put['ETag'] != f'"{hashlib.md5(BODY).hexdigest()}"'  # SSE-KMS: not the MD5, as AWS
    got = s3.get_object(Bucket=BUCKET, Key='kms')
    assert got['Body'].read() == BODY
    assert (got['ServerSideEncryption'], got['SSEKMSKeyId'], got['BucketKeyEnabled']) == ('aws:kms', ARN, True), got
    by_arn = s3.put_object(Bucket=BUCKET, Key='kms-arn', Body=b'x', ServerSideEncryption='aws:kms', SSEKMSKeyId=ARN)
    assert by_arn['SSEKMSKeyId'] == ARN
    default_key = s3.put_object(Bucket=BUCKET, Key='kms-default', Body=b'x', ServerSideEncryption='aws:kms')
    assert default_key['SSEKMSKeyId'] == DEFAULT_ARN, default_key


def sse_kms_unknown_key_refused():
    try:
        s3.put_object(Bucket=BUCKET, Key='nokey', Body=b'x', ServerSideEncryption='aws:kms', SSEKMSKeyId='no-such-key')
    except ClientError as e:
        assert e.response['Error']['Code'] == 'KMS.NotFoundException', e.response
        assert e.response['ResponseMetadata']['HTTPStatusCode'] == 400
    else:
        raise AssertionError('an unknown key was accepted')


def bucket_default_encryption():
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={'Rules': [
        {'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'aws:kms', 'KMSMasterKeyID': KEY_ID}, 'BucketKeyEnabled': True}]})
    rules = s3.get_bucket_encryption(Bucket=BUCKET)['ServerSideEncryptionConfiguration']['Rules']
    assert rules == [{'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'aws:kms', 'KMSMasterKeyID': ARN},
                      'BucketKeyEnabled': True}], rules
    put = s3.put_object(Bucket=BUCKET, Key='defaulted', Body=BODY)
    assert (put['ServerSideEncryption'], put['SSEKMSKeyId'], put.get('BucketKeyEnabled')) == ('aws:kms', ARN, True), put
    assert s3.get_object(Bucket=BUCKET, Key='defaulted')['Body'].read() == BODY
    asked = s3.put_object(Bucket=BUCKET, Key='asked-s3', Body=b'x', ServerSideEncryption='AES256')
    assert asked['ServerSideEncryption'] == 'AES256' and 'SSEKMSKeyId' not in asked, asked
    s3.delete_bucket_encryption(Bucket=BUCKET)
    try:
        s3.get_bucket_encryption(Bucket=BUCKET)
    except ClientError as e:
        assert e.response['Error']['Code'] == 'ServerSideEncryptionConfigurationNotFoundError', e.response
    else:
        raise AssertionError('the rule was not deleted')
    plain = s3.put_object(Bucket=BUCKET, Key='plain', Body=b'x')
    assert 'ServerSideEncryption' not in plain, plain


run_checks([sse_s3_put_get_head, sse_kms_named_key_context_bucket_key, sse_kms_unknown_key_refused, bucket_default_encryption])

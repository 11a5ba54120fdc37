#!/usr/bin/env python3
"""Server-side encryption is not implemented: every request that asks for it (SSE-S3, SSE-KMS, SSE-C)
is refused with 501 NotImplemented and nothing is stored (issue 9). Environment: S3_ENDPOINT,
S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET. Exit code = number of failed checks. The SSE-C calls go
over plain HTTP, which botocore allows for a custom endpoint."""
from botocore.exceptions import ClientError

from s3checks import BUCKET, exists, run_checks, s3

KEY = b'k' * 32


def refused(fn, **kwargs):
    try:
        r = fn(**kwargs)
    except ClientError as e:
        code = e.response.get('Error', {}).get('Code')
        status = e.response['ResponseMetadata']['HTTPStatusCode']
        if (code, status) != ('NotImplemented', 501) and not (status == 501 and fn.__name__ == 'head_object'):
            raise AssertionError(f'{fn.__name__}: expected NotImplemented (501), got {code} ({status})')
        return
    raise AssertionError(f'{fn.__name__}: expected NotImplemented (501), the call succeeded: {r!r}')


def put_object_sse_s3_kms_and_c():
    refused(s3.put_object, Bucket=BUCKET, Key='sse-s3', Body=b'plain', ServerSideEncryption='AES256')
    refused(s3.put_object, Bucket=BUCKET, Key='sse-kms', Body=b'plain', ServerSideEncryption='aws:kms', SSEKMSKeyId='k1')
    refused(s3.put_object, Bucket=BUCKET, Key='sse-c', Body=b'plain', SSECustomerAlgorithm='AES256', SSECustomerKey=KEY)
    for k in ['sse-s3', 'sse-kms', 'sse-c']:
        if exists(k):
            raise AssertionError(f'{k} was stored')


def copy_and_multipart():
    s3.put_object(Bucket=BUCKET, Key='src', Body=b'source')
    refused(s3.copy_object, Bucket=BUCKET, Key='copy', CopySource={'Bucket': BUCKET, 'Key': 'src'}, ServerSideEncryption='AES256')
    refused(s3.copy_object, Bucket=BUCKET, Key='copy', CopySource={'Bucket': BUCKET, 'Key': 'src'},
            CopySourceSSECustomerAlgorithm='AES256', CopySourceSSECustomerKey=KEY)
    if exists('copy'):
        raise AssertionError('copy was stored')


def reads_with_sse_c():
    refused(s3.get_object, Bucket=BUCKET, Key='src', SSECustomerAlgorithm='AES256', SSECustomerKey=KEY)
    refused(s3.head_object, Bucket=BUCKET, Key='src', SSECustomerAlgorithm='AES256', SSECustomerKey=KEY)


def put_bucket_encryption():
    refused(s3.put_bucket_encryption, Bucket=BUCKET, ServerSideEncryptionConfiguration={
        'Rules': [{'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'AES256'}}]})


CHECKS = [put_object_sse_s3_kms_and_c, copy_and_multipart, reads_with_sse_c, put_bucket_encryption]

if __name__ == '__main__':
    run_checks(CHECKS)

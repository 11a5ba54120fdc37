#!/usr/bin/env python3
"""Encryption a server cannot honour is refused and nothing is stored: without a key service SSE-S3
and SSE-KMS get 501 NotImplemented; SSE-C over plain HTTP (no --sse-c-over-http) gets AWS's 400
InvalidRequest (a secure connection is required). Environment: S3_ENDPOINT, S3_ACCESS_KEY,
S3_SECRET_KEY, S3_BUCKET. Exit code = number of failed checks. botocore sends SSE-C over plain HTTP
to a custom endpoint, so the server's refusal is what is tested."""
from botocore.exceptions import ClientError

from s3checks import BUCKET, exists, run_checks, s3

KEY = b'k' * 32


def expect(code, status, fn, **kwargs):
    try:
        r = fn(**kwargs)
    except ClientError as e:
        got = e.response.get('Error', {}).get('Code')
        got_status = e.response['ResponseMetadata']['HTTPStatusCode']
        if (got, got_status) != (code, status) and not (got_status == status and fn.__name__ == 'head_object'):
            raise AssertionError(f'{fn.__name__}: expected {code} ({status}), got {got} ({got_status})')
        return
    raise AssertionError(f'{fn.__name__}: expected {code} ({status}), the call succeeded: {r!r}')


def refused(fn, **kwargs):
    """SSE-S3 / SSE-KMS without a key service."""
    expect('NotImplemented', 501, fn, **kwargs)


def insecure(fn, **kwargs):
    """SSE-C over plain HTTP."""
    expect('InvalidRequest', 400, fn, **kwargs)


def put_object_sse_s3_kms_and_c():
    refused(s3.put_object, Bucket=BUCKET, Key='sse-s3', Body=b'plain', ServerSideEncryption='AES256')
    refused(s3.put_object, Bucket=BUCKET, Key='sse-kms', Body=b'plain', ServerSideEncryption='aws:kms', SSEKMSKeyId='k1')
    insecure(s3.put_object, Bucket=BUCKET, Key='sse-c', Body=b'plain', SSECustomerAlgorithm='AES256', SSECustomerKey=KEY)
    for k in ['sse-s3', 'sse-kms', 'sse-c']:
        if exists(k):
            raise AssertionError(f'{k} was stored')


def copy_and_multipart():
    s3.put_object(Bucket=BUCKET, Key='src', Body=b'source')
    refused(s3.copy_object, Bucket=BUCKET, Key='copy', CopySource={'Bucket': BUCKET, 'Key': 'src'}, ServerSideEncryption='AES256')
    insecure(s3.copy_object, Bucket=BUCKET, Key='copy', CopySource={'Bucket': BUCKET, 'Key': 'src'},
             CopySourceSSECustomerAlgorithm='AES256', CopySourceSSECustomerKey=KEY)
    if exists('copy'):
        raise AssertionError('copy was stored')
    refused(s3.create_multipart_upload, Bucket=BUCKET, Key='mp', ServerSideEncryption='aws:kms')
    insecure(s3.create_multipart_upload, Bucket=BUCKET, Key='mp', SSECustomerAlgorithm='AES256', SSECustomerKey=KEY)
    up = s3.create_multipart_upload(Bucket=BUCKET, Key='mp')['UploadId']
    insecure(s3.upload_part, Bucket=BUCKET, Key='mp', UploadId=up, PartNumber=1, Body=b'x',
             SSECustomerAlgorithm='AES256', SSECustomerKey=KEY)
    insecure(s3.upload_part_copy, Bucket=BUCKET, Key='mp', UploadId=up, PartNumber=1,
             CopySource={'Bucket': BUCKET, 'Key': 'src'}, CopySourceSSECustomerAlgorithm='AES256', CopySourceSSECustomerKey=KEY)
    parts = s3.list_parts(Bucket=BUCKET, Key='mp', UploadId=up).get('Parts', [])
    if parts:
        raise AssertionError(f'parts stored: {parts!r}')
    s3.abort_multipart_upload(Bucket=BUCKET, Key='mp', UploadId=up)


def reads_with_sse_c():
    insecure(s3.get_object, Bucket=BUCKET, Key='src', SSECustomerAlgorithm='AES256', SSECustomerKey=KEY)
    insecure(s3.head_object, Bucket=BUCKET, Key='src', SSECustomerAlgorithm='AES256', SSECustomerKey=KEY)


CHECKS = [put_object_sse_s3_kms_and_c, copy_and_multipart, reads_with_sse_c]

if __name__ == '__main__':
    run_checks(CHECKS)

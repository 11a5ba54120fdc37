#!/usr/bin/env python3
"""Multipart uploads with SSE-S3 and SSE-KMS through boto3 (issue 13), against a server with the
built-in key service and a master key `mp-key`: upload_file in parts and download_file in ranged
GETs with ServerSideEncryption AES256 / aws:kms (+ SSEKMSKeyId), the headers of each step, ranges
across part boundaries, and the part refusals (an SSE-C key on an SSE-S3 upload). Environment:
S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET. Exit code = number of failed checks."""
import hashlib
import os
import tempfile

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from s3checks import BUCKET, run_checks, s3

MiB = 1024 * 1024
PART = 5 * MiB + 7
ARN = 'arn:aws:kms:us-east-1:000000000000:key/mp-key'


def managed(key, extra):
    data = os.urandom(11 * MiB + 3)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, 'up.bin'), os.path.join(d, 'down.bin')
        with open(src, 'wb') as f:
            f.write(data)
        s3.upload_file(src, BUCKET, key, ExtraArgs=extra, Config=cfg)
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head['ServerSideEncryption'] == extra['ServerSideEncryption'], head
        assert head['ETag'].endswith('-3"'), head
        s3.download_file(BUCKET, key, dst, Config=cfg)
        with open(dst, 'rb') as f:
            assert f.read() == data, 'download_file (ranged GETs) gives the plaintext'
    return head


def managed_sse_s3():
    managed('managed-s3', {'ServerSideEncryption': 'AES256'})


def managed_sse_kms():
    head = managed('managed-kms', {'ServerSideEncryption': 'aws:kms', 'SSEKMSKeyId': 'mp-key'})
    assert head['SSEKMSKeyId'] == ARN, head


def low_level_steps():
    up = s3.create_multipart_upload(Bucket=BUCKET, Key='steps', ServerSideEncryption='aws:kms', SSEKMSKeyId='mp-key')
    assert up['ServerSideEncryption'] == 'aws:kms' and up['SSEKMSKeyId'] == ARN, up
    uid = up['UploadId']
    p1, p2 = os.urandom(PART), os.urandom(100)
    r1 = s3.upload_part(Bucket=BUCKET, Key='steps', UploadId=uid, PartNumber=1, Body=p1)
    assert r1['ServerSideEncryption'] == 'aws:kms' and r1['SSEKMSKeyId'] == ARN, r1
    assert r1['ETag'] != '"%s"' % hashlib.md5(p1).hexdigest(), 'an SSE-KMS part ETag is not the MD5 of its plaintext'
    r2 = s3.upload_part(Bucket=BUCKET, Key='steps', UploadId=uid, PartNumber=2, Body=p2)
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key='steps', UploadId=uid, MultipartUpload={
        'Parts': [{'PartNumber': 1, 'ETag': r1['ETag']}, {'PartNumber': 2, 'ETag': r2['ETag']}]})
    assert done['ServerSideEncryption'] == 'aws:kms', done
    whole = p1 + p2
    got = s3.get_object(Bucket=BUCKET, Key='steps', Range=f'bytes={PART - 10}-{PART + 10}')['Body'].read()
    assert got == whole[PART - 10:PART + 11]


def sse_c_key_on_sse_s3_upload():
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key='mixed', ServerSideEncryption='AES256')['UploadId']
    try:
        s3.upload_part(Bucket=BUCKET, Key='mixed', UploadId=uid, PartNumber=1, Body=b'x',
                       SSECustomerAlgorithm='AES256', SSECustomerKey=b'k' * 32)
    except ClientError as e:
        got = (e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'])
        assert got == ('InvalidRequest', 400), got
        assert 'not applicable' in e.response['Error']['Message'], e.response['Error']
    else:
        raise AssertionError('an SSE-C key on an SSE-S3 upload was accepted')
    s3.abort_multipart_upload(Bucket=BUCKET, Key='mixed', UploadId=uid)


CHECKS = [managed_sse_s3, managed_sse_kms, low_level_steps, sse_c_key_on_sse_s3_upload]

if __name__ == '__main__':
    run_checks(CHECKS)

#!/usr/bin/env python3
"""SSE-C with boto3 (issue 13): put_object / get_object / head_object with a customer key (botocore
base64-encodes it and adds its MD5), ranges across 64 KiB packages, ETags, wrong and missing keys,
header errors, upload_file / download_file through the transfer manager. Environment: S3_ENDPOINT,
S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET (and AWS_CA_BUNDLE for an https endpoint with a test CA).
Exit code = number of failed checks."""
import base64
import hashlib
import os
import tempfile

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from s3checks import BUCKET, run_checks, s3

KEY = bytes(range(32))
OTHER = b'o' * 32
KEY_MD5 = base64.b64encode(hashlib.md5(KEY).digest()).decode()
PKG = 64 * 1024
BIG = bytes((i * 31 + (i >> 10)) & 0xff for i in range(5 * PKG + 100))
SMALL = b'small secret ' * 100
SSE = {'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': KEY}


def error_of(fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        return e.response.get('Error', {}).get('Code'), e.response['ResponseMetadata']['HTTPStatusCode']
    raise AssertionError(f'{fn.__name__} succeeded')


def put_get_head():
    for key, body in [('py/big', BIG), ('py/small', SMALL), ('py/empty', b'')]:
        put = s3.put_object(Bucket=BUCKET, Key=key, Body=body, **SSE)
        assert put['SSECustomerAlgorithm'] == 'AES256' and put['SSECustomerKeyMD5'] == KEY_MD5, put
        assert 'ServerSideEncryption' not in put, put
        assert put['ETag'] != f'"{hashlib.md5(body).hexdigest()}"', 'the ETag is not the MD5 of the bytes'
        got = s3.get_object(Bucket=BUCKET, Key=key, **SSE)
        assert got['Body'].read() == body, key
        assert got['ETag'] == put['ETag'] and got['SSECustomerKeyMD5'] == KEY_MD5, got
        head = s3.head_object(Bucket=BUCKET, Key=key, **SSE)
        assert head['ETag'] == put['ETag'] and head['ContentLength'] == len(body), head
        listed = {o['Key']: o['ETag'] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix='py/')['Contents']}
        assert listed[key] == put['ETag'], listed


def ranges_across_packages():
    s3.put_object(Bucket=BUCKET, Key='py/ranges', Body=BIG, **SSE)
    for a, b in [(0, 0), (PKG - 1, PKG), (PKG - 10, 3 * PKG + 10), (2 * PKG, 2 * PKG), (5 * PKG - 1, len(BIG) - 1), (0, len(BIG) - 1)]:
        r = s3.get_object(Bucket=BUCKET, Key='py/ranges', Range=f'bytes={a}-{b}', **SSE)
        assert r['ResponseMetadata']['HTTPStatusCode'] == 206, r
        assert r['Body'].read() == BIG[a:b + 1], (a, b)
    r = s3.get_object(Bucket=BUCKET, Key='py/ranges', Range='bytes=-70000', **SSE)
    assert r['Body'].read() == BIG[-70000:]


def wrong_and_missing_keys():
    s3.put_object(Bucket=BUCKET, Key='py/keys', Body=SMALL, **SSE)
    assert error_of(s3.get_object, Bucket=BUCKET, Key='py/keys', SSECustomerAlgorithm='AES256', SSECustomerKey=OTHER) == ('AccessDenied', 403)
    assert error_of(s3.head_object, Bucket=BUCKET, Key='py/keys', SSECustomerAlgorithm='AES256', SSECustomerKey=OTHER)[1] == 403
    assert error_of(s3.get_object, Bucket=BUCKET, Key='py/keys') == ('InvalidRequest', 400)
    assert error_of(s3.head_object, Bucket=BUCKET, Key='py/keys')[1] == 400


def header_errors():
    assert error_of(s3.put_object, Bucket=BUCKET, Key='py/bad', Body=b'x', SSECustomerAlgorithm='AES128', SSECustomerKey=KEY) == (
        'InvalidEncryptionAlgorithmError', 400)
    assert error_of(s3.put_object, Bucket=BUCKET, Key='py/bad', Body=b'x', SSECustomerAlgorithm='AES256', SSECustomerKey=b'k' * 16) == (
        'InvalidArgument', 400)
    assert error_of(s3.put_object, Bucket=BUCKET, Key='py/bad', Body=b'x', ServerSideEncryption='AES256', **SSE) == ('InvalidArgument', 400)
    assert error_of(s3.head_object, Bucket=BUCKET, Key='py/bad')[1] == 404, 'nothing stored'


def transfer_manager():
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, 'up')
        with open(src, 'wb') as f:
            f.write(BIG)
        # One PutObject (below the multipart threshold): the SSE-C arguments go on it.
        cfg = TransferConfig(multipart_threshold=64 * 1024 * 1024)
        s3.upload_file(src, BUCKET, 'py/transfer', ExtraArgs=SSE, Config=cfg)
        dst = os.path.join(d, 'down')
        s3.download_file(BUCKET, 'py/transfer', dst, ExtraArgs=SSE, Config=cfg)
        with open(dst, 'rb') as f:
            assert f.read() == BIG


run_checks([put_get_head, ranges_across_packages, wrong_and_missing_keys, header_errors, transfer_manager])

#!/usr/bin/env python3
"""Encrypted multipart uploads with boto3 (issue 13): SSE-C on every step (create, parts, part copy
from an SSE-C source, completion), ListParts sizes, GET ranges across part and 64 KiB package
boundaries and ?partNumber, the refusals (no key, another key, a key on an unencrypted upload), and
boto3's managed transfers (upload_file in parts, download_file in ranged GETs) with SSE-C. The
server runs with --sse-c-over-http yes (botocore sends SSE-C over plain HTTP to a custom endpoint).
Environment: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET. Exit code = failed checks."""
import hashlib
import os
import tempfile

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError, ParamValidationError

from s3checks import BUCKET, run_checks, s3

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
SSE_C = {'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': KEY}
WRONG = {'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': OTHER}
COPY_SSE_C = {'CopySourceSSECustomerAlgorithm': 'AES256', 'CopySourceSSECustomerKey': KEY}
MiB = 1024 * 1024
PACKAGE = 64 * 1024
PART = 5 * MiB + 7


def refused(expect, fn, **kwargs):
    """Calls fn, which must fail with (code, status); code None: only the status (HEAD has no body)."""
    try:
        r = fn(**kwargs)
    except ClientError as e:
        got = (e.response.get('Error', {}).get('Code'), e.response['ResponseMetadata']['HTTPStatusCode'])
        if (expect[0] is not None and got != expect) or got[1] != expect[1]:
            raise AssertionError(f'{fn.__name__}: expected {expect}, got {got}')
        return
    raise AssertionError(f'{fn.__name__}: expected {expect}, the call succeeded: {r!r}')


def body(n):
    return os.urandom(n)


def parts_copy_complete_and_ranges():
    source = body(3 * PACKAGE + 11)
    s3.put_object(Bucket=BUCKET, Key='src', Body=source, **SSE_C)
    up = s3.create_multipart_upload(Bucket=BUCKET, Key='mp', **SSE_C)
    assert up['SSECustomerAlgorithm'] == 'AES256', up
    uid = up['UploadId']
    p1, p2 = body(PART), body(PART)
    refused(('InvalidRequest', 400), s3.upload_part, Bucket=BUCKET, Key='mp', UploadId=uid, PartNumber=1, Body=p1)
    refused(('AccessDenied', 403), s3.upload_part, Bucket=BUCKET, Key='mp', UploadId=uid, PartNumber=1, Body=p1, **WRONG)
    etags = []
    for n, b in [(1, p1), (2, p2)]:
        r = s3.upload_part(Bucket=BUCKET, Key='mp', UploadId=uid, PartNumber=n, Body=b, **SSE_C)
        assert r['SSECustomerAlgorithm'] == 'AES256', r
        assert r['ETag'] != '"%s"' % hashlib.md5(b).hexdigest(), 'an SSE-C part ETag is not the MD5 of its plaintext'
        etags.append(r['ETag'])
    refused(('InvalidRequest', 400), s3.upload_part_copy, Bucket=BUCKET, Key='mp', UploadId=uid, PartNumber=3,
            CopySource={'Bucket': BUCKET, 'Key': 'src'}, **SSE_C)
    c = s3.upload_part_copy(Bucket=BUCKET, Key='mp', UploadId=uid, PartNumber=3, CopySource={'Bucket': BUCKET, 'Key': 'src'},
                            CopySourceRange=f'bytes={PACKAGE - 3}-{3 * PACKAGE + 5}', **SSE_C, **COPY_SSE_C)
    etags.append(c['CopyPartResult']['ETag'])
    p3 = source[PACKAGE - 3:3 * PACKAGE + 6]
    sizes = [p['Size'] for p in s3.list_parts(Bucket=BUCKET, Key='mp', UploadId=uid)['Parts']]
    assert sizes == [PART, PART, len(p3)], sizes
    done = {'Bucket': BUCKET, 'Key': 'mp', 'UploadId': uid,
            'MultipartUpload': {'Parts': [{'PartNumber': i + 1, 'ETag': e} for i, e in enumerate(etags)]}}
    try:
        s3.complete_multipart_upload(**done, **SSE_C)
    except ParamValidationError:
        # botocore before SSE-C on completions (Debian's 1.29) does not encode the key there: none sent.
        s3.complete_multipart_upload(**done)
    whole = p1 + p2 + p3
    assert s3.get_object(Bucket=BUCKET, Key='mp', **SSE_C)['Body'].read() == whole
    for a, b in [(PART - 4, PART + 4), (PART + PACKAGE - 2, PART + 2 * PACKAGE + 2), (2 * PART - 1, 2 * PART + PACKAGE), (0, len(whole) - 1)]:
        got = s3.get_object(Bucket=BUCKET, Key='mp', Range=f'bytes={a}-{b}', **SSE_C)['Body'].read()
        assert got == whole[a:b + 1], f'bytes {a}-{b}'
    r = s3.get_object(Bucket=BUCKET, Key='mp', PartNumber=2, **SSE_C)
    assert r['PartsCount'] == 3 and r['Body'].read() == p2
    refused(('InvalidRequest', 400), s3.get_object, Bucket=BUCKET, Key='mp')
    refused(('AccessDenied', 403), s3.get_object, Bucket=BUCKET, Key='mp', **WRONG)
    refused((None, 400), s3.head_object, Bucket=BUCKET, Key='mp')


def key_on_unencrypted_upload():
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key='clear')['UploadId']
    refused(('InvalidRequest', 400), s3.upload_part, Bucket=BUCKET, Key='clear', UploadId=uid, PartNumber=1, Body=b'x', **SSE_C)
    assert s3.list_parts(Bucket=BUCKET, Key='clear', UploadId=uid).get('Parts', []) == []
    s3.abort_multipart_upload(Bucket=BUCKET, Key='clear', UploadId=uid)


def managed_transfers():
    data = body(11 * MiB + 3)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, 'up.bin'), os.path.join(d, 'down.bin')
        with open(src, 'wb') as f:
            f.write(data)
        s3.upload_file(src, BUCKET, 'managed', ExtraArgs=dict(SSE_C), Config=cfg)
        head = s3.head_object(Bucket=BUCKET, Key='managed', **SSE_C)
        assert head['ContentLength'] == len(data) and head['ETag'].endswith('-3"'), head
        s3.download_file(BUCKET, 'managed', dst, ExtraArgs=dict(SSE_C), Config=cfg)
        with open(dst, 'rb') as f:
            assert f.read() == data, 'download_file (ranged GETs) gives the plaintext'
        try:
            s3.download_file(BUCKET, 'managed', dst, Config=cfg)
        except ClientError as e:
            assert e.response['ResponseMetadata']['HTTPStatusCode'] == 400, e.response
        else:
            raise AssertionError('download_file without the key succeeded')


CHECKS = [parts_copy_complete_and_ranges, key_on_unencrypted_upload, managed_transfers]

if __name__ == '__main__':
    run_checks(CHECKS)

#!/usr/bin/env python3
"""CopyObject and GetObjectAttributes with encryption through boto3 (issue 13): SSE-C sources opened
with CopySourceSSECustomer*, destinations encrypted as the copy asks (SSE-C, SSE-S3, SSE-KMS) and not
as the source was, missing and wrong source keys refused as AWS does, a copy onto itself that changes
the key. Environment: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET (a server with the key
service and --sse-c-over-http yes: botocore sends SSE-C over plain HTTP to a custom endpoint).
Exit code = number of failed checks."""
import base64
import hashlib

from botocore.exceptions import ClientError

from s3checks import BUCKET, run_checks, s3

KEY_A = b'a' * 32
KEY_B = b'b' * 32
SMALL = b'small object stored inline ' * 4
LARGE = bytes(range(256)) * 1200  # 300 KiB: several 64 KiB packages


def sse_c(key):
    return {'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': key}


def source_sse_c(key):
    return {'CopySourceSSECustomerAlgorithm': 'AES256', 'CopySourceSSECustomerKey': key}


def error_of(fn, **kwargs):
    try:
        r = fn(**kwargs)
    except ClientError as e:
        return e.response.get('Error', {}).get('Code'), e.response['ResponseMetadata']['HTTPStatusCode']
    raise AssertionError(f'{fn.__name__}: expected an error, the call succeeded: {r!r}')


def expect(got, want, what):
    if got != want:
        raise AssertionError(f'{what}: expected {want!r}, got {got!r}')


def body(key, **kwargs):
    return s3.get_object(Bucket=BUCKET, Key=key, **kwargs)['Body'].read()


def copy(dest, src, **kwargs):
    return s3.copy_object(Bucket=BUCKET, Key=dest, CopySource={'Bucket': BUCKET, 'Key': src}, **kwargs)


def plain_to_sse_c_and_back():
    for name, data in (('small', SMALL), ('large', LARGE)):
        s3.put_object(Bucket=BUCKET, Key=f'{name}-plain', Body=data)
        r = copy(f'{name}-c', f'{name}-plain', **sse_c(KEY_A))
        expect(r.get('SSECustomerAlgorithm'), 'AES256', 'copy response algorithm')
        expect(r['CopyObjectResult']['ETag'] != '"%s"' % hashlib.md5(data).hexdigest(), True, 'SSE-C ETag is not the MD5')
        expect(error_of(s3.get_object, Bucket=BUCKET, Key=f'{name}-c'), ('InvalidRequest', 400), 'GET without key')
        expect(body(f'{name}-c', **sse_c(KEY_A)), data, f'{name} SSE-C copy bytes')
        # SSE-C -> SSE-C under another key, then SSE-C -> plain
        copy(f'{name}-c2', f'{name}-c', **source_sse_c(KEY_A), **sse_c(KEY_B))
        expect(error_of(s3.get_object, Bucket=BUCKET, Key=f'{name}-c2', **sse_c(KEY_A)), ('AccessDenied', 403), 'GET with the old key')
        expect(body(f'{name}-c2', **sse_c(KEY_B)), data, f'{name} re-keyed copy bytes')
        r = copy(f'{name}-p', f'{name}-c2', **source_sse_c(KEY_B))
        expect('SSECustomerAlgorithm' in r, False, 'plain copy has no SSE-C headers')
        expect(r['CopyObjectResult']['ETag'], '"%s"' % hashlib.md5(data).hexdigest(), 'plain copy ETag')
        expect(body(f'{name}-p'), data, f'{name} decrypted copy bytes')


def source_key_errors():
    s3.put_object(Bucket=BUCKET, Key='enc', Body=SMALL, **sse_c(KEY_A))
    expect(error_of(copy, dest='x1', src='enc'), ('InvalidRequest', 400), 'missing source key')
    expect(error_of(copy, dest='x2', src='enc', **source_sse_c(KEY_B)), ('AccessDenied', 403), 'wrong source key')
    s3.put_object(Bucket=BUCKET, Key='clear', Body=SMALL)
    expect(error_of(copy, dest='x3', src='clear', **source_sse_c(KEY_A)), ('InvalidRequest', 400), 'source key for a plain source')
    for k in ('x1', 'x2', 'x3'):
        expect(error_of(s3.head_object, Bucket=BUCKET, Key=k), ('404', 404), f'{k} not stored')


def self_copy_changes_key():
    s3.put_object(Bucket=BUCKET, Key='self', Body=LARGE, Metadata={'color': 'blue'}, **sse_c(KEY_A))
    copy('self', 'self', **source_sse_c(KEY_A), **sse_c(KEY_B))
    expect(body('self', **sse_c(KEY_B)), LARGE, 'self copy bytes under the new key')
    h = s3.head_object(Bucket=BUCKET, Key='self', **sse_c(KEY_B))
    expect(h['Metadata'], {'color': 'blue'}, 'COPY directive keeps metadata')
    expect(error_of(s3.head_object, Bucket=BUCKET, Key='self', **sse_c(KEY_A)), ('403', 403), 'HEAD with the old key')
    copy('self', 'self', **source_sse_c(KEY_B), **sse_c(KEY_B), MetadataDirective='REPLACE', Metadata={'color': 'red'})
    h = s3.head_object(Bucket=BUCKET, Key='self', **sse_c(KEY_B))
    expect(h['Metadata'], {'color': 'red'}, 'REPLACE directive')


def sse_s3_and_kms():
    s3.put_object(Bucket=BUCKET, Key='s3src', Body=LARGE, ServerSideEncryption='AES256')
    r = copy('kms', 's3src', ServerSideEncryption='aws:kms')
    expect(r.get('ServerSideEncryption'), 'aws:kms', 'copy to SSE-KMS')
    expect(r.get('SSEKMSKeyId', '').startswith('arn:aws:kms:'), True, 'KMS key ARN')
    h = s3.head_object(Bucket=BUCKET, Key='kms')
    expect(h.get('ServerSideEncryption'), 'aws:kms', 'HEAD of the SSE-KMS copy')
    expect(body('kms'), LARGE, 'SSE-KMS copy bytes')
    r = copy('fromkms', 'kms', **sse_c(KEY_A))
    expect(body('fromkms', **sse_c(KEY_A)), LARGE, 'SSE-KMS -> SSE-C bytes')
    r = copy('plainfroms3', 's3src')
    expect('ServerSideEncryption' in r, False, 'no destination headers: not carried over from the source')
    expect(body('plainfroms3'), LARGE, 'SSE-S3 -> plain bytes')


def encoded_sse_c(key):
    # botocore base64-encodes the key and adds its MD5 for GetObject and friends, not for
    # GetObjectAttributes: the caller sends them encoded.
    return {'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': base64.b64encode(key).decode(),
            'SSECustomerKeyMD5': base64.b64encode(hashlib.md5(key).digest()).decode()}


def attributes_need_the_key():
    s3.put_object(Bucket=BUCKET, Key='attr', Body=SMALL, **sse_c(KEY_A))
    kw = {'Bucket': BUCKET, 'Key': 'attr', 'ObjectAttributes': ['ETag', 'ObjectSize']}
    expect(error_of(s3.get_object_attributes, **kw), ('InvalidRequest', 400), 'attributes without the key')
    expect(error_of(s3.get_object_attributes, **kw, **encoded_sse_c(KEY_B)), ('AccessDenied', 403), 'attributes with a wrong key')
    r = s3.get_object_attributes(**kw, **encoded_sse_c(KEY_A))
    expect(r['ObjectSize'], len(SMALL), 'ObjectSize')


CHECKS = [plain_to_sse_c_and_back, source_key_errors, self_copy_changes_key, sse_s3_and_kms, attributes_need_the_key]

if __name__ == '__main__':
    run_checks(CHECKS)

#!/usr/bin/env python3
"""The founding document, executed: the boto3 tutorial in shared/seed/python-sdk.tr.md, steps
3, 4.1-4.5, 6 and 7, with the tutorial's own calls, config and credentials. Only endpoint_url
(env S3_ENDPOINT) and the bucket name (env S3_BUCKET, unique per run) differ, plus assertions.

Exits non-zero with a traceback on the first failed step. Works with boto3 1.26 and 1.43."""
import hashlib
import os
import sys
import tempfile
import traceback
from concurrent.futures import ThreadPoolExecutor

import botocore

ENDPOINT = os.environ['S3_ENDPOINT']
BUCKET = os.environ['S3_BUCKET']


def step(title):
    print(f'\n== {title}', flush=True)


def check(cond, message):
    # Not `assert`: must also fail under python -O.
    if not cond:
        raise AssertionError(message)


def error_of(fn, *args, **kwargs):
    """Calls fn, which must raise ClientError; returns (code, http status, error)."""
    from botocore.exceptions import ClientError
    try:
        result = fn(*args, **kwargs)
    except ClientError as e:
        return e.response['Error'].get('Code'), e.response['ResponseMetadata'].get('HTTPStatusCode'), e
    raise AssertionError(f'{getattr(fn, "__name__", fn)} succeeded but an error was expected: {result!r}')


def main():
    import boto3
    print(f'boto3 {boto3.__version__} / botocore {botocore.__version__} (python {sys.version.split()[0]})')
    print(f'endpoint {ENDPOINT}, bucket {BUCKET}')

    # ---- §3 RustFS'a Bağlanma ---------------------------------------------------------------
    step('§3 connect')
    import boto3  # noqa: F811 (as in the tutorial)
    from botocore.client import Config

    s3 = boto3.client(
        's3',
        endpoint_url=ENDPOINT,
        aws_access_key_id='rustfsadmin',
        aws_secret_access_key='rustfssecret',
        config=Config(signature_version='s3v4'),
        region_name='us-east-1'
    )

    # ---- §4.1 Bucket Oluşturma --------------------------------------------------------------
    step('§4.1 create bucket')
    bucket_name = BUCKET

    try:
        s3.create_bucket(Bucket=bucket_name)
        print(f'{bucket_name} bucketı oluşturuldu.')
    except s3.exceptions.BucketAlreadyOwnedByYou:
        print(f'{bucket_name} bucketı zaten mevcut.')

    # Running the same tutorial step again must take the `except` branch.
    second_create = None
    try:
        s3.create_bucket(Bucket=bucket_name)
    except s3.exceptions.BucketAlreadyOwnedByYou as e:
        second_create = e
        print(f'{bucket_name} bucketı zaten mevcut.')
    check(second_create is not None,
          'second create_bucket of an owned bucket must raise s3.exceptions.BucketAlreadyOwnedByYou')
    check(second_create.response['ResponseMetadata']['HTTPStatusCode'] == 409,
          f'BucketAlreadyOwnedByYou status: {second_create.response["ResponseMetadata"]}')

    # ---- §4.2 Dosya Yükleme -----------------------------------------------------------------
    step('§4.2 upload_file')
    content = ('Merhaba RustFS! Strata tutorial check.\n' * 3).encode('utf-8')
    with open('hello.txt', 'wb') as f:
        f.write(content)

    s3.upload_file('hello.txt', bucket_name, 'hello.txt')
    print('Dosya yüklendi.')

    # ---- §4.3 Dosya İndirme -----------------------------------------------------------------
    step('§4.3 download_file')
    s3.download_file(bucket_name, 'hello.txt', 'hello-downloaded.txt')
    print('Dosya indirildi.')

    with open('hello-downloaded.txt', 'rb') as f:
        downloaded = f.read()
    check(downloaded == content, f'downloaded bytes differ: {downloaded!r} != {content!r}')

    # ---- §4.4 Nesneleri Listeleme -----------------------------------------------------------
    step('§4.4 list_objects_v2')
    response = s3.list_objects_v2(Bucket=bucket_name)
    for obj in response.get('Contents', []):
        print(f"- {obj['Key']} ({obj['Size']} bayt)")

    listed = {obj['Key']: obj for obj in response.get('Contents', [])}
    check(list(listed) == ['hello.txt'], f'expected exactly hello.txt in the listing, got {list(listed)}')
    check(listed['hello.txt']['Size'] == len(content),
          f"listed size {listed['hello.txt']['Size']} != {len(content)}")
    expected_etag = '"' + hashlib.md5(content).hexdigest() + '"'
    check(listed['hello.txt']['ETag'] == expected_etag,
          f"listed ETag {listed['hello.txt']['ETag']} != {expected_etag}")
    check(response.get('KeyCount') == 1, f"KeyCount {response.get('KeyCount')} != 1")

    # ---- §6.1 Yaygın Hata Türleri -----------------------------------------------------------
    step('§6.1 common errors')
    from botocore.exceptions import ClientError

    seen = None
    try:
        s3.head_object(Bucket=bucket_name, Key='nonexistent.txt')
    except ClientError as e:
        error_code = e.response['Error']['Code']
        seen = error_code
        if error_code == '404':
            print('Nesne bulunamadı')
        elif error_code == 'NoSuchBucket':
            print('Bucket bulunamadı')
        else:
            print(f'Hata: {error_code}')
    check(seen == '404', f"head_object of a missing key: expected error code '404', got {seen!r}")

    missing_bucket = BUCKET[:50].rstrip('-') + '-missing'
    code, status, _ = error_of(s3.get_object, Bucket=missing_bucket, Key='hello.txt')
    print(f'get_object on a missing bucket -> {code} ({status})')
    check(code == 'NoSuchBucket' and status == 404, f'get_object on a missing bucket: {code} {status}')
    code, status, _ = error_of(s3.list_objects_v2, Bucket=missing_bucket)
    print(f'list_objects_v2 on a missing bucket -> {code} ({status})')
    check(code == 'NoSuchBucket' and status == 404, f'list_objects_v2 on a missing bucket: {code} {status}')
    # HEAD responses have no body, so botocore can only report the status code.
    code, status, _ = error_of(s3.head_bucket, Bucket=missing_bucket)
    print(f'head_bucket on a missing bucket -> {code} ({status})')
    check(code == '404' and status == 404, f'head_bucket on a missing bucket: {code} {status}')
    code, status, _ = error_of(s3.head_object, Bucket=missing_bucket, Key='hello.txt')
    print(f'head_object on a missing bucket -> {code} ({status})')
    check(code == '404' and status == 404, f'head_object on a missing bucket: {code} {status}')

    # ---- §6.2 Bağlantı Sorunları ------------------------------------------------------------
    step('§6.2 connection problems')
    import socket

    try:
        response = s3.list_buckets()
    except socket.timeout:
        print('Bağlantı zaman aşımına uğradı')
        raise
    except ConnectionError:
        print('Bağlantı başarısız oldu')
        raise
    names = [b['Name'] for b in response.get('Buckets', [])]
    check(bucket_name in names, f'{bucket_name} not in list_buckets: {names}')

    # ---- §4.5 Nesne ve Bucket Silme ---------------------------------------------------------
    step('§4.5 delete object and bucket')
    s3.delete_object(Bucket=bucket_name, Key='hello.txt')
    print('Nesne silindi.')

    s3.delete_bucket(Bucket=bucket_name)
    print('Bucket silindi.')

    code, status, _ = error_of(s3.head_bucket, Bucket=bucket_name)
    check(code == '404', f'head_bucket after delete_bucket: expected 404, got {code} {status}')

    # ---- §7 En İyi Uygulamalar --------------------------------------------------------------
    step('§7 retries + connection pool, 100 parallel put/get with 50 workers')
    # Yeniden deneme politikası yapılandırma
    from botocore.config import Config  # noqa: F811 (as in the tutorial)

    config = Config(
        retries={'max_attempts': 3, 'mode': 'adaptive'},
        max_pool_connections=50
    )

    s3 = boto3.client('s3', config=config,
                      endpoint_url=ENDPOINT,
                      aws_access_key_id='rustfsadmin',
                      aws_secret_access_key='rustfssecret',
                      region_name='us-east-1')

    s3.list_buckets()
    pool_bucket = BUCKET[:57].rstrip('-') + '-pool'
    s3.create_bucket(Bucket=pool_bucket)

    def put_get(i):
        key = f'parallel/{i:03d}.txt'
        body = (f'object {i} ' * (i + 1)).encode()
        s3.put_object(Bucket=pool_bucket, Key=key, Body=body)
        got = s3.get_object(Bucket=pool_bucket, Key=key)['Body'].read()
        check(got == body, f'{key}: got {len(got)} bytes, expected {len(body)}')
        return key

    with ThreadPoolExecutor(max_workers=50) as pool:
        keys = list(pool.map(put_get, range(100)))
    print(f'{len(keys)} objects written and read back in parallel')

    listed = []
    for page in s3.get_paginator('list_objects_v2').paginate(Bucket=pool_bucket, Prefix='parallel/'):
        listed.extend(obj['Key'] for obj in page.get('Contents', []))
    check(listed == sorted(keys), f'listing after parallel puts: {len(listed)} keys, expected 100 in order')

    def delete(key):
        s3.delete_object(Bucket=pool_bucket, Key=key)

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(delete, keys))
    s3.delete_bucket(Bucket=pool_bucket)
    print('parallel bucket emptied and deleted')

    print('\nOK: tutorial steps passed')


if __name__ == '__main__':
    try:
        # The tutorial's relative file names ('hello.txt', ...) live in a scratch directory.
        with tempfile.TemporaryDirectory(prefix='strata-tutorial-') as scratch:
            os.chdir(scratch)
            main()
    except Exception:
        traceback.print_exc()
        print('\nFAILED', file=sys.stderr)
        sys.exit(1)

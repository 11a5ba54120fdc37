#!/usr/bin/env python3
"""The whole founding tutorial (shared/seed/python-sdk.tr.md) §3 through §8, executed with the
tutorial's own calls, Config(signature_version='s3v4'), region and credentials. Only endpoint_url
(env S3_ENDPOINT), the bucket names (env S3_BUCKET, unique per run) and, over https, verify=
(env S3_CA, the self-signed certificate) differ; assertions follow every step.

Order: §3, §4.1-§4.4, §5.1.1, §5.1.2, §5.2 (once forced into its `except` branch, once through),
§6.1, §6.2, §4.5 (after removing the objects §5 added), §7, §8 main().

The last stdout line is JSON: {"boto3", "botocore", "payload_modes": {operation: {x-amz-content-sha256
value ('<sha256 hex>' for a signed payload): count}}} over every PutObject/UploadPart request sent, so
the caller can check which upload path ran (boto3 uses STREAMING-UNSIGNED-PAYLOAD-TRAILER only over
https).
Exits non-zero with a traceback on the first failed step. Works with boto3 1.26 and 1.43."""
import contextlib
import hashlib
import io
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import traceback
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import botocore

ENDPOINT = os.environ['S3_ENDPOINT']
BUCKET = os.environ['S3_BUCKET']
# https: the self-signed certificate the server uses; None (boto3's default) over http.
VERIFY = os.environ.get('S3_CA') or None
CURL = os.environ.get('CURL', 'curl')

# Every upload request's payload mode, from every client (registered on the default session, so
# the clients the tutorial creates itself, §8's main() included, inherit the hook).
payload_modes = {}
payload_modes_lock = threading.Lock()


def record_payload_mode(request, event_name, **kwargs):
    op = event_name.split('.')[-1]
    if op not in ('PutObject', 'UploadPart'):
        return
    mode = request.headers.get('x-amz-content-sha256')
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode is not None and len(mode) == 64 and all(c in '0123456789abcdef' for c in mode):
        mode = '<sha256 hex>'
    # §7 uploads from a thread pool: a read-modify-write of the count is not atomic across threads.
    with payload_modes_lock:
        counts = payload_modes.setdefault(op, {})
        counts[str(mode)] = counts.get(str(mode), 0) + 1


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


@contextlib.contextmanager
def captured_stdout():
    """Runs a tutorial block with its prints captured (and echoed afterwards) for assertions."""
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            yield buf
    finally:
        sys.stdout.write(buf.getvalue())
        sys.stdout.flush()


def url_context():
    return ssl.create_default_context(cafile=VERIFY) if VERIFY else None


def fetch(url):
    """GET with urllib.request (the standard library, as a reader of the tutorial would)."""
    with urllib.request.urlopen(url, context=url_context(), timeout=30) as resp:
        return resp.status, resp.read(), resp.headers


def tutorial_5_2(s3, bucket_name):
    """§5.2 exactly as written (the snippet's own locals), returning what the caller checks."""
    import os

    file_path = 'largefile.bin'
    key = 'largefile.bin'
    part_size = 5 * 1024 * 1024  # 5 MB

    # 1. Yüklemeyi başlat
    response = s3.create_multipart_upload(Bucket=bucket_name, Key=key)
    upload_id = response['UploadId']
    parts = []

    try:
        with open(file_path, 'rb') as f:
            part_number = 1
            while True:
                data = f.read(part_size)
                if not data:
                    break

                part = s3.upload_part(
                    Bucket=bucket_name,
                    Key=key,
                    PartNumber=part_number,
                    UploadId=upload_id,
                    Body=data
                )

                parts.append({'ETag': part['ETag'], 'PartNumber': part_number})
                print(f'{part_number}. parça yüklendi')
                part_number += 1

        # 2. Yüklemeyi tamamla
        s3.complete_multipart_upload(
            Bucket=bucket_name,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={'Parts': parts}
        )
        print('Çok parçalı yükleme tamamlandı.')

    except Exception as e:
        # Hata durumunda yüklemeyi iptal et
        s3.abort_multipart_upload(Bucket=bucket_name, Key=key, UploadId=upload_id)
        print(f'Yükleme iptal edildi: {e}')

    return key, upload_id, parts


def main_tutorial():
    # ---- §3 RustFS'a Bağlanma ---------------------------------------------------------------
    import boto3
    from botocore.client import Config

    print(f'boto3 {boto3.__version__} / botocore {botocore.__version__} (python {sys.version.split()[0]})')
    print(f'endpoint {ENDPOINT}, bucket {BUCKET}, verify {VERIFY}')
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register('before-send.s3', record_payload_mode)

    step('§3 connect')
    s3 = boto3.client(
        's3',
        endpoint_url=ENDPOINT,
        aws_access_key_id='rustfsadmin',
        aws_secret_access_key='rustfssecret',
        config=Config(signature_version='s3v4'),
        region_name='us-east-1',
        verify=VERIFY
    )
    check(s3.list_buckets()['ResponseMetadata']['HTTPStatusCode'] == 200, 'list_buckets after connecting')

    # ---- §4.1 Bucket Oluşturma --------------------------------------------------------------
    step('§4.1 create bucket')
    bucket_name = BUCKET

    try:
        s3.create_bucket(Bucket=bucket_name)
        print(f'{bucket_name} bucketı oluşturuldu.')
    except s3.exceptions.BucketAlreadyOwnedByYou:
        print(f'{bucket_name} bucketı zaten mevcut.')

    # Running the same step again must take the `except` branch.
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
    s3.head_bucket(Bucket=bucket_name)

    # ---- §4.2 Dosya Yükleme -----------------------------------------------------------------
    step('§4.2 upload_file')
    content = ('Merhaba RustFS! Strata full tutorial check.\n' * 3).encode('utf-8')
    with open('hello.txt', 'wb') as f:
        f.write(content)

    s3.upload_file('hello.txt', bucket_name, 'hello.txt')
    print('Dosya yüklendi.')

    head = s3.head_object(Bucket=bucket_name, Key='hello.txt')
    check(head['ContentLength'] == len(content), f"head_object ContentLength {head['ContentLength']}")
    check('ContentEncoding' not in head, f"aws-chunked leaked into Content-Encoding: {head.get('ContentEncoding')!r}")

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
    check(listed['hello.txt']['Size'] == len(content), f"listed size {listed['hello.txt']['Size']} != {len(content)}")
    expected_etag = '"' + hashlib.md5(content).hexdigest() + '"'
    check(listed['hello.txt']['ETag'] == expected_etag, f"listed ETag {listed['hello.txt']['ETag']} != {expected_etag}")
    check(response.get('KeyCount') == 1, f"KeyCount {response.get('KeyCount')} != 1")

    # ---- §5.1.1 İndirme Bağlantısı (GET) ----------------------------------------------------
    step('§5.1.1 presigned GET, fetched with urllib.request')
    url = s3.generate_presigned_url(
        ClientMethod='get_object',
        Params={'Bucket': bucket_name, 'Key': 'hello.txt'},
        ExpiresIn=600  # 10 dakika geçerlilik
    )

    print('Ön imzalı GET URL:', url)
    check(url.startswith(ENDPOINT + '/'), f'presigned URL does not use the endpoint: {url}')
    check('X-Amz-Algorithm=AWS4-HMAC-SHA256' in url and 'X-Amz-Expires=600' in url,
          f'presigned GET URL is not SigV4 with X-Amz-Expires=600: {url}')
    status, body, headers = fetch(url)
    check(status == 200, f'presigned GET status {status}')
    check(body == content, f'presigned GET returned {body!r}, expected {content!r}')
    check(headers.get('ETag') == expected_etag, f"presigned GET ETag {headers.get('ETag')}")

    # ---- §5.1.2 Yükleme Bağlantısı (PUT) ----------------------------------------------------
    step('§5.1.2 presigned PUT, uploaded with curl -X PUT --upload-file hello.txt')
    url = s3.generate_presigned_url(
        ClientMethod='put_object',
        Params={'Bucket': bucket_name, 'Key': 'upload-by-url.txt'},
        ExpiresIn=600
    )

    print('Ön imzalı PUT URL:', url)
    check('X-Amz-Algorithm=AWS4-HMAC-SHA256' in url, f'presigned PUT URL is not SigV4: {url}')
    # curl -X PUT --upload-file hello.txt "http://..."  (plus: quiet, status code out, CA for https)
    curl = [CURL, '-X', 'PUT', '--upload-file', 'hello.txt', url,
            '-sS', '-o', 'curl-response.txt', '-w', '%{http_code}']
    if VERIFY:
        curl[1:1] = ['--cacert', VERIFY]
    r = subprocess.run(curl, capture_output=True, text=True, timeout=60)
    with open('curl-response.txt', 'rb') as f:
        curl_body = f.read()
    check(r.returncode == 0, f'curl exit {r.returncode}: {r.stderr}')
    check(r.stdout == '200', f'curl PUT status {r.stdout}: {curl_body!r}')
    got = s3.get_object(Bucket=bucket_name, Key='upload-by-url.txt')
    check(got['Body'].read() == content, 'get_object of the object uploaded by curl differs from hello.txt')
    check(got['ETag'] == expected_etag, f"ETag of the curl upload {got['ETag']} != {expected_etag}")

    # ---- §5.2 Çok Parçalı Yükleme -----------------------------------------------------------
    large = os.urandom(12 * 1024 * 1024 + 4321)  # ~12 MB: 5 MB + 5 MB + the rest
    with open('largefile.bin', 'wb') as f:
        f.write(large)
    part_size = 5 * 1024 * 1024
    chunks = [large[i:i + part_size] for i in range(0, len(large), part_size)]
    check(len(chunks) == 3, f'{len(chunks)} chunks')

    step('§5.2 multipart loop, forced into its except branch (part 2 sent as part number 10001)')

    def invalid_second_part(params, **kwargs):
        if params.get('PartNumber') == 2:
            params['PartNumber'] = 10001

    s3.meta.events.register('before-parameter-build.s3.UploadPart', invalid_second_part)
    try:
        with captured_stdout() as out:
            key, upload_id, parts = tutorial_5_2(s3, bucket_name)
    finally:
        s3.meta.events.unregister('before-parameter-build.s3.UploadPart', invalid_second_part)
    printed = out.getvalue()
    check('1. parça yüklendi' in printed and '2. parça yüklendi' not in printed,
          f'expected part 1 to upload and part 2 to fail: {printed!r}')
    check('Yükleme iptal edildi:' in printed and 'InvalidArgument' in printed,
          f'the except branch did not run with InvalidArgument: {printed!r}')
    check('Çok parçalı yükleme tamamlandı.' not in printed, f'completed despite the error: {printed!r}')
    listing = s3.list_multipart_uploads(Bucket=bucket_name)
    still = [u for u in listing.get('Uploads', []) if u['UploadId'] == upload_id]
    check(still == [], f'aborted upload still listed: {still}')
    code, status, _ = error_of(s3.complete_multipart_upload, Bucket=bucket_name, Key=key, UploadId=upload_id,
                               MultipartUpload={'Parts': parts})
    check((code, status) == ('NoSuchUpload', 404), f'complete after abort: {code} {status}')
    code, status, _ = error_of(s3.head_object, Bucket=bucket_name, Key=key)
    check(code == '404', f'head_object after the aborted upload: {code} {status}')

    step('§5.2 multipart loop as written, 5 MB parts of a ~12 MB file')
    with captured_stdout() as out:
        key, upload_id, parts = tutorial_5_2(s3, bucket_name)
    printed = out.getvalue()
    check('Çok parçalı yükleme tamamlandı.' in printed and 'iptal' not in printed, f'multipart loop: {printed!r}')
    check([p['PartNumber'] for p in parts] == [1, 2, 3], f'parts {parts}')
    for p, chunk in zip(parts, chunks):
        check(p['ETag'] == '"' + hashlib.md5(chunk).hexdigest() + '"', f'part {p["PartNumber"]} ETag {p["ETag"]}')
    expected_mp_etag = '"' + hashlib.md5(b''.join(hashlib.md5(c).digest() for c in chunks)).hexdigest() + '-3"'
    got = s3.get_object(Bucket=bucket_name, Key=key)
    got_bytes = got['Body'].read()
    check(got['ETag'] == expected_mp_etag, f"multipart ETag {got['ETag']} != {expected_mp_etag}")
    check(got['ContentLength'] == len(large) and got_bytes == large,
          f'multipart object: {len(got_bytes)} bytes, expected {len(large)} (equal: {got_bytes == large})')
    listing = s3.list_multipart_uploads(Bucket=bucket_name)
    check(not listing.get('Uploads'), f'uploads left after complete: {listing.get("Uploads")}')

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
    check((code, status) == ('NoSuchBucket', 404), f'get_object on a missing bucket: {code} {status}')
    code, status, _ = error_of(s3.head_object, Bucket=missing_bucket, Key='hello.txt')
    check((code, status) == ('404', 404), f'head_object on a missing bucket: {code} {status}')

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
    step('§4.5 delete object and bucket (after removing what §5 added)')
    for extra in ('upload-by-url.txt', 'largefile.bin'):
        s3.delete_object(Bucket=bucket_name, Key=extra)

    s3.delete_object(Bucket=bucket_name, Key='hello.txt')
    print('Nesne silindi.')

    s3.delete_bucket(Bucket=bucket_name)
    print('Bucket silindi.')

    code, status, _ = error_of(s3.head_bucket, Bucket=bucket_name)
    check(code == '404', f'head_bucket after delete_bucket: expected 404, got {code} {status}')

    # ---- §7 En İyi Uygulamalar --------------------------------------------------------------
    step('§7 retries + connection pool, 60 parallel put/get with 50 workers')
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
                      region_name='us-east-1',
                      verify=VERIFY)

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
        keys = list(pool.map(put_get, range(60)))
    listed = []
    for page in s3.get_paginator('list_objects_v2').paginate(Bucket=pool_bucket, Prefix='parallel/'):
        listed.extend(obj['Key'] for obj in page.get('Contents', []))
    check(listed == sorted(keys), f'listing after parallel puts: {len(listed)} keys, expected 60 in order')
    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(lambda k: s3.delete_object(Bucket=pool_bucket, Key=k), keys))
    s3.delete_bucket(Bucket=pool_bucket)
    print(f'{len(keys)} objects written, read back, listed and deleted in parallel')

    # ---- §8 Tam Örnek -----------------------------------------------------------------------
    step('§8 main()')
    full_bucket = BUCKET[:57].rstrip('-') + '-full'
    with captured_stdout() as out:
        tutorial_8_main(full_bucket)
    printed = out.getvalue()
    check('Hata:' not in printed, f'main() reported an error: {printed!r}')
    check(f'Bucket oluşturuldu: {full_bucket}' in printed and 'Dosya başarıyla yüklendi' in printed,
          f'main() output: {printed!r}')
    check('Bucket içindeki nesneler:\n  - test.txt\n' in printed, f'main() listing: {printed!r}')
    urls = [line.split(': ', 1)[1] for line in printed.splitlines() if line.startswith('Ön imzalı URL: ')]
    check(len(urls) == 1 and 'X-Amz-Expires=3600' in urls[0], f'main() presigned URL: {urls}')
    status, body, _ = fetch(urls[0])
    check(status == 200 and body == b'Merhaba RustFS!', f'main() presigned URL fetched: {status} {body!r}')
    s3.delete_object(Bucket=full_bucket, Key='test.txt')
    s3.delete_bucket(Bucket=full_bucket)

    print('\nOK: full tutorial passed')
    print(json.dumps({'boto3': boto3.__version__, 'botocore': botocore.__version__, 'payload_modes': payload_modes}))


def tutorial_8_main(bucket):
    """§8 verbatim; only endpoint_url, verify (https) and the bucket name differ."""
    import boto3
    from botocore.client import Config
    from botocore.exceptions import ClientError

    def main():
        # İstemciyi başlat
        s3 = boto3.client(
            's3',
            endpoint_url=ENDPOINT,
            aws_access_key_id='rustfsadmin',
            aws_secret_access_key='rustfssecret',
            config=Config(signature_version='s3v4'),
            region_name='us-east-1',
            verify=VERIFY
        )

        bucket_name = bucket

        try:
            # Bucket oluştur
            s3.create_bucket(Bucket=bucket_name)
            print(f'Bucket oluşturuldu: {bucket_name}')

            # Dosya yükle
            with open('test.txt', 'w') as f:
                f.write('Merhaba RustFS!')

            s3.upload_file('test.txt', bucket_name, 'test.txt')
            print('Dosya başarıyla yüklendi')

            # Nesneleri listele
            response = s3.list_objects_v2(Bucket=bucket_name)
            print('Bucket içindeki nesneler:')
            for obj in response.get('Contents', []):
                print(f"  - {obj['Key']}")

            # Ön imzalı URL oluştur
            url = s3.generate_presigned_url(
                'get_object',
                Params={'Bucket': bucket_name, 'Key': 'test.txt'},
                ExpiresIn=3600
            )
            print(f'Ön imzalı URL: {url}')

        except ClientError as e:
            print(f'Hata: {e}')

    main()


if __name__ == '__main__':
    try:
        # The tutorial's relative file names ('hello.txt', 'largefile.bin', 'test.txt') live in a
        # scratch directory.
        with tempfile.TemporaryDirectory(prefix='strata-tutorial-full-') as scratch:
            os.chdir(scratch)
            main_tutorial()
    except Exception:
        traceback.print_exc()
        print('\nFAILED', file=sys.stderr)
        sys.exit(1)

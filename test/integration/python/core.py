#!/usr/bin/env python3
"""Broader boto3 checks against a Strata endpoint: buckets, object headers and metadata, ETags,
ranges, conditionals, response overrides, multi-delete, copy, listings, and keys that break naive
servers. Environment: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET (unique per run).

Every check runs even if an earlier one failed (each prints a traceback); the exit code is the
number of failed checks (capped), 0 when all pass. Works with boto3 1.26 (Debian) and 1.43."""
import datetime
import gzip
import hashlib
import os
import sys
import traceback

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ['S3_ENDPOINT']
ACCESS_KEY = os.environ.get('S3_ACCESS_KEY', 'rustfsadmin')
SECRET_KEY = os.environ.get('S3_SECRET_KEY', 'rustfssecret')
BUCKET = os.environ['S3_BUCKET']

s3 = boto3.client(
    's3',
    endpoint_url=ENDPOINT,
    aws_access_key_id=ACCESS_KEY,
    aws_secret_access_key=SECRET_KEY,
    region_name='us-east-1',
    # No retries: a 5xx or a dropped connection must show up, not be papered over.
    config=Config(signature_version='s3v4', s3={'addressing_style': 'path'},
                  retries={'max_attempts': 1, 'mode': 'standard'}),
)


# ---- helpers ------------------------------------------------------------------------------

def check(cond, message):
    # Not `assert`: must also fail under python -O.
    if not cond:
        raise AssertionError(message)


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f'{what}: expected {expected!r}, got {actual!r}')


def expect_error(code, status, fn, **kwargs):
    """fn(**kwargs) must raise ClientError with this error code and HTTP status."""
    try:
        result = fn(**kwargs)
    except ClientError as e:
        got_code = e.response.get('Error', {}).get('Code')
        got_status = e.response.get('ResponseMetadata', {}).get('HTTPStatusCode')
        if got_code != code or got_status != status:
            raise AssertionError(f'{fn.__name__}: expected {code} ({status}), got {got_code} ({got_status}): '
                                 f'{e.response.get("Error")}')
        return e
    result.pop('ResponseMetadata', None)
    raise AssertionError(f'{fn.__name__}: expected {code} ({status}) but the call succeeded: {result!r}')


def status_of(resp):
    return resp['ResponseMetadata']['HTTPStatusCode']


def quoted_md5(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def derived_bucket(suffix):
    """Another unique bucket name, derived from S3_BUCKET, at most 63 chars."""
    return BUCKET[:63 - len(suffix) - 1].rstrip('-') + '-' + suffix


def list_all_keys(bucket, prefix=''):
    keys = []
    for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj['Key'] for obj in page.get('Contents', []))
    return keys


def empty_and_delete(bucket):
    keys = list_all_keys(bucket)
    for i in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={'Objects': [{'Key': k} for k in keys[i:i + 1000]]})
    s3.delete_bucket(Bucket=bucket)


CHECKS = []


def check_case(fn):
    CHECKS.append(fn)
    return fn


# ---- buckets ------------------------------------------------------------------------------

@check_case
def create_list_delete_buckets():
    extra = derived_bucket('extra')
    eq(status_of(s3.create_bucket(Bucket=extra)), 200, 'CreateBucket status')
    s3.head_bucket(Bucket=extra)
    resp = s3.list_buckets()
    names = [b['Name'] for b in resp['Buckets']]
    check(BUCKET in names and extra in names, f'ListBuckets misses {BUCKET} or {extra}: {names}')
    check(names == sorted(names), f'ListBuckets is not sorted by name: {names}')
    check(isinstance(resp.get('Owner', {}).get('ID'), str) and resp['Owner']['ID'] != '',
          f'ListBuckets has no Owner/ID: {resp.get("Owner")}')
    for b in resp['Buckets']:
        check(isinstance(b.get('CreationDate'), datetime.datetime), f'bucket without CreationDate: {b}')
    expect_error('BucketAlreadyOwnedByYou', 409, s3.create_bucket, Bucket=extra)
    eq(status_of(s3.delete_bucket(Bucket=extra)), 204, 'DeleteBucket status')
    names = [b['Name'] for b in s3.list_buckets()['Buckets']]
    check(extra not in names, f'{extra} still listed after delete_bucket')
    expect_error('NoSuchBucket', 404, s3.delete_bucket, Bucket=extra)


@check_case
def invalid_bucket_names():
    # Names botocore's client-side check lets through (it only rejects characters outside
    # [a-zA-Z0-9.\-_]); the server must reject them with 400 InvalidBucketName.
    for name in ['ab', 'a' * 64, 'UPPERCASE', 'under_score', '-leading', 'trailing-', '.dot',
                 'a..b', '192.168.1.1', 'xn--punycode', 'bucket-s3alias']:
        try:
            expect_error('InvalidBucketName', 400, s3.create_bucket, Bucket=name)
        except AssertionError as e:
            raise AssertionError(f'bucket name {name!r}: {e}') from None


@check_case
def delete_non_empty_bucket():
    b = derived_bucket('nonempty')
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key='x', Body=b'x')
    expect_error('BucketNotEmpty', 409, s3.delete_bucket, Bucket=b)
    s3.head_bucket(Bucket=b)
    s3.delete_object(Bucket=b, Key='x')
    s3.delete_bucket(Bucket=b)


@check_case
def bucket_location_and_versioning():
    loc = s3.get_bucket_location(Bucket=BUCKET)
    eq(loc.get('LocationConstraint'), None, 'GetBucketLocation LocationConstraint for us-east-1')
    ver = s3.get_bucket_versioning(Bucket=BUCKET)
    check('Status' not in ver, f'GetBucketVersioning of a never-versioned bucket has Status: {ver}')
    check('MFADelete' not in ver, f'GetBucketVersioning of a never-versioned bucket has MFADelete: {ver}')


# ---- objects ------------------------------------------------------------------------------

@check_case
def put_object_headers_round_trip():
    body = gzip.compress(b'hello strata ' * 100)
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    put = s3.put_object(
        Bucket=BUCKET, Key='headers.txt', Body=body,
        ContentType='text/plain; charset=utf-8',
        Metadata={'color': 'blue', 'Mixed-Case': 'Value With Spaces'},
        CacheControl='max-age=3600, public',
        ContentDisposition='attachment; filename="report.txt"',
        ContentEncoding='gzip',
        ContentLanguage='tr-TR',
        Expires=expires,
    )
    eq(put['ETag'], quoted_md5(body), 'PutObject ETag')
    head = s3.head_object(Bucket=BUCKET, Key='headers.txt')
    get = s3.get_object(Bucket=BUCKET, Key='headers.txt')
    got_body = get['Body'].read()
    eq(got_body, body, 'GetObject body (must not be decompressed or re-encoded)')
    for name, resp in (('HeadObject', head), ('GetObject', get)):
        eq(resp['ContentLength'], len(body), f'{name} ContentLength')
        eq(resp['ETag'], quoted_md5(body), f'{name} ETag')
        eq(resp['ContentType'], 'text/plain; charset=utf-8', f'{name} ContentType')
        eq(resp['Metadata'], {'color': 'blue', 'mixed-case': 'Value With Spaces'},
           f'{name} Metadata (names lowercased)')
        eq(resp.get('CacheControl'), 'max-age=3600, public', f'{name} CacheControl')
        eq(resp.get('ContentDisposition'), 'attachment; filename="report.txt"', f'{name} ContentDisposition')
        eq(resp.get('ContentEncoding'), 'gzip', f'{name} ContentEncoding')
        eq(resp.get('ContentLanguage'), 'tr-TR', f'{name} ContentLanguage')
        # botocore 1.26 parses Expires into a datetime; newer ones also give ExpiresString
        # (and drop Expires if it does not parse).
        exp = resp.get('Expires')
        if isinstance(exp, datetime.datetime):
            eq(exp, expires, f'{name} Expires')
        else:
            eq(resp.get('ExpiresString'), 'Wed, 02 Jan 2030 03:04:05 GMT', f'{name} ExpiresString')
        check(isinstance(resp.get('LastModified'), datetime.datetime), f'{name} LastModified missing')
        eq(resp.get('AcceptRanges'), 'bytes', f'{name} AcceptRanges')


@check_case
def etag_is_md5():
    for key, body in (('etag/small', b'The quick brown fox'), ('etag/binary', bytes(range(256)) * 1000),
                      ('etag/empty', b'')):
        put = s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        eq(put['ETag'], quoted_md5(body), f'{key} PutObject ETag')
        head = s3.head_object(Bucket=BUCKET, Key=key)
        eq(head['ETag'], quoted_md5(body), f'{key} HeadObject ETag')
        eq(head['ContentLength'], len(body), f'{key} ContentLength')
        eq(s3.get_object(Bucket=BUCKET, Key=key)['Body'].read(), body, f'{key} body')
    eq(s3.head_object(Bucket=BUCKET, Key='etag/empty')['ETag'], '"d41d8cd98f00b204e9800998ecf8427e"',
       'zero-byte object ETag')


@check_case
def ranged_get():
    body = b'0123456789abcdef'
    s3.put_object(Bucket=BUCKET, Key='range.txt', Body=body)
    for rng, data, content_range in (('bytes=0-4', b'01234', 'bytes 0-4/16'),
                                     ('bytes=-3', b'def', 'bytes 13-15/16'),
                                     ('bytes=5-', b'56789abcdef', 'bytes 5-15/16'),
                                     ('bytes=10-100', b'abcdef', 'bytes 10-15/16'),
                                     ('bytes=0-15', body, 'bytes 0-15/16')):
        resp = s3.get_object(Bucket=BUCKET, Key='range.txt', Range=rng)
        eq(status_of(resp), 206, f'{rng} status')
        eq(resp['Body'].read(), data, f'{rng} body')
        eq(resp.get('ContentRange'), content_range, f'{rng} ContentRange')
        eq(resp['ContentLength'], len(data), f'{rng} ContentLength')
    e = expect_error('InvalidRange', 416, s3.get_object, Bucket=BUCKET, Key='range.txt', Range='bytes=16-20')
    content_range = e.response['ResponseMetadata'].get('HTTPHeaders', {}).get('content-range')
    eq(content_range, 'bytes */16', 'InvalidRange Content-Range header')
    expect_error('InvalidRange', 416, s3.get_object, Bucket=BUCKET, Key='range.txt', Range='bytes=100-200')


@check_case
def conditional_get():
    body = b'conditional body'
    etag = s3.put_object(Bucket=BUCKET, Key='cond.txt', Body=body)['ETag']
    eq(s3.get_object(Bucket=BUCKET, Key='cond.txt', IfMatch=etag)['Body'].read(), body, 'IfMatch=etag body')
    # 304 has no body: botocore reports the status code as the error code.
    expect_error('304', 304, s3.get_object, Bucket=BUCKET, Key='cond.txt', IfNoneMatch=etag)
    expect_error('PreconditionFailed', 412, s3.get_object, Bucket=BUCKET, Key='cond.txt',
                 IfMatch='"00000000000000000000000000000000"')
    expect_error('412', 412, s3.head_object, Bucket=BUCKET, Key='cond.txt',
                 IfMatch='"00000000000000000000000000000000"')
    expect_error('304', 304, s3.head_object, Bucket=BUCKET, Key='cond.txt', IfNoneMatch=etag)
    resp = s3.get_object(Bucket=BUCKET, Key='cond.txt', IfNoneMatch='"00000000000000000000000000000000"')
    eq(resp['Body'].read(), body, 'IfNoneMatch=other body')


@check_case
def response_overrides():
    s3.put_object(Bucket=BUCKET, Key='override.bin', Body=b'{}', ContentType='application/octet-stream')
    resp = s3.get_object(Bucket=BUCKET, Key='override.bin', ResponseContentType='application/json',
                         ResponseContentDisposition='attachment; filename="data.json"',
                         ResponseCacheControl='no-cache', ResponseContentLanguage='de')
    eq(resp['ContentType'], 'application/json', 'ResponseContentType override')
    eq(resp.get('ContentDisposition'), 'attachment; filename="data.json"', 'ResponseContentDisposition override')
    eq(resp.get('CacheControl'), 'no-cache', 'ResponseCacheControl override')
    eq(resp.get('ContentLanguage'), 'de', 'ResponseContentLanguage override')
    eq(resp['Body'].read(), b'{}', 'body')
    eq(s3.head_object(Bucket=BUCKET, Key='override.bin')['ContentType'], 'application/octet-stream',
       'stored ContentType unchanged')


@check_case
def delete_objects():
    for k in ('del/1', 'del/2'):
        s3.put_object(Bucket=BUCKET, Key=k, Body=b'x')
    resp = s3.delete_objects(Bucket=BUCKET, Delete={'Objects': [{'Key': 'del/1'}, {'Key': 'del/2'},
                                                                {'Key': 'del/missing'}]})
    eq(sorted(d['Key'] for d in resp.get('Deleted', [])), ['del/1', 'del/2', 'del/missing'], 'Deleted keys')
    eq(resp.get('Errors', []), [], 'DeleteObjects Errors')
    eq(list_all_keys(BUCKET, 'del/'), [], 'keys left after DeleteObjects')
    for k in ('del/3', 'del/4'):
        s3.put_object(Bucket=BUCKET, Key=k, Body=b'x')
    resp = s3.delete_objects(Bucket=BUCKET, Delete={'Objects': [{'Key': 'del/3'}, {'Key': 'del/4'},
                                                                {'Key': 'del/missing'}], 'Quiet': True})
    eq(resp.get('Deleted', []), [], 'Quiet DeleteObjects Deleted')
    eq(resp.get('Errors', []), [], 'Quiet DeleteObjects Errors')
    eq(list_all_keys(BUCKET, 'del/'), [], 'keys left after quiet DeleteObjects')
    eq(status_of(s3.delete_object(Bucket=BUCKET, Key='del/never-existed')), 204, 'DeleteObject of missing key')


@check_case
def copy_object():
    src = 'dir/my file+1.txt'
    body = b'copy source body'
    s3.put_object(Bucket=BUCKET, Key=src, Body=body, ContentType='text/x-source', Metadata={'origin': 'src'})
    source = {'Bucket': BUCKET, 'Key': src}

    resp = s3.copy_object(Bucket=BUCKET, Key='copies/default', CopySource=source)
    eq(resp['CopyObjectResult']['ETag'], quoted_md5(body), 'CopyObjectResult ETag')
    check(isinstance(resp['CopyObjectResult'].get('LastModified'), datetime.datetime),
          f'CopyObjectResult LastModified: {resp["CopyObjectResult"]}')
    head = s3.head_object(Bucket=BUCKET, Key='copies/default')
    eq(head['Metadata'], {'origin': 'src'}, 'COPY directive metadata')
    eq(head['ContentType'], 'text/x-source', 'COPY directive ContentType')
    eq(s3.get_object(Bucket=BUCKET, Key='copies/default')['Body'].read(), body, 'copied body')

    s3.copy_object(Bucket=BUCKET, Key='copies/explicit-copy', CopySource=source, MetadataDirective='COPY',
                   Metadata={'ignored': 'yes'})
    eq(s3.head_object(Bucket=BUCKET, Key='copies/explicit-copy')['Metadata'], {'origin': 'src'},
       'explicit COPY directive ignores request metadata')

    s3.copy_object(Bucket=BUCKET, Key='copies/replace', CopySource=source, MetadataDirective='REPLACE',
                   Metadata={'new': 'meta'}, ContentType='text/x-replaced')
    head = s3.head_object(Bucket=BUCKET, Key='copies/replace')
    eq(head['Metadata'], {'new': 'meta'}, 'REPLACE directive metadata')
    eq(head['ContentType'], 'text/x-replaced', 'REPLACE directive ContentType')
    eq(head['ETag'], quoted_md5(body), 'REPLACE copy ETag')

    # Copy onto itself: only legal with REPLACE.
    expect_error('InvalidRequest', 400, s3.copy_object, Bucket=BUCKET, Key=src, CopySource=source)
    s3.copy_object(Bucket=BUCKET, Key=src, CopySource=source, MetadataDirective='REPLACE',
                   Metadata={'touched': '1'}, ContentType='text/x-source')
    head = s3.head_object(Bucket=BUCKET, Key=src)
    eq(head['Metadata'], {'touched': '1'}, 'self-copy with REPLACE metadata')
    eq(s3.get_object(Bucket=BUCKET, Key=src)['Body'].read(), body, 'self-copied body')

    expect_error('NoSuchKey', 404, s3.copy_object, Bucket=BUCKET, Key='copies/none',
                 CopySource={'Bucket': BUCKET, 'Key': 'does/not/exist'})


@check_case
def list_objects_v1_delimiter():
    keys = ['v1/a.txt', 'v1/b/c.txt', 'v1/b/d.txt', 'v1/e/f.txt', 'v1/g.txt', 'v1x']
    for k in keys:
        s3.put_object(Bucket=BUCKET, Key=k, Body=k.encode())
    resp = s3.list_objects(Bucket=BUCKET, Prefix='v1/', Delimiter='/')
    eq([o['Key'] for o in resp.get('Contents', [])], ['v1/a.txt', 'v1/g.txt'], 'V1 Contents')
    eq([p['Prefix'] for p in resp.get('CommonPrefixes', [])], ['v1/b/', 'v1/e/'], 'V1 CommonPrefixes')
    eq(resp.get('IsTruncated'), False, 'V1 IsTruncated')
    eq(resp.get('Prefix'), 'v1/', 'V1 Prefix echo')
    eq(resp.get('Delimiter'), '/', 'V1 Delimiter echo')
    for o in resp.get('Contents', []):
        eq(o['Size'], len(o['Key']), f'{o["Key"]} Size')
        eq(o['ETag'], quoted_md5(o['Key'].encode()), f'{o["Key"]} ETag')
        check('ID' in o.get('Owner', {}), f'V1 Contents entry without Owner/ID: {o}')
    resp = s3.list_objects(Bucket=BUCKET, Prefix='v1', Delimiter='/')
    eq([p['Prefix'] for p in resp.get('CommonPrefixes', [])], ['v1/'], 'V1 CommonPrefixes for prefix "v1"')
    eq([o['Key'] for o in resp.get('Contents', [])], ['v1x'], 'V1 Contents for prefix "v1"')
    # Marker-based V1 pagination.
    seen, marker = [], ''
    while True:
        page = s3.list_objects(Bucket=BUCKET, Prefix='v1/', MaxKeys=2, Marker=marker)
        seen.extend(o['Key'] for o in page.get('Contents', []))
        if not page.get('IsTruncated'):
            break
        marker = page.get('NextMarker') or page['Contents'][-1]['Key']
    eq(seen, sorted(k for k in keys if k.startswith('v1/')), 'V1 pages with MaxKeys=2')


@check_case
def list_objects_v2_pagination():
    keys = [f'page/{i}' for i in range(7)]
    for k in keys:
        s3.put_object(Bucket=BUCKET, Key=k, Body=b'p')
    pages = list(s3.get_paginator('list_objects_v2').paginate(Bucket=BUCKET, Prefix='page/',
                                                             PaginationConfig={'PageSize': 2}))
    listed = [o['Key'] for p in pages for o in p.get('Contents', [])]
    eq(listed, keys, 'V2 paginated keys (each once, in order)')
    eq(len(pages), 4, 'number of V2 pages of 2 over 7 keys')
    for p in pages[:-1]:
        eq(p.get('IsTruncated'), True, 'IsTruncated on a non-final page')
        eq(p.get('KeyCount'), 2, 'KeyCount on a full page')
        check(p.get('NextContinuationToken'), 'NextContinuationToken on a truncated page')
    eq(pages[-1].get('IsTruncated'), False, 'IsTruncated on the last page')
    check('NextContinuationToken' not in pages[-1], 'NextContinuationToken on the last page')
    resp = s3.list_objects_v2(Bucket=BUCKET, Prefix='page/', StartAfter='page/4')
    eq([o['Key'] for o in resp.get('Contents', [])], ['page/5', 'page/6'], 'V2 StartAfter')


@check_case
def list_object_versions_unversioned():
    s3.put_object(Bucket=BUCKET, Key='versions/one', Body=b'1')
    resp = s3.list_object_versions(Bucket=BUCKET, Prefix='versions/')
    versions = resp.get('Versions', [])
    eq([v['Key'] for v in versions], ['versions/one'], 'ListObjectVersions keys')
    eq(versions[0].get('VersionId'), 'null', 'VersionId of an unversioned object')
    eq(versions[0].get('IsLatest'), True, 'IsLatest')
    eq(versions[0].get('ETag'), quoted_md5(b'1'), 'version ETag')
    eq(resp.get('DeleteMarkers', []), [], 'DeleteMarkers')


@check_case
def metadata_too_large():
    expect_error('MetadataTooLarge', 400, s3.put_object, Bucket=BUCKET, Key='meta/big', Body=b'x',
                 Metadata={'big': 'x' * 2100})
    expect_error('404', 404, s3.head_object, Bucket=BUCKET, Key='meta/big')
    # Just under the limit (2 KiB counts names and values) is fine.
    s3.put_object(Bucket=BUCKET, Key='meta/ok', Body=b'x', Metadata={'ok': 'y' * 1900})
    eq(s3.head_object(Bucket=BUCKET, Key='meta/ok')['Metadata'], {'ok': 'y' * 1900}, 'large metadata value')


# Keys that broke other servers' path handling, signing or listing encoding.
LONG_KEY = 'long/' + 'ü' * 509 + 'x'          # 1024 bytes in UTF-8 (515 characters)
TOO_LONG_KEY = 'long/' + 'ü' * 510           # 1025 bytes in UTF-8 (515 characters)
ODD_KEYS = ['a b', 'a+b', '100%.csv', 'a/../b', 'a//b', './x', '한글/ü.txt', '😀', 'key?with#chars',
            '~tilde', "!'()*", LONG_KEY]


@check_case
def odd_keys_round_trip():
    check(len(LONG_KEY.encode()) == 1024 and len(TOO_LONG_KEY.encode()) == 1025, 'test key lengths')
    b = derived_bucket('keys')
    s3.create_bucket(Bucket=b)
    failures = []
    for key in ODD_KEYS:
        body = f'body of {key}'.encode()
        copy_key = key[:-1] + 'y' if key == LONG_KEY else 'copy/' + key
        try:
            eq(s3.put_object(Bucket=b, Key=key, Body=body)['ETag'], quoted_md5(body), 'PutObject ETag')
            eq(s3.get_object(Bucket=b, Key=key)['Body'].read(), body, 'GetObject body')
            eq(s3.head_object(Bucket=b, Key=key)['ContentLength'], len(body), 'HeadObject ContentLength')
            listed = s3.list_objects_v2(Bucket=b, Prefix=key).get('Contents', [])
            eq([o['Key'] for o in listed], [key], 'ListObjectsV2 with Prefix=key')
            listed = s3.list_objects(Bucket=b, Prefix=key).get('Contents', [])
            eq([o['Key'] for o in listed], [key], 'ListObjects (V1) with Prefix=key')
            s3.copy_object(Bucket=b, Key=copy_key, CopySource={'Bucket': b, 'Key': key})
            eq(s3.get_object(Bucket=b, Key=copy_key)['Body'].read(), body, 'copied body')
        except Exception as e:  # keep going: report every key that fails
            failures.append(f'key {key!r} ({len(key.encode())} bytes): {type(e).__name__}: {e}')
    try:
        expected = sorted(ODD_KEYS + [k[:-1] + 'y' if k == LONG_KEY else 'copy/' + k
                                                   for k in ODD_KEYS], key=lambda k: k.encode())
        eq(list_all_keys(b), expected, 'full V2 listing (UTF-8 byte order)')
        v1 = s3.list_objects(Bucket=b).get('Contents', [])
        eq([o['Key'] for o in v1], expected, 'full V1 listing (UTF-8 byte order)')
    except Exception as e:
        failures.append(f'listing: {e}')
    for key in ODD_KEYS:
        copy_key = key[:-1] + 'y' if key == LONG_KEY else 'copy/' + key
        try:
            for k in (key, copy_key):
                eq(status_of(s3.delete_object(Bucket=b, Key=k)), 204, 'DeleteObject status')
                expect_error('404', 404, s3.head_object, Bucket=b, Key=k)
        except Exception as e:
            failures.append(f'delete {key!r}: {type(e).__name__}: {e}')
    try:
        eq(list_all_keys(b), [], 'keys left after deleting all')
        s3.delete_bucket(Bucket=b)
    except Exception as e:
        failures.append(f'cleanup: {e}')
    if failures:
        raise AssertionError('odd keys failed:\n  ' + '\n  '.join(failures))


@check_case
def key_too_long():
    expect_error('KeyTooLongError', 400, s3.put_object, Bucket=BUCKET, Key=TOO_LONG_KEY, Body=b'x')


@check_case
def missing_things():
    expect_error('NoSuchKey', 404, s3.get_object, Bucket=BUCKET, Key='no/such/key')
    expect_error('NoSuchBucket', 404, s3.get_object, Bucket=derived_bucket('absent'), Key='k')
    expect_error('NoSuchBucket', 404, s3.put_object, Bucket=derived_bucket('absent'), Key='k', Body=b'x')
    expect_error('NoSuchBucket', 404, s3.list_objects, Bucket=derived_bucket('absent'))
    expect_error('404', 404, s3.head_bucket, Bucket=derived_bucket('absent'))


def main():
    print(f'boto3 {boto3.__version__} / botocore {botocore.__version__} (python {sys.version.split()[0]})')
    print(f'endpoint {ENDPOINT}, bucket {BUCKET}')
    s3.create_bucket(Bucket=BUCKET)
    failed = []
    for fn in CHECKS:
        print(f'\n== {fn.__name__}', flush=True)
        try:
            fn()
            print('   ok', flush=True)
        except Exception:
            failed.append(fn.__name__)
            traceback.print_exc(file=sys.stdout)
            print('   FAILED', flush=True)
    try:
        print('\n== cleanup')
        empty_and_delete(BUCKET)
    except Exception:
        failed.append('cleanup (empty and delete the test bucket)')
        traceback.print_exc(file=sys.stdout)
    if failed:
        print(f'\nFAILED {len(failed)} of {len(CHECKS)} checks: {", ".join(failed)}')
        return 1
    print(f'\nOK: all {len(CHECKS)} checks passed')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        sys.exit(1)

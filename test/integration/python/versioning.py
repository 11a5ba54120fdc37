#!/usr/bin/env python3
"""Versioning as boto3 uses it: enabling it, versions of one key, delete markers, reads and copies by
VersionId, list_object_versions (paginator, keys botocore url-decodes), and the two bucket-emptying
paths of tools: the paginator with delete_objects in batches of 1000, and the resource's
bucket.object_versions.delete(), each over more than 1000 versions so batching really happens.
Environment: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET. Exit code = number of failed checks."""
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from s3checks import BUCKET, run_checks, s3

ODD = 'dir/odd key+é'


def enabled(bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={'Status': 'Enabled'})


def error_of(fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        return e.response.get('Error', {}).get('Code'), e.response['ResponseMetadata']['HTTPStatusCode'], e.response['ResponseMetadata']['HTTPHeaders']
    raise AssertionError(f'{fn.__name__} succeeded, an error was expected')


def versions_of_one_key():
    assert 'Status' not in s3.get_bucket_versioning(Bucket=BUCKET), 'never enabled: no Status'
    enabled(BUCKET)
    assert s3.get_bucket_versioning(Bucket=BUCKET)['Status'] == 'Enabled'
    ids = [s3.put_object(Bucket=BUCKET, Key='k', Body=f'body {i}'.encode())['VersionId'] for i in range(3)]
    assert len(set(ids)) == 3, ids
    for i, vid in enumerate(ids):
        got = s3.get_object(Bucket=BUCKET, Key='k', VersionId=vid)
        assert got['Body'].read() == f'body {i}'.encode()
        assert got['VersionId'] == vid
        assert s3.head_object(Bucket=BUCKET, Key='k', VersionId=vid)['ContentLength'] == len(f'body {i}')
    assert s3.get_object(Bucket=BUCKET, Key='k')['VersionId'] == ids[-1]
    listed = s3.list_object_versions(Bucket=BUCKET, Prefix='k')['Versions']
    assert [(v['VersionId'], v['IsLatest']) for v in listed] == [(ids[2], True), (ids[1], False), (ids[0], False)], listed
    code, status, _ = error_of(s3.get_object, Bucket=BUCKET, Key='k', VersionId='not-a-version-id')
    assert (code, status) == ('InvalidArgument', 400), (code, status)
    code, status, _ = error_of(s3.get_object, Bucket=BUCKET, Key='k', VersionId='0' * 32)
    assert (code, status) == ('NoSuchVersion', 404), (code, status)


def delete_marker_and_restore():
    enabled(BUCKET)
    v1 = s3.put_object(Bucket=BUCKET, Key='dm', Body=b'alive')['VersionId']
    d = s3.delete_object(Bucket=BUCKET, Key='dm')
    assert d['DeleteMarker'] is True and d['VersionId'] != v1, d
    code, status, headers = error_of(s3.get_object, Bucket=BUCKET, Key='dm')
    assert (code, status) == ('NoSuchKey', 404), (code, status)
    assert headers.get('x-amz-delete-marker') == 'true' and headers.get('x-amz-version-id') == d['VersionId'], headers
    code, status, _ = error_of(s3.head_object, Bucket=BUCKET, Key='dm', VersionId=d['VersionId'])
    assert status == 405, (code, status)
    markers = s3.list_object_versions(Bucket=BUCKET, Prefix='dm')['DeleteMarkers']
    assert [(m['VersionId'], m['IsLatest']) for m in markers] == [(d['VersionId'], True)], markers
    r = s3.delete_object(Bucket=BUCKET, Key='dm', VersionId=d['VersionId'])
    assert r['DeleteMarker'] is True and r['VersionId'] == d['VersionId'], r
    assert s3.get_object(Bucket=BUCKET, Key='dm')['Body'].read() == b'alive'


def copy_by_version_id():
    enabled(BUCKET)
    v1 = s3.put_object(Bucket=BUCKET, Key='src', Body=b'first')['VersionId']
    s3.put_object(Bucket=BUCKET, Key='src', Body=b'second')
    c = s3.copy_object(Bucket=BUCKET, Key='dst', CopySource={'Bucket': BUCKET, 'Key': 'src', 'VersionId': v1})
    assert c['CopySourceVersionId'] == v1, c
    assert s3.get_object(Bucket=BUCKET, Key='dst')['Body'].read() == b'first'


def listing_decodes_odd_keys():
    enabled(BUCKET)
    vids = [s3.put_object(Bucket=BUCKET, Key=ODD, Body=b'x')['VersionId'] for _ in range(2)]
    # botocore asks for encoding-type=url and decodes Key, Prefix, KeyMarker and NextKeyMarker.
    page = s3.list_object_versions(Bucket=BUCKET, Prefix='dir/odd ', MaxKeys=1)
    assert page['Prefix'] == 'dir/odd ', page['Prefix']
    assert [v['Key'] for v in page['Versions']] == [ODD]
    assert page['IsTruncated'] and page['NextKeyMarker'] == ODD and page['NextVersionIdMarker'] == vids[1], page
    rest = s3.list_object_versions(Bucket=BUCKET, Prefix='dir/odd ', KeyMarker=page['NextKeyMarker'], VersionIdMarker=page['NextVersionIdMarker'])
    assert [v['VersionId'] for v in rest['Versions']] == [vids[0]] and not rest['IsTruncated'], rest


def fill(bucket, keys, per_key):
    """keys × per_key versions, then a delete marker on every key: keys × (per_key + 1) entries."""
    s3.create_bucket(Bucket=bucket)
    enabled(bucket)
    names = [f'f/{i:04d}' for i in range(keys)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: [s3.put_object(Bucket=bucket, Key=n, Body=n.encode()) for _ in range(per_key)], names))
    for start in range(0, len(names), 1000):
        r = s3.delete_objects(Bucket=bucket, Delete={'Objects': [{'Key': n} for n in names[start:start + 1000]], 'Quiet': True})
        assert not r.get('Errors'), r.get('Errors')
    return keys * (per_key + 1)


def emptying_with_paginator_and_batches():
    bucket = BUCKET + '-empty'
    total = fill(bucket, 400, 3)  # 1600 entries: 1200 versions, 400 markers
    code, _, _ = error_of(s3.delete_bucket, Bucket=bucket)
    assert code == 'BucketNotEmpty', code
    entries = []
    pages = 0
    for page in s3.get_paginator('list_object_versions').paginate(Bucket=bucket):
        pages += 1
        entries += [{'Key': v['Key'], 'VersionId': v['VersionId']} for v in page.get('Versions', []) + page.get('DeleteMarkers', [])]
    assert pages == 2 and len(entries) == total, (pages, len(entries))
    assert len({(e['Key'], e['VersionId']) for e in entries}) == total, 'no entry listed twice'
    deleted = 0
    for start in range(0, len(entries), 1000):
        r = s3.delete_objects(Bucket=bucket, Delete={'Objects': entries[start:start + 1000]})
        assert not r.get('Errors'), r.get('Errors')[:3]
        deleted += len(r['Deleted'])
    assert deleted == total, deleted
    assert s3.list_object_versions(Bucket=bucket).get('Versions') is None
    s3.delete_bucket(Bucket=bucket)
    code, status, _ = error_of(s3.head_bucket, Bucket=bucket)
    assert status == 404, (code, status)


def emptying_with_resource_object_versions():
    bucket = BUCKET + '-res'
    total = fill(bucket, 300, 3)  # 1200 entries: two batches of delete_objects
    resource = boto3.resource('s3', endpoint_url=s3.meta.endpoint_url,
                              aws_access_key_id=s3._request_signer._credentials.access_key,
                              aws_secret_access_key=s3._request_signer._credentials.secret_key,
                              region_name='us-east-1',
                              config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
    b = resource.Bucket(bucket)
    assert sum(1 for _ in b.object_versions.all()) == total
    results = b.object_versions.delete()
    assert len(results) == 2, f'one delete_objects per page of 1000: {len(results)}'
    assert sum(len(r.get('Deleted', [])) for r in results) == total
    assert not any(r.get('Errors') for r in results)
    b.delete()
    code, status, _ = error_of(s3.head_bucket, Bucket=bucket)
    assert status == 404, (code, status)


run_checks([versions_of_one_key, delete_marker_and_restore, copy_by_version_id, listing_decodes_odd_keys,
            emptying_with_paginator_and_batches, emptying_with_resource_object_versions])

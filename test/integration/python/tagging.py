#!/usr/bin/env python3
"""Object and bucket tagging through boto3 (issue 11): put/get/delete object tagging, Tagging on
put_object / copy_object (TaggingDirective) / create_multipart_upload, TagCount on get_object,
bucket tagging with NoSuchTagSet, and S3's errors for bad tag sets. Environment: S3_ENDPOINT,
S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET. Exit code = number of failed checks."""
from botocore.exceptions import ClientError

from s3checks import BUCKET, exists, run_checks, s3


def tags(key, **kw):
    return s3.get_object_tagging(Bucket=BUCKET, Key=key, **kw)['TagSet']


def ts(*pairs):
    return [{'Key': k, 'Value': v} for k, v in pairs]


def error(fn, **kwargs):
    try:
        r = fn(**kwargs)
    except ClientError as e:
        return e.response['Error'].get('Code'), e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error'].get('Message')
    raise AssertionError(f'{fn.__name__}: expected an error, got {r!r}')


def object_tagging_round_trip():
    s3.put_object(Bucket=BUCKET, Key='obj', Body=b'o')
    assert tags('obj') == [], tags('obj')
    assert 'TagCount' not in s3.get_object(Bucket=BUCKET, Key='obj')
    want = ts(('ünï code', ' spaced value '), ('empty', ''))
    r = s3.put_object_tagging(Bucket=BUCKET, Key='obj', Tagging={'TagSet': want})
    assert r['ResponseMetadata']['HTTPStatusCode'] == 200
    assert tags('obj') == want, tags('obj')
    assert s3.get_object(Bucket=BUCKET, Key='obj')['TagCount'] == 2
    r = s3.delete_object_tagging(Bucket=BUCKET, Key='obj')
    assert r['ResponseMetadata']['HTTPStatusCode'] == 204
    assert tags('obj') == []
    assert exists('obj')


def tagging_on_writes():
    s3.put_object(Bucket=BUCKET, Key='put', Body=b'p', Tagging='a=1&b c=d+e')
    assert tags('put') == ts(('a', '1'), ('b c', 'd e')), tags('put')
    s3.copy_object(Bucket=BUCKET, Key='copy', CopySource={'Bucket': BUCKET, 'Key': 'put'})
    assert tags('copy') == tags('put')
    s3.copy_object(Bucket=BUCKET, Key='copy2', CopySource={'Bucket': BUCKET, 'Key': 'put'}, TaggingDirective='REPLACE', Tagging='x=y')
    assert tags('copy2') == ts(('x', 'y'))
    up = s3.create_multipart_upload(Bucket=BUCKET, Key='mp', Tagging='m=p')
    part = s3.upload_part(Bucket=BUCKET, Key='mp', UploadId=up['UploadId'], PartNumber=1, Body=b'part')
    s3.complete_multipart_upload(Bucket=BUCKET, Key='mp', UploadId=up['UploadId'],
                                 MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': part['ETag']}]})
    assert tags('mp') == ts(('m', 'p'))
    assert s3.get_object(Bucket=BUCKET, Key='mp')['TagCount'] == 1


def object_tagging_errors():
    s3.put_object(Bucket=BUCKET, Key='err', Body=b'e')
    eleven = ts(*[(f'k{i}', 'v') for i in range(11)])
    assert error(s3.put_object_tagging, Bucket=BUCKET, Key='err', Tagging={'TagSet': eleven}) == \
        ('BadRequest', 400, 'Object tags cannot be greater than 10')
    assert error(s3.put_object_tagging, Bucket=BUCKET, Key='err', Tagging={'TagSet': ts(('a', '1'), ('a', '2'))})[:2] == ('InvalidTag', 400)
    assert error(s3.put_object_tagging, Bucket=BUCKET, Key='err', Tagging={'TagSet': ts(('k' * 129, ''))})[:2] == ('InvalidTag', 400)
    assert error(s3.put_object_tagging, Bucket=BUCKET, Key='err', Tagging={'TagSet': ts(('aws:x', ''))})[:2] == ('InvalidTag', 400)
    assert error(s3.get_object_tagging, Bucket=BUCKET, Key='missing')[:2] == ('NoSuchKey', 404)
    assert error(s3.put_object, Bucket=BUCKET, Key='bad-header', Body=b'x', Tagging='a=1&a=2')[:2] == ('InvalidArgument', 400)
    assert not exists('bad-header')


def bucket_tagging():
    assert error(s3.get_bucket_tagging, Bucket=BUCKET) == ('NoSuchTagSet', 404, 'The TagSet does not exist')
    want = ts(('team', 'storage'), ('cost center', '42'))
    r = s3.put_bucket_tagging(Bucket=BUCKET, Tagging={'TagSet': want})
    assert r['ResponseMetadata']['HTTPStatusCode'] == 204
    assert s3.get_bucket_tagging(Bucket=BUCKET)['TagSet'] == want
    fifty_one = ts(*[(f'k{i}', 'v') for i in range(51)])
    assert error(s3.put_bucket_tagging, Bucket=BUCKET, Tagging={'TagSet': fifty_one})[:2] == ('BadRequest', 400)
    assert s3.delete_bucket_tagging(Bucket=BUCKET)['ResponseMetadata']['HTTPStatusCode'] == 204
    assert error(s3.get_bucket_tagging, Bucket=BUCKET)[:2] == ('NoSuchTagSet', 404)


def versioned_tags():
    b = BUCKET + '-v'
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={'Status': 'Enabled'})
    v1 = s3.put_object(Bucket=b, Key='k', Body=b'1', Tagging='rev=1')['VersionId']
    v2 = s3.put_object(Bucket=b, Key='k', Body=b'2', Tagging='rev=2')['VersionId']
    r = s3.get_object_tagging(Bucket=b, Key='k', VersionId=v1)
    assert (r['VersionId'], r['TagSet']) == (v1, ts(('rev', '1'))), r
    r = s3.put_object_tagging(Bucket=b, Key='k', VersionId=v1, Tagging={'TagSet': ts(('rev', 'one'))})
    assert r['VersionId'] == v1, r
    assert s3.get_object_tagging(Bucket=b, Key='k')['TagSet'] == ts(('rev', '2'))
    r = s3.delete_object_tagging(Bucket=b, Key='k', VersionId=v2)
    assert r['VersionId'] == v2, r
    assert s3.get_object_tagging(Bucket=b, Key='k', VersionId=v2)['TagSet'] == []
    assert s3.get_object_tagging(Bucket=b, Key='k', VersionId=v1)['TagSet'] == ts(('rev', 'one'))
    marker = s3.delete_object(Bucket=b, Key='k')['VersionId']
    assert error(s3.get_object_tagging, Bucket=b, Key='k')[:2] == ('NoSuchKey', 404)
    assert error(s3.get_object_tagging, Bucket=b, Key='k', VersionId=marker)[1] == 405
    assert error(s3.get_object_tagging, Bucket=b, Key='k', VersionId='A' * 32)[:2] == ('NoSuchVersion', 404)


run_checks([object_tagging_round_trip, tagging_on_writes, object_tagging_errors, bucket_tagging, versioned_tags])

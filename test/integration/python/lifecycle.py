#!/usr/bin/env python3
"""Lifecycle with boto3 against a server started with --lifecycle-day-seconds 2: configuration round
trip (generated ID, filters, actions), S3's validation errors, x-amz-expiration on put/get/head
(boto3's `Expiration`), an object under an expiring prefix gone within a bounded wait (never before
its announced date), and DeleteBucketLifecycle. Environment: S3_ENDPOINT, S3_ACCESS_KEY,
S3_SECRET_KEY, S3_BUCKET. Exit code = number of failed checks."""
import re
import time
from email.utils import parsedate_to_datetime

from botocore.exceptions import ClientError

from s3checks import BUCKET, exists, run_checks, s3

EXPIRATION = re.compile(r'^expiry-date="([^"]+)", rule-id="([^"]*)"$')


def error_of(fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        return e.response['Error'].get('Code'), e.response['Error'].get('Message'), e.response['ResponseMetadata']['HTTPStatusCode']
    raise AssertionError(f'{fn.__name__}: expected an error, the call succeeded')


def round_trip_and_delete():
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={'Rules': [
        {'ID': 'tmp', 'Status': 'Enabled', 'Filter': {'Prefix': 'tmp/'}, 'Expiration': {'Days': 1}},
        {'Status': 'Enabled', 'Filter': {'And': {'Prefix': 'v/', 'ObjectSizeLessThan': 100}},
         'NoncurrentVersionExpiration': {'NoncurrentDays': 3}},
        {'ID': 'mpu', 'Status': 'Disabled', 'Filter': {'Prefix': 'up/'}, 'AbortIncompleteMultipartUpload': {'DaysAfterInitiation': 2}},
    ]})
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)['Rules']
    assert len(rules) == 3, rules
    assert rules[0] == {'ID': 'tmp', 'Status': 'Enabled', 'Filter': {'Prefix': 'tmp/'}, 'Expiration': {'Days': 1}}, rules[0]
    assert rules[1]['ID'] and len(rules[1]['ID']) <= 255, rules[1]
    assert rules[1]['Filter'] == {'And': {'Prefix': 'v/', 'ObjectSizeLessThan': 100}}, rules[1]
    assert rules[2]['AbortIncompleteMultipartUpload'] == {'DaysAfterInitiation': 2}, rules[2]


def validation_errors():
    bad = [
        ({'ID': 'a', 'Status': 'Enabled', 'Filter': {}, 'Expiration': {'Days': 0}},
         ('InvalidArgument', "'Days' for Expiration action must be a positive integer", 400)),
        ({'ID': 'a', 'Status': 'Enabled', 'Filter': {}, 'Expiration': {'Date': '2030-01-01T12:00:00Z'}},
         ('InvalidArgument', "'Date' must be at midnight GMT", 400)),
        ({'ID': 'a', 'Status': 'Enabled', 'Filter': {}},
         ('InvalidRequest', 'At least one action needs to be specified in a rule', 400)),
    ]
    for rule, want in bad:
        got = error_of(s3.put_bucket_lifecycle_configuration, Bucket=BUCKET, LifecycleConfiguration={'Rules': [rule]})
        assert got == want, (rule, got)
    code, _, status = error_of(s3.put_bucket_lifecycle_configuration, Bucket=BUCKET, LifecycleConfiguration={'Rules': [
        {'ID': 'a', 'Status': 'Enabled', 'Filter': {}, 'Transitions': [{'Days': 30, 'StorageClass': 'GLACIER'}]}]})
    assert (code, status) == ('NotImplemented', 501), (code, status)


def expiration_header_and_expiry():
    started = time.time()
    put = s3.put_object(Bucket=BUCKET, Key='tmp/a', Body=b'x')
    m = EXPIRATION.match(put.get('Expiration', ''))
    assert m and m.group(2) == 'tmp', put.get('Expiration')
    due = parsedate_to_datetime(m.group(1)).timestamp()
    assert started + 2 <= due <= time.time() + 4, (started, due)
    assert s3.head_object(Bucket=BUCKET, Key='tmp/a').get('Expiration') == put['Expiration']
    get = s3.get_object(Bucket=BUCKET, Key='tmp/a')
    get['Body'].read()
    assert get.get('Expiration') == put['Expiration']
    s3.put_object(Bucket=BUCKET, Key='keep', Body=b'k')
    assert 'Expiration' not in s3.head_object(Bucket=BUCKET, Key='keep')
    limit = time.time() + 60
    while True:
        checked = time.time()
        if not exists('tmp/a'):
            break
        assert time.time() < limit, 'tmp/a not expired within 60 s'
        time.sleep(0.1)
    assert checked >= due, f'gone at {checked}, announced {due}'
    assert exists('keep')


def delete_configuration():
    s3.delete_bucket_lifecycle(Bucket=BUCKET)
    code, _, status = error_of(s3.get_bucket_lifecycle_configuration, Bucket=BUCKET)
    assert (code, status) == ('NoSuchLifecycleConfiguration', 404), (code, status)


run_checks([round_trip_and_delete, validation_errors, expiration_header_and_expiry, delete_configuration])

#!/usr/bin/env python3
"""A stored user's access key (S3_ACCESS_KEY/S3_SECRET_KEY) signs boto3's requests: they are
authenticated (not InvalidAccessKeyId) and refused AccessDenied, since no policy is attached to
the user; the same calls with an unknown key are InvalidAccessKeyId. Environment:
S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET (a bucket the root user made). Exit code =
number of failed checks."""
import os
import sys
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from s3checks import BUCKET, s3


def code_of(fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        return e.response.get('Error', {}).get('Code'), e.response['ResponseMetadata']['HTTPStatusCode']
    return None, 200


def user_key_is_authenticated_and_denied():
    for fn, kw in [(s3.list_buckets, {}), (s3.list_objects_v2, {'Bucket': BUCKET}),
                   (s3.put_object, {'Bucket': BUCKET, 'Key': 'k', 'Body': b'x'}),
                   (s3.get_object, {'Bucket': BUCKET, 'Key': 'k'})]:
        got = code_of(fn, **kw)
        if got != ('AccessDenied', 403):
            raise AssertionError(f'{fn.__name__}: expected AccessDenied (403), got {got}')


def unknown_key_is_invalid_access_key_id():
    other = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id='AKIANOSUCHKEY0000000',
                         aws_secret_access_key=os.environ['S3_SECRET_KEY'], region_name='us-east-1',
                         config=Config(signature_version='s3v4', s3={'addressing_style': 'path'},
                                       retries={'max_attempts': 1, 'mode': 'standard'}))
    got = code_of(other.list_buckets)
    if got != ('InvalidAccessKeyId', 403):
        raise AssertionError(f'expected InvalidAccessKeyId (403), got {got}')


failed = 0
for check in [user_key_is_authenticated_and_denied, unknown_key_is_invalid_access_key_id]:
    try:
        check()
        print(f'ok   {check.__name__}', flush=True)
    except Exception:
        failed += 1
        print(f'FAIL {check.__name__}', flush=True)
        traceback.print_exc()
sys.exit(failed)

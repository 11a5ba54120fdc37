"""Bucket policies and Block Public Access with boto3 as root (bucket-policies.test.ts): put/get/delete
of the policy (the document comes back as sent), the policy status, MalformedPolicy and
NoSuchBucketPolicy, the Block Public Access round trip, BlockPublicPolicy refusing a public policy, and
an unsigned client (botocore UNSIGNED) reading only while a public-read policy allows it. Prints one
ok line per check; exits with the number of failed checks."""
import json
import os

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from s3checks import BUCKET, run_checks, s3

anonymous = boto3.client(
    's3', endpoint_url=os.environ['S3_ENDPOINT'], region_name='us-east-1',
    config=Config(signature_version=UNSIGNED, s3={'addressing_style': 'path'},
                  retries={'max_attempts': 1, 'mode': 'standard'}),
)

PUBLIC_READ = json.dumps({
    'Version': '2012-10-17',
    'Statement': [{'Sid': 'PublicRead', 'Effect': 'Allow', 'Principal': '*',
                   'Action': 's3:GetObject', 'Resource': f'arn:aws:s3:::{BUCKET}/*'}],
}, indent=2)


def error_of(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as e:
        return e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error'].get('Message')
    raise AssertionError(f'{call.__name__} succeeded')


def no_policy_yet():
    assert error_of(s3.get_bucket_policy, Bucket=BUCKET)[:2] == ('NoSuchBucketPolicy', 404)
    assert error_of(s3.get_bucket_policy_status, Bucket=BUCKET)[:2] == ('NoSuchBucketPolicy', 404)


def private_bucket_refuses_anonymous():
    s3.put_object(Bucket=BUCKET, Key='hello.txt', Body=b'hello')
    code, status, message = error_of(anonymous.get_object, Bucket=BUCKET, Key='hello.txt')
    assert (code, status, message) == ('AccessDenied', 403, 'Access Denied'), (code, status, message)


def put_get_policy_as_sent():
    s3.put_bucket_policy(Bucket=BUCKET, Policy=PUBLIC_READ)
    got = s3.get_bucket_policy(Bucket=BUCKET)['Policy']
    assert got == PUBLIC_READ, got
    assert s3.get_bucket_policy_status(Bucket=BUCKET)['PolicyStatus']['IsPublic'] is True


def anonymous_reads_under_public_policy():
    assert anonymous.get_object(Bucket=BUCKET, Key='hello.txt')['Body'].read() == b'hello'
    assert anonymous.head_object(Bucket=BUCKET, Key='hello.txt')['ContentLength'] == 5
    # s3:ListBucket is not granted: the listing stays refused.
    assert error_of(anonymous.list_objects_v2, Bucket=BUCKET)[:2] == ('AccessDenied', 403)
    assert error_of(anonymous.put_object, Bucket=BUCKET, Key='x', Body=b'x')[:2] == ('AccessDenied', 403)


def malformed_policies():
    code, status, message = error_of(s3.put_bucket_policy, Bucket=BUCKET, Policy='{"Version": "2012-10-17", "Statement": [')
    assert (code, status) == ('MalformedPolicy', 400), (code, status)
    other = json.loads(PUBLIC_READ)
    other['Statement'][0]['Resource'] = 'arn:aws:s3:::some-other-bucket/*'
    code, status, message = error_of(s3.put_bucket_policy, Bucket=BUCKET, Policy=json.dumps(other))
    assert (code, status, message) == ('MalformedPolicy', 400, 'Policy has invalid resource'), (code, status, message)
    # The refused documents left the stored one alone.
    assert s3.get_bucket_policy(Bucket=BUCKET)['Policy'] == PUBLIC_READ


def public_access_block_round_trip():
    assert error_of(s3.get_public_access_block, Bucket=BUCKET)[:2] == ('NoSuchPublicAccessBlockConfiguration', 404)
    config = {'BlockPublicAcls': False, 'IgnorePublicAcls': True, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': False}
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=config)
    assert s3.get_public_access_block(Bucket=BUCKET)['PublicAccessBlockConfiguration'] == config


def block_public_policy_refuses():
    s3.delete_bucket_policy(Bucket=BUCKET)
    assert error_of(s3.put_bucket_policy, Bucket=BUCKET, Policy=PUBLIC_READ)[:2] == ('AccessDenied', 403)
    assert error_of(s3.get_bucket_policy, Bucket=BUCKET)[:2] == ('NoSuchBucketPolicy', 404)
    assert error_of(anonymous.get_object, Bucket=BUCKET, Key='hello.txt')[:2] == ('AccessDenied', 403)
    s3.delete_public_access_block(Bucket=BUCKET)
    assert error_of(s3.get_public_access_block, Bucket=BUCKET)[:2] == ('NoSuchPublicAccessBlockConfiguration', 404)


run_checks([no_policy_yet, private_bucket_refuses_anonymous, put_get_policy_as_sent, anonymous_reads_under_public_policy,
            malformed_policies, public_access_block_round_trip, block_public_policy_refuses])

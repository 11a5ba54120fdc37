"""Shared by the small boto3 check scripts (sse_unavailable.py, xml_text.py): the client from the
environment (S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET), an existence probe, and the
runner that runs each check, prints ok/FAIL and exits with the number of failed checks."""
import os
import sys
import traceback

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

BUCKET = os.environ['S3_BUCKET']
s3 = boto3.client(
    's3', endpoint_url=os.environ['S3_ENDPOINT'],
    aws_access_key_id=os.environ.get('S3_ACCESS_KEY', 'rustfsadmin'),
    aws_secret_access_key=os.environ.get('S3_SECRET_KEY', 'rustfssecret'),
    region_name='us-east-1',
    config=Config(signature_version='s3v4', s3={'addressing_style': 'path'},
                  retries={'max_attempts': 1, 'mode': 'standard'}),
)
print(f'boto3 {boto3.__version__} botocore {botocore.__version__}', flush=True)


def exists(key):
    try:
        s3.head_object(Bucket=BUCKET, Key=key)
        return True
    except ClientError as e:
        if e.response['ResponseMetadata']['HTTPStatusCode'] == 404:
            return False
        raise


def run_checks(checks):
    """Creates the bucket, runs every check, exits with the number of failures (at most 100)."""
    s3.create_bucket(Bucket=BUCKET)
    failed = 0
    for check in checks:
        try:
            check()
            print(f'ok   {check.__name__}', flush=True)
        except Exception:
            failed += 1
            print(f'FAIL {check.__name__}', flush=True)
            traceback.print_exc()
    sys.exit(min(failed, 100))

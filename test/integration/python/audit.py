"""The audit log's workload from boto3 (audit.test.ts), as the root user: put_object and get_object of
`from-boto3` in S3_BUCKET, then STS get_caller_identity. Exactly these three requests (no retries), so
the test knows the records they leave. Prints the client's version first."""
import os

import boto3
import botocore
from botocore.config import Config

ENDPOINT = os.environ['S3_ENDPOINT']
BUCKET = os.environ['S3_BUCKET']
CONFIG = Config(retries={'max_attempts': 1, 'mode': 'standard'})
print(f'boto3 {boto3.__version__} botocore {botocore.__version__}', flush=True)

creds = dict(aws_access_key_id=os.environ['S3_ACCESS_KEY'], aws_secret_access_key=os.environ['S3_SECRET_KEY'], region_name='us-east-1')
s3 = boto3.client('s3', endpoint_url=ENDPOINT, config=CONFIG.merge(Config(s3={'addressing_style': 'path'}, signature_version='s3v4')), **creds)
s3.put_object(Bucket=BUCKET, Key='from-boto3', Body=b'boto3')
assert s3.get_object(Bucket=BUCKET, Key='from-boto3')['Body'].read() == b'boto3'
sts = boto3.client('sts', endpoint_url=ENDPOINT, config=CONFIG, **creds)
assert sts.get_caller_identity()['Arn'] == 'arn:aws:iam::000000000000:root'
print('ok', flush=True)

"""A known workload for test/integration/metrics.test.ts: into the existing bucket S3_BUCKET, three
PUTs of 2000 bytes (keys KEY_PREFIX + boto-0..2), two GETs of them and one HEAD of a missing key (404), with no
retries, so the server's metrics can be compared with exact counts."""
import os

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

BUCKET = os.environ['S3_BUCKET']
PREFIX = os.environ.get('KEY_PREFIX', '')
s3 = boto3.client(
    's3', endpoint_url=os.environ['S3_ENDPOINT'],
    aws_access_key_id=os.environ['S3_ACCESS_KEY'],
    aws_secret_access_key=os.environ['S3_SECRET_KEY'],
    region_name='us-east-1',
    config=Config(signature_version='s3v4', s3={'addressing_style': 'path'},
                  retries={'max_attempts': 1, 'mode': 'standard'}),
)
print(f'boto3 {boto3.__version__} botocore {botocore.__version__}', flush=True)

for i in range(3):
    s3.put_object(Bucket=BUCKET, Key=f'{PREFIX}boto-{i}', Body=bytes([65 + i]) * 2000)
for i in range(2):
    body = s3.get_object(Bucket=BUCKET, Key=f'{PREFIX}boto-{i}')['Body'].read()
    assert body == bytes([65 + i]) * 2000, 'read back what was written'
try:
    s3.head_object(Bucket=BUCKET, Key=f'{PREFIX}boto-missing')
    raise SystemExit('HEAD of a missing key answered 200')
except ClientError as e:
    assert e.response['ResponseMetadata']['HTTPStatusCode'] == 404, e.response
print('ok', flush=True)

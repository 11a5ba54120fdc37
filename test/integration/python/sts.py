"""STS with boto3 (sts.test.ts): as the user S3_ACCESS_KEY, whom ROLE_ARN's trust policy names,
get_caller_identity, assume_role, then S3 with the temporary credentials (x-amz-security-token):
reading a.txt of S3_BUCKET works, a put is refused AccessDenied; get_caller_identity as the session
answers the assumed-role ARN; DurationSeconds 899 is a ValidationError. Prints one ok line per check
(the test asserts them); exits non-zero on the first failure."""
import os
import urllib.request

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ['S3_ENDPOINT']
BUCKET = os.environ['S3_BUCKET']
ROLE_ARN = os.environ['ROLE_ARN']
CONFIG = Config(retries={'max_attempts': 1, 'mode': 'standard'})
print(f'boto3 {boto3.__version__} botocore {botocore.__version__}', flush=True)


def client(service, **creds):
    extra = {'s3': {'addressing_style': 'path'}, 'signature_version': 's3v4'} if service == 's3' else {}
    return boto3.client(service, endpoint_url=ENDPOINT, region_name='us-east-1', config=CONFIG.merge(Config(**extra)), **creds)


sts = client('sts', aws_access_key_id=os.environ['S3_ACCESS_KEY'], aws_secret_access_key=os.environ['S3_SECRET_KEY'])
me = sts.get_caller_identity()
assert me['Arn'] == 'arn:aws:iam::000000000000:user/alice', me
assert me['Account'] == '000000000000', me
print('ok   get_caller_identity as the user', flush=True)

out = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName='py-session', DurationSeconds=900)
c = out['Credentials']
assert c['AccessKeyId'].startswith('ASIA'), c['AccessKeyId']
assert out['AssumedRoleUser']['Arn'] == 'arn:aws:sts::000000000000:assumed-role/reader/py-session', out['AssumedRoleUser']
assert out['AssumedRoleUser']['AssumedRoleId'].endswith(':py-session'), out['AssumedRoleUser']
print('ok   assume_role', flush=True)

temp = dict(aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])
s3 = client('s3', **temp)
assert s3.get_object(Bucket=BUCKET, Key='a.txt')['Body'].read() == b'a.txt'
print('ok   read with the session', flush=True)
try:
    s3.put_object(Bucket=BUCKET, Key='from-session', Body=b'x')
    raise AssertionError('put_object was allowed')
except ClientError as e:
    assert (e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']) == ('AccessDenied', 403), e.response
print('ok   put refused AccessDenied', flush=True)
url = s3.generate_presigned_url('get_object', Params={'Bucket': BUCKET, 'Key': 'a.txt'}, ExpiresIn=300)
assert 'X-Amz-Security-Token' in url, url
with urllib.request.urlopen(url) as res:
    assert res.read() == b'a.txt'
print('ok   presigned URL with the token', flush=True)

who = client('sts', **temp).get_caller_identity()
assert who['Arn'] == 'arn:aws:sts::000000000000:assumed-role/reader/py-session', who
print('ok   get_caller_identity as the session', flush=True)

# boto3 checks the bound itself unless told not to: the server's answer is what is tested.
unchecked = boto3.client('sts', endpoint_url=ENDPOINT, region_name='us-east-1', aws_access_key_id=os.environ['S3_ACCESS_KEY'],
                         aws_secret_access_key=os.environ['S3_SECRET_KEY'], config=CONFIG.merge(Config(parameter_validation=False)))
try:
    unchecked.assume_role(RoleArn=ROLE_ARN, RoleSessionName='py-session', DurationSeconds=899)
    raise AssertionError('DurationSeconds 899 was accepted')
except ClientError as e:
    assert (e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']) == ('ValidationError', 400), e.response
print('ok   DurationSeconds 899 ValidationError', flush=True)

"""As a user whose only policy is the canned readonly (iam-policies.test.ts): reading an object of the
existing bucket S3_BUCKET works, a put is refused with AccessDenied (403). Prints one ok line per check
(the test asserts them); exits non-zero on the first failure."""
from botocore.exceptions import ClientError

from s3checks import BUCKET, s3

body = s3.get_object(Bucket=BUCKET, Key='a.txt')['Body'].read()
assert body == b'a.txt', body
print('ok   read a.txt', flush=True)
try:
    s3.put_object(Bucket=BUCKET, Key='from-python', Body=b'x')
    raise AssertionError('put_object was allowed')
except ClientError as e:
    code = e.response['Error']['Code']
    status = e.response['ResponseMetadata']['HTTPStatusCode']
    assert (code, status) == ('AccessDenied', 403), (code, status)
print('ok   put refused AccessDenied', flush=True)

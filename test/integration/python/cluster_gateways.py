"""Gateways on one PostgreSQL and one data directory (cluster-gateways.test.ts), from boto3: every write
through one gateway (S3_ENDPOINT), every read through the others (S3_ENDPOINT_B, S3_ENDPOINT_C) at once:
put then get/head/list; an overwrite seen whole; a delete seen; a conditional create refused on another
gateway (412); If-Match with a stale ETag refused on another gateway; a multipart upload begun on one,
continued on the next and completed on the third; the second user (S3_USER_KEY/S3_USER_SECRET, policy
readwrite) reads through B what root wrote through A, and an unsigned client is refused. Prints the
client's version first."""
import hashlib
import os

import boto3
import botocore
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

BUCKET = os.environ['S3_BUCKET']
CONFIG = Config(retries={'max_attempts': 1, 'mode': 'standard'}, s3={'addressing_style': 'path'}, signature_version='s3v4')
print(f'boto3 {boto3.__version__} botocore {botocore.__version__}', flush=True)


def client(endpoint, key=None, secret=None):
    return boto3.client(
        's3',
        endpoint_url=endpoint,
        config=CONFIG,
        aws_access_key_id=key or os.environ['S3_ACCESS_KEY'],
        aws_secret_access_key=secret or os.environ['S3_SECRET_KEY'],
        region_name='us-east-1',
    )


a = client(os.environ['S3_ENDPOINT'])
b = client(os.environ['S3_ENDPOINT_B'])
c = client(os.environ['S3_ENDPOINT_C'])
prefix = f'py-{os.getpid()}/'


def code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']
    return None


# Read-, list- and head-after-write across gateways.
for i, (w, r) in enumerate([(a, b), (b, c), (c, a)]):
    key = f'{prefix}k{i}'
    body = os.urandom(1000 + i)
    etag = w.put_object(Bucket=BUCKET, Key=key, Body=body)['ETag']
    assert r.get_object(Bucket=BUCKET, Key=key)['Body'].read() == body
    assert r.head_object(Bucket=BUCKET, Key=key)['ETag'] == etag
    listed = [o['Key'] for o in r.list_objects_v2(Bucket=BUCKET, Prefix=prefix)['Contents']]
    assert key in listed, listed
    # Overwrite on the reader's side, read back on the writer's.
    body2 = os.urandom(500)
    r.put_object(Bucket=BUCKET, Key=key, Body=body2)
    assert w.get_object(Bucket=BUCKET, Key=key)['Body'].read() == body2
    # Delete on one, gone on the other.
    w.delete_object(Bucket=BUCKET, Key=key)
    assert code(r.head_object, Bucket=BUCKET, Key=key) == ('404', 404)

# Conditional writes across gateways. Debian's botocore predates PutObject's IfNoneMatch/IfMatch
# parameters: the headers are added (and signed) by an event handler, the same on either boto3.
def put_if(cl, key, body, header, value):
    def add(request, **_):
        request.headers[header] = value

    cl.meta.events.register_first('before-sign.s3.PutObject', add, unique_id='cluster-cond')
    try:
        return cl.put_object(Bucket=BUCKET, Key=key, Body=body)
    finally:
        cl.meta.events.unregister('before-sign.s3.PutObject', unique_id='cluster-cond')


def refused_if(cl, key, body, header, value):
    try:
        put_if(cl, key, body, header, value)
    except ClientError as e:
        return e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']
    return None


key = f'{prefix}cond'
first = put_if(a, key, b'one', 'If-None-Match', '*')['ETag']
assert refused_if(b, key, b'two', 'If-None-Match', '*') == ('PreconditionFailed', 412)
second = put_if(c, key, b'three', 'If-Match', first)['ETag']
assert refused_if(b, key, b'four', 'If-Match', first) == ('PreconditionFailed', 412)
assert a.get_object(Bucket=BUCKET, Key=key)['Body'].read() == b'three'
put_if(b, key, b'five', 'If-Match', second)
assert c.get_object(Bucket=BUCKET, Key=key)['Body'].read() == b'five'

# Multipart: created on A, part 1 on B, part 2 on C, listed on A, completed on A, read on B.
key = f'{prefix}mp'
p1, p2 = os.urandom(5 * 1024 * 1024), os.urandom(1234)
up = a.create_multipart_upload(Bucket=BUCKET, Key=key)['UploadId']
e1 = b.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=1, Body=p1)['ETag']
e2 = c.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=2, Body=p2)['ETag']
assert [p['PartNumber'] for p in a.list_parts(Bucket=BUCKET, Key=key, UploadId=up)['Parts']] == [1, 2]
a.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up, MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': e1}, {'PartNumber': 2, 'ETag': e2}]})
got = b.get_object(Bucket=BUCKET, Key=key)['Body'].read()
assert hashlib.md5(got).digest() == hashlib.md5(p1 + p2).digest()
assert code(c.list_parts, Bucket=BUCKET, Key=key, UploadId=up)[0] == 'NoSuchUpload'

# The second user reads through B what root wrote through A; an unsigned client is refused on C.
user = client(os.environ['S3_ENDPOINT_B'], os.environ['S3_USER_KEY'], os.environ['S3_USER_SECRET'])
a.put_object(Bucket=BUCKET, Key=f'{prefix}shared', Body=b'for the user')
assert user.get_object(Bucket=BUCKET, Key=f'{prefix}shared')['Body'].read() == b'for the user'
anon = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT_C'], config=CONFIG.merge(Config(signature_version=UNSIGNED)), region_name='us-east-1')
assert code(anon.get_object, Bucket=BUCKET, Key=f'{prefix}shared') == ('AccessDenied', 403)
print('ok', flush=True)

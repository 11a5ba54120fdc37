#!/usr/bin/env python3
"""XML request bodies are read byte for byte (issue 9): DeleteObjects with keys that start or end
with spaces, tabs and newlines, or hold '&', '<', '>'; a key of one space; CompleteMultipartUpload
with an ETag wrapped in whitespace; a CORS rule ID with spaces kept exactly. Decoy objects whose
names are the trimmed keys must survive. Environment: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY,
S3_BUCKET. Exit code = number of failed checks; works with boto3 1.26 (Debian) and the newest."""
from botocore.exceptions import ClientError

from s3checks import BUCKET, exists, run_checks, s3


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f'{what}: expected {expected!r}, got {actual!r}')


# Keys botocore writes into the XML as they are (whitespace) or escaped ('&', '<', '>').
ODD_KEYS = [' a', 'a ', ' ', '  ', '\t', 'tab\t', '\ttab', '\nnl', 'nl\n', ' both ', ' \t\n mixed \n\t ',
            '&', 'a&b', '<lt', 'gt>', '&amp;', '&lt;x&gt;', ' & ']
DECOYS = ['a', 'tab', 'nl', 'both', 'mixed', 'lt', 'gt', 'x']


def delete_objects_keeps_every_byte():
    for k in ODD_KEYS + DECOYS:
        s3.put_object(Bucket=BUCKET, Key=k, Body=k.encode())
    r = s3.delete_objects(Bucket=BUCKET, Delete={'Objects': [{'Key': k} for k in ODD_KEYS]})
    eq(r.get('Errors', []), [], 'per-key errors')
    eq(sorted(d['Key'] for d in r['Deleted']), sorted(ODD_KEYS), 'DeleteResult keys (byte for byte)')
    for k in ODD_KEYS:
        eq(exists(k), False, f'{k!r} deleted')
    for k in DECOYS:
        eq(exists(k), True, f'decoy {k!r} untouched')
        s3.delete_object(Bucket=BUCKET, Key=k)


def delete_objects_key_of_one_space_quiet():
    s3.put_object(Bucket=BUCKET, Key=' ', Body=b'x')
    r = s3.delete_objects(Bucket=BUCKET, Delete={'Objects': [{'Key': ' '}], 'Quiet': True})
    eq(r.get('Errors', []), [], 'errors')
    eq(r.get('Deleted', []), [], 'quiet: no Deleted entries')
    eq(exists(' '), False, "' ' deleted")


def complete_multipart_etag_with_whitespace():
    key = ' mp key '
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=key)['UploadId']
    etag = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=1, Body=b'part one')['ETag']
    r = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up, MultipartUpload={
        'Parts': [{'PartNumber': 1, 'ETag': f' \n {etag} \t'}]})
    eq(r['Key'], key, 'completed key')
    eq(s3.get_object(Bucket=BUCKET, Key=key)['Body'].read(), b'part one', 'body')
    eq(exists('mp key'), False, 'trimmed key not created')


def cors_rule_id_kept_exactly():
    rule_id = '  rule\twith spaces  '
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={'CORSRules': [{
        'ID': rule_id, 'AllowedMethods': ['GET'], 'AllowedOrigins': ['https://example.com'], 'MaxAgeSeconds': 30}]})
    got = s3.get_bucket_cors(Bucket=BUCKET)['CORSRules'][0]
    eq(got['ID'], rule_id, 'CORS rule ID')
    eq(got['MaxAgeSeconds'], 30, 'MaxAgeSeconds')
    s3.delete_bucket_cors(Bucket=BUCKET)


CHECKS = [delete_objects_keeps_every_byte, delete_objects_key_of_one_space_quiet,
          complete_multipart_etag_with_whitespace, cors_rule_id_kept_exactly]

if __name__ == '__main__':
    run_checks(CHECKS)

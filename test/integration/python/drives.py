#!/usr/bin/env python3
"""boto3 against a server on several drives (an erasure set, docs/drives.md): objects above the
inline limit (erasure-coded) written, read back byte-exact, by range, listed, copied, uploaded in
parts (boto3's managed transfer), with the REDUCED_REDUNDANCY storage class, and deleted.
Environment as s3checks.py; exits with the number of failed checks."""
import hashlib
import io
import os

from boto3.s3.transfer import TransferConfig
from s3checks import BUCKET, run_checks, s3, exists


def blob(n, seed):
    out = bytearray()
    h = hashlib.sha256(seed.encode()).digest()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h
    return bytes(out[:n])


BIG = blob(3 * 1024 * 1024 + 17, 'big')
PARTS = blob(11 * 1024 * 1024 + 5, 'parts')


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f'{what}: expected {expected!r}, got {actual!r}')


def put_get_range_list():
    s3.put_object(Bucket=BUCKET, Key='big.bin', Body=BIG)
    got = s3.get_object(Bucket=BUCKET, Key='big.bin')['Body'].read()
    eq(hashlib.sha256(got).hexdigest(), hashlib.sha256(BIG).hexdigest(), 'GET bytes')
    r = s3.get_object(Bucket=BUCKET, Key='big.bin', Range='bytes=1048570-2097160')
    eq(r['Body'].read(), BIG[1048570:2097161], 'range across a block boundary')
    eq(r['ContentRange'], f'bytes 1048570-2097160/{len(BIG)}', 'Content-Range')
    keys = [o['Key'] for o in s3.list_objects_v2(Bucket=BUCKET).get('Contents', [])]
    if 'big.bin' not in keys:
        raise AssertionError(f'big.bin not listed: {keys}')


def copy_object():
    s3.copy_object(Bucket=BUCKET, Key='copy.bin', CopySource={'Bucket': BUCKET, 'Key': 'big.bin'})
    eq(s3.get_object(Bucket=BUCKET, Key='copy.bin')['Body'].read(), BIG, 'copied bytes')


def multipart_transfer():
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=2)
    s3.upload_fileobj(io.BytesIO(PARTS), BUCKET, 'parts.bin', Config=cfg)
    head = s3.head_object(Bucket=BUCKET, Key='parts.bin')
    eq(head['ContentLength'], len(PARTS), 'multipart length')
    if not head['ETag'].endswith('-3"'):
        raise AssertionError(f'expected a 3-part ETag, got {head["ETag"]}')
    buf = io.BytesIO()
    s3.download_fileobj(BUCKET, 'parts.bin', buf)
    eq(hashlib.sha256(buf.getvalue()).hexdigest(), hashlib.sha256(PARTS).hexdigest(), 'multipart bytes')


def reduced_redundancy():
    s3.put_object(Bucket=BUCKET, Key='rrs.bin', Body=BIG, StorageClass='REDUCED_REDUNDANCY')
    r = s3.get_object(Bucket=BUCKET, Key='rrs.bin')
    eq(r.get('StorageClass'), 'REDUCED_REDUNDANCY', 'storage class')
    eq(r['Body'].read(), BIG, 'RRS bytes')


def delete_objects():
    for k in ('big.bin', 'copy.bin', 'parts.bin', 'rrs.bin'):
        s3.delete_object(Bucket=BUCKET, Key=k)
        if exists(k):
            raise AssertionError(f'{k} still there after DELETE')


run_checks([put_get_range_list, copy_object, multipart_transfer, reduced_redundancy, delete_objects])

// Bucket naming rules of S3 general purpose buckets
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
import { S3Error } from './errors.js';

const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'Bucket names must be between 3 and 63 characters long.';
  if (!/^[a-z0-9.-]+$/.test(name)) return 'Bucket names can consist only of lowercase letters, numbers, dots (.), and hyphens (-).';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'Bucket names must begin and end with a letter or number.';
  if (name.includes('..')) return 'Bucket names must not contain two adjacent periods.';
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return 'Bucket names must not be formatted as an IP address.';
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) return 'Bucket names must not start with a reserved prefix.';
  if (RESERVED_SUFFIXES.some((s) => name.endsWith(s))) return 'Bucket names must not end with a reserved suffix.';
  return undefined;
}

export function assertValidBucketName(name: string): void {
  const problem = bucketNameProblem(name);
  if (problem) throw new S3Error('InvalidBucketName', problem, { BucketName: name });
}

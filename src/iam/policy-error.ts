// The error value of a malformed policy document: S3's `MalformedPolicy` (IAM's `MalformedPolicyDocument`)
// with AWS's reason text, e.g. "Policy has invalid action". Thrown inside the parser, returned by parsePolicy.

export class PolicyError extends Error {
  /** The S3 error code the wiring answers with (400). IAM's API calls the same thing MalformedPolicyDocument. */
  readonly code = 'MalformedPolicy' as const;
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'PolicyError';
  }
}

// An audit record: the access line's facts under the record's names, the principal as kind / access
// key id / user / ARN, and nothing secret even when the principal carries it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../iam/principal.js';
import { auditLine, factsOfAccess } from './record.js';

const started = Date.UTC(2026, 11, 3, 12, 0, 0);

describe('audit record', () => {
  it("an S3 access line + a user principal → the record's fields", () => {
    const user: Principal = { accessKeyId: 'AKIAUSER', userId: 'u-1', kind: 'user', userName: 'alice', keyPolicy: '{"Statement":[]}' };
    const facts = factsOfAccess(
      's3',
      {
        reqId: 'R1',
        op: 'PutObject',
        method: 'PUT',
        bucket: 'b',
        key: 'k',
        status: 403,
        s3Code: 'AccessDenied',
        bytesIn: 5,
        bytesOut: '243',
        ms: 7,
        remoteAddress: '127.0.0.1',
        userAgent: 'ua',
        denied: { action: 's3:PutObject' },
      },
      { startedAt: started, principal: user, versionId: 'v1' },
    );
    assert.deepEqual(JSON.parse(auditLine(facts)), {
      time: '2026-12-03T12:00:00.000Z',
      requestId: 'R1',
      api: 's3',
      operation: 'PutObject',
      method: 'PUT',
      principal: { kind: 'user', accessKey: 'AKIAUSER', user: 'alice', arn: 'arn:aws:iam::000000000000:user/alice' },
      sourceIp: '127.0.0.1',
      userAgent: 'ua',
      bucket: 'b',
      key: 'k',
      versionId: 'v1',
      status: 403,
      errorCode: 'AccessDenied',
      denied: { action: 's3:PutObject' },
      bytesIn: 5,
      bytesOut: 243,
      durationMs: 7,
    });
    assert.ok(auditLine(facts).endsWith('}\n'));
    assert.ok(!auditLine(facts).includes('Statement'), 'the key policy is not recorded');
  });

  it('root, an STS session, anonymous, and credentials that failed to authenticate', () => {
    const rec = (principal: Principal | undefined, claimed?: string) =>
      JSON.parse(
        auditLine(
          factsOfAccess(
            'admin',
            { reqId: 'x', op: 'admin:ListUsers', status: 200, ms: 1, adminCode: undefined },
            { startedAt: started, principal, claimedAccessKey: claimed },
          ),
        ),
      ).principal;
    assert.deepEqual(rec({ accessKeyId: 'ROOTKEY', userId: 'root', kind: 'root' }), {
      kind: 'root',
      accessKey: 'ROOTKEY',
      arn: 'arn:aws:iam::000000000000:root',
    });
    const session: Principal = {
      accessKeyId: 'ASIATEMP',
      userId: 'r',
      kind: 'user',
      session: { roleName: 'reader', roleId: 'AROA1', sessionName: 's1', expires: 1 },
    };
    assert.deepEqual(rec(session), {
      kind: 'user',
      accessKey: 'ASIATEMP',
      role: 'reader',
      session: 's1',
      arn: 'arn:aws:sts::000000000000:assumed-role/reader/s1',
    });
    assert.deepEqual(rec({ accessKeyId: '', userId: 'anonymous', kind: 'anonymous' }), { kind: 'anonymous' });
    assert.deepEqual(rec(undefined, 'AKIAWRONG'), { kind: 'unauthenticated', accessKey: 'AKIAWRONG' });
    assert.deepEqual(rec(undefined), { kind: 'unauthenticated' });
  });
});

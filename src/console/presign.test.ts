// presignUrl (presign.ts): what it makes, Strata's own SigV4 verifier accepts (and refuses once a
// byte changes, or once expired); keys with spaces and non-ASCII characters; an STS token carried.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifySigV4Query } from '../s3/auth/sigv4.js';
import { presignUrl } from './presign.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const keys = { accessKeyId: 'AKIATEST', secretKey: 'test-secret' };

function verify(url: string, now: number, secret = keys.secretKey) {
  const u = new URL(url);
  const rawQuery = url.slice(url.indexOf('?') + 1);
  return verifySigV4Query(
    { method: 'GET', rawPath: url.slice(u.origin.length, url.indexOf('?')), rawQuery, headers: { host: [u.host] } },
    (id) => (id === keys.accessKeyId ? { accessKey: id, secretKey: secret } : undefined),
    { region: 'us-east-1', now },
  );
}

describe('presignUrl', () => {
  it('is accepted by the server verifier until it expires; any change breaks it', () => {
    for (const key of ['plain.txt', 'a folder/with spaces & signs+=.txt', 'ünï/ç😀.bin']) {
      const url = presignUrl({ baseUrl: 'http://127.0.0.1:9000', method: 'GET', bucket: 'bkt', key, region: 'us-east-1', keys, expiresSeconds: 60, now: NOW });
      assert.equal(verify(url, NOW + 1000).accessKey, 'AKIATEST', key);
      assert.throws(() => verify(url, NOW + 61_000), /expired/);
      assert.throws(() => verify(url, NOW, 'other-secret'));
      assert.throws(() => verify(url.replace('bkt', 'bku'), NOW));
    }
  });

  it('signs extra query parameters (versionId) and carries an STS token', () => {
    const url = presignUrl({
      baseUrl: 'https://s3.example:8443',
      method: 'GET',
      bucket: 'bkt',
      key: 'k',
      query: { versionId: 'v1' },
      region: 'us-east-1',
      keys: { ...keys, sessionToken: 'tok/with+chars=' },
      expiresSeconds: 5,
      now: NOW,
    });
    const u = new URL(url);
    assert.equal(u.searchParams.get('versionId'), 'v1');
    assert.equal(u.searchParams.get('X-Amz-Security-Token'), 'tok/with+chars=');
    assert.equal(verify(url, NOW).accessKey, 'AKIATEST');
    assert.throws(() => verify(url.replace('versionId=v1', 'versionId=v2'), NOW));
  });
});

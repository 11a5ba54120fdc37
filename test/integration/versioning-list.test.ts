// ListObjectVersions conformance through aws-sdk-js v3 against a real Strata process: the order of
// versions and delete markers (interleaved, newest first per key), IsLatest, prefix and delimiter,
// key-marker + version-id-marker (also 'null' and an unknown id), NextKeyMarker/NextVersionIdMarker
// (also a page that ends at a common prefix), max-keys 0/1/1000/over 1000, encoding-type=url, and the
// refusals (version-id-marker without key-marker, a malformed version-id-marker).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandInput,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { newBucketName } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const ODD = 'z key+é';

describe('ListObjectVersions conformance (aws-sdk-js)', () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('verlist');
  /** Every entry in the order S3 lists them: key ascending, newest first; 'M' marks a delete marker. */
  const expected: { key: string; id: string; latest: boolean; marker: boolean }[] = [];

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const put = async (key: string) => (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))).VersionId ?? 'null';
    await put('b'); // the null version, written before versioning
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const a1 = await put('a');
    const a2 = await put('a');
    const a3 = await put('a');
    const dm = (await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a' }))).VersionId!;
    const b2 = await put('b');
    const x = await put('dir/x');
    const y = await put('dir/y');
    const z1 = await put(ODD);
    const z2 = await put(ODD);
    expected.push(
      { key: 'a', id: dm, latest: true, marker: true },
      { key: 'a', id: a3, latest: false, marker: false },
      { key: 'a', id: a2, latest: false, marker: false },
      { key: 'a', id: a1, latest: false, marker: false },
      { key: 'b', id: b2, latest: true, marker: false },
      { key: 'b', id: 'null', latest: false, marker: false },
      { key: 'dir/x', id: x, latest: true, marker: false },
      { key: 'dir/y', id: y, latest: true, marker: false },
      { key: ODD, id: z2, latest: true, marker: false },
      { key: ODD, id: z1, latest: false, marker: false },
    );
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  const list = (input: Omit<ListObjectVersionsCommandInput, 'Bucket'>) => s3.send(new ListObjectVersionsCommand({ Bucket: bucket, ...input }));
  /** A page's entries; with MaxKeys 1 the page has at most one, so the order between the lists is known. */
  const entries = (page: ListObjectVersionsCommandOutput) => [
    ...(page.DeleteMarkers ?? []).map((m) => ({ key: m.Key!, id: m.VersionId!, latest: m.IsLatest!, marker: true })),
    ...(page.Versions ?? []).map((v) => ({ key: v.Key!, id: v.VersionId!, latest: v.IsLatest!, marker: false })),
  ];

  it('ListObjectVersions › one page → every version and marker with IsLatest, markers under DeleteMarkers', async () => {
    const page = await list({});
    assert.equal(page.IsTruncated, false);
    assert.equal(page.MaxKeys, 1000);
    assert.deepEqual(
      page.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]),
      expected.filter((e) => !e.marker).map((e) => [e.key, e.id, e.latest]),
    );
    assert.deepEqual(
      page.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest]),
      [['a', expected[0]!.id, true]],
    );
    assert.equal(page.NextKeyMarker, undefined);
    assert.equal(page.NextVersionIdMarker, undefined);
  });

  it('ListObjectVersions › max-keys 1 paging with NextKeyMarker/NextVersionIdMarker → each entry once, markers interleaved in order', async () => {
    const seen: typeof expected = [];
    let km: string | undefined;
    let vm: string | undefined;
    for (let i = 0; i < 50; i++) {
      const page = await list({ MaxKeys: 1, KeyMarker: km, VersionIdMarker: vm });
      const got = entries(page);
      assert.equal(got.length, 1, `page ${i}`);
      seen.push(got[0]!);
      if (!page.IsTruncated) {
        assert.equal(page.NextKeyMarker, undefined);
        break;
      }
      assert.deepEqual([page.NextKeyMarker, page.NextVersionIdMarker], [got[0]!.key, got[0]!.id], 'the markers are the last entry');
      km = page.NextKeyMarker;
      vm = page.NextVersionIdMarker;
    }
    assert.deepEqual(seen, expected);
  });

  it('ListObjectVersions › delimiter: CommonPrefixes count toward max-keys; a page ending at a prefix → NextKeyMarker is the prefix, no NextVersionIdMarker', async () => {
    const all = await list({ Delimiter: '/' });
    assert.deepEqual(
      all.CommonPrefixes?.map((p) => p.Prefix),
      ['dir/'],
    );
    assert.deepEqual(
      all.Versions?.map((v) => v.Key),
      ['a', 'a', 'a', 'b', 'b', ODD, ODD],
    );
    // a ×4 (marker included) + b ×2 + dir/ = 7 entries.
    const first = await list({ Delimiter: '/', MaxKeys: 7 });
    assert.equal(first.IsTruncated, true);
    assert.deepEqual(
      first.CommonPrefixes?.map((p) => p.Prefix),
      ['dir/'],
    );
    assert.equal(first.NextKeyMarker, 'dir/');
    assert.equal(first.NextVersionIdMarker, undefined);
    const second = await list({ Delimiter: '/', KeyMarker: first.NextKeyMarker });
    assert.equal(second.IsTruncated, false);
    assert.equal(second.CommonPrefixes, undefined, 'the prefix is not repeated');
    assert.deepEqual(
      second.Versions?.map((v) => v.Key),
      [ODD, ODD],
    );
    const prefixed = await list({ Prefix: 'dir/', Delimiter: '/' });
    assert.deepEqual(
      prefixed.Versions?.map((v) => v.Key),
      ['dir/x', 'dir/y'],
    );
    assert.equal(prefixed.Prefix, 'dir/');
  });

  it('ListObjectVersions › key-marker with version-id-marker (an id, null, unknown) → resumes after that version', async () => {
    const afterA2 = entries(await list({ KeyMarker: 'a', VersionIdMarker: expected[2]!.id, MaxKeys: 2 }));
    assert.deepEqual(afterA2, expected.slice(3, 5));
    const afterNull = await list({ KeyMarker: 'b', VersionIdMarker: 'null', MaxKeys: 1 });
    assert.deepEqual(entries(afterNull), [expected[6]]);
    assert.equal(afterNull.VersionIdMarker, 'null');
    const keyOnly = await list({ KeyMarker: 'a', MaxKeys: 1 });
    assert.deepEqual(entries(keyOnly), [expected[4]], 'a key-marker alone skips every version of that key');
    const unknown = await list({ KeyMarker: 'a', VersionIdMarker: '0'.repeat(32), MaxKeys: 1 });
    assert.deepEqual(entries(unknown), [expected[4]], 'a version id the key does not have: from the next key');
  });

  it('ListObjectVersions › version-id-marker without key-marker or malformed → 400 InvalidArgument; max-keys 0 → empty; over 1000 → 1000', async () => {
    const alone = await errorOf(list({ VersionIdMarker: expected[1]!.id }));
    assert.deepEqual(
      [alone.name, alone.$metadata.httpStatusCode, alone.message],
      ['InvalidArgument', 400, 'A version-id marker cannot be specified without a key marker.'],
    );
    const bad = await errorOf(list({ KeyMarker: 'a', VersionIdMarker: 'not/an-id' }));
    assert.deepEqual([bad.name, bad.$metadata.httpStatusCode], ['InvalidArgument', 400]);
    const zero = await list({ MaxKeys: 0 });
    assert.deepEqual([zero.Versions, zero.DeleteMarkers, zero.IsTruncated, zero.MaxKeys], [undefined, undefined, false, 0]);
    const many = await list({ MaxKeys: 1500 });
    assert.equal(many.MaxKeys, 1000);
    assert.equal(entries(many).length, expected.length);
  });

  it('ListObjectVersions › encoding-type=url → Key, Prefix, Delimiter, KeyMarker, NextKeyMarker and CommonPrefixes encoded', async () => {
    const page = await list({ EncodingType: 'url', Prefix: 'z ', KeyMarker: 'z ', MaxKeys: 1 });
    assert.equal(page.EncodingType, 'url');
    assert.equal(page.Prefix, 'z%20');
    assert.equal(page.KeyMarker, 'z%20');
    assert.deepEqual(
      page.Versions?.map((v) => v.Key),
      ['z%20key%2B%C3%A9'],
    );
    assert.equal(page.IsTruncated, true);
    assert.equal(page.NextKeyMarker, 'z%20key%2B%C3%A9');
    const rolled = await list({ EncodingType: 'url', Prefix: 'z', Delimiter: '+' });
    assert.equal(rolled.Delimiter, '%2B');
    assert.deepEqual(
      rolled.CommonPrefixes?.map((p) => p.Prefix),
      ['z%20key%2B'],
    );
  });
});

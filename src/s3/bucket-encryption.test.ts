// The ServerSideEncryptionConfiguration document: what PutBucketEncryption accepts and refuses, and
// the stored rule's round trip to GetBucketEncryption's answer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildXml } from './xml.js';
import { encryptionConfigurationXml, encryptionRuleJson, parseEncryptionConfiguration, storedEncryptionRule } from './bucket-encryption.js';
import { S3Error } from './errors.js';

const doc = (rule: string) => `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rule}</ServerSideEncryptionConfiguration>`;
const byDefault = (inner: string, extra = '') => doc(`<Rule><ApplyServerSideEncryptionByDefault>${inner}</ApplyServerSideEncryptionByDefault>${extra}</Rule>`);
const codeOf = (xml: string): string => {
  try {
    parseEncryptionConfiguration(xml);
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
  return 'accepted';
};

describe('bucket encryption configuration', () => {
  it('parse › AES256; aws:kms with a key id or this server’s key ARN; aws:kms:dsse; BucketKeyEnabled as xs:boolean', () => {
    assert.deepEqual(parseEncryptionConfiguration(byDefault('<SSEAlgorithm>AES256</SSEAlgorithm>')), { algorithm: 'AES256' });
    assert.deepEqual(parseEncryptionConfiguration(byDefault('<SSEAlgorithm>aws:kms</SSEAlgorithm>', '<BucketKeyEnabled> true </BucketKeyEnabled>')), {
      algorithm: 'aws:kms',
      bucketKey: true,
    });
    assert.deepEqual(parseEncryptionConfiguration(byDefault('<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>app-key</KMSMasterKeyID>')), {
      algorithm: 'aws:kms',
      keyId: 'app-key',
    });
    assert.deepEqual(
      parseEncryptionConfiguration(
        byDefault(
          '<SSEAlgorithm>aws:kms:dsse</SSEAlgorithm><KMSMasterKeyID>arn:aws:kms:eu-west-1:000000000000:key/k1</KMSMasterKeyID>',
          '<BucketKeyEnabled>0</BucketKeyEnabled>',
        ),
      ),
      { algorithm: 'aws:kms:dsse', keyId: 'k1', bucketKey: false },
    );
  });

  it('parse › refusals: not XML, wrong root, no rule, two rules, unknown elements, no or unknown algorithm → MalformedXML; a key id with AES256 → InvalidArgument; another account’s ARN or an alias → KMS.NotFoundException', () => {
    const cases: Array<[string, string]> = [
      ['<not xml', 'MalformedXML'],
      ['<Other/>', 'MalformedXML'],
      [doc(''), 'MalformedXML'],
      [
        doc('<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>'.repeat(2)),
        'MalformedXML',
      ],
      [doc('<Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule>'), 'MalformedXML'],
      [
        doc('<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><Extra/></Rule>'),
        'MalformedXML',
      ],
      [byDefault(''), 'MalformedXML'],
      [byDefault('<SSEAlgorithm>aes256</SSEAlgorithm>'), 'MalformedXML'],
      [byDefault('<SSEAlgorithm> AES256</SSEAlgorithm>'), 'MalformedXML'],
      [byDefault('<SSEAlgorithm>AES256</SSEAlgorithm><SSEAlgorithm>AES256</SSEAlgorithm>'), 'MalformedXML'],
      [byDefault('<SSEAlgorithm>AES256</SSEAlgorithm>', '<BucketKeyEnabled>yes</BucketKeyEnabled>'), 'MalformedXML'],
      [byDefault('<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k1</KMSMasterKeyID>'), 'InvalidArgument'],
      [byDefault('<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>arn:aws:kms:us-east-1:111122223333:key/k1</KMSMasterKeyID>'), 'KMS.NotFoundException'],
      [byDefault('<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/aws/s3</KMSMasterKeyID>'), 'KMS.NotFoundException'],
      [byDefault('<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID></KMSMasterKeyID>'), 'KMS.NotFoundException'],
    ];
    for (const [xml, code] of cases) assert.equal(codeOf(xml), code, xml);
  });

  it('stored rule › JSON round trip; an unreadable stored rule counts as none; the answer names the key by its ARN and always says BucketKeyEnabled', () => {
    const rule = parseEncryptionConfiguration(byDefault('<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>app-key</KMSMasterKeyID>'));
    assert.deepEqual(storedEncryptionRule(encryptionRuleJson(rule)), rule);
    assert.equal(storedEncryptionRule(undefined), undefined);
    assert.equal(storedEncryptionRule('{"algorithm":"rot13"}'), undefined);
    const xml = buildXml(encryptionConfigurationXml(rule, 'us-east-1'));
    assert.match(
      xml,
      /<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms<\/SSEAlgorithm><KMSMasterKeyID>arn:aws:kms:us-east-1:000000000000:key\/app-key<\/KMSMasterKeyID><\/ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false<\/BucketKeyEnabled><\/Rule>/,
    );
    assert.match(xml, /^<\?xml[^>]*>\s*<ServerSideEncryptionConfiguration xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/">/);
  });
});

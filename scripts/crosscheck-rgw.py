#!/usr/bin/env python3
# Cross-check of data-protection answers (versioning, tagging, object lock, lifecycle) against a
# reference S3 server: sends the same raw, SigV4-signed requests to each target and prints, per
# case, the status, error code and message (plus a few headers) each answered. A manual tool, not
# part of `npm test`; the reference is AWS's documentation, the peer only a second opinion.
#
# How to run (from the repository root, after `npm run build`):
#   /work/shared/peers/rgw/start.sh                      # Ceph RGW on http://127.0.0.1:19200
#   node dist/src/main.js --address 127.0.0.1:19377 --data /tmp/xc-data --log-level warn &
#   /work/main/.venv/bin/python scripts/crosscheck-rgw.py \
#       rgw=http://127.0.0.1:19200 strata=http://127.0.0.1:19377 [--only SUBSTRING]
#   /work/shared/peers/rgw/stop.sh
# Keys default to rustfsadmin / rustfssecret (env ACCESS_KEY / SECRET_KEY). Needs botocore only
# (for signing); buckets get a random suffix so reruns against a long-lived peer do not collide.
import base64
import hashlib
import html
import http.client
import os
import re
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CREDS = Credentials(os.environ.get('ACCESS_KEY', 'rustfsadmin'), os.environ.get('SECRET_KEY', 'rustfssecret'))
SHOWN_HEADERS = ('x-amz-delete-marker', 'x-amz-version-id', 'allow', 'last-modified')


class Target:
    def __init__(self, name, url):
        self.name, self.url = name, url.rstrip('/')
        u = urlsplit(self.url)
        self.host, self.port = u.hostname, u.port or 80
        self.suffix = uuid.uuid4().hex[:8]

    def bucket(self, role):
        return f'xc-{role}-{self.suffix}'

    def req(self, method, path, query='', headers=None, body=b'', md5=False, sign=True):
        """One signed request; path is already URL-encoded ('/bucket/key'), query a raw string."""
        headers = dict(headers or {})
        if isinstance(body, str):
            body = body.encode()
        if md5:
            headers['Content-MD5'] = base64.b64encode(hashlib.md5(body).digest()).decode()
        url = self.url + path + (('?' + query) if query else '')
        headers['x-amz-content-sha256'] = hashlib.sha256(body).hexdigest()
        ar = AWSRequest(method=method, url=url, data=body, headers=headers)
        if sign:
            SigV4Auth(CREDS, 's3', 'us-east-1').add_auth(ar)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        conn.request(method, path + (('?' + query) if query else ''), body=body or None, headers=dict(ar.headers.items()))
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        text = body.decode('utf-8', 'replace')
        self.code = _tag(text, 'Code')
        self.message = _tag(text, 'Message')
        self.text = text

    def summary(self, extra=()):
        s = f'{self.status} {self.code or "-"}'
        if self.message:
            s += f' "{self.message}"'
        hs = [f'{h}={self.headers[h]}' for h in extra if h in self.headers]
        return s + (f' [{", ".join(hs)}]' if hs else '')


def _tag(text, name):
    m = re.search(f'<{name}>(.*?)</{name}>', text, re.S)
    return html.unescape(m.group(1)) if m else None


def xml(s):
    return s.strip().encode()


def tagging_doc(pairs):
    return xml('<Tagging><TagSet>' + ''.join(f'<Tag><Key>{k}</Key><Value>{v}</Value></Tag>' for k, v in pairs) + '</TagSet></Tagging>')


def lock_doc(rule):
    return xml(f'<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>{rule}</ObjectLockConfiguration>')


def lc_doc(rules):
    return xml('<LifecycleConfiguration>' + ''.join(rules) + '</LifecycleConfiguration>')


def lc_rule(id_, body, filt='<Filter><Prefix>p/</Prefix></Filter>'):
    return f'<Rule><ID>{id_}</ID>{filt}<Status>Enabled</Status>{body}</Rule>'


def iso(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%S.000Z')


def setup(t):
    """Buckets: v (versioned), lk (object lock), plain; objects the cases need. Returns a dict."""
    s = {}
    v, lk, plain = t.bucket('v'), t.bucket('lk'), t.bucket('plain')
    for b in (v, plain):
        assert t.req('PUT', f'/{b}').status == 200, b
    assert t.req('PUT', f'/{lk}', headers={'x-amz-bucket-object-lock-enabled': 'true'}).status == 200
    ver = xml('<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>')
    assert t.req('PUT', f'/{v}', 'versioning', body=ver, md5=True).status == 200
    # a key whose latest version is a delete marker
    t.req('PUT', f'/{v}/dm', body=b'one')
    d = t.req('DELETE', f'/{v}/dm')
    s['dm_version'] = d.headers.get('x-amz-version-id')
    s['dm_is_marker'] = d.headers.get('x-amz-delete-marker')
    t.req('PUT', f'/{v}/obj', body=b'obj')
    t.req('PUT', f'/{plain}/obj', body=b'obj')
    future = datetime.now(timezone.utc) + timedelta(days=2)
    # locked versions: COMPLIANCE and GOVERNANCE, 2 days
    for mode in ('COMPLIANCE', 'GOVERNANCE'):
        r = t.req('PUT', f'/{lk}/{mode.lower()}', body=b'locked', md5=True,
                  headers={'x-amz-object-lock-mode': mode, 'x-amz-object-lock-retain-until-date': iso(future)})
        s[mode] = r.headers.get('x-amz-version-id')
        assert r.status == 200, (mode, r.summary(), r.text)
    r = t.req('PUT', f'/{lk}/free', body=b'free', md5=True)
    s['free'] = r.headers.get('x-amz-version-id')
    s.update(v=v, lk=lk, plain=plain, future=future)
    return s


def cases(t, s):
    """(name, thunk -> Resp, headers to show). Each thunk runs against target t with state s."""
    v, lk, plain = s['v'], s['lk'], s['plain']
    past = iso(datetime.now(timezone.utc) - timedelta(days=1))
    soon = iso(s['future'] - timedelta(days=1))
    later = iso(s['future'] + timedelta(days=1))
    ver = lambda status, mfa='': xml(f'<VersioningConfiguration><Status>{status}</Status>{mfa}</VersioningConfiguration>')
    mfa_on = '<MfaDelete>Enabled</MfaDelete>'
    well_formed_unknown = '0123456789ABCDEFGHIJKLMNOPQRSTUV'
    dmv = quote(s['dm_version'] or 'none', safe='')
    L = []
    add = lambda name, fn, hs=(): L.append((name, fn, hs))
    # versioning
    add('PutBucketVersioning MfaDelete=Enabled, no x-amz-mfa', lambda: t.req('PUT', f'/{v}', 'versioning', body=ver('Enabled', mfa_on), md5=True))
    add('PutBucketVersioning MfaDelete=Enabled, x-amz-mfa', lambda: t.req('PUT', f'/{v}', 'versioning', body=ver('Enabled', mfa_on), md5=True, headers={'x-amz-mfa': 'arn:aws:iam::123456789012:mfa/u 123456'}))
    add('PutBucketVersioning Status=Bogus', lambda: t.req('PUT', f'/{v}', 'versioning', body=ver('Bogus'), md5=True))
    add('PutBucketVersioning no Status (empty config)', lambda: t.req('PUT', f'/{v}', 'versioning', body=xml('<VersioningConfiguration></VersioningConfiguration>'), md5=True))
    add('CopyObject source versionId = delete marker', lambda: t.req('PUT', f'/{v}/copy1', headers={'x-amz-copy-source': f'/{v}/dm?versionId={dmv}'}))
    add('CopyObject source latest is delete marker', lambda: t.req('PUT', f'/{v}/copy2', headers={'x-amz-copy-source': f'/{v}/dm'}), SHOWN_HEADERS)
    add('CopyObject source versionId malformed', lambda: t.req('PUT', f'/{v}/copy3', headers={'x-amz-copy-source': f'/{v}/obj?versionId=abc'}))
    add('CopyObject source versionId= (empty)', lambda: t.req('PUT', f'/{v}/copy4', headers={'x-amz-copy-source': f'/{v}/obj?versionId='}))
    add('GET delete marker by versionId', lambda: t.req('GET', f'/{v}/dm', f'versionId={dmv}'), SHOWN_HEADERS)
    add('HEAD delete marker by versionId', lambda: t.req('HEAD', f'/{v}/dm', f'versionId={dmv}'), SHOWN_HEADERS)
    add('GET key whose latest is a delete marker', lambda: t.req('GET', f'/{v}/dm'), SHOWN_HEADERS)
    add('HEAD key whose latest is a delete marker', lambda: t.req('HEAD', f'/{v}/dm'), SHOWN_HEADERS)
    add('DeleteObject well-formed unknown versionId', lambda: t.req('DELETE', f'/{v}/obj', f'versionId={well_formed_unknown}'), SHOWN_HEADERS)
    add('GET well-formed unknown versionId', lambda: t.req('GET', f'/{v}/obj', f'versionId={well_formed_unknown}'))
    add('GET malformed versionId', lambda: t.req('GET', f'/{v}/obj', 'versionId=not%20a%20version%21'))
    add('DELETE malformed versionId', lambda: t.req('DELETE', f'/{v}/obj', 'versionId=not%20a%20version%21'))
    add('GET versionId= (empty)', lambda: t.req('GET', f'/{v}/obj', 'versionId='))
    # tagging
    add('PutObjectTagging 11 tags', lambda: t.req('PUT', f'/{v}/obj', 'tagging', body=tagging_doc([(f'k{i}', 'v') for i in range(11)]), md5=True))
    add('PutObjectTagging 129-char key', lambda: t.req('PUT', f'/{v}/obj', 'tagging', body=tagging_doc([('k' * 129, 'v')]), md5=True))
    add('PutObjectTagging 257-char value', lambda: t.req('PUT', f'/{v}/obj', 'tagging', body=tagging_doc([('k', 'v' * 257)]), md5=True))
    add('PutObjectTagging aws: key', lambda: t.req('PUT', f'/{v}/obj', 'tagging', body=tagging_doc([('aws:x', 'v')]), md5=True))
    add('PutObjectTagging duplicate keys', lambda: t.req('PUT', f'/{v}/obj', 'tagging', body=tagging_doc([('a', '1'), ('a', '2')]), md5=True))
    add('PutObjectTagging no Content-MD5', lambda: t.req('PUT', f'/{v}/obj', 'tagging', body=tagging_doc([('a', '1')])))
    add('PutBucketTagging 51 tags', lambda: t.req('PUT', f'/{plain}', 'tagging', body=tagging_doc([(f'k{i}', 'v') for i in range(51)]), md5=True))
    add('PutBucketTagging duplicate keys', lambda: t.req('PUT', f'/{plain}', 'tagging', body=tagging_doc([('a', '1'), ('a', '2')]), md5=True))
    add('PutObject x-amz-tagging a=1&a=2', lambda: t.req('PUT', f'/{plain}/tg1', headers={'x-amz-tagging': 'a=1&a=2'}, body=b'x'))
    add('PutObject x-amz-tagging %ZZ', lambda: t.req('PUT', f'/{plain}/tg2', headers={'x-amz-tagging': 'a=%ZZ'}, body=b'x'))
    add('PutObject x-amz-tagging aws:k=1', lambda: t.req('PUT', f'/{plain}/tg3', headers={'x-amz-tagging': 'aws%3Ak=1'}, body=b'x'))
    add('PutObject x-amz-tagging 11 tags', lambda: t.req('PUT', f'/{plain}/tg4', headers={'x-amz-tagging': '&'.join(f'k{i}=v' for i in range(11))}, body=b'x'))
    add('GetBucketTagging without tags', lambda: t.req('GET', f'/{v}', 'tagging'))
    add('GetObjectTagging without tags', lambda: t.req('GET', f'/{plain}/obj', 'tagging'))
    # object lock
    add('PutObjectLockConfiguration Days 0', lambda: t.req('PUT', f'/{lk}', 'object-lock', body=lock_doc('<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>0</Days></DefaultRetention></Rule>'), md5=True))
    add('PutObjectLockConfiguration Days and Years', lambda: t.req('PUT', f'/{lk}', 'object-lock', body=lock_doc('<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule>'), md5=True))
    add('PutObjectLockConfiguration Rule w/o DefaultRetention', lambda: t.req('PUT', f'/{lk}', 'object-lock', body=lock_doc('<Rule></Rule>'), md5=True))
    add('PutObjectLockConfiguration no Mode', lambda: t.req('PUT', f'/{lk}', 'object-lock', body=lock_doc('<Rule><DefaultRetention><Days>1</Days></DefaultRetention></Rule>'), md5=True))
    add('PutObjectLockConfiguration Mode BOGUS', lambda: t.req('PUT', f'/{lk}', 'object-lock', body=lock_doc('<Rule><DefaultRetention><Mode>BOGUS</Mode><Days>1</Days></DefaultRetention></Rule>'), md5=True))
    add('PutObjectLockConfiguration empty body', lambda: t.req('PUT', f'/{lk}', 'object-lock', body=b'', md5=True))
    add('PutObjectLockConfiguration no Content-MD5', lambda: t.req('PUT', f'/{lk}', 'object-lock', body=lock_doc('')))
    add('PutObjectLockConfiguration on unversioned bucket', lambda: t.req('PUT', f'/{plain}', 'object-lock', body=lock_doc(''), md5=True))
    add('GetObjectLockConfiguration bucket without lock', lambda: t.req('GET', f'/{plain}', 'object-lock'))
    ret = lambda mode, until: xml(f'<Retention><Mode>{mode}</Mode><RetainUntilDate>{until}</RetainUntilDate></Retention>')
    add('PutObjectRetention shorten COMPLIANCE', lambda: t.req('PUT', f'/{lk}/compliance', 'retention', body=ret('COMPLIANCE', soon), md5=True))
    add('PutObjectRetention COMPLIANCE->GOVERNANCE', lambda: t.req('PUT', f'/{lk}/compliance', 'retention', body=ret('GOVERNANCE', later), md5=True))
    add('PutObjectRetention shorten GOVERNANCE no bypass', lambda: t.req('PUT', f'/{lk}/governance', 'retention', body=ret('GOVERNANCE', soon), md5=True))
    add('PutObjectRetention date in the past', lambda: t.req('PUT', f'/{lk}/free', 'retention', body=ret('GOVERNANCE', past), md5=True))
    add('PutObjectRetention on bucket without lock', lambda: t.req('PUT', f'/{plain}/obj', 'retention', body=ret('GOVERNANCE', later), md5=True))
    add('GetObjectRetention without retention', lambda: t.req('GET', f'/{lk}/free', 'retention'))
    add('GetObjectLegalHold without hold', lambda: t.req('GET', f'/{lk}/free', 'legal-hold'))
    add('GetObjectRetention bucket without lock', lambda: t.req('GET', f'/{plain}/obj', 'retention'))
    lockh = lambda until: {'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': until}
    add('PutObject lock headers, no Content-MD5', lambda: t.req('PUT', f'/{lk}/nomd5', headers=lockh(later), body=b'x'))
    add('PutObject lock headers, bucket without lock', lambda: t.req('PUT', f'/{plain}/lh', headers=lockh(later), body=b'x', md5=True))
    add('PutObject lock headers, date in the past', lambda: t.req('PUT', f'/{lk}/past', headers=lockh(past), body=b'x', md5=True))
    add('PutObject lock mode without date', lambda: t.req('PUT', f'/{lk}/half', headers={'x-amz-object-lock-mode': 'GOVERNANCE'}, body=b'x', md5=True))
    add('PutObject lock mode BOGUS', lambda: t.req('PUT', f'/{lk}/bogus', headers=lockh(later) | {'x-amz-object-lock-mode': 'BOGUS'}, body=b'x', md5=True))
    add('DeleteObject locked version (COMPLIANCE)', lambda: t.req('DELETE', f'/{lk}/compliance', f'versionId={quote(s["COMPLIANCE"] or "", safe="")}'))
    add('DeleteObject locked version (GOVERNANCE) no bypass', lambda: t.req('DELETE', f'/{lk}/governance', f'versionId={quote(s["GOVERNANCE"] or "", safe="")}'))
    delete_doc = lambda: xml(f'<Delete><Object><Key>compliance</Key><VersionId>{s["COMPLIANCE"]}</VersionId></Object><Object><Key>governance</Key><VersionId>{s["GOVERNANCE"]}</VersionId></Object></Delete>')

    def delete_objects():
        r = t.req('POST', f'/{lk}', 'delete', body=delete_doc(), md5=True)
        errs = re.findall(r'<Error>(.*?)</Error>', r.text, re.S)
        r.code = ' | '.join(f'{_tag(e, "Key")}:{_tag(e, "Code")}' for e in errs) or r.code
        r.message = ' | '.join(_tag(e, 'Message') or '' for e in errs) or r.message
        return r
    add('DeleteObjects locked versions (per key)', delete_objects)
    # lifecycle
    exp = '<Expiration><Days>1</Days></Expiration>'
    add('PutBucketLifecycle 1001 rules', lambda: t.req('PUT', f'/{plain}', 'lifecycle', body=lc_doc([lc_rule(f'r{i}', exp, f'<Filter><Prefix>p{i}/</Prefix></Filter>') for i in range(1001)]), md5=True))
    add('PutBucketLifecycle duplicate IDs', lambda: t.req('PUT', f'/{plain}', 'lifecycle', body=lc_doc([lc_rule('same', exp), lc_rule('same', exp, '<Filter><Prefix>q/</Prefix></Filter>')]), md5=True))
    add('PutBucketLifecycle EODM with Tag filter', lambda: t.req('PUT', f'/{plain}', 'lifecycle', body=lc_doc([lc_rule('r', '<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>', '<Filter><Tag><Key>a</Key><Value>b</Value></Tag></Filter>')]), md5=True))
    add('PutBucketLifecycle Days 0', lambda: t.req('PUT', f'/{plain}', 'lifecycle', body=lc_doc([lc_rule('r', '<Expiration><Days>0</Days></Expiration>')]), md5=True))
    add('PutBucketLifecycle Date not midnight', lambda: t.req('PUT', f'/{plain}', 'lifecycle', body=lc_doc([lc_rule('r', '<Expiration><Date>2030-01-01T12:00:00.000Z</Date></Expiration>')]), md5=True))
    add('PutBucketLifecycle Transition', lambda: t.req('PUT', f'/{plain}', 'lifecycle', body=lc_doc([lc_rule('r', '<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>')]), md5=True))
    add('PutBucketLifecycle no action', lambda: t.req('PUT', f'/{plain}', 'lifecycle', body=lc_doc([lc_rule('r', '')]), md5=True))
    add('PutBucketLifecycle no Content-MD5', lambda: t.req('PUT', f'/{plain}', 'lifecycle', body=lc_doc([lc_rule('r', exp)])))
    add('GetBucketLifecycle without one', lambda: t.req('GET', f'/{v}', 'lifecycle'))
    return L


def main(argv):
    only = None
    if '--only' in argv:
        i = argv.index('--only')
        only = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    targets = [Target(*a.split('=', 1)) for a in argv]
    if not targets:
        sys.exit(__doc__ or 'usage: crosscheck-rgw.py name=url [name=url …] [--only SUBSTRING]')
    states = {}
    for t in targets:
        states[t.name] = setup(t)
    per_target = {t.name: cases(t, states[t.name]) for t in targets}
    names = [c[0] for c in per_target[targets[0].name]]
    for i, name in enumerate(names):
        if only and only.lower() not in name.lower():
            continue
        print(f'== {name}')
        answers = []
        for t in targets:
            _, fn, hs = per_target[t.name][i]
            try:
                a = fn().summary(hs)
            except Exception as e:  # a target that cuts the connection is an answer too
                a = f'EXC {type(e).__name__}: {e}'
            answers.append(a)
            print(f'   {t.name:7} {a}')
        if len(answers) > 1:
            strip = lambda a: re.sub(r'\[.*\]', '', a).split('"')[0].strip()
            if len({strip(a) for a in answers}) > 1:
                print('   ^^ status/code differ')
        time.sleep(0.05)


if __name__ == '__main__':
    main(sys.argv[1:])

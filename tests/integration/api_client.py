#!/usr/bin/env python3
# api_client.py: a client for Livetape's control API written from SPEC section 6 alone,
# with the Python standard library and no Livetape code, so that the integration tests
# check the C server against an independent implementation of the signature.
#
# Signature (the cloud's RPC style, "signature version 1.0"):
#   1. every parameter except Signature, sorted by name (byte order);
#   2. names and values percent-encoded per RFC 3986: A-Z a-z 0-9 - _ . ~ kept, every
#      other UTF-8 byte as %XX (upper case), so a space is %20, '*' %2A, '+' %2B;
#   3. joined as name=value with '&';
#   4. StringToSign = METHOD + '&' + encode('/') + '&' + encode(the joined string);
#   5. Signature = Base64(HMAC-SHA1(key = AccessKeySecret + '&', StringToSign)).
#
# Usage as a library:
#   client = Client('http://127.0.0.1:8088', key_id, secret)
#   reply = client.call('DescribeLiveRecordConfig', {'DomainName': 'live.example.com'})
#   reply.status, reply.data['TotalNum']
# Run directly, it checks itself against the SPEC's worked example.

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET

API_VERSION = '2016-11-01'

_UNRESERVED = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~')


def percent_encode(value):
    """RFC 3986 percent-encoding of the UTF-8 bytes of @value."""
    out = []
    for byte in str(value).encode('utf-8'):
        if byte in _UNRESERVED:
            out.append(chr(byte))
        else:
            out.append('%%%02X' % byte)
    return ''.join(out)


def canonical_query(params):
    """The sorted, encoded name=value list (without Signature)."""
    names = sorted((n for n in params if n != 'Signature'), key=lambda n: n.encode('utf-8'))
    return '&'.join(percent_encode(n) + '=' + percent_encode(params[n]) for n in names)


def string_to_sign(method, params):
    return method.upper() + '&' + percent_encode('/') + '&' + percent_encode(canonical_query(params))


def signature(method, params, secret):
    key = (secret + '&').encode('utf-8')
    digest = hmac.new(key, string_to_sign(method, params).encode('utf-8'), hashlib.sha1).digest()
    return base64.b64encode(digest).decode('ascii')


def timestamp(unix_time=None):
    """UTC, yyyy-MM-ddTHH:mm:ssZ."""
    return time.strftime('%Y-%m-%dT%H:%M:%SZ',
                         time.gmtime(time.time() if unix_time is None else unix_time))


def form_encode(params):
    return '&'.join(percent_encode(n) + '=' + percent_encode(v) for n, v in params.items())


def xml_to_data(element):
    """The inverse of the server's JSON → XML mapping: an element with children becomes a
    dict, a child name seen more than once a list, text stays text."""
    children = list(element)
    if not children:
        return element.text or ''
    data = {}
    for child in children:
        value = xml_to_data(child)
        if child.tag in data:
            if not isinstance(data[child.tag], list):
                data[child.tag] = [data[child.tag]]
            data[child.tag].append(value)
        else:
            data[child.tag] = value
    return data


class Reply:
    """One HTTP reply: status, media type, raw body, and the body as data (dict)."""

    def __init__(self, status, content_type, body):
        self.status = status
        self.content_type = content_type
        self.body = body
        self.root = None
        self.data = None
        if content_type == 'application/json':
            self.data = json.loads(body)
        elif content_type == 'text/xml':
            root = ET.fromstring(body.encode('utf-8'))
            self.root = root.tag
            self.data = xml_to_data(root)

    @property
    def code(self):
        return self.data.get('Code') if isinstance(self.data, dict) else None

    def __repr__(self):
        return f'<Reply {self.status} {self.content_type} {self.body[:400]!r}>'


class Client:
    """Signs and sends requests for one access key. The secret is never shown by repr().

    @rate: requests per second this client keeps under (the server refuses more than 30
    per second per key with Throttling); None sends as fast as it can."""

    def __init__(self, base_url, access_key_id, access_key_secret, timeout=15, rate=25):
        self.base_url = base_url.rstrip('/')
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.timeout = timeout
        self.rate = rate
        self._next_send = 0.0
        self._lock = threading.Lock()

    def _pace(self):
        if not self.rate:
            return
        with self._lock:
            now = time.monotonic()
            wait = self._next_send - now
            self._next_send = max(now, self._next_send) + 1.0 / self.rate
        if wait > 0:
            time.sleep(wait)

    def __repr__(self):
        return f'<Client {self.base_url} {self.access_key_id}>'

    def params(self, action, params=None, fmt='JSON', nonce=None, unix_time=None,
               access_key_id=None):
        """The full, unsigned parameter set of a request."""
        p = {
            'Action': action,
            'Version': API_VERSION,
            'AccessKeyId': access_key_id or self.access_key_id,
            'SignatureMethod': 'HMAC-SHA1',
            'SignatureVersion': '1.0',
            'SignatureNonce': nonce or str(uuid.uuid4()),
            'Timestamp': timestamp(unix_time),
        }
        if fmt is not None:
            p['Format'] = fmt
        p.update(params or {})
        return p

    def sign(self, method, params, secret=None):
        signed = dict(params)
        signed['Signature'] = signature(method, params, self._secret if secret is None else secret)
        return signed

    def send(self, method, params):
        """Sends already signed @params: GET as a query, POST as a form."""
        data = None
        headers = {}
        if method == 'POST':
            url = self.base_url + '/'
            data = form_encode(params).encode('ascii')
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        else:
            url = self.base_url + '/?' + form_encode(params)
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        self._pace()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read()
        return Reply(status, headers.get_content_type() if headers.get('Content-Type') else None,
                     body.decode('utf-8'))

    def call(self, action, params=None, method='GET', fmt='JSON', **kwargs):
        full = self.params(action, params, fmt=fmt, **kwargs)
        return self.send(method, self.sign(method, full))


def _self_test():
    """The worked example of SPEC section 6."""
    params = {
        'Format': 'XML', 'SignatureMethod': 'HMAC-SHA1', 'Action': 'DescribeLiveSnapshotConfig',
        'AccessKeyId': 'testid', 'RegionId': 'cn-shanghai', 'ServiceCode': 'live',
        'DomainName': 'test.com', 'AppName': 'test',
        'SignatureNonce': 'c2fe8fbb-2977-4414-8d39-348d02419c1c', 'Version': '2016-11-01',
        'SignatureVersion': '1.0', 'Timestamp': '2017-06-14T09:51:14Z',
    }
    expected = ('GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeLiveSnapshotConfig'
                '%26AppName%3Dtest%26DomainName%3Dtest.com%26Format%3DXML'
                '%26RegionId%3Dcn-shanghai%26ServiceCode%3Dlive%26SignatureMethod%3DHMAC-SHA1'
                '%26SignatureNonce%3Dc2fe8fbb-2977-4414-8d39-348d02419c1c'
                '%26SignatureVersion%3D1.0%26Timestamp%3D2017-06-14T09%253A51%253A14Z'
                '%26Version%3D2016-11-01')
    assert string_to_sign('GET', params) == expected, string_to_sign('GET', params)
    assert signature('GET', params, 'testsecret') == '3I5a3myPjp8FXWT4rvxX5pKb/aw='
    for raw, encoded in [('a b', 'a%20b'), ('*', '%2A'), ('~', '~'), ('+', '%2B'),
                         ('é', '%C3%A9'), ('直播', '%E7%9B%B4%E6%92%AD'), ('/', '%2F')]:
        assert percent_encode(raw) == encoded, (raw, percent_encode(raw))


if __name__ == '__main__':
    _self_test()
    print('api_client: the SPEC section 6 example signs as expected')

#!/usr/bin/env python3
# s3strict.py: a strict S3 test server for Livetape's S3 client (tests/test-s3-client.c) and
# bench (bench/bench-s3.py). Standard library http.server plus Debian's python3-botocore:
#
# - every request's SigV4 signature is recomputed with botocore (an implementation
#   independent of ours) from what arrived — the key decoded from the path and re-encoded
#   the S3 way, the query decoded, the signed headers as received — and a mismatch is
#   answered 403 SignatureDoesNotMatch and counted;
# - Content-MD5 and a hex x-amz-content-sha256 are checked against the body; a body sent
#   UNSIGNED-PAYLOAD must carry Content-MD5 (unless --lenient-md5, for curl in the bench);
# - objects (PUT/GET/HEAD/DELETE), HEAD bucket, multipart (create, upload part, complete,
#   abort, list parts, list uploads) with S3's ETags; data in a temporary directory;
# - faults on demand through an unsigned control endpoint (POST /__control/faults with a
#   JSON list, consumed one per S3 request in order): {"kind": "error", "status": 503,
#   "code": "SlowDown"}, {"kind": "reset"} (the connection is reset at a random byte of
#   the request body, or at "after_bytes"), {"kind": "hang"} (the request is read and
#   never answered), {"kind": "wrong_etag"}, {"kind": "close"} (answered, then the
#   connection is closed without a "Connection: close", like a server dropping an idle
#   kept-alive connection); each with an optional "method" filter.
#   POST /__control/skew {"seconds": N} shifts the server's clock (its Date header, and
#   RequestTimeTooSkewed beyond 15 minutes). POST /__control/config {"page_size": N}.
#   GET /__control/stats gives the counts as JSON ("connections": TCP connections
#   accepted).
#
# Usage: s3strict.py --bucket NAME [--region R] [--port 0] [--lenient-md5] [--discard]
# The access key id and secret are read from the first line of standard input
# ("ID SECRET"), so that they never appear on a command line. Prints "PORT <n>" once
# listening; runs until stdin closes or SIGTERM.

import argparse
import base64
import calendar
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CHUNK = 1024 * 1024
SKEW_LIMIT = 15 * 60


class State:
    def __init__(self, args, access_key, secret):
        self.lock = threading.Lock()
        self.bucket = args.bucket
        self.region = args.region
        self.lenient_md5 = args.lenient_md5
        self.discard = args.discard
        self.access_key = access_key
        self.secret = secret
        self.dir = tempfile.mkdtemp(prefix='s3strict-')
        self.objects = {}       # key → dict(path, etag, size, type)
        self.uploads = {}       # id → dict(key, parts{n: dict(path, etag, size)}, initiated)
        self.faults = []
        self.skew = 0
        self.page_size = 1000
        self.stats = {'requests': 0, 'connections': 0, 'verified': 0, 'signature_mismatches': 0,
                      'md5_checked': 0, 'faults_injected': 0, 'skew_rejected': 0}
        self.stopping = threading.Event()

    def now(self):
        return time.time() + self.skew

    def take_fault(self, method):
        with self.lock:
            for i, fault in enumerate(self.faults):
                if fault.get('method') in (None, method):
                    self.stats['faults_injected'] += 1
                    return self.faults.pop(i)
        return None

    def count(self, name):
        with self.lock:
            self.stats[name] += 1


def s3_error(code, message, status):
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s'
            '</Message><RequestId>%s</RequestId></Error>' % (code, escape(message),
                                                             uuid.uuid4().hex))
    return status, body.encode()


def unlink_all(paths):
    for path in paths:
        if path is not None:        # None: the body was not kept (--discard)
            os.unlink(path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 's3strict/1'

    def log_message(self, format, *args):
        pass

    def date_time_string(self, timestamp=None):
        return formatdate(self.server.state.now(), usegmt=True)

    def handle(self):
        self.server.state.count('connections')
        try:
            super().handle()
        except (ConnectionError, OSError, ValueError):
            pass

    # --- plumbing -------------------------------------------------------------------
    def reply(self, status, body=b'', headers=None, head=False):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body and 'Content-Type' not in (headers or {}):
            self.send_header('Content-Type', 'application/xml')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def error(self, code, message, status):
        st, body = s3_error(code, message, status)
        # The body is read first (and dropped): a reply while the client still writes,
        # followed by a close, would reach it as a reset instead of this error.
        if 0 < self.body_left <= 64 * CHUNK:
            self.read_body_to(None)
        if self.body_left > 0:
            self.close_connection = True
        self.reply(st, body, head=self.command == 'HEAD')

    def read_body_to(self, sink, fault=None):
        """Reads the body into sink (a file or None), hashing it. Returns (md5, sha256, size)
        or None when a reset fault cut the connection."""
        md5 = hashlib.md5()
        sha = hashlib.sha256()
        length = self.body_left
        cut = None
        if fault is not None and fault.get('kind') == 'reset':
            cut = fault.get('after_bytes', random.randint(0, max(length - 1, 0)))
        done = 0
        while self.body_left > 0:
            want = min(CHUNK, self.body_left)
            if cut is not None:
                want = min(want, cut - done)
                if want <= 0:
                    self.reset_connection()
                    return None
            data = self.rfile.read(want)
            if not data:
                raise ConnectionError('body ended early')
            self.body_left -= len(data)
            done += len(data)
            md5.update(data)
            if not self.unsigned:
                sha.update(data)
            if sink is not None:
                sink.write(data)
        if cut is not None:
            self.reset_connection()
            return None
        return md5, sha, done

    def reset_connection(self):
        # SO_LINGER 0: close() sends a RST, like a crashed peer or a middlebox.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.close_connection = True
        self.connection.close()

    # --- signature ------------------------------------------------------------------
    def verify(self, path_key_bytes):
        state = self.server.state
        auth = self.headers.get('Authorization', '')
        if not auth.startswith('AWS4-HMAC-SHA256 '):
            return self.error('AccessDenied', 'SigV4 Authorization required', 403)
        fields = {}
        for part in auth[len('AWS4-HMAC-SHA256 '):].split(','):
            name, _, value = part.strip().partition('=')
            fields[name] = value
        try:
            key_id, date8, region, service, terminal = fields['Credential'].split('/')
            signed = fields['SignedHeaders'].split(';')
            signature = fields['Signature']
        except (KeyError, ValueError):
            return self.error('AuthorizationHeaderMalformed', 'malformed', 400)
        if key_id != state.access_key:
            return self.error('InvalidAccessKeyId', 'unknown access key', 403)
        amz_date = self.headers.get('x-amz-date')
        if amz_date is None or 'host' not in signed or 'x-amz-date' not in signed \
                or 'x-amz-content-sha256' not in signed:
            return self.error('AccessDenied', 'host, x-amz-date and x-amz-content-sha256 '
                              'must be signed', 403)
        if region != state.region or service != 's3' or terminal != 'aws4_request' \
                or date8 != amz_date[:8]:
            return self.error('AuthorizationHeaderMalformed', 'bad credential scope', 400)
        try:
            when = calendar.timegm(time.strptime(amz_date, '%Y%m%dT%H%M%SZ'))
        except ValueError:
            return self.error('AccessDenied', 'bad x-amz-date', 403)
        if abs(when - state.now()) > SKEW_LIMIT:
            state.count('skew_rejected')
            return self.error('RequestTimeTooSkewed', 'The difference between the request '
                              'time and the server\'s time is too large.', 403)

        # botocore, from what arrived: S3 keys re-encoded the S3 way (quote keeps only
        # unreserved characters and '/'), the query decoded into params.
        split = urlsplit(self.path)
        host = self.headers.get('Host')
        canonical_path = quote(unquote_to_bytes(split.path), safe='/~')
        request = AWSRequest(method=self.command, url='http://%s%s' % (host, canonical_path))
        request.params = parse_qsl(split.query, keep_blank_values=True)
        for name in signed:
            values = self.headers.get_all(name)
            if values is None:
                return self.error('AccessDenied', 'signed header %s missing' % name, 403)
            for value in values:
                request.headers[name] = value
        request.context['timestamp'] = amz_date
        signer = S3SigV4Auth(Credentials(state.access_key, state.secret), 's3', state.region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != signature:
            state.count('signature_mismatches')
            return self.error('SignatureDoesNotMatch', 'The request signature we calculated '
                              'does not match the signature you provided.', 403)
        state.count('verified')
        return True

    # --- dispatch -------------------------------------------------------------------
    def do_control(self):
        state = self.server.state
        length = int(self.headers.get('Content-Length', '0'))
        data = json.loads(self.rfile.read(length) or b'null') if length else None
        self.body_left = 0
        name = urlsplit(self.path).path[len('/__control/'):]
        with state.lock:
            if name == 'faults':
                state.faults.extend(data)
            elif name == 'skew':
                state.skew = data['seconds']
            elif name == 'config':
                state.page_size = data.get('page_size', state.page_size)
            elif name == 'clear':
                state.faults = []
                state.skew = 0
                state.page_size = 1000
            stats = dict(state.stats, faults_pending=len(state.faults),
                         objects=len(state.objects), uploads=len(state.uploads))
        self.reply(200, json.dumps(stats).encode(), {'Content-Type': 'application/json'})

    def dispatch(self):
        state = self.server.state
        self.body_left = int(self.headers.get('Content-Length', '0') or '0')
        self.unsigned = True
        if self.headers.get('Transfer-Encoding'):
            self.close_connection = True
            return self.error('MissingContentLength', 'chunked bodies are not accepted', 411)
        if self.path.startswith('/__control/'):
            return self.do_control()
        with state.lock:
            state.stats['requests'] += 1
        split = urlsplit(self.path)
        raw = unquote_to_bytes(split.path)
        parts = raw.split(b'/', 2)
        bucket = parts[1].decode('utf-8', 'surrogateescape') if len(parts) > 1 else ''
        key = parts[2].decode('utf-8', 'surrogateescape') if len(parts) > 2 else None
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        self.unsigned = self.headers.get('x-amz-content-sha256') == 'UNSIGNED-PAYLOAD'

        if self.verify(raw) is not True:
            return
        fault = state.take_fault(self.command)
        if fault is not None:
            kind = fault.get('kind')
            if kind == 'error':
                return self.error(fault.get('code', 'InternalError'),
                                  fault.get('message', 'injected'), fault.get('status', 500))
            if kind == 'hang':
                self.close_connection = True
                state.stopping.wait(600)
                return
            if kind == 'reset' and self.body_left == 0:
                return self.reset_connection()
            if kind == 'close':
                self.close_connection = True
        if bucket != state.bucket:
            return self.error('NoSuchBucket', 'The specified bucket does not exist', 404)
        if key is None or key == '':
            return self.bucket_request(query)
        return self.object_request(key, query, fault)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = dispatch

    # --- bucket -----------------------------------------------------------------------
    def bucket_request(self, query):
        state = self.server.state
        if self.command == 'HEAD':
            return self.reply(200, head=True)
        if self.command == 'GET' and 'uploads' in query:
            prefix = query.get('prefix', '')
            key_marker = query.get('key-marker', '')
            id_marker = query.get('upload-id-marker', '')
            with state.lock:
                items = sorted((u['key'], uid, u['initiated'])
                               for uid, u in state.uploads.items() if u['key'].startswith(prefix))
            items = [i for i in items if (i[0], i[1]) > (key_marker, id_marker)]
            page = items[:state.page_size]
            truncated = len(items) > len(page)
            out = ['<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult>'
                   '<Bucket>%s</Bucket>' % escape(state.bucket)]
            for key, uid, initiated in page:
                out.append('<Upload><Key>%s</Key><UploadId>%s</UploadId><Initiated>%s'
                           '</Initiated></Upload>' % (escape(key), uid, time.strftime(
                               '%Y-%m-%dT%H:%M:%S.000Z', time.gmtime(initiated))))
            out.append('<IsTruncated>%s</IsTruncated>' % ('true' if truncated else 'false'))
            if truncated:
                out.append('<NextKeyMarker>%s</NextKeyMarker><NextUploadIdMarker>%s'
                           '</NextUploadIdMarker>' % (escape(page[-1][0]), page[-1][1]))
            out.append('</ListMultipartUploadsResult>')
            return self.reply(200, ''.join(out).encode())
        return self.error('NotImplemented', 'not implemented here', 501)

    # --- objects --------------------------------------------------------------------
    def receive_body(self, fault):
        """Stores the body in a new file; checks Content-MD5 / x-amz-content-sha256.
        Returns (path, md5 hex, size) or None (an error was sent)."""
        state = self.server.state
        md5_header = self.headers.get('Content-MD5')
        sha_header = self.headers.get('x-amz-content-sha256')
        if self.unsigned and md5_header is None and not state.lenient_md5:
            return self.error('InvalidRequest', 'UNSIGNED-PAYLOAD needs Content-MD5', 400)
        if state.discard:
            path = None
            result = self.read_body_to(None, fault)
        else:
            fd, path = tempfile.mkstemp(dir=state.dir)
            with os.fdopen(fd, 'wb') as sink:
                result = self.read_body_to(sink, fault)
        if result is None:
            unlink_all([path])
            return None
        md5, sha, size = result
        if md5_header is not None:
            state.count('md5_checked')
            if base64.b64encode(md5.digest()).decode() != md5_header.strip():
                unlink_all([path])
                return self.error('BadDigest', 'The Content-MD5 you specified did not match '
                                  'what we received.', 400)
        if not self.unsigned and sha_header != sha.hexdigest():
            unlink_all([path])
            return self.error('XAmzContentSHA256Mismatch', 'The provided '
                              'x-amz-content-sha256 header does not match what was computed.',
                              400)
        return path, md5.hexdigest(), size

    def object_request(self, key, query, fault):
        state = self.server.state
        wrong_etag = fault is not None and fault.get('kind') == 'wrong_etag'
        if 'uploadId' in query:
            return self.multipart_request(key, query, fault, wrong_etag)
        if self.command == 'POST' and 'uploads' in query:
            self.read_body_to(None)
            uid = uuid.uuid4().hex + '.x/y+z='      # characters that need encoding
            with state.lock:
                state.uploads[uid] = {'key': key, 'parts': {}, 'initiated': int(state.now())}
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult>'
                    '<Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId>'
                    '</InitiateMultipartUploadResult>' % (escape(state.bucket), escape(key),
                                                         escape(uid)))
            return self.reply(200, body.encode())
        if self.command == 'PUT':
            received = self.receive_body(fault)
            if received is None:
                return
            path, md5, size = received
            with state.lock:
                old = state.objects.get(key)
                state.objects[key] = {'paths': [path], 'etag': md5, 'size': size,
                                      'type': self.headers.get('Content-Type')}
            if old is not None:
                unlink_all(old['paths'])
            etag = hashlib.md5(md5.encode()).hexdigest() if wrong_etag else md5
            return self.reply(200, headers={'ETag': '"%s"' % etag})
        with state.lock:
            obj = state.objects.get(key)
        if self.command == 'DELETE':
            if obj is not None:
                with state.lock:
                    state.objects.pop(key, None)
                unlink_all(obj['paths'])
            return self.reply(204)
        if self.command in ('GET', 'HEAD'):
            if obj is None:
                return self.error('NoSuchKey', 'The specified key does not exist.', 404)
            headers = {'ETag': '"%s"' % obj['etag'],
                       'Content-Type': obj['type'] or 'application/octet-stream'}
            self.send_response(200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header('Content-Length', str(obj['size']))
            self.end_headers()
            if self.command == 'GET':
                if None in obj['paths']:
                    return self.error('NotImplemented', 'started with --discard: no bodies '
                                      'are kept', 501)
                for path in obj['paths']:
                    with open(path, 'rb') as f:
                        shutil.copyfileobj(f, self.wfile, CHUNK)
            return
        return self.error('NotImplemented', 'not implemented here', 501)

    def multipart_request(self, key, query, fault, wrong_etag):
        state = self.server.state
        uid = query['uploadId']
        with state.lock:
            upload = state.uploads.get(uid)
        if upload is None or upload['key'] != key:
            self.read_body_to(None)
            return self.error('NoSuchUpload', 'The specified upload does not exist.', 404)
        if self.command == 'PUT':
            number = int(query.get('partNumber', '0'))
            if not 1 <= number <= 10000:
                return self.error('InvalidArgument', 'bad part number', 400)
            received = self.receive_body(fault)
            if received is None:
                return
            path, md5, size = received
            with state.lock:
                old = upload['parts'].get(number)
                upload['parts'][number] = {'path': path, 'etag': md5, 'size': size}
            if old is not None:
                unlink_all([old['path']])
            etag = hashlib.md5(md5.encode()).hexdigest() if wrong_etag else md5
            return self.reply(200, headers={'ETag': '"%s"' % etag})
        if self.command == 'GET':
            marker = int(query.get('part-number-marker', '0'))
            limit = min(int(query.get('max-parts', '1000')), state.page_size)
            with state.lock:
                numbers = sorted(n for n in upload['parts'] if n > marker)
                page = [(n, dict(upload['parts'][n])) for n in numbers[:limit]]
            truncated = len(numbers) > len(page)
            out = ['<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult><Bucket>%s'
                   '</Bucket><Key>%s</Key><UploadId>%s</UploadId>'
                   % (escape(state.bucket), escape(key), escape(uid))]
            for n, part in page:
                out.append('<Part><PartNumber>%d</PartNumber><ETag>"%s"</ETag><Size>%d</Size>'
                           '</Part>' % (n, part['etag'], part['size']))
            out.append('<IsTruncated>%s</IsTruncated>' % ('true' if truncated else 'false'))
            if truncated:
                out.append('<NextPartNumberMarker>%d</NextPartNumberMarker>' % page[-1][0])
            out.append('</ListPartsResult>')
            return self.reply(200, ''.join(out).encode())
        if self.command == 'DELETE':
            with state.lock:
                state.uploads.pop(uid, None)
            unlink_all(part['path'] for part in upload['parts'].values())
            return self.reply(204)
        if self.command == 'POST':
            import io
            buf = io.BytesIO()
            result = self.read_body_to(buf, fault)
            if result is None:
                return
            md5_header = self.headers.get('Content-MD5')
            if md5_header is not None and \
                    base64.b64encode(result[0].digest()).decode() != md5_header.strip():
                return self.error('BadDigest', 'Content-MD5 mismatch', 400)
            try:
                root = ET.fromstring(buf.getvalue())
            except ET.ParseError:
                return self.error('MalformedXML', 'malformed', 400)
            wanted = []
            for part in root.iter():
                if part.tag.split('}')[-1] != 'Part':
                    continue
                fields = {c.tag.split('}')[-1]: (c.text or '') for c in part}
                wanted.append((int(fields.get('PartNumber', '0')),
                               fields.get('ETag', '').strip('"').lower()))
            if not wanted or [n for n, _ in wanted] != sorted(set(n for n, _ in wanted)):
                return self.error('InvalidPartOrder', 'parts out of order', 400)
            digest = hashlib.md5()
            with state.lock:
                parts = dict(upload['parts'])
            for n, etag in wanted:
                if n not in parts or parts[n]['etag'] != etag:
                    return self.error('InvalidPart', 'part %d missing or wrong ETag' % n, 400)
                digest.update(bytes.fromhex(etag))
            # The object is its parts' files in order (like S3, no copy is made); parts
            # not named in the request are dropped.
            paths = [parts[n]['path'] for n, _ in wanted]
            size = sum(parts[n]['size'] for n, _ in wanted)
            etag = '%s-%d' % (digest.hexdigest(), len(wanted))
            if wrong_etag:
                etag = '%s-%d' % (hashlib.md5(etag.encode()).hexdigest(), len(wanted))
            with state.lock:
                state.uploads.pop(uid, None)
                old = state.objects.get(key)
                state.objects[key] = {'paths': paths, 'etag': etag, 'size': size, 'type': None}
            if old is not None:
                unlink_all(old['paths'])
            unlink_all(p['path'] for n, p in parts.items() if p['path'] not in paths)
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult>'
                    '<Bucket>%s</Bucket><Key>%s</Key><ETag>"%s"</ETag>'
                    '</CompleteMultipartUploadResult>' % (escape(state.bucket), escape(key),
                                                         etag))
            return self.reply(200, body.encode())
        return self.error('NotImplemented', 'not implemented here', 501)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--bucket', required=True)
    parser.add_argument('--region', default='us-east-1')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--lenient-md5', action='store_true')
    parser.add_argument('--discard', action='store_true',
                        help='receive, hash and check bodies but keep none (bench/: the '
                             'disk writes of the objects would weigh more than the clients)')
    args = parser.parse_args()

    line = sys.stdin.readline().split()
    if len(line) != 2:
        sys.exit('s3strict: expected "ACCESS_KEY_ID SECRET" on standard input')
    state = State(args, line[0], line[1])
    server = Server(('127.0.0.1', args.port), Handler)
    server.state = state

    def stop(*_):
        state.stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    # The parent going away (stdin closed) stops us too: no orphaned servers.
    threading.Thread(target=lambda: (sys.stdin.read(), stop()), daemon=True).start()
    print('PORT %d' % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    finally:
        state.stopping.set()
        server.server_close()
        shutil.rmtree(state.dir, ignore_errors=True)


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
# test-callbacks.py: callbacks (SPEC section 4) from the real daemon to real HTTP receivers
# on loopback: the exact bodies of a recording with a reconnect (status events and the
# files), both signatures checked by an implementation written here from the README,
# push_args, the persistent queue across kill -9 with a dead receiver, and OnDemand 1
# through a real on-demand receiver (yes with Format/Interval, no, and no reply).

import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recordlib as R  # noqa: E402
import taptest  # noqa: E402
from recordlib import APP, DOMAIN, check, expect_ok, note  # noqa: E402
from taptest import run_tests  # noqa: E402


class Receiver:
    """An HTTP receiver on 127.0.0.1: records every request; answers with self.status (or
    self.reply_json for GETs); `down` closes connections without answering."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.status = 200
        self.reply_json = None
        self.down = False
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def _record(self, body):
                url = urllib.parse.urlsplit(self.path)
                with receiver.lock:
                    receiver.requests.append({
                        'time': time.time(), 'method': self.command, 'path': url.path,
                        'query': dict(urllib.parse.parse_qsl(url.query)),
                        'headers': {k.lower(): v for k, v in self.headers.items()},
                        'body': body})

            def _answer(self, status, body=b''):
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get('Content-Length', '0'))
                body = self.rfile.read(length)
                if receiver.down:
                    self.close_connection = True
                    return
                self._record(body)
                self._answer(receiver.status, b'{"ok":true}')

            def do_GET(self):
                self._record(b'')
                if receiver.reply_json is None:
                    self._answer(500, b'no')
                else:
                    self._answer(200, json.dumps(receiver.reply_json).encode())

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path='/cb'):
        return f'http://127.0.0.1:{self.port}{path}'

    def posts(self):
        with self.lock:
            return [r for r in self.requests if r['method'] == 'POST']

    def bodies(self):
        return [json.loads(r['body']) for r in self.posts()]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


S = {}


def signing_key(env, domain=DOMAIN):
    r = taptest.run('--data-dir', env.data_dir, '--notify-signing-key', domain)
    check(r.returncode == 0, f'--notify-signing-key exited {r.returncode}: {r.stderr!r}')
    key = r.stdout.strip()
    check(len(key) >= 32, 'the signing key looks too short')
    R.SECRETS.append(key)
    return key


def verify_signatures(request, key):
    """Both signatures, from the README's description only."""
    t = request['query'].get('t')
    sign = request['query'].get('sign')
    check(t is not None and sign is not None, f'no t/sign in {request["query"]!r}')
    check(int(t) > time.time(), f't {t} is not an expiry time in the future')
    expected = hashlib.md5((key + t).encode()).hexdigest()
    check(hmac.compare_digest(sign, expected), 'sign does not match md5(key + t)')
    header = request['headers'].get('x-livetape-signature', '')
    check(header.startswith('sha256='), f'X-Livetape-Signature: {header!r}')
    mac = hmac.new(key.encode(), request['body'], hashlib.sha256).hexdigest()
    check(hmac.compare_digest(header[len('sha256='):], mac), 'HMAC-SHA256 does not match the body')
    check(request['headers'].get('content-type', '').startswith('application/json'),
          f'content type {request["headers"].get("content-type")!r}')


def test_setup():
    R.need_tools('ffmpeg', 'ffprobe')
    env = R.Env('livetape-callbacks-')
    S['env'] = env
    S['media'] = os.path.join(env.data_dir, 'in.flv')
    R.make_media(S['media'], 8)
    S['receiver'] = Receiver()
    env.start()
    reply = env.call('AddLiveRecordNotifyConfig', {
        'DomainName': DOMAIN, 'NotifyUrl': S['receiver'].url(), 'NeedStatusNotify': 'true'})
    expect_ok(reply, 'AddLiveRecordNotifyConfig')
    env.add_rule(formats=('m3u8', 'mp4'))
    S['key'] = signing_key(env)


def test_recording_with_reconnect():
    env, rx = S['env'], S['receiver']
    pub = R.Publisher(env.port, APP, 'cb', S['media'], query='callback_foo=bar&x=1')
    env.wait_state('cb', 'recording', 15)
    pub.proc.wait(timeout=30)
    R.wait_for(lambda: any(b.get('event') == 'record_paused' for b in rx.bodies()), 10,
               'record_paused')
    pub = R.Publisher(env.port, APP, 'cb', S['media'], query='callback_foo=bar&x=1')
    R.wait_for(lambda: any(b.get('event') == 'record_resumed' for b in rx.bodies()), 15,
               'record_resumed')
    pub.proc.wait(timeout=30)
    env.wait_paused('cb', timeout=10)
    expect_ok(env.command('cb', 'cancel_delay'), 'cancel_delay')
    R.wait_for(lambda: any(b.get('event') == 'record_ended' for b in rx.bodies()), 15,
               'record_ended')

    bodies = rx.bodies()
    events = [b['event'] for b in bodies if 'event' in b]
    check(events == ['record_started', 'record_paused', 'record_resumed', 'record_paused',
                     'record_ended'], f'status events {events!r}')
    for b in bodies:
        if 'event' in b:
            check(set(b) == {'domain', 'app', 'stream', 'event'}, f'status body {b!r}')
            check((b['domain'], b['app'], b['stream']) == (DOMAIN, APP, 'cb'), f'{b!r}')
    files = [b for b in bodies if 'uri' in b]
    check(len(files) == 2, f'file callbacks {files!r}')
    # The file callbacks come before record_ended and match the catalog.
    ended_at = next(i for i, b in enumerate(bodies) if b.get('event') == 'record_ended')
    check(all(bodies.index(f) < ended_at for f in files), 'a file callback after record_ended')
    rows = {r['object_key']: r for r in env.query(
        "SELECT object_key, format, start_time_us, end_time_us, duration_us FROM recording_files "
        "WHERE state = 'closed'")}
    for f in files:
        check(set(f) == {'domain', 'app', 'stream', 'uri', 'duration', 'start_time', 'stop_time',
                         'push_args'}, f'file body keys {sorted(f)!r}')
        row = rows.get(f['uri'])
        check(row is not None, f'{f["uri"]} is not a closed file of the catalog')
        check(isinstance(f['duration'], float), f'duration {f["duration"]!r} is not a float')
        check(abs(f['duration'] - row['duration_us'] / 1e6) < 0.01, f'duration {f!r} vs {row!r}')
        check(isinstance(f['start_time'], int) and isinstance(f['stop_time'], int), f'{f!r}')
        check(f['start_time'] == row['start_time_us'] // 1_000_000, f'start {f!r} vs {row!r}')
        check(f['stop_time'] == row['end_time_us'] // 1_000_000, f'stop {f!r} vs {row!r}')
        check(f['push_args'] == {'callback_foo': 'bar'}, f'push_args {f["push_args"]!r}')
    for request in rx.posts():
        verify_signatures(request, S['key'])
    latencies = []
    for f, request in zip(bodies, rx.posts()):
        if 'uri' in f:
            row = rows[f['uri']]
            latencies.append(request['time'] - row['end_time_us'] / 1e6)
    note(f'file closed → callback received: {", ".join(f"{x:.3f} s" for x in latencies)}')


def test_queue_survives_kill():
    env, rx = S['env'], S['receiver']
    before = len(rx.posts())
    rx.down = True
    pub = R.Publisher(env.port, APP, 'dead', S['media'])
    env.wait_state('dead', 'recording', 15)
    pub.proc.wait(timeout=30)
    env.wait_paused('dead', timeout=10)
    expect_ok(env.command('dead', 'cancel_delay'), 'cancel_delay')
    R.wait_for(lambda: env.query("SELECT count(*) AS n FROM sessions s JOIN streams st ON "
                                 "st.id = s.stream_id WHERE st.stream = 'dead' AND "
                                 "s.state = 'ended'")[0]['n'] == 1, 15, 'the session to end')
    queued = env.query("SELECT count(*) AS n FROM callback_outbox WHERE state IN "
                       "('pending', 'sending') AND stream_key LIKE '%dead%'")[0]['n']
    check(queued >= 5, f'{queued} callbacks queued for the dead receiver')
    env.kill9()
    rx.down = False
    env.start()
    R.wait_for(lambda: len([b for b in rx.bodies()[before:] if b.get('stream') == 'dead'])
               >= queued, 60, 'the queued callbacks after the restart')
    got = [b for b in rx.bodies()[before:] if b.get('stream') == 'dead']
    events = [b.get('event') for b in got if 'event' in b]
    check(events[:1] == ['record_started'] and events[-1:] == ['record_ended'],
          f'order after the restart: {events!r}')
    unique = {json.dumps(b, sort_keys=True) for b in got}
    check(len(unique) == queued, f'{queued} queued, {len(unique)} distinct delivered')
    note(f'{queued} callbacks queued through kill -9; {len(got)} deliveries '
         f'({len(got) - len(unique)} duplicates)')


def test_on_demand():
    env = S['env']
    od = Receiver()
    S['od'] = od
    expect_ok(env.call('UpdateLiveRecordNotifyConfig', {
        'DomainName': DOMAIN, 'NotifyUrl': S['receiver'].url(), 'NeedStatusNotify': 'true',
        'OnDemandUrl': od.url('/ondemand?token=a b')}), 'UpdateLiveRecordNotifyConfig')
    env.add_rule(app='od', formats=('m3u8', 'mp4', 'flv'), OnDemand='1')

    od.reply_json = {'ApiVersion': '1.0', 'NeedRecord': True, 'Interval': {'Mp4': 300},
                     'Format': ['mp4', 'FLV']}
    pub = R.Publisher(env.port, 'od', 'yes', S['media'])
    env.wait_state('yes', 'recording', 20, app='od')
    info = env.online('yes', app='od')
    check(info.get('RecordFormats') == 'mp4,flv', f'formats {info!r}')
    ask = [r for r in od.requests if r['method'] == 'GET'][-1]
    q = ask['query']
    check((q.get('app'), q.get('domain'), q.get('stream'), q.get('codec'), q.get('token')) ==
          ('od', DOMAIN, 'yes', 'h264', 'a b'), f'on-demand query {q!r}')
    check(int(q.get('vbitrate', '0')) > 0, f'vbitrate {q!r}')
    pub.kill()

    od.reply_json = {'ApiVersion': '1.0', 'NeedRecord': False}
    pub = R.Publisher(env.port, 'od', 'no', S['media'])
    R.wait_for(lambda: (env.online('no', app='od') or {}).get('RecordReason', '').find('NeedRecord') >= 0,
               20, 'the refusal to show')
    check(env.online('no', app='od')['RecordState'] == 'not_recording', 'recording after a no')
    pub.kill()

    od.reply_json = None  # HTTP 500
    pub = R.Publisher(env.port, 'od', 'err', S['media'])
    R.wait_for(lambda: '500' in (env.online('err', app='od') or {}).get('RecordReason', ''),
               20, 'the HTTP 500 to show')
    pub.kill()


def test_shutdown():
    env = S.pop('env', None)
    for name in ('receiver', 'od'):
        if name in S:
            S.pop(name).close()
    if env is not None:
        env.stop()
        env.cleanup()


def main():
    R.install_signal_handlers()
    tests = [test_setup, test_recording_with_reconnect, test_queue_survives_kill, test_on_demand,
             test_shutdown]
    try:
        status = run_tests(tests, R.emit)
    finally:
        env = S.get('env')
        if env is not None:
            env.cleanup(keep=os.environ.get('LT_KEEP_DATA') == '1')
        R.kill_children()
    sys.exit(status)


if __name__ == '__main__':
    main()

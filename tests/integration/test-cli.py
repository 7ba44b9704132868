#!/usr/bin/env python3
# test-cli.py: the `livetape` command line, run as a user would run it (TAP).
#
# --help, --version and option errors; --create-access-key (needs the session bus and the
# unlocked keyring that tools/test provides); --headless: the ready line, HTTP on the
# port, a request signed with a key from --create-access-key (an implementation of SPEC
# section 6 independent of the C one), SIGTERM and SIGINT → exit 0 within 5 s, and a port
# already in use → exit 1 with a clear message.

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taptest import SOURCE_ROOT, Daemon, check, run, run_tests  # noqa: E402

KEY_RE = re.compile(r'^\{"AccessKeyId":"(LTAK[A-Z0-9]{20})",'
                    r'"AccessKeySecret":"([A-Za-z0-9]{30})"\}\n$')

TEMP_DIRS = []


def temp_dir():
    path = tempfile.mkdtemp(prefix='livetape-cli-')
    TEMP_DIRS.append(path)
    return path


def project_version():
    with open(os.path.join(SOURCE_ROOT, 'meson.build'), encoding='utf-8') as f:
        m = re.search(r"version:\s*'([^']+)'", f.read())
    check(m is not None, 'no version in meson.build')
    return m.group(1)


def files_containing(directory, needle):
    found = []
    data = needle.encode()
    for root, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            with open(path, 'rb') as f:
                if data in f.read():
                    found.append(path)
    return found


def n_files(directory):
    return sum(len(files) for _root, _dirs, files in os.walk(directory))


def create_key(data_dir, *extra):
    r = run('--data-dir', data_dir, '--create-access-key', *extra)
    check(r.returncode == 0,
          f'--create-access-key exited {r.returncode}; stderr: {r.stderr!r}')
    m = KEY_RE.match(r.stdout)
    check(m is not None, f'unexpected --create-access-key output {r.stdout!r}')
    return m.group(1), m.group(2)


def percent_encode(value):
    return urllib.parse.quote(value, safe='-_.~')


def signed_url(port, secret, access_key_id, params):
    query = {
        'Format': 'JSON',
        'Version': '2016-11-01',
        'AccessKeyId': access_key_id,
        'SignatureMethod': 'HMAC-SHA1',
        'SignatureVersion': '1.0',
        'SignatureNonce': str(uuid.uuid4()),
        'Timestamp': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    }
    query.update(params)
    canonical = '&'.join(f'{percent_encode(k)}={percent_encode(v)}'
                         for k, v in sorted(query.items()))
    string_to_sign = 'GET&%2F&' + percent_encode(canonical)
    digest = hmac.new((secret + '&').encode(), string_to_sign.encode(), hashlib.sha1).digest()
    query['Signature'] = base64.b64encode(digest).decode()
    return (f'http://127.0.0.1:{port}/?' +
            '&'.join(f'{percent_encode(k)}={percent_encode(v)}' for k, v in query.items()))


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


# Tests ---------------------------------------------------------------------------------

def test_help():
    r = run('--help')
    check(r.returncode == 0, f'--help exited {r.returncode}')
    for option in ['--headless', '--data-dir', '--api-listen', '--ingest-port',
                   '--create-access-key', '--notify-signing-key',
                   '--description', '--version', '--help']:
        check(re.search(r'^\s+(-\w, )?' + re.escape(option) + r'\b', r.stdout, re.M),
              f'--help does not list {option}:\n{r.stdout}')
    check('Record live streams on your own machine.' in r.stdout, 'no summary in --help')
    check('DIR' in r.stdout and 'HOST:PORT' in r.stdout, 'no argument names in --help')


def test_readme_lists_the_options():
    # README.md's "Command line" table and `livetape --help` name the same options.
    with open(os.path.join(SOURCE_ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    m = re.search(r'^## Command line\n(.*?)^## ', readme, re.M | re.S)
    check(m is not None, 'README.md has no "Command line" section')
    documented = set(re.findall(r'(?<![\w-])--[a-z][a-z-]*', m.group(1)))
    r = run('--help')
    check(r.returncode == 0, f'--help exited {r.returncode}')
    listed = set(re.findall(r'^\s+(?:-\w, )?(--[a-z][a-z-]*)', r.stdout, re.M))
    check(len(listed) >= 15, f'--help lists only {sorted(listed)}')
    check(documented - listed == set(),
          f'README.md documents options --help does not list: {sorted(documented - listed)}')
    check(listed - documented == set(),
          f'--help lists options README.md does not document: {sorted(listed - documented)}')


def test_version():
    r = run('--version')
    check(r.returncode == 0, f'--version exited {r.returncode}')
    check(r.stdout == f'livetape {project_version()}\n', f'--version printed {r.stdout!r}')
    check(r.stderr == '', f'--version wrote to stderr: {r.stderr!r}')


def test_bad_api_listen():
    for bad in ['nonsense', '127.0.0.1', '127.0.0.1:', '127.0.0.1:99999', ':8088',
                '::1:8088', '[::1]', 'example.org:80', '127.0.0.1:8o88']:
        for mode in [[], ['--headless'], ['--create-access-key']]:
            r = run(*mode, '--data-dir', temp_dir(), '--api-listen', bad, timeout=20)
            check(r.returncode != 0, f'{mode} --api-listen {bad!r} exited 0')
            check('--api-listen' in r.stderr and bad in r.stderr,
                  f'--api-listen {bad!r}: unclear message {r.stderr!r}')
            check(r.stdout == '', f'--api-listen {bad!r} printed {r.stdout!r}')


def test_bad_ingest_port():
    for bad in ['0', '-1', '65536', '99999', 'abc', '']:
        for mode in [[], ['--headless']]:
            r = run(*mode, '--data-dir', temp_dir(), '--ingest-port', bad, timeout=20)
            check(r.returncode != 0, f'{mode} --ingest-port {bad!r} exited 0')
            check('--ingest-port' in r.stderr, f'--ingest-port {bad!r}: unclear message {r.stderr!r}')
            check('ready' not in r.stdout, f'--ingest-port {bad!r} started the daemon')


def test_usage_errors():
    cases = [
        (['--no-such-option'], '--no-such-option'),
        (['--description', 'x'], '--description'),
        (['--headless', '--create-access-key'], '--headless'),
        (['--headless', 'stray-argument'], 'stray-argument'),
        (['--create-access-key', 'stray-argument'], 'stray-argument'),
    ]
    for args, needle in cases:
        r = run(*args, '--data-dir', temp_dir(), timeout=20)
        check(r.returncode != 0, f'{args} exited 0')
        check(needle in r.stderr and '--help' in r.stderr,
              f'{args}: unclear message {r.stderr!r}')
        check('ready' not in r.stdout, f'{args} started the daemon')


def test_create_access_key():
    data_dir = temp_dir()
    key_id, secret = create_key(data_dir)
    key_id2, secret2 = create_key(data_dir, '--description', 'second key')
    check(key_id != key_id2 and secret != secret2, 'two keys are the same')

    check(os.stat(data_dir).st_mode & 0o777 == 0o700, 'data dir is not 0700')
    check(n_files(data_dir) > 0, 'nothing in the data dir')
    for s in (secret, secret2):
        leaked = files_containing(data_dir, s)
        check(not leaked, f'a secret is in {leaked}')
    check(files_containing(data_dir, key_id), 'the key id is not in the catalog')


def test_create_access_key_new_data_dir():
    data_dir = os.path.join(temp_dir(), 'a', 'b')
    create_key(data_dir)
    check(os.stat(data_dir).st_mode & 0o777 == 0o700, 'data dir is not 0700')


def test_create_access_key_bad_data_dir():
    parent = temp_dir()
    blocker = os.path.join(parent, 'file')
    with open(blocker, 'w') as f:
        f.write('x')
    r = run('--data-dir', os.path.join(blocker, 'data'), '--create-access-key', timeout=30)
    check(r.returncode == 1, f'exited {r.returncode}')
    check(r.stdout == '', f'printed {r.stdout!r}')
    check('data directory' in r.stderr and blocker in r.stderr,
          f'unclear message {r.stderr!r}')


def test_create_access_key_no_keyring():
    data_dir = temp_dir()
    start = time.monotonic()
    r = run('--data-dir', data_dir, '--create-access-key', timeout=60, extra_env={
        'DBUS_SESSION_BUS_ADDRESS': f'unix:path={data_dir}/no-such-bus'})
    check(r.returncode == 1, f'exited {r.returncode}')
    check(r.stdout == '', f'printed {r.stdout!r}')
    check('keyring' in r.stderr and 'gnome-keyring-daemon --unlock' in r.stderr,
          f'does not say how to fix it: {r.stderr!r}')
    check(time.monotonic() - start < 15, 'took longer than the keyring timeout')
    check(not files_containing(data_dir, 'LTAK'), 'a key id without its secret')


def test_headless_sigterm():
    data_dir = temp_dir()
    key_id, secret = create_key(data_dir)
    daemon = Daemon('--data-dir', data_dir, '--api-listen', '127.0.0.1:0')
    try:
        host, port = daemon.wait_ready()
        check(host == '127.0.0.1' and port > 0, f'ready on {host}:{port}')

        # Answers HTTP: an unsigned request is an API error with a RequestId.
        status, body = http_get(f'http://127.0.0.1:{port}/?Format=JSON')
        check(400 <= status < 500, f'unsigned request answered {status}')
        check('RequestId' in body, f'no RequestId in {body!r}')

        # The key made by --create-access-key works against the daemon.
        status, body = http_get(signed_url(port, secret, key_id, {
            'Action': 'DescribeLiveRecordConfig', 'DomainName': 'live.example.com'}))
        check(status == 200, f'signed request answered {status}: {body}')
        check('RequestId' in json.loads(body), f'no RequestId in {body!r}')

        # …and only with its own secret.
        status, body = http_get(signed_url(port, secret[::-1], key_id, {
            'Action': 'DescribeLiveRecordConfig', 'DomainName': 'live.example.com'}))
        check(status == 400 and 'SignatureDoesNotMatch' in body,
              f'wrong secret answered {status}: {body}')

        code, seconds = daemon.stop(signal.SIGTERM)
        check(code == 0, f'SIGTERM: exit {code}; stderr {daemon.stderr_text()!r}')
        check(seconds < 5, f'SIGTERM took {seconds:.1f} s')
    finally:
        daemon.kill()

    # Nobody listens on the port any more (SO_REUSEADDR: closed connections may linger in
    # TIME_WAIT, a listener may not).
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', port))
        s.listen()


def test_headless_sigint():
    daemon = Daemon('--data-dir', temp_dir(), '--api-listen', '127.0.0.1:0')
    try:
        _host, port = daemon.wait_ready()
        status, _body = http_get(f'http://127.0.0.1:{port}/')
        check(status >= 400, f'unsigned request answered {status}')
        code, seconds = daemon.stop(signal.SIGINT)
        check(code == 0, f'SIGINT: exit {code}; stderr {daemon.stderr_text()!r}')
        check(seconds < 5, f'SIGINT took {seconds:.1f} s')
    finally:
        daemon.kill()


def test_headless_restart_keeps_state():
    # A clean shutdown leaves a catalog the next start opens.
    data_dir = temp_dir()
    for _ in range(2):
        daemon = Daemon('--data-dir', data_dir, '--api-listen', '127.0.0.1:0')
        try:
            daemon.wait_ready()
            code, _seconds = daemon.stop(signal.SIGTERM)
            check(code == 0, f'exit {code}; stderr {daemon.stderr_text()!r}')
        finally:
            daemon.kill()


def test_headless_port_in_use():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        s.listen()
        port = s.getsockname()[1]
        daemon = Daemon('--data-dir', temp_dir(), '--api-listen', f'127.0.0.1:{port}')
        try:
            code = daemon.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            raise AssertionError('still running with its port in use')
        stderr = daemon.stderr_text()
        check(code == 1, f'port in use: exit {code}')
        check(f'Cannot listen on 127.0.0.1:{port}' in stderr, f'unclear message {stderr!r}')
        check(daemon.lines.get(timeout=5) is None, 'printed a ready line')


TESTS = [
    test_help,
    test_readme_lists_the_options,
    test_version,
    test_bad_api_listen,
    test_bad_ingest_port,
    test_usage_errors,
    test_create_access_key,
    test_create_access_key_new_data_dir,
    test_create_access_key_bad_data_dir,
    test_create_access_key_no_keyring,
    test_headless_sigterm,
    test_headless_sigint,
    test_headless_restart_keeps_state,
    test_headless_port_in_use,
]


def main():
    status = run_tests(TESTS)
    for path in TEMP_DIRS:
        shutil.rmtree(path, ignore_errors=True)
    return status

if __name__ == '__main__':
    sys.exit(main())

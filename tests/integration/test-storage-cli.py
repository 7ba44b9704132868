#!/usr/bin/env python3
# test-storage-cli.py: storage targets from the command line, as a script on a server
# would set them up (TAP): --add-storage-target with the secret key on standard input
# (needs the session bus and the unlocked keyring that tools/test provides),
# --list-storage-targets as JSON (never a secret), a duplicate name, bad input, usage
# errors, --remove-storage-target, no keyring at all, and no secret byte anywhere in the
# data dir or in the command's output. "Test connection" (--test-storage-target) and the
# rule check of AddLiveAppRecordConfig against two real S3 servers on loopback: s3rver
# (npm) and the strict, signature-checking s3strict.py: a bucket that exists and can be
# written, a missing bucket (InvalidOssBucket.NotFound), a wrong secret key (access
# refused), and a server that is gone.

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taptest import LIVETAPE, Daemon, check, env, run, run_tests  # noqa: E402
import api_client  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

TEMP_DIRS = []


def temp_dir():
    path = tempfile.mkdtemp(prefix='livetape-storage-cli-')
    TEMP_DIRS.append(path)
    return path


def run_with_input(*args, stdin='', timeout=60, extra_env=None):
    e = env()
    e.update(extra_env or {})
    return subprocess.run([LIVETAPE, *args], capture_output=True, text=True, env=e,
                          timeout=timeout, input=stdin)


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


def list_targets(data_dir):
    r = run('--data-dir', data_dir, '--list-storage-targets', timeout=60)
    check(r.returncode == 0, f'--list-storage-targets exited {r.returncode}: {r.stderr!r}')
    targets = json.loads(r.stdout)
    check(isinstance(targets, list), f'not a JSON array: {r.stdout!r}')
    return {t['name']: t for t in targets}, r


def new_secret():
    return 'sk-' + uuid.uuid4().hex + '/+=x'


# Tests ---------------------------------------------------------------------------------

def test_help():
    r = run('--help')
    check(r.returncode == 0, f'--help exited {r.returncode}')
    for option in ['--add-storage-target', '--endpoint', '--region', '--path-style',
                   '--access-key-id', '--bucket', '--list-storage-targets',
                   '--remove-storage-target', '--test-storage-target']:
        check(option in r.stdout, f'--help does not list {option}')


def test_add_list_remove():
    data_dir = temp_dir()
    secret = new_secret()
    outputs = []

    r = run_with_input('--data-dir', data_dir, '--add-storage-target', 'MinIO',
                       '--endpoint', 'http://127.0.0.1:9000/', '--region', 'eu-west-1',
                       '--path-style', '--access-key-id', 'AKIACLI0001', '--bucket', 'vod',
                       stdin=secret + '\n')
    outputs.append(r)
    check(r.returncode == 0, f'add exited {r.returncode}: {r.stderr!r}')
    check(r.stdout == '', f'add printed {r.stdout!r}')

    r = run_with_input('--data-dir', data_dir, '--add-storage-target', 'public',
                       '--endpoint', 'https://s3.example.com', stdin='')
    outputs.append(r)
    check(r.returncode == 0, f'anonymous add exited {r.returncode}: {r.stderr!r}')

    targets, r = list_targets(data_dir)
    outputs.append(r)
    check(set(targets) == {'local', 'minio', 'public'}, f'targets {sorted(targets)}')
    m = targets['minio']
    check(m['kind'] == 's3', f'kind {m}')
    check(m['endpoint'] == 'http://127.0.0.1:9000', f'endpoint {m}')
    check(m['region'] == 'eu-west-1' and m['bucket'] == 'vod', f'region/bucket {m}')
    check(m['path_style'] is True and m['use_tls'] is False, f'flags {m}')
    check(m['access_key_id'] == 'AKIACLI0001', f'key id {m}')
    check(m['has_secret'] is True, f'has_secret {m}')
    check(m['paused'] is False, f'paused {m}')
    p = targets['public']
    check(p['region'] == 'us-east-1' and p['use_tls'] is True, f'public {p}')
    check(p['access_key_id'] is None and p['has_secret'] is False, f'public {p}')
    check(targets['local']['kind'] == 'local', f'local {targets["local"]}')
    check(targets['local']['folder'] == os.path.join(data_dir, 'storage'),
          f'local folder {targets["local"]}')

    # The same name in another case is the same target.
    r = run_with_input('--data-dir', data_dir, '--add-storage-target', 'minio',
                       '--endpoint', 'https://other.example.com', stdin='')
    outputs.append(r)
    check(r.returncode == 1, f'duplicate exited {r.returncode}')
    check('already exists' in r.stderr and 'minio' in r.stderr, f'unclear {r.stderr!r}')

    # The secret is only in the keyring.
    check(not files_containing(data_dir, secret), 'the secret is in the data dir')
    check(files_containing(data_dir, 'AKIACLI0001'), 'the key id is not in the catalog')
    for out in outputs:
        check(secret not in out.stdout and secret not in out.stderr, 'the secret was printed')

    r = run('--data-dir', data_dir, '--remove-storage-target', 'MINIO')
    check(r.returncode == 0, f'remove exited {r.returncode}: {r.stderr!r}')
    targets, _ = list_targets(data_dir)
    check(set(targets) == {'local', 'public'}, f'after remove {sorted(targets)}')

    r = run('--data-dir', data_dir, '--remove-storage-target', 'minio')
    check(r.returncode == 1 and 'no storage target' in r.stderr.lower(),
          f'second remove: {r.returncode} {r.stderr!r}')
    r = run('--data-dir', data_dir, '--remove-storage-target', 'local')
    check(r.returncode == 1 and 'built-in' in r.stderr, f'remove local: {r.stderr!r}')

    # Added again with the same name: the old key is gone, the new one is kept.
    secret2 = new_secret()
    r = run_with_input('--data-dir', data_dir, '--add-storage-target', 'minio',
                       '--endpoint', 'http://127.0.0.1:9000', '--access-key-id', 'AKIACLI0002',
                       stdin=secret2 + '\r\n')
    check(r.returncode == 0, f're-add exited {r.returncode}: {r.stderr!r}')
    targets, _ = list_targets(data_dir)
    check(targets['minio']['has_secret'] is True, 're-added target has no secret')
    check(not files_containing(data_dir, secret2), 'the secret is in the data dir')
    r = run('--data-dir', data_dir, '--remove-storage-target', 'minio')
    check(r.returncode == 0, f'cleanup remove exited {r.returncode}')


def test_bad_input():
    data_dir = temp_dir()
    cases = [
        (['--add-storage-target', 'bad name', '--endpoint', 'https://s3.example.com'], '',
         'name'),
        (['--add-storage-target', 'x', '--endpoint', 's3.example.com'], '', 'http'),
        (['--add-storage-target', 'x', '--endpoint', 'ftp://s3.example.com'], '', 'http'),
        (['--add-storage-target', 'x', '--endpoint', 'http://u:p@s3.example.com'], '',
         'http'),
        (['--add-storage-target', 'x', '--endpoint', 'https://s3.example.com/path'], '',
         'http'),
        (['--add-storage-target', 'x', '--endpoint', 'https://s3.example.com',
          '--region', 'us east'], '', 'region'),
        (['--add-storage-target', 'x', '--endpoint', 'https://s3.example.com',
          '--bucket', 'No_Bucket'], '', 'bucket'),
        (['--add-storage-target', 'x', '--endpoint', 'https://s3.example.com',
          '--access-key-id', 'A K'], 'secret\n', 'access key id'),
        # A key id needs its secret; a secret needs a key id.
        (['--add-storage-target', 'x', '--endpoint', 'https://s3.example.com',
          '--access-key-id', 'AKID'], '', 'secret'),
        (['--add-storage-target', 'x', '--endpoint', 'https://s3.example.com',
          '--access-key-id', 'AKID'], '\n', 'secret'),
        (['--add-storage-target', 'x', '--endpoint', 'https://s3.example.com'],
         'orphan-secret\n', 'access key id'),
        (['--add-storage-target', 'x', '--endpoint', 'https://s3.example.com',
          '--access-key-id', 'AKID'], 'x' * 5000 + '\n', 'longer'),
        (['--add-storage-target', 'local', '--endpoint', 'https://s3.example.com'], '',
         'built-in'),
    ]
    for args, stdin, needle in cases:
        r = run_with_input('--data-dir', data_dir, *args, stdin=stdin, timeout=30)
        check(r.returncode == 1, f'{args} exited {r.returncode}')
        check(needle in r.stderr, f'{args}: unclear message {r.stderr!r}')
        check(r.stdout == '', f'{args} printed {r.stdout!r}')
        if len(stdin) > 2:
            check(stdin.strip() not in r.stderr, f'{args} printed the secret')
    targets, _ = list_targets(data_dir)
    check(set(targets) == {'local'}, f'something was added: {sorted(targets)}')
    check(not files_containing(data_dir, 'orphan-secret'), 'a refused secret was kept')


def test_usage_errors():
    cases = [
        ['--endpoint', 'https://s3.example.com'],
        ['--access-key-id', 'AKID'],
        ['--path-style'],
        ['--add-storage-target', 'x'],
        ['--add-storage-target', 'x', '--endpoint', 'https://s3.example.com', '--headless'],
        ['--list-storage-targets', '--create-access-key'],
        ['--list-storage-targets', '--remove-storage-target', 'x'],
        ['--list-storage-targets', 'stray-argument'],
    ]
    for args in cases:
        r = run_with_input('--data-dir', temp_dir(), *args, stdin='', timeout=20)
        check(r.returncode == 1, f'{args} exited {r.returncode}')
        check('--help' in r.stderr, f'{args}: no usage hint in {r.stderr!r}')
        check(r.stdout == '', f'{args} printed {r.stdout!r}')


def test_no_keyring():
    data_dir = temp_dir()
    secret = new_secret()
    no_bus = {'DBUS_SESSION_BUS_ADDRESS': f'unix:path={data_dir}/no-such-bus'}
    start = time.monotonic()
    r = run_with_input('--data-dir', data_dir, '--add-storage-target', 'keyed',
                       '--endpoint', 'https://s3.example.com', '--access-key-id', 'AKIDNOKEYRING',
                       stdin=secret + '\n', extra_env=no_bus)
    check(r.returncode == 1, f'exited {r.returncode}')
    check('keyring' in r.stderr and 'gnome-keyring-daemon --unlock' in r.stderr,
          f'does not say how to fix it: {r.stderr!r}')
    check(secret not in r.stderr, 'printed the secret')
    check(time.monotonic() - start < 20, 'took longer than the keyring timeout')
    check(not files_containing(data_dir, 'AKIDNOKEYRING'), 'a key id without its secret')

    # Not blocking: an anonymous target needs no keyring.
    r = run_with_input('--data-dir', data_dir, '--add-storage-target', 'anon',
                       '--endpoint', 'https://s3.example.com', stdin='', extra_env=no_bus)
    check(r.returncode == 0, f'anonymous add without keyring: {r.returncode} {r.stderr!r}')
    r = run('--data-dir', data_dir, '--list-storage-targets', extra_env=no_bus)
    check(r.returncode == 0, f'list without keyring: {r.returncode} {r.stderr!r}')
    names = {t['name'] for t in json.loads(r.stdout)}
    check(names == {'local', 'anon'}, f'targets {names}')


# S3 servers ------------------------------------------------------------------------------

class Strict:
    """s3strict.py with one bucket; the credentials go over stdin, never argv."""

    def __init__(self, bucket, key_id, secret):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, 's3strict.py'),
                                      '--bucket', bucket],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.proc.stdin.write(f'{key_id} {secret}\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        check(line.startswith('PORT '), f's3strict did not start: {line!r}')
        self.port = int(line.split()[1])
        self.endpoint = f'http://127.0.0.1:{self.port}'

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


class S3rver:
    """s3rver (npm) with its one fixed account S3RVER/S3RVER and one bucket."""

    def __init__(self, bucket):
        node_bin = os.environ.get('LT_NODE_BIN', os.path.join(os.path.dirname(HERE),
                                                              'node_modules', '.bin'))
        binary = os.path.join(node_bin, 's3rver')
        check(os.access(binary, os.X_OK), f'{binary} is missing (npm ci in tests/)')
        self.dir = temp_dir()
        self.proc = subprocess.Popen([binary, '-d', self.dir, '-a', '127.0.0.1', '-p', '0',
                                      '--configure-bucket', bucket, '--no-vhost-buckets'],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        m = None
        seen = []
        for _ in range(20):
            line = self.proc.stdout.readline()
            seen.append(line)
            m = re.search(r'listening on .*:(\d+)', line)
            if m is not None or line == '':
                break
        check(m is not None, f's3rver did not start: {seen!r}')
        self.port = int(m.group(1))
        self.endpoint = f'http://127.0.0.1:{self.port}'

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def add_target(data_dir, name, endpoint, key_id, secret, *extra):
    r = run_with_input('--data-dir', data_dir, '--add-storage-target', name,
                       '--endpoint', endpoint, '--path-style', '--access-key-id', key_id,
                       *extra, stdin=secret + '\n')
    check(r.returncode == 0, f'add {name} exited {r.returncode}: {r.stderr!r}')


def test_storage(data_dir, name, *extra):
    r = run('--data-dir', data_dir, '--test-storage-target', name, *extra, timeout=60)
    return r


def test_connection_strict():
    data_dir = temp_dir()
    secret = new_secret()
    server = Strict('vod', 'AKIASTRICT01', secret)
    try:
        add_target(data_dir, 'strict', server.endpoint, 'AKIASTRICT01', secret)
        add_target(data_dir, 'wrong', server.endpoint, 'AKIASTRICT01', new_secret())
        add_target(data_dir, 'withdefault', server.endpoint, 'AKIASTRICT01', secret,
                   '--bucket', 'vod')

        r = test_storage(data_dir, 'strict', '--bucket', 'vod')
        check(r.returncode == 0, f'existing bucket: {r.returncode} {r.stderr!r}')
        check('exists and can be written' in r.stdout, f'output {r.stdout!r}')
        r = test_storage(data_dir, 'WithDefault')
        check(r.returncode == 0, f'default bucket: {r.returncode} {r.stderr!r}')

        r = test_storage(data_dir, 'strict')
        check(r.returncode == 1 and 'no default bucket' in r.stderr, f'no bucket: {r.stderr!r}')
        r = test_storage(data_dir, 'strict', '--bucket', 'missing-bucket')
        check(r.returncode == 1, f'missing bucket exited {r.returncode}')
        check('missing-bucket' in r.stderr and 'does not exist' in r.stderr,
              f'missing bucket: unclear {r.stderr!r}')
        r = test_storage(data_dir, 'wrong', '--bucket', 'vod')
        check(r.returncode == 1, f'wrong secret exited {r.returncode}')
        check('refused access' in r.stderr and 'secret key' in r.stderr,
              f'wrong secret: unclear {r.stderr!r}')
        r = test_storage(data_dir, 'nosuch', '--bucket', 'vod')
        check(r.returncode == 1 and 'nosuch' in r.stderr, f'unknown target: {r.stderr!r}')
        check(secret not in r.stdout + r.stderr, 'the secret was printed')
    finally:
        server.stop()

    # The server is gone: unreachable, said quickly.
    start = time.monotonic()
    r = test_storage(data_dir, 'strict', '--bucket', 'vod')
    check(r.returncode == 1 and 'Cannot reach' in r.stderr, f'server gone: {r.stderr!r}')
    check(time.monotonic() - start < 30, 'took too long')
    check(not files_containing(data_dir, secret), 'the secret is in the data dir')


def test_connection_s3rver():
    data_dir = temp_dir()
    server = S3rver('vod')
    try:
        add_target(data_dir, 's3rver', server.endpoint, 'S3RVER', 'S3RVER')
        r = test_storage(data_dir, 's3rver', '--bucket', 'vod')
        check(r.returncode == 0, f'existing bucket: {r.returncode} {r.stderr!r}')
        r = test_storage(data_dir, 's3rver', '--bucket', 'missing-bucket')
        check(r.returncode == 1 and 'does not exist' in r.stderr,
              f'missing bucket: {r.returncode} {r.stderr!r}')
    finally:
        server.stop()


def test_rule_check_api():
    """AddLiveAppRecordConfig checks an S3 rule's bucket online: the name of the target or
    its endpoint's host:port as OssEndpoint."""
    data_dir = temp_dir()
    secret = new_secret()
    server = Strict('vod', 'AKIASTRICT02', secret)
    daemon = None
    try:
        add_target(data_dir, 'strict', server.endpoint, 'AKIASTRICT02', secret)
        add_target(data_dir, 'wrong', f'http://localhost:{server.port}', 'AKIASTRICT02',
                   new_secret())
        r = run('--data-dir', data_dir, '--create-access-key')
        check(r.returncode == 0, f'--create-access-key: {r.stderr!r}')
        key = json.loads(r.stdout)
        daemon = Daemon('--data-dir', data_dir, '--api-listen', '127.0.0.1:0')
        _host, port = daemon.wait_ready()
        client = api_client.Client(f'http://127.0.0.1:{port}', key['AccessKeyId'],
                                   key['AccessKeySecret'])

        def add(app, endpoint, bucket):
            return client.call('AddLiveAppRecordConfig', {
                'DomainName': 'live.example.com', 'AppName': app, 'OssEndpoint': endpoint,
                'OssBucket': bucket, 'RecordFormat.1.Format': 'm3u8'})

        reply = add('byname', 'strict', 'vod')
        check(reply.status == 200, f'by name: {reply!r}')
        reply = add('byhost', f'127.0.0.1:{server.port}', 'vod')
        check(reply.status == 200, f'by host:port: {reply!r}')
        reply = add('missing', 'strict', 'missing-bucket')
        check(reply.status == 400 and reply.code == 'InvalidOssBucket.NotFound',
              f'missing bucket: {reply!r}')
        check('does not exist' in reply.data['Message'], f'missing bucket: {reply!r}')
        reply = add('denied', f'localhost:{server.port}', 'vod')
        check(reply.status == 400 and reply.code == 'InvalidOssBucket.NotFound',
              f'wrong secret: {reply!r}')
        check('refused access' in reply.data['Message'], f'wrong secret: {reply!r}')
        reply = add('nowhere', 'elsewhere.example.com', 'vod')
        check(reply.status == 400 and reply.code == 'InvalidOssBucket.NotFound',
              f'no target: {reply!r}')
        reply = add('localrule', 'local', 'vod')
        check(reply.status == 200, f'local: {reply!r}')
        check(os.path.isdir(os.path.join(data_dir, 'storage', 'vod')), 'no local bucket folder')

        data = client.call('DescribeLiveRecordConfig', {'DomainName': 'live.example.com'}).data
        check(data['TotalNum'] == 3, f'rules stored: {data}')
        code, _seconds = daemon.stop(timeout=10)
        check(code == 0, f'daemon exit {code}')
        check(secret not in daemon.text(), 'the daemon printed the secret')
        daemon = None
    finally:
        if daemon is not None:
            daemon.kill()
        server.stop()
    check(not files_containing(data_dir, secret), 'the secret is in the data dir')


TESTS = [
    test_help,
    test_add_list_remove,
    test_bad_input,
    test_usage_errors,
    test_no_keyring,
    test_connection_strict,
    test_connection_s3rver,
    test_rule_check_api,
]


def main():
    status = run_tests(TESTS)
    for path in TEMP_DIRS:
        shutil.rmtree(path, ignore_errors=True)
    return status


if __name__ == '__main__':
    sys.exit(main())

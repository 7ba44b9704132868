#!/usr/bin/env python3
# test-sync-crash.py: kill -9 of `livetape --headless` in the middle of a multipart upload
# to an S3 target (the strict server, tests/integration/s3strict.py). The target is added
# with `livetape --add-storage-target` (the secret on standard input, into the test
# session's keyring). A 40 MiB recording file is put in the spool and queued in the
# catalog's upload_outbox directly (recording 40 MiB through the ingest would take minutes;
# the queue is what the recorder writes to), with the bandwidth capped so that the upload
# takes seconds. After at least two parts are stored the daemon is killed; restarted, it
# resumes with ListParts without sending the stored parts again (the strict server's
# request count bounds what the second run sent), completes, the object reads back with
# the file's MD5, no multipart upload is left in the bucket, and the spool copy is gone
# (keep period 0) only after that.

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import json
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taptest  # noqa: E402
from taptest import check  # noqa: E402

import recordlib as R  # noqa: E402
import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402

BUCKET = 'livetape-crash'
TARGET = 'crash'
KEY = 'record/app/stream/big.mp4'
MIB = 1024 * 1024
SIZE = 40 * MIB + 4321
PART = 8 * MIB
N_PARTS = (SIZE + PART - 1) // PART


class S:
    tmp = None
    server = None
    endpoint = None
    key_id = None
    secret = None
    data_dir = None
    spool_path = None
    md5 = None
    daemon = None


def emit(line):
    print(line, flush=True)


def control(name, data=None):
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(f'{S.endpoint}/__control/{name}', data=body,
                                 method='POST' if body is not None else 'GET')
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=10) as r:
        return json.loads(r.read())


def s3():
    session = botocore.session.get_session()
    return session.create_client('s3', endpoint_url=S.endpoint, region_name='us-east-1',
                                 aws_access_key_id=S.key_id, aws_secret_access_key=S.secret,
                                 config=Config(s3={'addressing_style': 'path'},
                                               retries={'max_attempts': 1}))


def catalog_int(sql):
    db = sqlite3.connect(f'file:{os.path.join(S.data_dir, "catalog.db")}?mode=ro', uri=True,
                         timeout=5)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def start_daemon():
    S.daemon = taptest.Daemon('--data-dir', S.data_dir, '--api-listen', '127.0.0.1:0')
    S.daemon.wait_ready(timeout=60)


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if S.daemon is not None and S.daemon.proc.poll() is not None:
            raise AssertionError(f'the daemon exited while waiting for {what}: '
                                 f'{S.daemon.text()!r}')
        time.sleep(0.1)
    raise AssertionError(f'timed out waiting for {what}; daemon output {S.daemon.text()!r}')


def test_setup():
    S.tmp = tempfile.mkdtemp(prefix='lt-sync-crash-')
    S.data_dir = os.path.join(S.tmp, 'data')
    S.key_id = 'LTCRASH%08X' % int.from_bytes(os.urandom(4), 'big')
    S.secret = os.urandom(24).hex()
    script = os.path.join(taptest.SOURCE_ROOT, 'tests', 'integration', 's3strict.py')
    S.server = subprocess.Popen([sys.executable, script, '--bucket', BUCKET],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
    S.server.stdin.write(f'{S.key_id} {S.secret}\n')
    S.server.stdin.flush()
    line = S.server.stdout.readline().strip()
    check(line.startswith('PORT '), f'strict server said {line!r}')
    S.endpoint = f'http://127.0.0.1:{line[5:]}'

    r = subprocess.run([taptest.LIVETAPE, '--data-dir', S.data_dir, '--add-storage-target',
                        TARGET, '--endpoint', S.endpoint, '--path-style', '--access-key-id',
                        S.key_id, '--bucket', BUCKET],
                       input=S.secret + '\n', capture_output=True, text=True,
                       env=taptest.env(), timeout=60)
    check(r.returncode == 0, f'--add-storage-target: {r.returncode} {r.stdout!r} {r.stderr!r}')
    check(S.secret not in r.stdout + r.stderr, 'the secret was printed')

    # Upload settings for this data dir (its keyfile settings backend).
    with open(os.path.join(S.data_dir, 'settings.ini'), 'a') as f:
        f.write('\n[livetape]\nsync-bandwidth-limit=%d\nmultipart-threshold=%d\n'
                'spool-keep-days=0\n' % (6 * MIB, 8 * MIB))

    S.spool_path = os.path.join(S.data_dir, 'spool', TARGET, BUCKET, *KEY.split('/'))
    os.makedirs(os.path.dirname(S.spool_path), exist_ok=True)
    data = os.urandom(SIZE)
    S.md5 = hashlib.md5(data).hexdigest()
    with open(S.spool_path, 'wb') as f:
        f.write(data)
    db = sqlite3.connect(os.path.join(S.data_dir, 'catalog.db'), timeout=10)
    with db:
        db.execute("INSERT INTO upload_outbox (target, bucket, object_key, local_path, kind, "
                   "size, created_at_us) VALUES (?, ?, ?, ?, 'file', ?, ?)",
                   (TARGET, BUCKET, KEY, S.spool_path, SIZE, int(time.time() * 1e6)))
    db.close()


def test_kill_mid_upload_and_resume():
    start_daemon()
    wait_for(lambda: catalog_int('SELECT count(*) FROM upload_parts') >= 2, 60,
             'two stored parts')
    S.daemon.kill()   # SIGKILL
    stored = catalog_int('SELECT count(*) FROM upload_parts')
    check(2 <= stored < N_PARTS, f'{stored} of {N_PARTS} parts stored at the kill')
    check(os.path.exists(S.spool_path), 'the spool copy went before the upload was done')
    check(catalog_int("SELECT count(*) FROM upload_outbox WHERE upload_id IS NOT NULL") == 1,
          'the multipart upload id is not in the catalog')
    uploads = s3().list_multipart_uploads(Bucket=BUCKET).get('Uploads', [])
    check(len(uploads) == 1, f'{len(uploads)} multipart uploads in the bucket at the kill')
    before = control('stats')['requests']

    start_daemon()
    wait_for(lambda: catalog_int("SELECT count(*) FROM upload_outbox "
                                 "WHERE state IN ('pending', 'uploading', 'failed')") == 0,
             90, 'the upload to finish')
    after = control('stats')['requests']
    # ListMultipartUploads (orphan sweep), ListParts, the parts not stored, Complete.
    sent = after - before
    emit(f'# {stored} of {N_PARTS} parts stored at the kill; {sent} requests after restart')
    check(sent <= 3 + (N_PARTS - stored),
          f'{sent} requests after the restart: stored parts were sent again')
    wait_for(lambda: not os.path.exists(S.spool_path), 30, 'the spool copy to be removed')
    code, _ = S.daemon.stop()
    check(code == 0, f'daemon exit status {code}')
    S.daemon = None

    client = s3()
    obj = client.get_object(Bucket=BUCKET, Key=KEY)
    body = obj['Body'].read()
    check(len(body) == SIZE, f'object size {len(body)}, not {SIZE}')
    check(hashlib.md5(body).hexdigest() == S.md5, 'the stored object differs from the file')
    check(obj['ETag'].strip('"').endswith(f'-{N_PARTS}'), f'ETag {obj["ETag"]}')
    uploads = client.list_multipart_uploads(Bucket=BUCKET).get('Uploads', [])
    check(uploads == [], f'orphaned multipart uploads left: {uploads}')


def test_record_to_s3():
    """A real recording (ffmpeg → nginx-rtmp → recorder) under a rule whose OssEndpoint names
    the S3 target: spooled under SPOOL/<target>/<bucket>, every slice, the playlist and the
    MP4 uploaded, their catalog rows 'uploaded', the objects equal to the spool copies (kept:
    default keep period)."""
    R.need_tools('ffmpeg', 'nginx')
    env = R.Env('lt-sync-e2e-')
    try:
        r = subprocess.run([taptest.LIVETAPE, '--data-dir', env.data_dir, '--add-storage-target',
                            TARGET, '--endpoint', S.endpoint, '--path-style',
                            '--access-key-id', S.key_id, '--bucket', BUCKET],
                           input=S.secret + '\n', capture_output=True, text=True,
                           env=taptest.env(), timeout=60)
        check(r.returncode == 0, f'--add-storage-target: {r.stderr!r}')
        media = os.path.join(env.data_dir, 'e2e.flv')
        R.make_media(media, 12)
        env.start()
        env.add_rule(app='s3rec', formats=('m3u8', 'mp4'), OssEndpoint=TARGET, OssBucket=BUCKET)
        pub = R.Publisher(env.port, 's3rec', 'e2e', media)
        R.wait_for(lambda: not pub.running(), 60, 'the publisher to finish')
        time.sleep(1)
        env.command('e2e', 'cancel_delay', app='s3rec')

        def uploaded():
            db = sqlite3.connect(f'file:{env.catalog_path}?mode=ro', uri=True, timeout=5)
            try:
                files = db.execute("SELECT count(*) FROM recording_files WHERE target = ? "
                                   "AND state = 'uploaded'", (TARGET,)).fetchone()[0]
                pending = db.execute("SELECT count(*) FROM upload_outbox "
                                     "WHERE state <> 'done'").fetchone()[0]
                return files == 2 and pending == 0
            finally:
                db.close()
        R.wait_for(uploaded, 90, 'the recording to be uploaded', interval=0.5)

        db = sqlite3.connect(env.catalog_path, timeout=5)
        rows = db.execute("SELECT object_key, local_path, state FROM slices WHERE target = ? "
                          "UNION ALL SELECT object_key, local_path, state FROM recording_files "
                          "WHERE target = ?", (TARGET, TARGET)).fetchall()
        db.close()
        spool = os.path.join(env.data_dir, 'spool', TARGET, BUCKET) + os.sep
        check(len(rows) >= 3, f'only {len(rows)} rows recorded')
        client = s3()
        for key, path, state in rows:
            check(state == 'uploaded', f'{key} is {state}')
            check(path.startswith(spool), f'{path} is not in the spool {spool}')
            with open(path, 'rb') as f:
                local = hashlib.md5(f.read()).hexdigest()
            body = client.get_object(Bucket=BUCKET, Key=key)['Body'].read()
            check(hashlib.md5(body).hexdigest() == local, f'{key} differs from its spool copy')
        emit(f'# {len(rows)} objects recorded to the S3 target and checked')
        env.stop()
    finally:
        env.cleanup()


def main():
    status = 1
    try:
        status = taptest.run_tests([test_setup, test_kill_mid_upload_and_resume,
                                    test_record_to_s3], emit)
    finally:
        R.kill_children()
        if S.daemon is not None:
            out = os.environ.get('LT_TEST_OUTPUT_DIR')
            if out:
                os.makedirs(out, exist_ok=True)
                with open(os.path.join(out, 'test-sync-crash-daemon.log'), 'w') as f:
                    f.write(S.daemon.text())
            S.daemon.kill()
        if S.server is not None:
            S.server.terminate()
            S.server.wait()
        if S.tmp is not None:
            shutil.rmtree(S.tmp, ignore_errors=True)
    return status


if __name__ == '__main__':
    sys.exit(main())

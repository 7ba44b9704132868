#!/usr/bin/env python3
# s3rver_fixture.py: s3rver (npm, pinned in tests/package-lock.json) on a free loopback port
# with a temporary data directory and one bucket, for Python tests, benches and by hand.
# s3rver has one fixed account: access key id and secret "S3RVER"; it does not check SigV4
# signatures (tests/integration/s3strict.py does, with botocore).
#
#   with S3rver(bucket='livetape-test') as s3:
#       s3.endpoint      # "http://127.0.0.1:PORT"
#
# By hand: tests/integration/s3rver_fixture.py [BUCKET] — prints the endpoint, runs until
# Ctrl-C. The s3rver command comes from $LT_NODE_BIN, else tests/node_modules/.bin.

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ACCESS_KEY_ID = SECRET = 'S3RVER'


def s3rver_command():
    node_bin = os.environ.get('LT_NODE_BIN') or os.path.join(os.path.dirname(HERE),
                                                             'node_modules', '.bin')
    path = os.path.join(node_bin, 's3rver')
    if not os.access(path, os.X_OK):
        raise RuntimeError('s3rver not found at %s: run `npm ci` in tests/ '
                           '(tools/lib/deps.sh does)' % path)
    return path


class S3rver:
    def __init__(self, bucket='livetape-test'):
        self.bucket = bucket
        self.dir = None
        self.proc = None
        self.endpoint = None

    def start(self):
        self.dir = tempfile.mkdtemp(prefix='lt-s3rver-')
        # Port 0: the kernel picks a free port; s3rver prints the one it got.
        self.proc = subprocess.Popen(
            [s3rver_command(), '-d', self.dir, '-a', '127.0.0.1', '-p', '0',
             '--configure-bucket', self.bucket, '--no-vhost-buckets'],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in self.proc.stdout:
            if 'listening on' in line:
                self.endpoint = 'http://127.0.0.1:%s' % line.strip().rsplit(':', 1)[1]
                return self
        self.stop()
        raise RuntimeError('s3rver exited before listening')

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == '__main__':
    with S3rver(sys.argv[1] if len(sys.argv) > 1 else 'livetape-test') as server:
        print('%s bucket=%s (s3rver\'s fixed account)' % (server.endpoint, server.bucket),
              flush=True)
        try:
            server.proc.wait()
        except KeyboardInterrupt:
            pass

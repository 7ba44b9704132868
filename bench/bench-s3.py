#!/usr/bin/env python3
# bench-s3.py: upload throughput of Livetape's S3 client (tests/lt-s3-bench, LtS3Client:
# 4 requests in flight, Content-MD5 on every request, multipart with 8 MiB parts above
# 64 MiB) against curl --aws-sigv4 doing the same uploads in one run (curl --parallel
# --parallel-max 4 for the many files, one PUT for the big file: curl has no multipart),
# both to the same loopback server, started fresh for every run.
#
#   (a) 1,000 files of 4 MB      (b) one 2 GB file
#
# Prints MB/s for each, the ratio ours/curl (target >= 0.9) and CPU seconds per GB of each
# client (user + system of the client process, from getrusage of children). The server's
# CPU per GB is printed too (from /proc): on a small machine it shares the cores with the
# client, so throughput follows client + server CPU per GB.
#
# Usage: bench/bench-s3.py [--build-dir _build] [--server strict|s3rver] [--runs 3]
#                          [--small-count 1000] [--small-mb 4] [--big-mb 2048]
#                          [--md5-known] [--only a|b] [--discard]
# Each client runs --runs times per case, alternating (ours, curl, ours, curl, ...), each
# run against a fresh server; the medians are reported, and the ratio is the median of the
# per-round ratios (a round's two runs share the machine's noise).
# Files live in /tmp (the free space is checked first; the sizes shrink, with a notice,
# when it is short). Runs on demand, not in CI. The strict server (no faults) is the
# default: it is the faster of the two on loopback, and s3rver's multipart ETag (the whole
# object's MD5 instead of md5-of-md5s-N) fails lt-s3-bench's check in case (b).

import argparse
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import cpu_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUCKET = 'bench'
REGION = 'us-east-1'


class Server:
    def __init__(self, kind, discard=False):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix='lt-bench-s3-server-', dir='/tmp')
        if kind == 'strict':
            self.key_id = 'LTBENCH' + secrets.token_hex(4).upper()
            self.secret = secrets.token_urlsafe(30)
            env = dict(os.environ, TMPDIR=self.dir)
            # --lenient-md5: curl sends no Content-MD5 (our client does, and it is still
            # checked when present).
            # --discard: bodies are received, hashed and checked but not written to disk.
            self.proc = subprocess.Popen(
                [sys.executable, os.path.join(ROOT, 'tests', 'integration', 's3strict.py'),
                 '--bucket', BUCKET, '--region', REGION, '--lenient-md5']
                + (['--discard'] if discard else []),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
            self.proc.stdin.write('%s %s\n' % (self.key_id, self.secret))
            self.proc.stdin.flush()
            line = self.proc.stdout.readline().split()
            assert line[0] == 'PORT', line
            self.port = int(line[1])
        else:
            self.key_id = self.secret = 'S3RVER'
            s3rver = os.path.join(ROOT, 'tests', 'node_modules', '.bin', 's3rver')
            self.proc = subprocess.Popen(
                [s3rver, '-d', self.dir, '-a', '127.0.0.1', '-p', '0', '--silent',
                 '--configure-bucket', BUCKET, '--no-vhost-buckets'],
                stdout=subprocess.PIPE, text=True)
            while True:
                line = self.proc.stdout.readline()
                if not line:
                    raise RuntimeError('s3rver did not start')
                if 'listening on' in line:
                    self.port = int(line.strip().rsplit(':', 1)[1])
                    break
        self.endpoint = 'http://127.0.0.1:%d' % self.port

    def cpu_seconds(self):
        """utime + stime of the server process so far (it runs on the same cores)."""
        try:
            with open('/proc/%d/stat' % self.proc.pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
        except (OSError, IndexError, ValueError):
            return float('nan')

    def stop(self):
        if self.kind == 'strict':
            self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


def run_child(argv, stdin_text=None, own_figures=False):
    """Runs argv; returns (wall seconds, cpu seconds of the child). With own_figures, the
    child's own "seconds=… cpu=…" (lt-s3-bench --md5-first: the hashing before its clock
    starts is left out)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = subprocess.run(argv, input=stdin_text, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit('bench-s3: %s failed (%d): %s' % (argv[0], result.returncode,
                                                   result.stderr[-2000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if own_figures:
        fields = dict(f.split('=') for f in result.stdout.split())
        return float(fields['seconds']), float(fields['cpu'])
    return wall, cpu


def ours(server, build_dir, files, prefix, md5_first=False):
    argv = [os.path.join(build_dir, 'tests', 'lt-s3-bench'), '--endpoint', server.endpoint,
            '--bucket', BUCKET, '--region', REGION, '--prefix', prefix,
            '--concurrency', '4', '--part-size', '8', '--multipart-threshold', '64']
    if md5_first:
        argv.append('--md5-first')
    return run_child(argv + files, '%s %s\n' % (server.key_id, server.secret),
                     own_figures=md5_first)


def curl(server, files, prefix, workdir):
    config = os.path.join(workdir, 'curl-%s.cfg' % prefix.strip('/'))
    with open(config, 'w') as f:
        # The credentials stay out of argv (and of this output): curl reads them here.
        f.write('user = "%s:%s"\n' % (server.key_id, server.secret))
        for path in files:
            f.write('upload-file = "%s"\nurl = "%s/%s/%s%s"\noutput = "/dev/null"\n'
                    % (path, server.endpoint, BUCKET, prefix, os.path.basename(path)))
    argv = ['curl', '--silent', '--show-error', '--fail', '--parallel', '--parallel-max', '4',
            '--aws-sigv4', 'aws:amz:%s:s3' % REGION,
            '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '-K', config]
    try:
        return run_child(argv)
    finally:
        os.unlink(config)


def make_files(directory, count, size):
    paths = []
    block = os.urandom(size)
    for i in range(count):
        path = os.path.join(directory, 'slice-%05d.ts' % i)
        with open(path, 'wb') as f:
            # Distinct contents per file, cheaply: a different 16-byte head on one random block.
            f.write(secrets.token_bytes(16))
            f.write(block[16:])
        paths.append(path)
    return paths


def make_big(path, size):
    chunk = os.urandom(8 * 1024 * 1024)
    with open(path, 'wb') as f:
        left = size
        while left > 0:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n
            chunk = chunk[1:] + chunk[:1]   # different parts, no repeated 8 MiB blocks
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--build-dir', default=os.path.join(ROOT, '_build'))
    parser.add_argument('--server', choices=['strict', 's3rver'], default='strict')
    parser.add_argument('--small-count', type=int, default=1000)
    parser.add_argument('--small-mb', type=int, default=4)
    parser.add_argument('--big-mb', type=int, default=2048)
    parser.add_argument('--runs', type=int, default=3,
                        help='runs of each client per case, alternating ours, curl, ours, '
                             'curl, ... (ABAB); medians are reported')
    parser.add_argument('--md5-known', action='store_true',
                        help='also run "ours, MD5 known" (lt-s3-bench --md5-first) each round')
    parser.add_argument('--only', choices=['a', 'b'], help='run one case only')
    parser.add_argument('--discard', action='store_true',
                        help='the strict server keeps no bodies (s3strict.py --discard): on a '
                             'small machine, writing the objects to its disk costs it more '
                             'CPU than the clients do, and varies with the page cache')
    args = parser.parse_args()
    if args.discard and args.server != 'strict':
        parser.error('--discard needs the strict server')

    mb = 1000 * 1000
    small_bytes = args.small_count * args.small_mb * mb
    big_bytes = args.big_mb * 1024 * 1024
    # Sources, plus one server copy at a time, plus a margin.
    need = (small_bytes + big_bytes) * 2 + 2 * 1024 ** 3
    free = shutil.disk_usage('/tmp').free
    if free < need:
        scale = free / need
        args.small_count = max(10, int(args.small_count * scale))
        args.big_mb = max(128, int(args.big_mb * scale))
        print('NOTE: /tmp has %.1f GB free, %.1f GB needed: scaled down to %d x %d MB and '
              'one %d MiB file' % (free / 1e9, need / 1e9, args.small_count, args.small_mb,
                                   args.big_mb))
        small_bytes = args.small_count * args.small_mb * mb
        big_bytes = args.big_mb * 1024 * 1024

    tools = ['ours', 'curl'] + (['ours-md5-known'] if args.md5_known else [])
    workdir = tempfile.mkdtemp(prefix='lt-bench-s3-', dir='/tmp')
    try:
        cases = []
        if args.only in (None, 'a'):
            small_dir = os.path.join(workdir, 'small')
            os.mkdir(small_dir)
            small = make_files(small_dir, args.small_count, args.small_mb * mb)
            cases.append(('(a) %d x %d MB' % (args.small_count, args.small_mb), small,
                          small_bytes))
        if args.only in (None, 'b'):
            big = [make_big(os.path.join(workdir, 'big.mp4'), big_bytes)]
            cases.append(('(b) 1 x %d MiB' % args.big_mb, big, big_bytes))

        rows = []
        for name, files, total in cases:
            runs = {tool: [] for tool in tools}
            for i in range(args.runs):
                # ABAB: both clients see the same stretch of machine noise, round by round.
                for tool in tools:
                    server = Server(args.server, args.discard)
                    server_cpu = float('nan')
                    try:
                        if tool == 'ours':
                            wall, cpu = ours(server, args.build_dir, files, 'ours/')
                        elif tool == 'ours-md5-known':
                            wall, cpu = ours(server, args.build_dir, files, 'ours2/', True)
                        else:
                            wall, cpu = curl(server, files, 'curl/', workdir)
                        server_cpu = server.cpu_seconds()
                    finally:
                        server.stop()
                    runs[tool].append((total / mb / wall, cpu / (total / 1e9),
                                       server_cpu / (total / 1e9)))
                    print('  %s run %d %-15s %7.1f MB/s %6.2f CPU s/GB (server %.2f)'
                          % (name, i + 1, tool, *runs[tool][-1]), file=sys.stderr, flush=True)
            rows.append((name, runs))

        print('S3 upload to a loopback %s server%s, 4 in flight (MB = 10^6 bytes); median of '
              '%d runs per client, run alternately (ABAB), a fresh server per run'
              % (args.server, ' keeping no bodies (--discard)' if args.discard else '',
                 args.runs))
        print('machine: %d cores, %s; %s' % (os.cpu_count(), cpu_model(), curl_version()))
        print('"ours" hashes every body (Content-MD5) in the run; "ours, MD5 known" is given '
              'the MD5s\n(as a recorder hashing while it writes would) and its clock and CPU '
              'start after hashing.\ncurl sends no Content-MD5 at all. ratio = median of the '
              'per-round ratios ours/curl.')
        print('%-18s %-16s %9s %7s %10s %7s %12s' % ('case', 'client', 'MB/s', 'ratio',
                                                      'CPU s/GB', 'cpu/c', 'server s/GB'))
        for name, runs in rows:
            curl_runs = runs['curl']
            for tool, label in (('ours', 'ours'), ('ours-md5-known', 'ours, MD5 known'),
                                ('curl', 'curl')):
                if tool not in runs:
                    continue
                r = runs[tool]
                ratio = statistics.median([a[0] / b[0] for a, b in zip(r, curl_runs)])
                cpu_ratio = statistics.median([a[1] / b[1] for a, b in zip(r, curl_runs)])
                print('%-18s %-16s %9.1f %7.2f %10.2f %7.2f %12.2f' % (
                    name, label, statistics.median([x[0] for x in r]), ratio,
                    statistics.median([x[1] for x in r]), cpu_ratio,
                    statistics.median([x[2] for x in r])))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def curl_version():
    try:
        return subprocess.run(['curl', '--version'], stdout=subprocess.PIPE,
                              text=True).stdout.split('\n')[0].split(' (')[0]
    except OSError:
        return 'curl ?'


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
# bench-callbacks.py: the callback queue (SPEC 4) on loopback. Runs _build/tests/lt-callback-bench
# --runs times (default 3) and prints the median of each figure:
#   latency   enqueue → arrival at a fast receiver, 1000 callbacks at 100/s over 10 streams
#             (target p95 < 1 s)
#   throughput  5000 callbacks queued at once, 1 stream and 50 streams, against the peer:
#             the same POSTs sent straight through libsoup, 32 in flight, nothing stored
#             (target ≥ 500/s)
#   dead      10,000 callbacks for a receiver that refuses connections, over 1, 100 and
#             10,000 streams: RSS, CPU while waiting 30 s, worst main-context delay
#
#   bench/bench-callbacks.py [--build _build] [--runs 3] [--count 5000]

import argparse
import os
import statistics
import subprocess
import sys

from benchlib import cpu_model

parser = argparse.ArgumentParser()
parser.add_argument('--build', default='_build')
parser.add_argument('--runs', type=int, default=3)
parser.add_argument('--count', type=int, default=5000)
parser.add_argument('--skip-dead', action='store_true')
args = parser.parse_args()

binary = os.path.join(args.build, 'tests', 'lt-callback-bench')
if not os.access(binary, os.X_OK):
    sys.exit(f'{binary} is missing: build {args.build} first (ninja -C {args.build})')


def run(*what):
    out = subprocess.run([binary, *what], check=True, capture_output=True, text=True).stdout
    figures = {}
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2:
            figures[parts[0]] = (float(parts[1]), parts[2] if len(parts) > 2 else '')
    return figures


print(f'# machine: {os.cpu_count()} cores, {cpu_model()}')
print(f'# libsoup: {subprocess.run(["pkg-config", "--modversion", "libsoup-3.0"], capture_output=True, text=True).stdout.strip()}, '
      f'sqlite: {subprocess.run(["pkg-config", "--modversion", "sqlite3"], capture_output=True, text=True).stdout.strip()}')

jobs = [('latency',), ('throughput', str(args.count))]
if not args.skip_dead:
    jobs += [('dead', '1'), ('dead', '100'), ('dead', '10000')]

results = {}
for job in jobs:
    for i in range(args.runs):
        print(f'# run {i + 1}/{args.runs}: {" ".join(job)}', file=sys.stderr)
        for name, (value, unit) in run(*job).items():
            results.setdefault(name, ([], unit))[0].append(value)

for name, (values, unit) in results.items():
    print(f'{name:45s} {statistics.median(values):10.3f} {unit}')

if 'peer_direct_libsoup' in results:
    peer = statistics.median(results['peer_direct_libsoup'][0])
    for name in ('throughput_1_stream', 'throughput_50_streams'):
        if name in results:
            own = statistics.median(results[name][0])
            print(f'{name + " / peer":45s} {own / peer:10.3f} livetape/peer')

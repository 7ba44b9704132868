#!/usr/bin/env python3
# bench-timeline.py: the timeline's performance figures (issue 5) on a big synthetic catalog.
#
#   bench/bench-timeline.py [--build _build] [--work /tmp/livetape-bench-timeline]
#                           [--runs 30] [--cold-runs 5] [--days 90] [--streams 50]
#                           [--stream-days 7] [--reuse] [--keep] [--skip-api] [--skip-gui]
#
# 1. generate: `tests/lt-timeline-bench generate` makes WORK/data/catalog.db with the real
#    schema (LtCatalog runs the migrations) and fills it: one stream recorded for 90 days of
#    6-second TS slices (~1.2 million rows) and 50 streams for the last 7 days (~4.8 million
#    more), written in time order across the streams, as concurrent recorders would.
# 2. core: `tests/lt-timeline-bench core` times the real async calls (call → callback on the
#    main context): lt_timeline_query_coverage (4 days at several places; cold = the catalog
#    file dropped from the OS page cache and a new LtCatalog, warm = median/p95 of --runs),
#    lt_timeline_query_daily (90 days, 51 streams), lt_timeline_query_slices,
#    lt_timeline_list_streams, lt_index_files_create (24 h, ~14,400 slices) and _list.
# 3. peer: the same questions asked of the same file by the plain `sqlite3` CLI (`.timer on`):
#    ranges by a window-function query over the slices index, the 24-hour playlist as text
#    written with `.once`, the per-day sums. That is the floor of what SQLite does alone.
# 4. api: `livetape --headless --data-dir WORK/data` (an access key made with
#    `--create-access-key`), the signed HTTP round trips of DescribeLiveStreamRecordContent,
#    CreateLiveStreamRecordIndexFiles, DescribeLiveStreamRecordIndexFiles and
#    DescribeLiveDomainRecordData (tests/integration/api_client.py), and the daemon's start.
# 5. gui: `tests/lt-timeline-gui-bench` (when built): the LtTimelineView's snapshot at each
#    zoom level with the model filled from the real queries, and the Timeline page's open.
#
# The access key needs a Secret Service and the GUI an X display: unless it already runs
# inside one (LT_BENCH_SESSION=1), the script re-runs itself under
# tools/lib/test-session.sh --xvfb --bus --isolate. WORK is removed at the end unless --keep.

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

from benchlib import cpu_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOMAIN = 'bench.example.com'
APP = 'live'
DAY_US = 86400 * 1000000

# name → (target in ms, what it is)
TARGETS = {
    'coverage': 20.0,
    'index_create': 100.0,
    'snapshot': 8.0,
    'page_open': 300.0,
}


def parse_args():
    p = argparse.ArgumentParser(description='The timeline on a big synthetic catalog.')
    p.add_argument('--build', default=os.environ.get('BUILD', os.path.join(ROOT, '_build')))
    p.add_argument('--work', default=os.path.join(os.environ.get('TMPDIR', '/tmp'),
                                                  'livetape-bench-timeline'))
    p.add_argument('--runs', type=int, default=30)
    p.add_argument('--cold-runs', type=int, default=5)
    p.add_argument('--days', type=int, default=90)
    p.add_argument('--streams', type=int, default=50)
    p.add_argument('--stream-days', type=int, default=7)
    p.add_argument('--api-runs', type=int, default=20)
    p.add_argument('--reuse', action='store_true',
                   help='use WORK/data/catalog.db if it exists instead of generating it')
    p.add_argument('--keep', action='store_true', help='keep WORK (the catalog) at the end')
    p.add_argument('--skip-api', action='store_true')
    p.add_argument('--skip-gui', action='store_true')
    return p.parse_args()


def reexec_in_session():
    if os.environ.get('LT_BENCH_SESSION') == '1':
        return
    session = os.path.join(ROOT, 'tools', 'lib', 'test-session.sh')
    os.execvp(session, [session, '--xvfb', '--bus', '--isolate', '--', 'env',
                        'LT_BENCH_SESSION=1', sys.executable, os.path.abspath(__file__),
                        *sys.argv[1:]])


def run_figures(cmd, env=None):
    """Runs a bench executable; its "name value unit" lines as {name: (value, unit)}."""
    print(f'# $ {" ".join(cmd)}', file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    figures = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            try:
                figures[parts[0]] = (float(parts[1]), parts[2] if len(parts) > 2 else '')
            except ValueError:
                pass
    return figures


# Output -----------------------------------------------------------------------------------

ROWS = []


def row(what, value_ms, target=None, peer=None, peer_name=None, note=''):
    verdict = ''
    if target is not None and value_ms is not None:
        verdict = 'PASS' if value_ms < target else 'MISS'
    ratio = f'{value_ms / peer:.2f}' if peer and value_ms is not None else ''
    ROWS.append((what, value_ms, target, verdict, peer, peer_name, ratio, note))
    v = f'{value_ms:9.2f} ms' if value_ms is not None else '        – '
    t = f'< {target:g} ms' if target is not None else ''
    p = f'{peer:8.2f} ms ({peer_name})' if peer else ''
    print(f'{what:58s} {v}  {t:10s} {verdict:4s}  {p:32s} {ratio:>6s} {note}', flush=True)


def fig(figures, name):
    value = figures.get(name)
    return value[0] if value else None


# sqlite3 CLI: the peer ---------------------------------------------------------------------

def sqlite_cli_times(db, sql, runs):
    """Real seconds of each run of @sql in one `sqlite3` session (.timer on), in ms."""
    script = '.timer on\n' + ''.join(sql.rstrip(';') + ';\n' for _ in range(runs + 1))
    out = subprocess.run(['sqlite3', db], input=script, capture_output=True, text=True,
                         check=True).stdout
    times = [float(m.group(1)) * 1000 for m in re.finditer(r'Run Time: real ([0-9.]+)', out)]
    return times[1:]   # the first warms the cache


def p50(values):
    return statistics.median(values) if values else None


# The control API ----------------------------------------------------------------------------

def api_figures(args, data_dir, window):
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))
    import api_client  # noqa: E402
    import taptest  # noqa: E402

    r = taptest.run('--data-dir', data_dir, '--create-access-key', timeout=300)
    if r.returncode != 0:
        sys.exit(f'--create-access-key failed: {r.stderr}')
    key = json.loads(r.stdout)
    t0 = time.monotonic()
    daemon = taptest.Daemon('--data-dir', data_dir, '--api-listen', '127.0.0.1:0')
    out = {}
    try:
        host, port = daemon.wait_ready(timeout=300)
        out['daemon_ready'] = (time.monotonic() - t0) * 1000
        time.sleep(2)   # let the start-up work (retention, recovery) settle
        # No pacing inside the timed call: the bench sleeps between calls itself (the server
        # allows 30 requests per second per key).
        client = api_client.Client(f'http://{host}:{port}', key['AccessKeyId'],
                                   key['AccessKeySecret'], rate=None, timeout=60)

        def stamp(us):
            return datetime.fromtimestamp(us / 1e6, timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')

        def timed(name, action, params, runs=args.api_runs, expect=200):
            times = []
            for _ in range(runs + 1):
                time.sleep(0.1)
                t = time.monotonic()
                reply = client.call(action, params)
                times.append((time.monotonic() - t) * 1000)
                if reply.status != expect:
                    sys.exit(f'{action}: {reply}')
            times = sorted(times[1:])
            out[name] = (statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))],
                         reply)

        first, last = window
        stream = {'DomainName': DOMAIN, 'AppName': APP, 'StreamName': 'big'}
        timed('api_content_4d_last', 'DescribeLiveStreamRecordContent',
              dict(stream, StartTime=stamp(last - 4 * DAY_US), EndTime=stamp(last)))
        timed('api_content_4d_day30', 'DescribeLiveStreamRecordContent',
              dict(stream, StartTime=stamp(first + 30 * DAY_US),
                   EndTime=stamp(first + 34 * DAY_US)))
        late = (last // 1000000 - 2 * 86400) * 1000000
        timed('api_index_create_24h', 'CreateLiveStreamRecordIndexFiles',
              dict(stream, StartTime=stamp(late), EndTime=stamp(late + DAY_US),
                   OssEndpoint='local', OssBucket='bench'), runs=max(5, args.api_runs // 2))
        timed('api_index_list', 'DescribeLiveStreamRecordIndexFiles',
              dict(stream, StartTime=stamp(last - 4 * DAY_US), EndTime=stamp(last),
                   PageSize='30'))
        timed('api_domain_data_90d', 'DescribeLiveDomainRecordData',
              {'DomainName': DOMAIN, 'StartTime': stamp(last - 90 * DAY_US + 3600 * 1000000),
               'EndTime': stamp(last)}, runs=3)
        # What a signed request costs with no catalog work: an unknown stream.
        timed('api_content_unknown', 'DescribeLiveStreamRecordContent',
              {'DomainName': DOMAIN, 'AppName': APP, 'StreamName': 'nobody',
               'StartTime': stamp(last - 4 * DAY_US), 'EndTime': stamp(last)})
    finally:
        code, _ = daemon.stop(timeout=60)
    return out


# Main ---------------------------------------------------------------------------------------

def main():
    args = parse_args()
    reexec_in_session()
    build = os.path.abspath(args.build)
    bench = os.path.join(build, 'tests', 'lt-timeline-bench')
    gui_bench = os.path.join(build, 'tests', 'lt-timeline-gui-bench')
    livetape = os.path.join(build, 'src', 'livetape')
    if not os.access(bench, os.X_OK):
        sys.exit(f'{bench} is missing: build {args.build} first (ninja -C {args.build})')
    os.environ['LT_LIVETAPE'] = livetape
    os.environ['LT_BUILD_ROOT'] = build
    os.environ.setdefault('GSETTINGS_BACKEND', 'memory')
    os.environ.setdefault('GSETTINGS_SCHEMA_DIR', os.path.join(build, 'data'))

    free = shutil.disk_usage(os.path.dirname(os.path.abspath(args.work)) or '/').free
    if free < 4e9:
        sys.exit(f'only {free / 1e9:.1f} GB free for {args.work}: the catalog takes about 2 GB')
    data = os.path.join(args.work, 'data')
    db = os.path.join(data, 'catalog.db')

    print(f'# bench-timeline: {datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}')
    print(f'# machine: {os.cpu_count()} cores, {cpu_model()}; load average '
          f'{os.getloadavg()[0]:.2f} at start; sqlite '
          f'{subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]}, '
          f'gtk {subprocess.run(["pkg-config", "--modversion", "gtk4"], capture_output=True, text=True).stdout.strip()}')
    try:
        if not (args.reuse and os.path.exists(db)):
            shutil.rmtree(args.work, ignore_errors=True)
            os.makedirs(data)
            gen = run_figures([bench, 'generate', data, '--days', str(args.days),
                               '--streams', str(args.streams),
                               '--stream-days', str(args.stream_days)])
            print(f'# catalog: {gen["generate_slices"][0]:.0f} slices, '
                  f'{gen["generate_sessions"][0]:.0f} sessions, {gen["catalog_size"][0]:.0f} MB, '
                  f'generated in {gen["generate_seconds"][0]:.1f} s (LtCatalog migrations + '
                  f'prepared INSERTs, one transaction per 6 hours of media)', flush=True)
        with sqlite3.connect(f'file:{db}?mode=ro', uri=True) as c:
            big = c.execute("SELECT id FROM streams WHERE stream = 'big'").fetchone()[0]
            first, last = c.execute('SELECT min(start_time_us), max(start_time_us) FROM slices '
                                    'WHERE stream_id = ?', (big,)).fetchone()
            n_big, = c.execute('SELECT count(*) FROM slices WHERE stream_id = ?', (big,)).fetchone()
            n_all, = c.execute('SELECT count(*) FROM slices').fetchone()
            n_streams, = c.execute('SELECT count(*) FROM streams').fetchone()
        print(f'# {db}: {n_all} slices in {n_streams} streams; "big": {n_big} slices over '
              f'{(last - first) / DAY_US:.1f} days', flush=True)

        print(f'# load average before the core figures: {os.getloadavg()[0]:.2f}', flush=True)
        core = run_figures([bench, 'core', data, '--runs', str(args.runs),
                            '--cold-runs', str(args.cold_runs)])

        # The peer: the plain sqlite3 CLI on the same file.
        # The floor: one pass over the same rows of the covering index, nothing merged.
        ranges_sql = ('SELECT count(*), sum(duration_us) FROM slices WHERE stream_id = {s} AND '
                      'start_time_us >= {a} AND start_time_us < {b}')
        # Gaps and islands in SQL (a window function): the ranges computed by SQLite alone.
        islands_sql = ('SELECT count(*), sum(d) FROM (SELECT duration_us AS d, start_time_us - '
                       'lag(start_time_us + duration_us) OVER (ORDER BY start_time_us) AS gap '
                       'FROM slices WHERE stream_id = {s} AND start_time_us >= {a} AND '
                       'start_time_us < {b}) WHERE gap IS NULL OR gap > 1500000')
        late = (last // 1000000 - 2 * 86400) * 1000000
        playlist = os.path.join(args.work, 'peer.m3u8')
        playlist_sql = (f".once {playlist}\n"
                        "SELECT '#EXTINF:' || printf('%.3f', duration_us / 1e6) || ',' || char(10) "
                        "|| object_key FROM slices WHERE stream_id = {s} AND start_time_us >= {a} "
                        "AND start_time_us < {b} AND state IN ('closed', 'uploaded') "
                        "ORDER BY start_time_us")
        daily_sql = ("SELECT count(*), sum(duration_us) FROM slices WHERE "
                     "stream_id IN (SELECT id FROM streams WHERE domain = '" + DOMAIN + "') AND "
                     "start_time_us >= {a} AND start_time_us < {b}")
        runs = max(5, args.runs // 3)
        peer = {
            'coverage_4d_last': p50(sqlite_cli_times(db, ranges_sql.format(
                s=big, a=last - 4 * DAY_US, b=last), runs)),
            'coverage_4d_day30': p50(sqlite_cli_times(db, ranges_sql.format(
                s=big, a=first + 30 * DAY_US, b=first + 34 * DAY_US), runs)),
            'islands_4d_last': p50(sqlite_cli_times(db, islands_sql.format(
                s=big, a=last - 4 * DAY_US, b=last), 3)),
            'index_create_24h_last': p50(sqlite_cli_times(db, playlist_sql.format(
                s=big, a=late, b=late + DAY_US), runs)),
            'daily_90d': p50(sqlite_cli_times(db, daily_sql.format(
                a=last - 90 * DAY_US, b=last), 3)),
        }

        print()
        print(f'{"figure":58s} {"livetape":>12s}  {"target":10s} {"":4s}  '
              f'{"peer (sqlite3 CLI)":32s} {"ratio":>6s}')
        print(f'# catalog open (a new LtCatalog, OS cache dropped): '
              f'{fig(core, "catalog_open_cold_p50"):.1f} ms')
        for pos in ('day00', 'day30', 'day60', 'last'):
            name = f'coverage_4d_{pos}'
            if f'{name}_warm_p50' not in core:
                continue
            p = peer.get(name)
            where = 'last 4 days, 50 other streams interleaved' if pos == 'last' else \
                f'days {pos[3:]}–{int(pos[3:]) + 4}'
            n = fig(core, f'{name}_count')
            row(f'RecordContent 4 d ({where}) warm p50', fig(core, f'{name}_warm_p50'),
                TARGETS['coverage'], p, 'index scan',
                f'{n:.0f} ranges; cpu {fig(core, name + "_warm_cpu_p50"):.1f} ms')
            row('  … warm p95', fig(core, f'{name}_warm_p95'), TARGETS['coverage'])
            row('  … CPU of the call (load-independent) p50', fig(core, f'{name}_warm_cpu_p50'),
                TARGETS['coverage'], note=f'p95 {fig(core, name + "_warm_cpu_p95"):.1f} ms')
            row('  … cold (OS cache dropped, new LtCatalog) p50', fig(core, f'{name}_cold_p50'))
        row('  gaps and islands of the last 4 d in SQL alone (window function)',
            peer['islands_4d_last'], None, fig(core, 'coverage_4d_last_warm_p50'), 'livetape')
        row('RecordContent 4 d, a 7-day stream, warm p50',
            fig(core, 'coverage_4d_small_stream_warm_p50'), TARGETS['coverage'],
            note=f'cpu {fig(core, "coverage_4d_small_stream_warm_cpu_p50"):.1f} ms')
        row('RecordContent 1 h, warm p50', fig(core, 'coverage_1h_warm_p50'), TARGETS['coverage'])
        row('coverage 35 d (the widest timeline view), warm p50', fig(core, 'coverage_35d_warm_p50'),
            None, note=f'{fig(core, "coverage_35d_count"):.0f} ranges; '
            f'cpu {fig(core, "coverage_35d_warm_cpu_p50"):.1f} ms')
        row('slices of 3 h (slice zoom), warm p50', fig(core, 'slices_3h_warm_p50'), None,
            note=f'{fig(core, "slices_3h_count"):.0f} slices')
        row('list streams (51), warm p50', fig(core, 'list_streams_warm_p50'))
        row('  … cold p50', fig(core, 'list_streams_cold_p50'))
        for pos, label in (('early', 'day 10, stream alone'), ('last', '2 days ago, interleaved')):
            name = f'index_create_24h_{pos}'
            row(f'CreateIndexFiles 24 h ({label}) warm p50', fig(core, f'{name}_warm_p50'),
                TARGETS['index_create'], peer.get(name), '.once text',
                f'{fig(core, f"{name}_count") / 6:.0f} slices; '
                f'cpu {fig(core, name + "_warm_cpu_p50"):.1f} ms')
            row('  … warm p95', fig(core, f'{name}_warm_p95'), TARGETS['index_create'])
            row('  … CPU of the call (load-independent) p50', fig(core, f'{name}_warm_cpu_p50'),
                TARGETS['index_create'], note=f'p95 {fig(core, name + "_warm_cpu_p95"):.1f} ms')
            row('  … cold p50', fig(core, f'{name}_cold_p50'))
        row('DescribeIndexFiles (list, page of 30), warm p50', fig(core, 'index_list_warm_p50'))
        row('DomainRecordData 90 d, 51 streams, warm p50', fig(core, 'daily_90d_51_streams_warm_p50'),
            None, peer.get('daily_90d'), 'index scan',
            f'cpu {fig(core, "daily_90d_51_streams_warm_cpu_p50"):.0f} ms')
        row('DomainRecordData 7 d, 51 streams, warm p50', fig(core, 'daily_7d_51_streams_warm_p50'))

        if not args.skip_api:
            print(f'# load average before the API figures: {os.getloadavg()[0]:.2f}', flush=True)
            api = api_figures(args, data, (first, last))
            print()
            print('# the control API: signed HTTP round trips from Python (urllib) to '
                  '`livetape --headless` on loopback, median (p95) of '
                  f'{args.api_runs}; in-process figure beside it')
            print(f'# daemon start on this catalog until the API listens: {api["daemon_ready"]:.0f} ms')
            for name, core_name, target in (
                    ('api_content_4d_last', 'coverage_4d_last_warm_p50', TARGETS['coverage']),
                    ('api_content_4d_day30', 'coverage_4d_day30_warm_p50', TARGETS['coverage']),
                    ('api_index_create_24h', 'index_create_24h_last_warm_p50', TARGETS['index_create']),
                    ('api_index_list', 'index_list_warm_p50', None),
                    ('api_domain_data_90d', 'daily_90d_51_streams_warm_p50', None),
                    ('api_content_unknown', None, None)):
                median, p95, _ = api[name]
                inproc = fig(core, core_name) if core_name else None
                row(f'{name} p50 (p95 {p95:.1f})', median, target, inproc,
                    'in-process' if inproc else None)

        if not args.skip_gui:
            print()
            if os.access(gui_bench, os.X_OK):
                print(f'# load average before the GUI figures: {os.getloadavg()[0]:.2f}', flush=True)
                gui = run_figures([gui_bench, data, '--runs', str(args.runs)],
                                  env=dict(os.environ, GSK_RENDERER='cairo', GDK_DEBUG='gl-disable',
                                           NO_AT_BRIDGE='1', GTK_A11Y='test'))
                print('# LtTimelineView 1200×240 under Xvfb (GSK_RENDERER=cairo), model filled '
                      'by the real queries; snapshot = gtk_widget_snapshot_child of the view '
                      'after queue_draw, panning 1 % between runs; frame = the window\'s paint '
                      'phase (before-paint → after-paint)')
                for level in ('month', 'week', 'day', 'hour', 'slices'):
                    name = f'snapshot_{level}'
                    if f'{name}_p50' in gui:
                        row(f'view snapshot, {level} zoom, p50', fig(gui, f'{name}_p50'),
                            TARGETS['snapshot'],
                            note=f'p95 {fig(gui, name + "_p95"):.2f} ms; '
                            f'{fig(gui, name + "_ranges"):.0f} ranges, '
                            f'{fig(gui, name + "_slices"):.0f} slices')
                        row(f'  … whole frame, {level} zoom, p50 (p95)', fig(gui, f'frame_{level}_p50'),
                            TARGETS['snapshot'], note=f'p95 {fig(gui, f"frame_{level}_p95"):.2f} ms')
                print('# the Timeline page in a 1280×800 window on an LtEngine of the catalog')
                for name, label, target in (
                        ('page_open', 'page open: set_engine → first frame with big\'s ranges', TARGETS['page_open']),
                        ('page_open_cpu', '  … CPU of the process meanwhile', TARGETS['page_open']),
                        ('page_open_cold', '  … OS cache dropped (first run)', TARGETS['page_open']),
                        ('page_listed', '  … streams listed', None),
                        ('page_select', '  … pick big → first frame with its ranges', TARGETS['page_open']),
                        ('page_select_ranges', '  … pick big → ranges in the model', None),
                        ('page_first_frame', '  … that first frame itself (update+layout+paint)', None),
                        ('page_select_idle', '  … pick big → every load of the page done', None)):
                    if f'{name}_p50' in gui:
                        row(f'{label}, p50', fig(gui, f'{name}_p50'), target,
                            note=f'max {fig(gui, name + "_max"):.0f} ms')
            else:
                print(f'# {gui_bench} is not built: no GUI figures')
    finally:
        if args.keep:
            print(f'# kept {args.work}')
        else:
            shutil.rmtree(args.work, ignore_errors=True)


if __name__ == '__main__':
    main()

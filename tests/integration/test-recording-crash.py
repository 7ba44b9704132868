#!/usr/bin/env python3
# test-recording-crash.py: recording survives a crash and a full disk (issue 3, SPEC
# section 3), with real parts only: `livetape --headless` and its nginx-rtmp, ffmpeg
# publishing a generated H.264/AAC FLV in real time, a rule added through the API
# (m3u8 with 5 s slices + mp4 + flv), results checked with ffprobe and SQL.
#   - kill -9 of the daemon at 20 random moments (while recording, across slice
#     boundaries, in the merge window, while closing), each followed by a restart: after
#     every restart and at the end, every slice file the catalog or a playlist names is
#     catalogued exactly once and decodes from a keyframe, every playlist ends with
#     ENDLIST and lists exactly its catalogued slices, every MP4/FLV probes and decodes
#     under its final name, and PRAGMA integrity_check is ok.
#   - disk full: the daemon runs under strace, which fails one writev of a slice file
#     with ENOSPC (-P restricts the injection to the exact paths given, so the slice
#     object names are made predictable with {UnixTimestamp} and every second of the next
#     two minutes is listed); RecordState must say DiskFull within 2 s, the slices before
#     stay intact and the recording resumes by itself.
#
# Needs the session bus and unlocked keyring that tools/test provides.

import os
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recordlib as R  # noqa: E402
from recordlib import APP, check, expect_ok, note  # noqa: E402
from taptest import run_tests  # noqa: E402

INJECT_AT = 8          # the 8th writev to a slice file fails


class State:
    env = None
    media = None
    figures = {}
    checked_av = set()
    reported = set()


S = State()


def publish(stream, query=None):
    return R.Publisher(S.env.port, APP, stream, S.media, query)


def wait_recovered(timeout=10):
    """After a restart: no file still open and no session still running (nothing
    publishes, so everything a crash left must have been finished)."""
    def done():
        rows = S.env.query("SELECT (SELECT count(*) FROM recording_files WHERE state = 'open') AS f, "
                           "(SELECT count(*) FROM sessions WHERE state IN ('recording', 'paused')) AS s")
        return rows[0]['f'] == 0 and rows[0]['s'] == 0
    t0 = time.monotonic()
    R.wait_for(done, timeout, 'recovery to finish every open file and session')
    return time.monotonic() - t0


def walk(root):
    out = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            out.setdefault(os.path.splitext(name)[1], []).append(path)
    return out


def check_consistency(what, problems):
    """The invariants of a catalog and storage folder after a crash and recovery. A broken
    invariant is added to @problems (once per file) so that the kill loop goes on and the
    report covers every kill point; the caller fails on them. Returns a few counts."""
    env = S.env

    def item(key, fn, *args):
        if key in S.reported:
            return
        try:
            fn(*args)
        except AssertionError as e:
            S.reported.add(key)
            problems.append(f'{what}: {e}')

    def expect(cond, key, message):
        if not cond and key not in S.reported:
            S.reported.add(key)
            problems.append(f'{what}: {message}')
        return cond

    integrity = env.query('PRAGMA integrity_check')
    expect(integrity == [{'integrity_check': 'ok'}], ('integrity', what), f'integrity_check {integrity}')
    dups = env.query('SELECT recording_file_id, sequence, count(*) AS n FROM slices '
                     'GROUP BY recording_file_id, sequence HAVING n > 1')
    expect(not dups, ('dups', str(dups)), f'slices catalogued twice: {dups}')
    dups = env.query('SELECT local_path, count(*) AS n FROM slices WHERE local_path IS NOT NULL '
                     'GROUP BY local_path HAVING n > 1')
    expect(not dups, ('dup paths', str(dups)), f'slice files catalogued twice: {dups}')
    unfinished = env.query("SELECT id, format, sequence, state FROM recording_files WHERE state = 'open'")
    expect(not unfinished, ('open', str(unfinished)), f'files still open: {unfinished}')

    slices = env.query('SELECT * FROM slices ORDER BY id')
    files = env.query('SELECT * FROM recording_files ORDER BY id')
    by_path = {}
    for s in slices:
        by_path.setdefault(s['local_path'], []).append(s)
    files_by_path = {}
    for f in files:
        files_by_path.setdefault(f['local_path'], []).append(f)
    disk = walk(env.bucket_dir) if os.path.isdir(env.bucket_dir) else {}

    # Playlists: each is a closed file of the catalog, finished, listing its slices.
    named = set()

    def check_playlist(path):
        rows = files_by_path.get(path, [])
        check(len(rows) == 1 and rows[0]['format'] == 'm3u8',
              f'playlist {path} is catalogued {len(rows)} times')
        check(rows[0]['state'] in ('closed', 'uploaded'), f'{path}: state {rows[0]["state"]}')
        pl = R.parse_playlist(path)
        named.update(s['path'] for s in pl['segments'])
        check(pl['endlist'], f'{path} has no ENDLIST:\n{pl["text"]}')
        catalogued = env.slices(recording_file_id=rows[0]['id'])
        check([s['path'] for s in pl['segments']] == [s['local_path'] for s in catalogued],
              f'{path} lists {[s["uri"] for s in pl["segments"]]}, the catalog '
              f'{[s["object_key"] for s in catalogued]}')
    for path in disk.get('.m3u8', []):
        item(path, check_playlist, path)
    named.update(p for p in by_path if p)

    # Slices: every named one is on disk, catalogued exactly once, and plays.
    lost = []

    def check_named_slice(path):
        rows = by_path.get(path, [])
        check(len(rows) == 1, f'slice {path} is catalogued {len(rows)} times')
        if rows[0]['state'] == 'lost':
            lost.append(path)
            return
        R.check_slice_file(rows[0], f'slice {rows[0]["sequence"]} of file {rows[0]["recording_file_id"]}')
    for path in sorted(named):
        item(path, check_named_slice, path)
    orphans = [p for p in disk.get('.ts', []) if p not in named]

    # MP4 and FLV: every one on disk is a closed file of the catalog under its final name,
    # probes with its catalogued duration and decodes.
    def check_av(path, ext):
        rows = files_by_path.get(path, [])
        check(len(rows) == 1 and rows[0]['format'] == ext[1:],
              f'{path} ({os.path.getsize(path)} bytes) is catalogued {len(rows)} times')
        f = rows[0]
        check(f['state'] in ('closed', 'uploaded'), f'{path}: state {f["state"]}')
        st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns)
        if key in S.checked_av:
            return
        check(st.st_size == f['size'], f'{path} is {st.st_size} bytes, catalog {f["size"]}')
        p = R.probe_format(path)
        check('h264' in p['codecs'] and 'aac' in p['codecs'], f'{path}: codecs {p["codecs"]}')
        check(p['duration'] is not None and abs(p['duration'] - f['duration_us'] / 1e6) <= 0.5,
              f'{path}: ffprobe {p["duration"]} s, catalog {f["duration_us"] / 1e6} s')
        ok, err = R.decodes(path)
        check(ok, f'{path} does not decode: {err}')
        if ext == '.flv':
            meta = R.flv_metadata_duration(path)
            check(meta is not None and abs(meta - f['duration_us'] / 1e6) <= 0.5,
                  f'{path}: onMetaData duration {meta}, catalog {f["duration_us"] / 1e6}')
        m = re.search(r'_(\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)_(\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)\.', path)
        check(m and m[1] != m[2] or f['duration_us'] < 1e6,
              f'{path} still has its open name (EndTime = StartTime)')
        S.checked_av.add(key)
    for ext in ('.mp4', '.flv'):
        for path in disk.get(ext, []):
            item(path, check_av, path, ext)
    # Catalogued closed files exist.
    for f in files:
        if f['state'] in ('closed', 'uploaded') and f['local_path']:
            expect(os.path.exists(f['local_path']), ('missing', f['local_path']),
                   f'{f["format"]} #{f["sequence"]} {f["local_path"]} is missing')
    others = {ext: paths for ext, paths in disk.items() if ext not in ('.ts', '.m3u8', '.mp4', '.flv')}
    # Closed rows of files that never got any content (a playlist killed before its
    # first slice closed): not a broken invariant, but counted for the report.
    phantoms = [f for f in files if f['state'] != 'open' and not f['local_path']]
    return {'slices': len(slices), 'lost': len(lost), 'orphans': orphans, 'others': others,
            'files': len(files), 'phantoms': phantoms}


# Kill windows while live, seconds after the publisher starts. Recording starts ~1.3 s
# after it (connect, on_publish, the first keyframe), so the first 5 s slice closes at
# ~6.3 s and the second at ~11.3 s: (window, number of kills) with most of them around
# the slice closes (the playlist update, the catalog rows, the next slice's open).
LIVE_WINDOWS = [((0.2, 1.3), 1),     # before the first keyframe
                ((1.3, 2.4), 2),     # files just opened, nothing flushed yet
                ((2.4, 5.5), 1),     # inside the first slice
                ((5.5, 7.5), 5),     # around the first slice's close
                ((7.5, 10.5), 2),    # inside the second slice
                ((10.5, 12.5), 3)]   # around the second slice's close


def kill_plan():
    """(mode, seconds): kills while live at random moments in LIVE_WINDOWS, three in the
    merge window after an unpublish and three right after cancel_delay while the files
    close; in random order."""
    plan = []
    for (low, high), n in LIVE_WINDOWS:
        plan += [('live', random.uniform(low, high)) for _ in range(n)]
    plan += [('paused', random.uniform(0.0, 1.0)) for _ in range(3)]
    plan += [('closing', random.uniform(0.0, 0.3)) for _ in range(3)]
    random.shuffle(plan)
    return plan


# Tests ----------------------------------------------------------------------------------

def test_setup():
    R.need_tools('ffmpeg', 'ffprobe', 'nginx', 'strace')
    S.env = R.Env('livetape-crash-')
    S.media = os.path.join(S.env.data_dir, 'h264.flv')
    R.make_media(S.media, 40)
    S.env.start()
    S.env.add_rule()
    # Predictable slice names for the disk-full case (strace -P takes exact paths).
    S.env.add_rule(stream='full', formats=('m3u8', 'flv'),
                   **{'RecordFormat.1.SliceOssObjectPrefix': 'full/{UnixTimestamp}'})


def test_kill_points():
    env = S.env
    seed = int(os.environ.get('LT_TEST_SEED', time.time()))
    random.seed(seed)
    plan = kill_plan()
    check(len(plan) == 20, f'{len(plan)} kill points')
    note(f'seed {seed}; kill plan {[(m, round(d, 2)) for m, d in plan]}')
    t_loop = time.monotonic()
    recover_times = []
    start_times = []
    added = []
    closed_at_kill = []
    problems = []

    def restart_and_check(what):
        start_times.append(env.start())
        try:
            recover_times.append(wait_recovered())
        except AssertionError as e:
            problems.append(f'{what}: {e}')
        before = S.figures.pop('before_kill', None)
        counts = check_consistency(what, problems)
        if before is not None:
            added.append(counts['slices'] - before)
        return counts

    for i, (mode, delay) in enumerate(plan):
        what = f'kill {i + 1} ({mode} {delay:.2f} s)'
        if i > 0:
            prev_mode, prev_delay = plan[i - 1]
            restart_and_check(f'after kill {i} ({prev_mode} {prev_delay:.2f} s)')
        at_publish = env.query('SELECT count(*) AS n FROM slices')[0]['n']
        pub = publish('crash')
        if mode == 'live':
            time.sleep(max(0.0, pub.started + delay - time.time()))
        else:
            env.wait_state('crash', 'recording', 10)
            time.sleep(random.uniform(0.5, 2.5))
            pub.stop()
            if mode == 'paused':
                time.sleep(delay)
            else:
                env.wait_paused('crash')
                expect_ok(env.command('crash', 'cancel_delay'), f'{what}: cancel_delay')
                time.sleep(delay)
        S.figures['before_kill'] = env.query('SELECT count(*) AS n FROM slices')[0]['n']
        closed_at_kill.append(S.figures['before_kill'] - at_publish)
        env.kill9()
        pub.kill()
        # nginx goes with the daemon (it must not keep the old port or the stream).
        R.wait_for(lambda: not R.nginx_pids(env.data_dir), 5, f'{what}: nginx to end with the daemon')
    last_mode, last_delay = plan[-1]
    counts = restart_and_check(f'after kill {len(plan)} ({last_mode} {last_delay:.2f} s)')
    note(f'{len(plan)} kills in {time.monotonic() - t_loop:.1f} s; restart to ready: max '
         f'{max(start_times):.2f} s; recovery finished within {max(recover_times or [0]):.2f} s of ready')
    note(f'slices catalogued before each kill: {closed_at_kill}')
    note(f'slice rows added by recovery per kill: {added}')
    note(f'{counts["slices"]} slices, {counts["files"]} files catalogued, {counts["lost"]} lost; '
         f'{len(counts["orphans"])} .ts on disk named by no playlist or row')
    # The slice being written at each kill is cut back to whole packets and catalogued by
    # the next start (or removed when it held nothing): no orphan slice is left.
    check(not counts['orphans'], f'orphan slices after recovery: {counts["orphans"]}')
    empty_orphans = [p for p in counts['orphans'] if os.path.getsize(p) == 0]
    note(f'{len(empty_orphans)} of those .ts are empty; {len(counts["phantoms"])} closed file rows '
         f'without a file ({sorted(set(f["format"] for f in counts["phantoms"]))})')
    if counts['others']:
        note(f'other files left in the bucket: {counts["others"]}')
    recovery = [line.strip() for line in env.daemon.text().splitlines() if 'ecover' in line]
    if recovery:
        note(f'daemon: {recovery[-1]}')
    # An orderly stop leaves everything consistent too.
    env.stop()
    check_consistency('after SIGTERM', problems)
    check(not problems, f'{len(problems)} broken invariants:\n' + '\n'.join(problems))


def test_disk_full():
    env = S.env
    log = os.path.join(env.data_dir, 'strace.log')
    now = int(time.time())
    slice_dir = os.path.join(env.bucket_dir, 'full')
    wrapper = ['strace', '-f', '-qq', '--seccomp-bpf', '-ttt', '-y', '-o', log,
               '-e', 'trace=writev', '-e', f'inject=writev:error=ENOSPC:when={INJECT_AT}']
    for t in range(now - 5, now + 120):
        wrapper += ['-P', os.path.join(slice_dir, f'{t}.ts')]
    env.start(wrapper=wrapper)
    states = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            try:
                info = env.online('full')
            except Exception as e:  # the poller must not die on one failed request
                info = {'error': str(e)}
            states.append((time.time(), info))
            stop.wait(0.1)
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    pub = publish('full')
    try:
        def injected():
            if not os.path.exists(log):
                return None
            with open(log) as f:
                for line in f:
                    if 'ENOSPC' in line and 'INJECTED' in line:
                        return float(line.split()[1])
            return None
        t_inj = R.wait_for(injected, 30, 'the injected ENOSPC', 0.1)
        slices_before = [s for s in env.query('SELECT * FROM slices WHERE local_path LIKE ?',
                                              (slice_dir + '/%',))
                         if s['start_time_us'] / 1e6 + s['duration_us'] / 1e6 <= t_inj]
        sizes_before = {s['local_path']: os.path.getsize(s['local_path']) for s in slices_before}

        def reported():
            for t, info in states:
                if t < t_inj or not info:
                    continue
                reason = ' '.join(str(v) for k, v in info.items() if 'Reason' in k)
                if info.get('RecordState') in ('suspended', 'failed') and 'DiskFull' in reason:
                    return t, info
            return None
        t_rep, info = R.wait_for(reported, 5, 'RecordState suspended/failed with DiskFull')
        note(f'full: ENOSPC at {t_inj:.3f}, RecordState {info["RecordState"]} '
             f'({info.get("RecordReason")}) seen {t_rep - t_inj:.2f} s later '
             f'(polling every 0.1 s)')
        check(t_rep - t_inj < 2.0, f'full: DiskFull seen {t_rep - t_inj:.2f} s after the failure')
        check(slices_before, 'full: no slice closed before the injected failure')

        # The recording resumes by itself: new slices after the failure.
        def resumed():
            rows = env.query('SELECT * FROM slices WHERE local_path LIKE ? AND start_time_us > ?',
                             (slice_dir + '/%', int((t_rep + 0.5) * 1e6)))
            return rows if rows and env.record_state('full') == 'recording' else None
        after = R.wait_for(resumed, 30, 'new slices after the disk-full failure', 0.2)
        t_res = min(s['start_time_us'] for s in after) / 1e6
        note(f'full: recording again; the first new slice starts {t_res - t_inj:.2f} s after the failure')
        for s in slices_before:
            check(os.path.getsize(s['local_path']) == sizes_before[s['local_path']],
                  f'full: {s["local_path"]} changed after the failure')
            R.check_slice_file(s, f'full: slice {s["sequence"]} before the failure')
    finally:
        stop.set()
        poller.join()
        pub.stop()
    env.wait_paused('full')
    expect_ok(env.command('full', 'cancel_delay'), 'cancel_delay full')
    R.wait_for(lambda: all(x['state'] in ('ended', 'failed') for x in env.sessions('full')), 5,
               'the full sessions to end')
    seen = [info.get('RecordState') for _t, info in states if info]
    note(f'full: RecordState sequence {[s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]]}')
    for s in env.query('SELECT * FROM slices WHERE local_path LIKE ?', (slice_dir + '/%',)):
        if s['state'] != 'lost':
            R.check_slice_file(s, f'full: slice {s["sequence"]}')
    for f in env.files(stream='full'):
        check(f['state'] in ('closed', 'uploaded'), f'full: {f["format"]} #{f["sequence"]} {f["state"]}')
        if f['format'] == 'flv':
            ok, err = R.decodes(f['local_path'])
            check(ok, f'full: {f["local_path"]} does not decode: {err}')
    with open(log) as fh:
        injected_lines = [line for line in fh if 'INJECTED' in line]
    check(len(injected_lines) == 1, f'full: {len(injected_lines)} injected failures')
    # strace -y names the file: the failure hit a slice file and nothing else.
    check(re.search(r'writev\(\d+<' + re.escape(slice_dir) + r'/\d+\.ts>', injected_lines[0]),
          f'full: the injected failure: {injected_lines[0]}')
    env.stop()
    problems = []
    check_consistency('after the disk-full case', problems)
    check(not problems, '\n'.join(problems))
    integrity = env.query('PRAGMA integrity_check')
    check(integrity == [{'integrity_check': 'ok'}], f'integrity_check {integrity}')


TESTS = [
    test_setup,
    test_kill_points,
    test_disk_full,
]


def main():
    R.install_signal_handlers()
    t0 = time.monotonic()
    status = 1
    try:
        # LT_TEST_ONLY=name,name: a subset, for debugging by hand (setup always runs).
        only = os.environ.get('LT_TEST_ONLY')
        tests = [t for t in TESTS if not only or t is test_setup
                 or t.__name__[len('test_'):] in only.split(',')]
        status = run_tests(tests, R.emit)
    finally:
        R.kill_children()
        if S.env is not None:
            out = os.environ.get('LT_TEST_OUTPUT_DIR')
            if out and S.env.daemon is not None:
                os.makedirs(out, exist_ok=True)
                with open(os.path.join(out, 'test-recording-crash-daemon.log'), 'w') as f:
                    f.write(S.env.daemon.text())
            S.env.cleanup(keep=status != 0 and bool(os.environ.get('LT_KEEP_DATA')))
        note(f'wall time {time.monotonic() - t0:.1f} s')
    return status


if __name__ == '__main__':
    sys.exit(main())

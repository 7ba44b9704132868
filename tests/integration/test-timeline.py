#!/usr/bin/env python3
# test-timeline.py: the timeline and index files (issue 5, SPEC section 5) over a REAL
# recording: `livetape --headless` with its own nginx-rtmp, ffmpeg publishing a generated
# H.264/AAC FLV in real time, an m3u8 rule (5 s slices, DelayTime 15) added through the
# control API. The stream publishes, goes away for ~3 s and comes back inside the merge
# window (a reconnect: one session, a discontinuity), is closed with cancel_delay, then
# publishes again after the window (a second session). Through the API, with an
# independent signer:
#   - DescribeLiveStreamRecordContent shows three ranges split at the real gaps, with
#     their causes (offline, cancel_delay, cancel_delay) and durations that match the
#     catalogued slices;
#   - CreateLiveStreamRecordIndexFiles over (a) everything, (b) a range inside one slice,
#     (c) everything with EndTimeIncluded, and (d) the first session with its reconnect:
#     each playlist lists exactly the slices that overlap its range, with
#     #EXT-X-DISCONTINUITY at the gaps, plays through `ffmpeg -v error -i … -f null -`
#     without a message (across the two sessions: only ffmpeg's own DTS lines at the jump,
#     see FFMPEG_JUMP) and through GStreamer's playbin (gst-launch-1.0, fake sinks) to EOS
#     without an error or warning, and ffprobe's duration is the slices' duration.
#
# Needs the session bus and unlocked keyring that tools/test provides.

import datetime
import math
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recordlib as R  # noqa: E402
from recordlib import APP, BUCKET, DOMAIN, check, expect_ok, note  # noqa: E402
from taptest import run_tests  # noqa: E402

STREAM = 'tl'


class State:
    env = None
    media = None
    t_start = None
    t_end = None
    ranges = None


S = State()


def api_time(unix):
    return datetime.datetime.fromtimestamp(unix, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def publish(seconds):
    pub = R.Publisher(S.env.port, APP, STREAM, S.media)
    # Generous: the first publish also waits for nginx to come up, on a loaded machine.
    S.env.wait_state(STREAM, 'recording', 30)
    time.sleep(seconds)
    pub.stop()
    S.env.wait_paused(STREAM, timeout=10)
    return pub


def ingest_listening():
    try:
        with socket.create_connection(('127.0.0.1', S.env.port), timeout=1):
            return True
    except OSError:
        return False


def wait_ended(n_sessions, timeout=8):
    def ready():
        sessions = S.env.sessions(STREAM)
        ok = len(sessions) == n_sessions and all(s['state'] in ('ended', 'failed') for s in sessions)
        return sessions if ok else None
    return R.wait_for(ready, timeout, f'{n_sessions} ended session(s)', 0.1)


def usable_slices():
    return S.env.query("SELECT s.* FROM slices s JOIN streams t ON t.id = s.stream_id "
                       "WHERE t.domain = ? AND t.app = ? AND t.stream = ? "
                       "AND s.state IN ('closed', 'uploaded') ORDER BY s.start_time_us",
                       (DOMAIN, APP, STREAM))


def as_list(value, key):
    items = value.get(key, []) if isinstance(value, dict) else []
    return items if isinstance(items, list) else [items]


# Playback -------------------------------------------------------------------------------

def ffprobe_duration(path):
    rc, data, err = R.ffprobe_json(['-show_entries', 'format=duration'], path)
    check(rc == 0, f'ffprobe {path}: {err}')
    return float(data['format']['duration'])


# ffmpeg's command line (5.1) meets a timestamp jump of more than 10 s (its
# dts_delta_threshold) in the HLS input by shifting what follows back; with B-frames in
# flight its own null muxer then sees a few DTS out of order. Measured: the same playlist
# with the second session's slices remuxed to timestamps that only go forward prints the
# same lines, and each session's playlist alone plays without a message. So across
# sessions (a gap of real time) these lines, and only these, are ffmpeg's, not ours.
FFMPEG_JUMP = 'Application provided invalid, non monotonically increasing dts to muxer'


def check_plays(path, expected_s, what, across_sessions=False):
    proc = subprocess.run(['ffmpeg', '-hide_banner', '-nostdin', '-v', 'error', '-i', path,
                           '-f', 'null', '-'], capture_output=True, text=True, timeout=60)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines()]
    jumps = [line for line in lines if FFMPEG_JUMP in line]
    others = [line for line in lines if FFMPEG_JUMP not in line]
    check(proc.returncode == 0 and not others and (across_sessions or not jumps),
          f'{what}: ffmpeg -v error printed {lines!r} (exit {proc.returncode})')
    if jumps:
        note(f'{what}: ffmpeg at the jump between the sessions: {len(jumps)} x "{FFMPEG_JUMP}"')
    check(len(jumps) <= 10, f'{what}: {len(jumps)} DTS messages from ffmpeg: more than a jump')
    uri = 'file://' + os.path.abspath(path)
    t0 = time.monotonic()
    proc = subprocess.run(['gst-launch-1.0', 'playbin', f'uri={uri}',
                           'video-sink="fakesink sync=false"', 'audio-sink="fakesink sync=false"'],
                          capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    check(proc.returncode == 0 and 'Got EOS from element "playbin' in out
          and 'ERROR' not in out and 'WARNING' not in out,
          f'{what}: playbin exit {proc.returncode}: {out[-2000:]!r}')
    gst_s = time.monotonic() - t0
    duration = ffprobe_duration(path)
    note(f'{what}: ffprobe duration {duration:.2f} s (slices {expected_s:.2f} s), '
         f'playbin to EOS in {gst_s:.2f} s')
    check(abs(duration - expected_s) <= 1.0,
          f'{what}: ffprobe duration {duration:.2f} s, the slices last {expected_s:.2f} s')


def create_index(start, end, included=None):
    params = {'DomainName': DOMAIN, 'AppName': APP, 'StreamName': STREAM,
              'StartTime': api_time(start), 'EndTime': api_time(end),
              'OssEndpoint': 'local', 'OssBucket': BUCKET}
    if included is not None:
        params['EndTimeIncluded'] = 'true' if included else 'false'
    data = expect_ok(S.env.call('CreateLiveStreamRecordIndexFiles', params),
                     f'CreateLiveStreamRecordIndexFiles {params}')
    info = data['RecordInfo']
    url = info['RecordUrl']
    check(url.startswith('file://'), f'RecordUrl {url!r}')
    return info, url[len('file://'):]


def overlapping(slices, start, end, included=False):
    """The slices a playlist over [start, end) must list (times in seconds)."""
    out = []
    for s in slices:
        a = s['start_time_us'] / 1e6
        b = a + s['duration_us'] / 1e6
        if b > start and (a < end or (included and a == end)):
            out.append(s)
    return out


def check_playlist(path, expected, n_discontinuities, what):
    pl = R.parse_playlist(path)
    text = pl['text']
    names = [line for line in text.splitlines() if line and not line.startswith('#')]
    want = [os.path.basename(s['object_key']) for s in expected]
    check([os.path.basename(n) for n in names] == want,
          f'{what}: playlist lists {names}, the catalog {want}\n{text}')
    for name in names:
        check(os.path.exists(os.path.join(os.path.dirname(path), name)),
              f'{what}: {name} does not resolve from {path}')
    check(text.count('#EXT-X-DISCONTINUITY') == n_discontinuities,
          f'{what}: {text.count("#EXT-X-DISCONTINUITY")} discontinuities, expected '
          f'{n_discontinuities}\n{text}')
    check(text.count('#EXT-X-PROGRAM-DATE-TIME') == n_discontinuities + 1,
          f'{what}: PROGRAM-DATE-TIME at the start and at every discontinuity\n{text}')
    check('#EXT-X-PLAYLIST-TYPE:VOD' in text and text.rstrip().endswith('#EXT-X-ENDLIST'),
          f'{what}: not a finished VOD playlist\n{text}')


# Tests -----------------------------------------------------------------------------------

def test_record():
    R.need_tools('ffmpeg', 'ffprobe', 'nginx', 'gst-launch-1.0')
    S.env = R.Env('livetape-tl-')
    S.media = os.path.join(S.env.data_dir, 'h264.flv')
    R.make_media(S.media, 30)
    S.env.start()
    S.env.add_rule(stream=STREAM, formats=('m3u8',))
    # nginx comes up after the ready line (the engine does not wait for it): a publisher
    # that connects before it listens would just fail.
    R.wait_for(ingest_listening, 20, f'nginx listening on {S.env.port}', 0.1)
    S.t_start = math.floor(time.time()) - 2
    # Session 1: publish, away ~3 s (inside the 15 s window), back, then cancel_delay.
    publish(8)
    time.sleep(3)
    publish(8)
    expect_ok(S.env.command(STREAM, 'cancel_delay'), 'cancel_delay 1')
    wait_ended(1)
    # Session 2, after the window.
    time.sleep(2)
    publish(7)
    expect_ok(S.env.command(STREAM, 'cancel_delay'), 'cancel_delay 2')
    sessions = wait_ended(2)
    S.t_end = math.ceil(time.time()) + 2
    check([s['end_reason'] for s in sessions] == ['cancel_delay', 'cancel_delay'],
          f'sessions {sessions}')
    slices = usable_slices()
    check(len(slices) >= 6, f'{len(slices)} slices')
    discs = [(s['session_id'], s['discontinuity_seq']) for s in slices]
    note(f'{len(slices)} slices (session, discontinuity): {discs}')


def test_record_content():
    data = expect_ok(S.env.call('DescribeLiveStreamRecordContent',
                                {'DomainName': DOMAIN, 'AppName': APP, 'StreamName': STREAM,
                                 'StartTime': api_time(S.t_start), 'EndTime': api_time(S.t_end)}),
                     'DescribeLiveStreamRecordContent')
    ranges = as_list(data.get('RecordContentInfoList'), 'RecordContentInfo')
    reasons = [r.get('EndReason') for r in ranges]
    note('ranges: ' + ', '.join(f'{r["StartTime"]}–{r["EndTime"]} {r["Duration"]:.1f} s '
                                f'{r["EndReason"]}' for r in ranges))
    check(len(ranges) == 3, f'{len(ranges)} ranges: {ranges}')
    check(reasons == ['offline', 'cancel_delay', 'cancel_delay'], f'end reasons {reasons}')
    # Each range's duration is its slices' (split where the publisher was away).
    slices = usable_slices()
    runs = []
    for s in slices:
        a = s['start_time_us'] / 1e6
        b = a + s['duration_us'] / 1e6
        if runs and a <= runs[-1][1] + 1.5:
            runs[-1][1] = max(runs[-1][1], b)
            runs[-1][2] += b - a
        else:
            runs.append([a, b, b - a])
    check(len(runs) == 3, f'the slices make {len(runs)} runs: {runs}')
    for r, run in zip(ranges, runs):
        check(abs(float(r['Duration']) - run[2]) < 0.01,
              f'range {r} lasts {r["Duration"]}, its slices {run[2]:.3f} s')
    S.ranges = runs


def test_index_everything():
    slices = usable_slices()
    info, path = create_index(S.t_start, S.t_end)
    expected = overlapping(slices, S.t_start, S.t_end)
    check(len(expected) == len(slices), 'the window covers every slice')
    check(abs(float(info['Duration']) - sum(s['duration_us'] for s in expected) / 1e6) < 0.01,
          f'RecordInfo Duration {info["Duration"]}')
    check(int(info['Width']) == 320 and int(info['Height']) == 240, f'RecordInfo {info}')
    # A gap inside session 1 (the reconnect) and one between the sessions.
    check_playlist(path, expected, 2, 'everything')
    check_plays(path, sum(s['duration_us'] for s in expected) / 1e6, 'everything',
                across_sessions=True)


def test_index_reconnect():
    # Session 1 only: the reconnect inside the merge window is a discontinuity, and this
    # playlist plays without a single message.
    slices = usable_slices()
    first = [s for s in slices if s['session_id'] == slices[0]['session_id']]
    end = math.ceil((first[-1]['start_time_us'] + first[-1]['duration_us']) / 1e6)
    check(end < slices[len(first)]['start_time_us'] / 1e6, 'a second between the sessions')
    _info, path = create_index(S.t_start, end)
    expected = overlapping(slices, S.t_start, end)
    check(expected == first, f'session 1: {expected}')
    check_playlist(path, expected, 1, 'reconnect')
    check_plays(path, sum(s['duration_us'] for s in expected) / 1e6, 'reconnect')


def test_index_inside_one_slice():
    slices = usable_slices()
    # A whole-second range strictly inside the longest slice (a full 5 s one).
    target = max(slices, key=lambda s: s['duration_us'])
    a = target['start_time_us'] / 1e6
    b = a + target['duration_us'] / 1e6
    start = math.ceil(a)
    end = start + 1
    check(end < b, f'slice {a:.3f}–{b:.3f} has no whole second inside')
    info, path = create_index(start, end)
    expected = overlapping(slices, start, end)
    check(len(expected) == 1 and expected[0]['id'] == target['id'], f'expected {expected}')
    check_playlist(path, expected, 0, 'inside one slice')
    check_plays(path, target['duration_us'] / 1e6, 'inside one slice')


def test_index_end_included():
    slices = usable_slices()
    # Up to the start of the second session's first slice: included or not, the playlist
    # holds exactly what overlaps (times are whole seconds, slices start anywhere).
    second = next(s for s in slices if s['session_id'] != slices[0]['session_id'])
    end = math.floor(second['start_time_us'] / 1e6) + 1
    info, path = create_index(S.t_start, end, included=True)
    expected = overlapping(slices, S.t_start, end, included=True)
    check(expected[-1]['id'] == second['id'], 'the range reaches into the second session')
    check_playlist(path, expected, 2, 'EndTimeIncluded')
    check_plays(path, sum(s['duration_us'] for s in expected) / 1e6, 'EndTimeIncluded',
                across_sessions=True)
    # The index files are listed.
    data = expect_ok(S.env.call('DescribeLiveStreamRecordIndexFiles',
                                {'DomainName': DOMAIN, 'AppName': APP, 'StreamName': STREAM,
                                 'StartTime': api_time(S.t_start), 'EndTime': api_time(S.t_end),
                                 'PageSize': '30'}),
                     'DescribeLiveStreamRecordIndexFiles')
    check(int(data['TotalNum']) == 4, f'{data["TotalNum"]} index files')


def test_shutdown():
    S.env.stop()


TESTS = [test_record, test_record_content, test_index_everything, test_index_reconnect,
         test_index_inside_one_slice, test_index_end_included, test_shutdown]


def main():
    R.install_signal_handlers()
    t0 = time.monotonic()
    status = 1
    try:
        status = run_tests(TESTS, R.emit)
    finally:
        R.kill_children()
        if S.env is not None:
            out = os.environ.get('LT_TEST_OUTPUT_DIR')
            if out and S.env.daemon is not None:
                os.makedirs(out, exist_ok=True)
                with open(os.path.join(out, 'test-timeline-daemon.log'), 'w') as f:
                    f.write(S.env.daemon.text())
            S.env.cleanup(keep=status != 0 and bool(os.environ.get('LT_KEEP_DATA')))
        note(f'wall time {time.monotonic() - t0:.1f} s')
    return status


if __name__ == '__main__':
    sys.exit(main())

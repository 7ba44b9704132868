#!/usr/bin/env python3
# test-recording.py: recording end to end (issue 3, SPEC sections 1–3) with real parts
# only: `livetape --headless` with its own nginx-rtmp, ffmpeg publishing a generated
# H.264/AAC FLV (keyframe every second) in real time, a rule added through the control API
# (m3u8 with 5 s slices + mp4 + flv, DelayTime 15), and the results checked with ffprobe,
# ffmpeg and the catalog read with SQL:
#   - automatic recording of all three formats (slices cut on keyframes within a GOP of
#     SliceDuration, each decodes alone, the playlist lists exactly the catalogued slices,
#     MP4/FLV durations and FLV metadata, every catalog field of SPEC 3, rows within 1 s);
#   - an unsupported codec (Sorenson H.263) fails only its own session, with the reason;
#   - a reconnect inside DelayTime continues the files with a discontinuity, one after the
#     window (cancel_delay, and once the real 15 s) starts new files with {Sequence} + 1;
#   - RealTimeRecordCommand: every command and error code, the highlight Duration,
#     OnDemand 7 (manual only) and OnDemand 2 (?record=1).
# The crash and disk-full cases are in test-recording-crash.py (they run in parallel).
#
# Needs the session bus and unlocked keyring that tools/test provides.

import datetime
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recordlib as R  # noqa: E402
from recordlib import (APP, BUCKET, GOP_S, SLICE_S, check, expect_error,  # noqa: E402
                       expect_ok, note)
from taptest import run_tests  # noqa: E402


class State:
    env = None
    media = None
    h263 = None
    cut = None
    watcher = None
    h263_pub = None
    man = None
    figures = {}


S = State()

KEY_RE = re.compile(r'^record/(?P<app>[^/]+)/(?P<stream>[^/]+)/(?P<seq>\d+)_'
                    r'(?P<start>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)_'
                    r'(?P<end>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)\.(?P<ext>m3u8|mp4|flv)$')
SLICE_KEY_RE = re.compile(r'^record/(?P<app>[^/]+)/(?P<stream>[^/]+)/(?P<ts>\d+)_(?P<seq>\d+)\.ts$')


def escaped_time(us):
    return datetime.datetime.fromtimestamp(us / 1e6, datetime.timezone.utc).strftime('%Y-%m-%d-%H-%M-%S')


def parse_escaped(text):
    return datetime.datetime.strptime(text, '%Y-%m-%d-%H-%M-%S').replace(
        tzinfo=datetime.timezone.utc).timestamp()


def publish(stream, app=APP, query=None, media=None):
    return R.Publisher(S.env.port, app, stream, media or S.media, query)


def wait_recording(stream, timeout=10, app=APP):
    return S.env.wait_state(stream, 'recording', timeout, app=app)


def wait_session(stream, predicate, timeout, what):
    def ready():
        sessions = S.env.sessions(stream)
        return sessions if sessions and predicate(sessions) else None
    return R.wait_for(ready, timeout, what)


def wait_ended(stream, n_sessions, timeout=5):
    """Waits until the stream has @n_sessions sessions and none is still open."""
    return wait_session(stream,
                        lambda s: len(s) == n_sessions and all(x['state'] in ('ended', 'failed') for x in s),
                        timeout, f'{n_sessions} ended session(s) of {stream}')


def check_key(row, stream, ext):
    m = KEY_RE.match(row['object_key'])
    check(m, f'{ext} object key {row["object_key"]!r} is not the default template')
    check(m['app'] == APP and m['stream'] == stream and int(m['seq']) == row['sequence'],
          f'object key {row["object_key"]!r} does not name {APP}/{stream} #{row["sequence"]}')
    check(abs(parse_escaped(m['start']) - row['start_time_us'] / 1e6) <= 1.0,
          f'{row["object_key"]}: StartTime {m["start"]} vs start_time_us {escaped_time(row["start_time_us"])}')
    check(row['end_time_us'] and abs(parse_escaped(m['end']) - row['end_time_us'] / 1e6) <= 1.0,
          f'{row["object_key"]}: EndTime {m["end"]} vs end_time_us {row["end_time_us"]}')


def check_location(row, what):
    check(row['target'] == R.ENDPOINT and row['bucket'] == BUCKET,
          f'{what}: target/bucket {row["target"]}/{row["bucket"]}')
    expected = os.path.normpath(os.path.join(S.env.storage, BUCKET, row['object_key']))
    check(row['local_path'] == expected, f'{what}: local_path {row["local_path"]} is not {expected}')
    check(os.path.exists(row['local_path']), f'{what}: {row["local_path"]} is missing')


def check_media_fields(row, what):
    check((row['width'], row['height']) == (320, 240), f'{what}: size {row["width"]}x{row["height"]}')
    check(row['video_codec'] == 'h264' and row['audio_codec'] == 'aac',
          f'{what}: codecs {row["video_codec"]}/{row["audio_codec"]}')


def check_session(session_id, stream, trigger):
    """Every file of a finished session and every slice of its playlists. Returns the
    files by format and the playlists' slices."""
    sessions = S.env.query('SELECT * FROM sessions WHERE id = ?', (session_id,))
    check(len(sessions) == 1, f'no session {session_id}')
    session = sessions[0]
    check(session['trigger_kind'] == trigger, f'session {session_id}: trigger {session["trigger_kind"]}')
    check(session['state'] == 'ended' and session['ended_at_us'] and session['started_at_us'],
          f'session {session_id} not ended: {session}')
    json.loads(session['rule_json'])
    files = S.env.files(session_id)
    by_format = {'m3u8': [], 'mp4': [], 'flv': []}
    slices_of = {}
    for f in files:
        what = f'{f["format"]} #{f["sequence"]} of {stream}'
        check(f['state'] in ('closed', 'uploaded'), f'{what}: state {f["state"]}')
        by_format[f['format']].append(f)
        check_location(f, what)
        check_key(f, stream, f['format'])
        check_media_fields(f, what)
        check(f['end_time_us'] > f['start_time_us'], f'{what}: end {f["end_time_us"]} <= start')
        check(f['duration_us'] > 0, f'{what}: no duration')
        if f['format'] == 'm3u8':
            slices_of[f['id']] = check_playlist(f, stream)
        else:
            check_av_file(f, what)
    return session, by_format, slices_of


def check_playlist(f, stream):
    what = f'playlist #{f["sequence"]} of {stream}'
    slices = S.env.slices(recording_file_id=f['id'])
    check(slices, f'{what}: no slices catalogued')
    pl = R.parse_playlist(f['local_path'])
    check(pl['endlist'], f'{what}: no #EXT-X-ENDLIST:\n{pl["text"]}')
    check([s['path'] for s in pl['segments']] == [s['local_path'] for s in slices],
          f'{what}: the playlist lists {[s["uri"] for s in pl["segments"]]}, '
          f'the catalog {[s["object_key"] for s in slices]}')
    total = sum(s['duration_us'] for s in slices)
    check(abs(f['duration_us'] - total) <= 100000,
          f'{what}: duration {f["duration_us"]} µs, its slices {total} µs')
    size = sum(s['size'] for s in slices)
    check(f['size'] in (size, os.path.getsize(f['local_path'])),
          f'{what}: size {f["size"]}, slices {size}, playlist file {os.path.getsize(f["local_path"])}')
    seqs = [s['sequence'] for s in slices]
    check(seqs == sorted(set(seqs)), f'{what}: slice sequences {seqs}')
    for i, (seg, s) in enumerate(zip(pl['segments'], slices)):
        sw = f'{what}, slice {s["sequence"]}'
        check(abs(seg['duration'] - s['duration_us'] / 1e6) <= 0.002,
              f'{sw}: #EXTINF {seg["duration"]} vs {s["duration_us"]} µs')
        disc = i > 0 and s['discontinuity_seq'] != slices[i - 1]['discontinuity_seq']
        check(seg['discontinuity'] == disc, f'{sw}: #EXT-X-DISCONTINUITY {seg["discontinuity"]}, '
              f'discontinuity_seq {[x["discontinuity_seq"] for x in slices]}')
        check(s['discontinuity_seq'] == (slices[i - 1]['discontinuity_seq'] + disc if i else 0),
              f'{sw}: discontinuity_seq {[x["discontinuity_seq"] for x in slices]}')
        check(s['session_id'] == f['session_id'] and s['stream_id'] == f['stream_id'],
              f'{sw}: session/stream ids')
        check(s['state'] in ('closed', 'uploaded') and s['keyframe'] == 1, f'{sw}: {s}')
        check_location(s, sw)
        m = SLICE_KEY_RE.match(s['object_key'])
        check(m and m['app'] == APP and m['stream'] == stream, f'{sw}: object key {s["object_key"]}')
        check(abs(int(m['ts']) - s['start_time_us'] / 1e6) <= 1.0,
              f'{sw}: {{UnixTimestamp}} {m["ts"]} vs start {s["start_time_us"]}')
        check_media_fields(s, sw)
        R.check_slice_file(s, sw)
        # Cut on keyframes within one GOP of SliceDuration, unless the slice is the last
        # one before a discontinuity or the end of the file.
        last = i + 1 == len(slices) or slices[i + 1]['discontinuity_seq'] != s['discontinuity_seq']
        d = s['duration_us'] / 1e6
        if not last:
            check(abs(d - SLICE_S) <= GOP_S + 0.01, f'{sw}: lasts {d:.3f} s, SliceDuration {SLICE_S}')
            nxt = slices[i + 1]
            gap = (nxt['start_time_us'] - s['start_time_us'] - s['duration_us']) / 1e6
            check(abs(gap) <= 0.5, f'{sw}: the next slice starts {gap:+.3f} s after its end')
        else:
            check(0 < d <= SLICE_S + GOP_S + 0.01, f'{sw}: the last slice lasts {d:.3f} s')
    return slices


def check_av_file(f, what):
    path = f['local_path']
    check(os.path.getsize(path) == f['size'], f'{what}: {os.path.getsize(path)} bytes, catalog {f["size"]}')
    p = R.probe_format(path)
    check(sorted(p['codecs']) == ['aac', 'h264'], f'{what}: codecs {p["codecs"]}')
    check(p['duration'] is not None and abs(p['duration'] - f['duration_us'] / 1e6) <= 0.35,
          f'{what}: ffprobe says {p["duration"]} s, the catalog {f["duration_us"] / 1e6} s')
    R.check_video_timeline(path, what)
    ok, err = R.decodes(path)
    check(ok, f'{what}: {path} does not decode: {err}')
    if f['format'] == 'flv':
        meta = R.flv_metadata_duration(path)
        check(meta is not None and abs(meta - f['duration_us'] / 1e6) <= 0.35,
              f'{what}: onMetaData duration {meta}, catalog {f["duration_us"] / 1e6} s')


def content_seconds(slices):
    return sum(s['duration_us'] for s in slices) / 1e6


def check_av_covers(by_format, m3u8_seconds, what, tolerance=0.6):
    for fmt in ('mp4', 'flv'):
        total = sum(f['duration_us'] for f in by_format[fmt]) / 1e6
        check(abs(total - m3u8_seconds) <= tolerance * max(1, len(by_format[fmt])),
              f'{what}: {fmt} files hold {total:.2f} s, the slices {m3u8_seconds:.2f} s')


def catalog_delays(session_id, what):
    """Slice and file rows must appear within 1 s of the file's close (its mtime)."""
    slice_ids = [s['id'] for s in S.env.slices(session_id=session_id)]
    file_ids = [f['id'] for f in S.env.files(session_id)]
    sd = S.watcher.slice_delays(slice_ids)
    fd = S.watcher.file_delays(file_ids)
    check(len(sd) == len(slice_ids), f'{what}: the watcher saw {len(sd)} of {len(slice_ids)} slices')
    check(len(fd) == len(file_ids), f'{what}: the watcher saw {len(fd)} of {len(file_ids)} closed files')
    worst_s = max(sd.values())
    worst_f = max(fd.values())
    note(f'{what}: slice close -> catalog row: max {worst_s * 1000:.0f} ms, '
         f'mean {sum(sd.values()) / len(sd) * 1000:.0f} ms over {len(sd)} slices; '
         f'file close -> closed row: max {worst_f * 1000:.0f} ms over {len(fd)} files')
    S.figures.setdefault('slice_delay', []).extend(sd.values())
    S.figures.setdefault('file_delay', []).extend(fd.values())
    check(worst_s < 1.0, f'{what}: a slice row came {worst_s:.3f} s after the slice closed')
    check(worst_f < 1.0, f'{what}: a file row came {worst_f:.3f} s after the file closed')


# Tests ----------------------------------------------------------------------------------

def test_setup():
    R.need_tools('ffmpeg', 'ffprobe', 'nginx')
    check(os.path.exists(os.environ.get('LT_NGINX_RTMP_MODULE', '/usr/lib/nginx/modules/ngx_rtmp_module.so')),
          'the nginx RTMP module is not installed')
    S.env = R.Env('livetape-rec-')
    S.media = os.path.join(S.env.data_dir, 'h264.flv')
    S.h263 = os.path.join(S.env.data_dir, 'h263.flv')
    R.make_media(S.media, 40)
    R.make_media(S.h263, 30, video='flv1')
    S.cut = os.path.join(S.env.data_dir, 'cut.flv')
    R.make_cut_media(S.media, S.cut, 7)
    seconds = S.env.start()
    note(f'daemon ready in {seconds:.2f} s')
    # One app rule records everything in the app; stream rules for the manual and the
    # push-argument cases take precedence over it.
    S.env.add_rule()
    S.env.add_rule(stream='man', OnDemand='7')
    S.env.add_rule(stream='push2', formats=('m3u8',), OnDemand='2')
    S.watcher = R.CatalogWatcher(S.env)


def test_auto_all_formats():
    # The unsupported codec publishes at the same time: it must not disturb this one.
    S.h263_pub = publish('h263', media=S.h263)
    pub = publish('auto')
    info = wait_recording('auto')
    t_recording = time.time()
    note(f'auto: RecordState recording {t_recording - pub.started:.2f} s after the publisher started')
    check(info.get('VideoCodec') in (None, 'h264'), f'{info}')
    time.sleep(max(0.0, pub.started + 14 - time.time()))
    pub.stop()
    # Offline: the session pauses (the merge window) ...
    sessions = wait_session('auto', lambda s: s[-1]['state'] == 'paused', 3, 'auto paused')
    check(len(sessions) == 1, f'auto: {len(sessions)} sessions')
    sid = sessions[0]['id']
    pauses = S.env.pauses(sid)
    check(len(pauses) == 1 and pauses[0]['resumed_at_us'] is None, f'auto: pauses {pauses}')
    # ... until cancel_delay closes it now.
    expect_ok(S.env.command('auto', 'cancel_delay'), 'cancel_delay auto')
    wait_ended('auto', 1)
    session, by_format, slices_of = check_session(sid, 'auto', 'auto')
    check(session['end_reason'] == 'cancel_delay', f'auto: end_reason {session["end_reason"]}')
    check([len(by_format[f]) for f in ('m3u8', 'mp4', 'flv')] == [1, 1, 1],
          f'auto: files {[(f["format"], f["sequence"]) for f in S.env.files(sid)]}')
    slices = slices_of[by_format['m3u8'][0]['id']]
    recorded = content_seconds(slices)
    published = pub.stopped - pub.started
    note(f'auto: {len(slices)} slices, {recorded:.2f} s recorded of {published:.2f} s published; '
         f'slice durations {[round(s["duration_us"] / 1e6, 3) for s in slices]}')
    check(len(slices) >= 3, f'auto: only {len(slices)} slices in 14 s')
    check(published - 2.5 <= recorded <= published + 0.2,
          f'auto: {recorded:.2f} s recorded of {published:.2f} s published')
    check(all(s['discontinuity_seq'] == 0 for s in slices), 'auto: a discontinuity without a reconnect')
    first = slices[0]['start_time_us'] / 1e6
    check(pub.started - 0.5 <= first <= t_recording + 0.5,
          f'auto: the first slice starts at {first:.3f}, publisher at {pub.started:.3f}')
    check_av_covers(by_format, recorded, 'auto')
    for fmt in ('mp4', 'flv'):
        f = by_format[fmt][0]
        note(f'auto: {fmt} #{f["sequence"]} {f["duration_us"] / 1e6:.3f} s, {f["size"]} bytes')
    catalog_delays(sid, 'auto')


def test_unsupported_codec():
    # Sorenson H.263 (FLV codec 2), which nginx-rtmp relays: the session fails with a
    # reason naming the codec, the stream stays online, nothing is left open.
    check(S.h263_pub is not None and S.h263_pub.running(), 'the H.263 publisher is not running')
    info = S.env.wait_state('h263', 'failed', 10)
    reason = ' '.join(str(v) for k, v in info.items() if 'Reason' in k)
    note(f'h263: {info.get("RecordState")}: {reason}')
    check('UnsupportedCodec' in reason, f'h263: no UnsupportedCodec in the reason: {info}')
    check(re.search(r'H\.?263|Sorenson|flv1|Spark', reason, re.I),
          f'h263: the reason does not name the codec: {reason!r}')
    S.h263_pub.stop()
    sessions = S.env.sessions('h263')
    check(len(sessions) <= 1, f'h263: {len(sessions)} sessions')
    if sessions:
        wait_session('h263', lambda s: s[-1]['state'] == 'failed', 3, 'the h263 session to fail')
        check('UnsupportedCodec' in (S.env.sessions('h263')[-1]['end_reason'] or ''),
              f'h263: end_reason {S.env.sessions("h263")[-1]}')
        check(all(f['state'] != 'open' for f in S.env.files(stream='h263')), 'h263: a file is left open')


def test_reconnect_inside_delay():
    # The first connection ends by itself after ~7 s, on a P-frame whose B-frames never
    # come (as when a publisher goes away mid-GOP).
    pub = publish('reco', media=S.cut)
    wait_recording('reco')
    R.wait_for(lambda: not pub.running(), 15, 'the cut publisher to finish', 0.1)
    check(pub.proc.returncode == 0, f'the cut publisher failed: {pub.stderr()}')
    pub.stop()
    away = time.time()
    info = S.env.wait_paused('reco')
    note(f'reco: paused {time.time() - away:.2f} s after the unpublish '
         f'(online list: RecordState {info["RecordState"]})')
    time.sleep(max(0.0, away + 3 - time.time()))
    check(S.env.sessions('reco')[-1]['state'] == 'paused', f'reco: {S.env.sessions("reco")}')
    check(S.env.record_state('reco') in (None, 'paused'), f'reco: {S.env.online("reco")}')
    pub = publish('reco')
    wait_recording('reco')
    note(f'reco: back after {pub.started - away:.2f} s away')
    time.sleep(7)
    pub.stop()
    S.env.wait_paused('reco')
    expect_ok(S.env.command('reco', 'cancel_delay'), 'cancel_delay reco')
    sessions = wait_ended('reco', 1)
    session, by_format, slices_of = check_session(sessions[0]['id'], 'reco', 'auto')
    check(len(by_format['m3u8']) == 1, f'reco: {len(by_format["m3u8"])} playlists')
    slices = slices_of[by_format['m3u8'][0]['id']]
    discs = [s['discontinuity_seq'] for s in slices]
    check(discs[-1] == 1 and discs.count(0) >= 1, f'reco: discontinuity sequence {discs}')
    pl = R.parse_playlist(by_format['m3u8'][0]['local_path'])
    check(pl['text'].count('#EXT-X-DISCONTINUITY') == 1, f'reco: playlist\n{pl["text"]}')
    # The gap: the first slice after the reconnect starts about when the publisher came back.
    back = next(s for s in slices if s['discontinuity_seq'] == 1)
    check(back['start_time_us'] / 1e6 >= away + 2.5, 'reco: the slice after the reconnect starts too early')
    for fmt in ('mp4', 'flv'):
        n = len(by_format[fmt])
        check(n in (1, 2), f'reco: {n} {fmt} files')
        note(f'reco: {fmt}: {n} file(s) ({"continued" if n == 1 else "cut cleanly"})')
    check_av_covers(by_format, content_seconds(slices), 'reco')
    pauses = S.env.pauses(session['id'])
    check(len(pauses) == 2 and pauses[0]['resumed_at_us'] and pauses[0]['reason'] == 'offline',
          f'reco: pauses {pauses}')
    catalog_delays(session['id'], 'reco')


def test_reconnect_after_delay():
    # After cancel_delay ended the window: a new session, {Sequence} + 1 for every format.
    files = S.env.files(stream='reco')
    before = {fmt: max((f['sequence'] for f in files if f['format'] == fmt), default=None)
              for fmt in ('m3u8', 'mp4', 'flv')}
    check(None not in before.values() and all(f['state'] != 'open' for f in files),
          f'reco: files of the first session {files}')
    pub = publish('reco')
    wait_recording('reco')
    time.sleep(6)
    pub.stop()
    away = time.time()
    S.env.wait_paused('reco')
    sessions = S.env.sessions('reco')
    check(len(sessions) == 2, f'reco: {len(sessions)} sessions after the second publish')
    files = S.env.files(sessions[1]['id'])
    seqs = {f['format']: f['sequence'] for f in files}
    check(seqs == {fmt: before[fmt] + 1 for fmt in before},
          f'reco: sequences {seqs} after {before}')
    # This time the merge window really runs out: the files close by themselves after
    # DelayTime, and the next publish starts new files again.
    ended = wait_ended('reco', 2, timeout=R.DELAY_S + 6)
    waited = time.time() - away
    note(f'reco: the merge window closed the files {waited:.2f} s after the unpublish '
         f'(DelayTime {R.DELAY_S})')
    check(waited >= R.DELAY_S - 0.5, f'reco: closed after {waited:.2f} s, DelayTime is {R.DELAY_S}')
    check(ended[1]['end_reason'] == 'merge_window_expired', f'reco: end_reason {ended[1]}')
    check(S.env.record_state('reco') in (None, 'not_recording'),
          f'reco: after the window: {S.env.online("reco")}')
    _session, by_format, slices_of = check_session(ended[1]['id'], 'reco', 'auto')
    check_av_covers(by_format, content_seconds(next(iter(slices_of.values()))), 'reco 2')
    pub = publish('reco')
    wait_recording('reco')
    time.sleep(3)
    pub.stop()
    S.env.wait_paused('reco')
    expect_ok(S.env.command('reco', 'cancel_delay'), 'cancel_delay reco')
    sessions = wait_ended('reco', 3)
    seqs3 = {f['format']: f['sequence'] for f in S.env.files(sessions[2]['id'])}
    check(seqs3 == {fmt: seqs[fmt] + 1 for fmt in seqs}, f'reco: sequences {seqs3} after {seqs}')
    check_session(sessions[2]['id'], 'reco', 'auto')


def test_manual_errors():
    env = S.env
    # Offline stream.
    expect_error(env.command('man', 'start'), 404, 'InvalidStream.NotFound', 'start offline')
    # Online, but no rule for its app.
    other = publish('x', app='norule')
    env.wait_online('x', app='norule')
    expect_error(env.command('x', 'start', app='norule'), 404, 'InvalidConfig.NotFound',
                 'start without a rule')
    other.stop()
    # Parameters.
    expect_error(env.command('man', 'pause'), 400, 'InvalidParameter', 'Command=pause')
    expect_error(env.command('man', 'Start'), 400, 'InvalidParameter', 'Command=Start')
    expect_error(env.command('man', None), 400, 'MissingParameter', 'no Command')
    for duration in ('1801', 'abc', '-5'):
        expect_error(env.command('man', 'start', Duration=duration), 400, 'InvalidParameter',
                     f'Duration={duration}')
    # OnDemand 7: online, not recording, nothing to stop.
    S.man = publish('man')
    env.wait_online('man')
    time.sleep(2.5)
    info = env.online('man')
    check(info['RecordState'] == 'not_recording', f'man (OnDemand 7) records by itself: {info}')
    check(not env.sessions('man'), f'man: sessions {env.sessions("man")}')
    for command in ('stop', 'restart', 'cancel_delay'):
        expect_error(env.command('man', command), 404, 'TaskNotFound', f'{command} with nothing recording')


def test_manual_start_stop_restart():
    env = S.env
    check(S.man.running(), 'the man publisher ended')
    expect_ok(env.command('man', 'start'), 'start man')
    wait_recording('man')
    expect_error(env.command('man', 'start'), 409, 'TaskAlreadyStarted', 'start twice')
    expect_error(env.command('man', 'cancel_delay'), 409, 'InvalidTaskStatus', 'cancel_delay while recording')
    sessions = env.sessions('man')
    check(len(sessions) == 1 and sessions[0]['trigger_kind'] == 'manual', f'man: {sessions}')
    sid = sessions[0]['id']
    time.sleep(6.5)
    # stop pauses like an unpublish, with the stream still online.
    expect_ok(env.command('man', 'stop'), 'stop man')
    info = env.wait_state('man', 'paused', 2)
    wait_session('man', lambda s: s[0]['state'] == 'paused', 2, 'man paused in the catalog')
    pauses = env.pauses(sid)
    check(len(pauses) == 1 and pauses[0]['resumed_at_us'] is None, f'man: pauses {pauses}')
    note(f'man: stopped: {info.get("RecordState")} ({pauses[0]["reason"]})')
    time.sleep(2)
    # start while paused resumes the same session (a discontinuity in the playlist).
    expect_ok(env.command('man', 'start'), 'start man while paused')
    wait_recording('man')
    check([s['id'] for s in env.sessions('man')] == [sid], f'man: resume made a new session: '
          f'{env.sessions("man")}')
    check(env.pauses(sid)[0]['resumed_at_us'], f'man: pause not resumed: {env.pauses(sid)}')
    time.sleep(3)
    # restart: the current files close now, new ones ({Sequence} + 1) continue.
    files_before = {f['format']: f for f in env.files(sid)}
    t_restart = time.time()
    expect_ok(env.command('man', 'restart'), 'restart man')

    def restarted():
        files = env.files(sid)
        old_closed = all(f['state'] != 'open' for f in files if f['id'] in
                         {x['id'] for x in files_before.values()})
        new = [f for f in files if f['id'] not in {x['id'] for x in files_before.values()}]
        return (old_closed and len(new) == 3) and new
    new = R.wait_for(restarted, 3, 'the files of the restart')
    note(f'man: restart closed the files and opened new ones in {time.time() - t_restart:.2f} s')
    for f in new:
        check(f['sequence'] == files_before[f['format']]['sequence'] + 1,
              f'man: restart {f["format"]} #{f["sequence"]} after #{files_before[f["format"]]["sequence"]}')
    check(env.record_state('man') == 'recording', f'man after restart: {env.online("man")}')
    time.sleep(3)
    expect_ok(env.command('man', 'stop'), 'stop man again')
    env.wait_state('man', 'paused', 2)
    expect_ok(env.command('man', 'cancel_delay'), 'cancel_delay man')
    wait_ended('man', 1)
    env.wait_state('man', 'not_recording', 3)
    expect_error(env.command('man', 'cancel_delay'), 404, 'TaskNotFound', 'cancel_delay after the end')
    expect_error(env.command('man', 'stop'), 404, 'TaskNotFound', 'stop after the end')
    session, by_format, slices_of = check_session(sid, 'man', 'manual')
    check([len(by_format[f]) for f in ('m3u8', 'mp4', 'flv')] == [2, 2, 2],
          f'man: files {[(f["format"], f["sequence"]) for f in env.files(sid)]}')
    first = slices_of[by_format['m3u8'][0]['id']]
    check(any(s['discontinuity_seq'] == 1 for s in first), 'man: no discontinuity at the resume '
          f'{[s["discontinuity_seq"] for s in first]}')
    for fmt in ('mp4', 'flv'):
        for f, pl in zip(by_format[fmt], by_format['m3u8']):
            secs = content_seconds(slices_of[pl['id']])
            check(abs(f['duration_us'] / 1e6 - secs) <= 0.6,
                  f'man: {fmt} #{f["sequence"]} {f["duration_us"] / 1e6:.2f} s, slices {secs:.2f} s')
    catalog_delays(sid, 'man')


def test_manual_highlight():
    env = S.env
    check(S.man.running(), 'the man publisher ended')
    t0 = time.time()
    expect_ok(env.command('man', 'start', Duration=6), 'start man with Duration=6')
    wait_recording('man')
    sessions = wait_session('man', lambda s: len(s) == 2, 2, 'the highlight session')
    R.wait_for(lambda: env.record_state('man') not in ('starting', 'recording'), 12,
               'the highlight to stop by itself', 0.1)
    stopped = time.time() - t0
    note(f'man: the 6 s highlight stopped by itself after {stopped:.2f} s '
         f'(RecordState {env.record_state("man")})')
    check(stopped >= 5.5, f'man: the highlight stopped after {stopped:.2f} s')
    if env.record_state('man') == 'paused':
        expect_ok(env.command('man', 'cancel_delay'), 'cancel_delay highlight')
    ended = wait_ended('man', 2)
    check(ended[1]['end_reason'] == 'highlight_end', f'man: highlight end_reason {ended[1]}')
    _session, by_format, slices_of = check_session(sessions[1]['id'], 'man', 'manual')
    secs = content_seconds(next(iter(slices_of.values())))
    note(f'man: the highlight holds {secs:.2f} s')
    check(5.0 <= secs <= 6.0 + GOP_S + 0.1, f'man: a 6 s highlight holds {secs:.2f} s')
    check_av_covers(by_format, secs, 'highlight')
    # A manual recording is not started again by the next publish (OnDemand 7).
    S.man.stop()
    env.wait_offline('man', timeout=5)
    again = publish('man')
    env.wait_online('man')
    time.sleep(2.5)
    check(env.record_state('man') == 'not_recording', f'man republished: {env.online("man")}')
    check(len(env.sessions('man')) == 2, f'man: {len(env.sessions("man"))} sessions after republish')
    again.stop()


def test_on_demand_push_arg():
    env = S.env
    pub = publish('push2')
    env.wait_online('push2')
    time.sleep(2.5)
    check(env.record_state('push2') == 'not_recording', f'push2 without record=1: {env.online("push2")}')
    check(not env.sessions('push2'), 'push2 without record=1 has a session')
    pub.stop()
    env.wait_offline('push2')
    pub = publish('push2', query='record=1&callback_x=y')
    wait_recording('push2')
    time.sleep(6)
    pub.stop()
    env.wait_paused('push2')
    expect_ok(env.command('push2', 'cancel_delay'), 'cancel_delay push2')
    sessions = wait_ended('push2', 1)
    check(json.loads(sessions[0]['push_args']).get('record') == '1',
          f'push2: push_args {sessions[0]["push_args"]}')
    _session, by_format, slices_of = check_session(sessions[0]['id'], 'push2', 'push_arg')
    check(len(by_format['m3u8']) == 1 and not by_format['mp4'] and not by_format['flv'],
          f'push2: files {by_format}')


def test_one_shot_commands():
    # The command-line modes (keys, signing keys, storage targets) open the same data
    # directory as the running daemon: they must leave its recordings alone (no recovery
    # of what it is writing, no queues or retention of their own).
    pub = publish('cli')
    wait_recording('cli')
    sessions = wait_session('cli', lambda s: len(s) == 1, 3, 'a session of cli')
    sid = sessions[0]['id']
    time.sleep(3)
    # The domain has no callback settings here: that command answers so and exits 1,
    # after starting its engine like the others.
    for args, code in ((('--list-storage-targets',), 0), (('--create-access-key',), 0),
                       (('--notify-signing-key', R.DOMAIN), 1)):
        r = R.taptest.run('--data-dir', S.env.data_dir, *args)
        check(r.returncode == code, f'{args[0]} exited {r.returncode}: {r.stderr!r}')
        if args[0] == '--create-access-key':
            R.SECRETS.append(json.loads(r.stdout)['AccessKeySecret'])
        rows = S.env.query('SELECT state, end_reason FROM sessions WHERE id = ?', (sid,))
        check(rows == [{'state': 'recording', 'end_reason': None}],
              f"after {args[0]}: the daemon's session is {rows}")
    before = len(S.env.slices(session_id=sid))
    time.sleep(4)
    check(len(S.env.slices(session_id=sid)) > before,
          f'cli: no slice recorded after the commands ({before} before)')
    check('WriteFailed' not in S.env.output_tail(), f'the daemon failed to write: {S.env.output_tail()}')
    check(wait_recording('cli').get('RecordState') == 'recording', 'cli: not recording any more')
    pub.stop()
    S.env.wait_paused('cli')
    expect_ok(S.env.command('cli', 'cancel_delay'), 'cancel_delay cli')
    wait_ended('cli', 1)


def test_shutdown():
    S.watcher.stop()
    check(not S.watcher.errors, f'catalog watcher: {S.watcher.errors[:3]}')
    delays = S.figures.get('slice_delay', [])
    if delays:
        note(f'all: slice close -> row max {max(delays) * 1000:.0f} ms over {len(delays)} slices; '
             f'file close -> row max {max(S.figures["file_delay"]) * 1000:.0f} ms')
    seconds = S.env.stop()
    note(f'SIGTERM: exit in {seconds:.2f} s')
    check(not R.nginx_pids(S.env.data_dir), 'nginx still runs after the daemon ended')
    left = S.env.query("SELECT id, format, state FROM recording_files WHERE state = 'open' UNION ALL "
                       "SELECT id, 'session', state FROM sessions WHERE state IN ('recording', 'paused')")
    check(not left, f'open after SIGTERM: {left}')
    integrity = S.env.query('PRAGMA integrity_check')
    check(integrity == [{'integrity_check': 'ok'}], f'integrity_check: {integrity}')
    check(S.env.secret not in S.env.daemon.text(), 'the daemon printed the secret')


TESTS = [
    test_setup,
    test_auto_all_formats,
    test_unsupported_codec,
    test_reconnect_inside_delay,
    test_reconnect_after_delay,
    test_manual_errors,
    test_manual_start_stop_restart,
    test_manual_highlight,
    test_on_demand_push_arg,
    test_one_shot_commands,
    test_shutdown,
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
                with open(os.path.join(out, 'test-recording-daemon.log'), 'w') as f:
                    f.write(S.env.daemon.text())
            S.env.cleanup(keep=status != 0 and bool(os.environ.get('LT_KEEP_DATA')))
        note(f'wall time {time.monotonic() - t0:.1f} s')
    return status


if __name__ == '__main__':
    sys.exit(main())

# recordlib.py: what the recording integration tests (test-recording.py,
# test-recording-crash.py) share: a data dir with an access key and the demo stream off,
# `livetape --headless` (optionally under strace), ffmpeg publishers of a generated
# H.264/AAC FLV, the catalog read with Python's own sqlite3, and the checks of recorded
# files with ffprobe (decodes, keyframe starts, durations, playlists, FLV metadata).
#
# Everything here is independent of Livetape's code: the catalog is read with SQL, the
# playlists and the FLV metadata are parsed here, the API is called through api_client.py.

import ctypes
import json
import os
import queue
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_client  # noqa: E402
import taptest  # noqa: E402
from taptest import check  # noqa: E402

# Publishers on 127.0.0.1 have no host name: the default domain applies.
DOMAIN = 'live.livetape.local'
APP = 'rec'
ENDPOINT = 'local'
BUCKET = 'itest'
FPS = 30
GOP_S = 1.0            # -g 30 at 30 fps
SLICE_S = 5            # the smallest SliceDuration a rule takes
DELAY_S = 15           # the smallest DelayTime
CYCLE_S = 60

SECRETS = []           # scrubbed from everything printed
CHILDREN = []          # publishers and helpers to kill at exit


def emit(line):
    for secret in SECRETS:
        line = line.replace(secret, '<secret>')
    print(line, flush=True)


def note(message):
    """A TAP diagnostic line (figures, progress)."""
    for line in str(message).splitlines():
        emit(f'# {line}')


def need_tools(*names):
    for name in names:
        check(shutil.which(name) is not None, f'{name} is not installed')


def wait_for(predicate, timeout, what, interval=0.05):
    """Calls @predicate until it returns something true; returns that. Fails after
    @timeout seconds, naming @what and the last value."""
    deadline = time.monotonic() + timeout
    value = None
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f'timed out after {timeout} s waiting for {what}; last {value!r}')
        time.sleep(interval)


# Children ------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # PR_SET_PDEATHSIG = 1: a publisher never outlives the test script.
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def kill_children():
    for child in CHILDREN:
        if child.poll() is None:
            child.kill()
            child.wait()


def install_signal_handlers():
    """meson's timeout sends SIGTERM: leave through the normal cleanup."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


# Media and publishers ------------------------------------------------------------------

def make_media(path, seconds, video='libx264', audio='aac', size='320x240'):
    """A generated FLV: testsrc2 at 30 fps with a keyframe every 30 frames and a sine."""
    argv = ['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
            '-f', 'lavfi', '-i', f'testsrc2=size={size}:rate={FPS}',
            '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
            '-t', str(seconds), '-c:v', video]
    if video == 'libx264':
        argv += ['-preset', 'veryfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p',
                 '-g', str(FPS), '-keyint_min', str(FPS), '-sc_threshold', '0',
                 '-b:v', '400k']
    else:
        argv += ['-g', str(FPS), '-b:v', '400k']
    argv += ['-c:a', audio, '-b:a', '64k', '-f', 'flv', path]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    check(proc.returncode == 0, f'ffmpeg could not make {path}: {proc.stderr}')


def video_packets(path):
    """The video packets of @path in decode order: (pts, dts, key) in seconds."""
    rc, data, err = ffprobe_json(['-select_streams', 'v:0', '-show_entries',
                                  'packet=pts_time,dts_time,flags', '-show_packets'], path)
    check(rc == 0, f'ffprobe {path}: {err}')
    out = []
    for p in data.get('packets', []):
        pts = p.get('pts_time')
        dts = p.get('dts_time')
        out.append((float(pts) if pts not in (None, 'N/A') else None,
                    float(dts) if dts not in (None, 'N/A') else None,
                    p.get('flags', '').startswith('K')))
    return out


def make_cut_media(src, dst, seconds):
    """The first ~@seconds of @src (-c copy), cut in decode order right after a P-frame
    whose B-frames never come: the end a publisher that goes away mid-GOP leaves, whose
    last frame is presented after frames it never sent. A recorder that continues its
    files after such a connection must start the next one after that frame."""
    packets = video_packets(src)
    k = int(seconds * FPS)
    while k < len(packets):
        ahead = max(p[0] for p in packets[:k])
        if packets[k][0] > ahead + 1.5 / FPS and not packets[k][2]:
            break
        k += 1
    check(k < len(packets), f'{src} has no P-frame ahead of its B-frames (no B-frames?)')
    # Audio goes on for another second, so that the P-frame is followed by more data and
    # every relay on the way passes it on before the connection ends.
    video = dst + '.video.flv'
    for argv in (['-i', src, '-map', '0:v', '-c', 'copy', '-frames:v', str(k + 1), '-f', 'flv', video],
                 ['-i', video, '-i', src, '-map', '0:v', '-map', '1:a', '-c', 'copy',
                  '-t', f'{packets[k][0] + 1.0:.3f}', '-f', 'flv', dst]):
        proc = subprocess.run(['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
                               *argv], capture_output=True, text=True, timeout=60)
        check(proc.returncode == 0, f'ffmpeg could not cut {src}: {proc.stderr}')
    os.unlink(video)
    last = video_packets(dst)
    check(len(last) == k + 1 and last[-1][0] > max(p[0] for p in last[:-1]) + 1.5 / FPS,
          f'{dst} does not end on a P-frame ahead of its B-frames')


def check_video_timeline(path, what):
    """No two video frames of @path are presented less than half a frame apart: a
    continued file has one timeline, without frames of two connections overlapping."""
    pts = sorted(p[0] for p in video_packets(path) if p[0] is not None)
    gaps = [(b - a, a) for a, b in zip(pts, pts[1:])]
    worst = min(gaps) if gaps else (1.0, 0.0)
    check(worst[0] >= 0.5 / FPS, f'{what}: {path}: two video frames {worst[0] * 1000:.1f} ms apart '
          f'at {worst[1]:.3f} s (overlapping timelines)')


class Publisher:
    """ffmpeg publishing @media in real time (-re, -c copy) to nginx-rtmp."""

    def __init__(self, port, app, stream, media, query=None):
        self.url = f'rtmp://127.0.0.1:{port}/{app}/{stream}' + (f'?{query}' if query else '')
        self.started = time.time()
        self.proc = subprocess.Popen(
            ['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-i', media,
             '-c', 'copy', '-f', 'flv', self.url],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, preexec_fn=_die_with_parent)
        CHILDREN.append(self.proc)
        self.stopped = None

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        """Unpublishes cleanly (ffmpeg closes the RTMP stream on SIGINT)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.stopped is None:
            self.stopped = time.time()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.stopped is None:
            self.stopped = time.time()

    def stderr(self):
        try:
            return self.proc.stderr.read() if self.proc.poll() is not None else ''
        except ValueError:
            return ''


# The daemon ----------------------------------------------------------------------------

class WrappedDaemon(taptest.Daemon):
    """taptest.Daemon with a command in front of the binary (strace). @pid is livetape's
    own process id, found among the wrapper's children."""

    def __init__(self, wrapper, *args):
        self.ingest_port = taptest.free_port()
        args = (*args, '--ingest-port', str(self.ingest_port))
        self.proc = subprocess.Popen([*wrapper, taptest.LIVETAPE, '--headless', *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True, env=taptest.env())
        self.lines = queue.Queue()
        self.stderr = []
        self.output = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines.put),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr.append),
                         daemon=True).start()

    def livetape_pid(self):
        for pid in _descendants(self.proc.pid):
            try:
                with open(f'/proc/{pid}/exe', 'rb'):
                    pass
                if os.path.realpath(f'/proc/{pid}/exe') == os.path.realpath(taptest.LIVETAPE):
                    return pid
            except OSError:
                continue
        return None

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Signals livetape itself (strace would only detach), waits for the wrapper."""
        start = time.monotonic()
        pid = self.livetape_pid()
        check(pid is not None, 'livetape is not running under the wrapper')
        os.kill(pid, sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f'still running {timeout} s after {signal.Signals(sig).name}')
        return code, time.monotonic() - start

    def kill(self):
        pid = self.livetape_pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        super().kill()


def _children(pid):
    out = []
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/children') as f:
                out += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return out


def _descendants(pid):
    out = []
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def nginx_pids(data_dir):
    """The live nginx processes whose command line names @data_dir (the daemon's ingest)."""
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/cmdline', 'rb') as f:
                cmdline = f.read().decode(errors='replace')
            with open(f'/proc/{entry}/stat') as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if 'nginx' in cmdline and data_dir in cmdline and state != 'Z':
            pids.append(int(entry))
    return pids


class Env:
    """One data dir with an access key, the demo stream off, and the daemon over it."""

    def __init__(self, prefix):
        self.data_dir = tempfile.mkdtemp(prefix=prefix)
        self.storage = os.path.join(self.data_dir, 'storage')
        self.bucket_dir = os.path.join(self.storage, BUCKET)
        self.catalog_path = os.path.join(self.data_dir, 'catalog.db')
        self.daemon = None
        self.client = None
        self.key_id = None
        self.secret = None
        r = taptest.run('--data-dir', self.data_dir, '--create-access-key')
        check(r.returncode == 0, f'--create-access-key exited {r.returncode}: {r.stderr!r}')
        key = json.loads(r.stdout)
        self.key_id, self.secret = key['AccessKeyId'], key['AccessKeySecret']
        SECRETS.append(self.secret)
        # The demo stream is on by default on a first start; it would cost a core's worth
        # of encoding here. The engine inserts its row only when there is none.
        db = sqlite3.connect(self.catalog_path, timeout=10)
        with db:
            n = db.execute("UPDATE ingest_sources SET enabled = 0 WHERE kind = 'demo'").rowcount
            if n == 0:
                db.execute("INSERT INTO ingest_sources (kind, domain, app, stream, enabled, "
                           "create_time, update_time) VALUES ('demo', ?, 'live', 'demo', 0, "
                           "0, 0)", (DOMAIN,))
        db.close()

    # daemon
    def start(self, wrapper=None, timeout=30):
        args = ('--data-dir', self.data_dir, '--api-listen', '127.0.0.1:0')
        t0 = time.monotonic()
        self.daemon = WrappedDaemon(wrapper, *args) if wrapper else taptest.Daemon(*args)
        _host, port = self.daemon.wait_ready(timeout=timeout)
        self.client = api_client.Client(f'http://127.0.0.1:{port}', self.key_id, self.secret)
        return time.monotonic() - t0

    @property
    def port(self):
        return self.daemon.ingest_port

    def stop(self):
        code, seconds = self.daemon.stop(timeout=15)
        check(code == 0, f'SIGTERM: exit {code}; output {self.daemon.text()[-3000:]!r}')
        return seconds

    def kill9(self):
        self.daemon.kill()

    def output_tail(self, n=3000):
        return self.daemon.text()[-n:] if self.daemon else ''

    def cleanup(self, keep=False):
        if self.daemon is not None:
            self.daemon.kill()
        if keep:
            note(f'kept {self.data_dir}')
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # API
    def call(self, action, params):
        return self.client.call(action, params)

    def add_rule(self, app=APP, stream=None, formats=('m3u8', 'mp4', 'flv'), **extra):
        params = {'DomainName': DOMAIN, 'AppName': app, 'OssEndpoint': ENDPOINT,
                  'OssBucket': BUCKET, 'DelayTime': str(DELAY_S)}
        if stream is not None:
            params['StreamName'] = stream
        for i, fmt in enumerate(formats, 1):
            params[f'RecordFormat.{i}.Format'] = fmt
            params[f'RecordFormat.{i}.CycleDuration'] = str(CYCLE_S)
            if fmt == 'm3u8':
                params[f'RecordFormat.{i}.SliceDuration'] = str(SLICE_S)
        params.update(extra)
        return expect_ok(self.client.call('AddLiveAppRecordConfig', params),
                         f'AddLiveAppRecordConfig {app}/{stream}')

    def command(self, stream, command, app=APP, **extra):
        params = {'DomainName': DOMAIN, 'AppName': app, 'StreamName': stream}
        if command is not None:
            params['Command'] = command
        params.update({k: str(v) for k, v in extra.items()})
        return self.client.call('RealTimeRecordCommand', params)

    def online(self, stream, app=APP):
        """The stream's LiveStreamOnlineInfo, or None when it is not listed."""
        reply = self.client.call('DescribeLiveStreamsOnlineList',
                                 {'DomainName': DOMAIN, 'AppName': app, 'StreamName': stream})
        data = expect_ok(reply, 'DescribeLiveStreamsOnlineList')
        value = data.get('OnlineInfo')
        items = value.get('LiveStreamOnlineInfo', []) if isinstance(value, dict) else []
        items = items if isinstance(items, list) else [items]
        for info in items:
            if info.get('StreamName') == stream and info.get('AppName') == app:
                return info
        return None

    def record_state(self, stream, app=APP):
        info = self.online(stream, app)
        return None if info is None else info.get('RecordState')

    def wait_state(self, stream, states, timeout, app=APP):
        """Waits until RecordState is one of @states; returns the info."""
        states = (states,) if isinstance(states, str) else tuple(states)
        last = {}

        def ready():
            info = self.online(stream, app)
            last['info'] = info
            return info if info is not None and info.get('RecordState') in states else None
        try:
            return wait_for(ready, timeout, f'{app}/{stream} RecordState in {states}', 0.1)
        except AssertionError:
            raise AssertionError(f'{app}/{stream}: RecordState not in {states} after {timeout} s; '
                                 f'last {last.get("info")!r}; daemon: {self.output_tail(1500)!r}')

    def wait_paused(self, stream, timeout=3, app=APP):
        """After an unpublish: the session is paused (the merge window). The online list
        has only online streams: the stream is gone from it, or listed as paused."""
        def ready():
            sessions = self.sessions(stream, app)
            if not sessions or sessions[-1]['state'] != 'paused':
                return None
            info = self.online(stream, app)
            if info is None:
                return {'RecordState': None}
            return info if info.get('RecordState') == 'paused' else None
        return wait_for(ready, timeout, f'{app}/{stream} paused', 0.1)

    def wait_online(self, stream, timeout=10, app=APP):
        return wait_for(lambda: self.online(stream, app), timeout, f'{app}/{stream} online', 0.1)

    def wait_offline(self, stream, timeout=10, app=APP):
        """Waits until the stream is gone from the list or listed without a publisher."""
        return wait_for(lambda: self.online(stream, app) is None, timeout,
                        f'{app}/{stream} offline', 0.1)

    # catalog
    def db(self):
        db = sqlite3.connect(self.catalog_path, timeout=10)
        db.row_factory = sqlite3.Row
        db.execute('PRAGMA query_only = 1')
        return db

    def query(self, sql, args=()):
        db = self.db()
        try:
            return [dict(r) for r in db.execute(sql, args).fetchall()]
        finally:
            db.close()

    def stream_id(self, stream, app=APP):
        rows = self.query('SELECT id FROM streams WHERE domain = ? AND app = ? AND stream = ?',
                          (DOMAIN, app, stream))
        return rows[0]['id'] if rows else None

    def sessions(self, stream, app=APP):
        return self.query('SELECT s.* FROM sessions s JOIN streams t ON t.id = s.stream_id '
                          'WHERE t.domain = ? AND t.app = ? AND t.stream = ? ORDER BY s.id',
                          (DOMAIN, app, stream))

    def files(self, session_id=None, stream=None, app=APP):
        if session_id is not None:
            return self.query('SELECT * FROM recording_files WHERE session_id = ? '
                              'ORDER BY format, sequence', (session_id,))
        return self.query('SELECT f.* FROM recording_files f JOIN streams t ON t.id = f.stream_id '
                          'WHERE t.domain = ? AND t.app = ? AND t.stream = ? '
                          'ORDER BY f.format, f.sequence', (DOMAIN, app, stream))

    def slices(self, recording_file_id=None, session_id=None):
        if recording_file_id is not None:
            return self.query('SELECT * FROM slices WHERE recording_file_id = ? ORDER BY sequence',
                              (recording_file_id,))
        return self.query('SELECT * FROM slices WHERE session_id = ? ORDER BY start_time_us, sequence',
                          (session_id,))

    def pauses(self, session_id):
        return self.query('SELECT * FROM session_pauses WHERE session_id = ? ORDER BY id',
                          (session_id,))


def expect_ok(reply, what):
    check(reply.status == 200, f'{what}: {reply!r}')
    check(isinstance(reply.data, dict) and re.fullmatch(r'[0-9A-F-]{36}', reply.data.get('RequestId', '')),
          f'{what}: no RequestId in {reply!r}')
    return reply.data


def expect_error(reply, status, code, what):
    check(reply.status == status and reply.code == code,
          f'{what}: expected {status} {code}, got {reply!r}')
    for field in ('RequestId', 'HostId', 'Code', 'Message'):
        check(reply.data.get(field), f'{what}: no {field} in {reply!r}')


# Catalog watcher -----------------------------------------------------------------------

class CatalogWatcher:
    """Polls the catalog every 50 ms on a thread and notes when each slice row and each
    closed recording file row first appears (wall clock), to compare with the files'
    mtimes: the catalog must have every slice and file within 1 s of its closing."""

    def __init__(self, env, interval=0.05):
        self.env = env
        self.interval = interval
        self.slice_seen = {}      # slice id -> (time seen, local_path)
        self.file_closed = {}     # file id -> (time seen closed, local_path)
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        db = None
        while not self._stop.is_set():
            try:
                if db is None:
                    if not os.path.exists(self.env.catalog_path):
                        time.sleep(self.interval)
                        continue
                    db = sqlite3.connect(self.env.catalog_path, timeout=5)
                    db.execute('PRAGMA query_only = 1')
                now = time.time()
                known = max(self.slice_seen) if self.slice_seen else 0
                for sid, path in db.execute('SELECT id, local_path FROM slices WHERE id > ?',
                                            (known,)):
                    self.slice_seen.setdefault(sid, (now, path))
                for fid, path in db.execute("SELECT id, local_path FROM recording_files "
                                            "WHERE state <> 'open'"):
                    self.file_closed.setdefault(fid, (now, path))
            except sqlite3.Error as e:
                self.errors.append(str(e))
                if db is not None:
                    db.close()
                    db = None
            self._stop.wait(self.interval)
        if db is not None:
            db.close()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def slice_delays(self, slice_ids):
        """Seconds from each slice file's mtime (its close) to its row being seen."""
        out = {}
        for sid in slice_ids:
            seen = self.slice_seen.get(sid)
            if seen and seen[1] and os.path.exists(seen[1]):
                out[sid] = seen[0] - os.stat(seen[1]).st_mtime
        return out

    def file_delays(self, file_ids):
        out = {}
        for fid in file_ids:
            seen = self.file_closed.get(fid)
            if seen and seen[1] and os.path.exists(seen[1]):
                out[fid] = seen[0] - os.stat(seen[1]).st_mtime
        return out


# Media checks --------------------------------------------------------------------------

_probe_cache = {}


def ffprobe_json(args, path):
    proc = subprocess.run(['ffprobe', '-v', 'error', '-of', 'json', *args, path],
                          capture_output=True, text=True, timeout=60)
    try:
        data = json.loads(proc.stdout or '{}')
    except ValueError:
        data = {}
    return proc.returncode, data, proc.stderr.strip()


def probe_frames(path):
    """Decodes every frame of @path (ffprobe -show_frames: errors at -v error) and
    returns a summary: rc, errors, video/audio frame counts, the first video frame's
    key_frame and pict_type, the video time span and the first video packet's flags.
    Cached by (path, size, mtime)."""
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns)
    if key in _probe_cache:
        return _probe_cache[key]
    rc, data, err = ffprobe_json(['-show_frames', '-show_entries',
                                  'frame=media_type,key_frame,pict_type,pts_time,'
                                  'best_effort_timestamp_time,pkt_duration_time'], path)
    frames = data.get('frames', [])
    video = [f for f in frames if f.get('media_type') == 'video']
    audio = [f for f in frames if f.get('media_type') == 'audio']

    def t(f):
        v = f.get('pts_time', f.get('best_effort_timestamp_time'))
        return float(v) if v not in (None, 'N/A') else None
    times = [t(f) for f in video if t(f) is not None]
    span = None
    if times:
        last_dur = video[-1].get('pkt_duration_time')
        span = max(times) - min(times) + (float(last_dur) if last_dur not in (None, 'N/A') else 1.0 / FPS)
    prc, pdata, perr = ffprobe_json(['-select_streams', 'v:0', '-show_packets',
                                     '-read_intervals', '%+#1', '-show_entries', 'packet=flags'],
                                    path)
    packets = pdata.get('packets', [])
    summary = {
        'rc': rc, 'errors': err, 'video': len(video), 'audio': len(audio),
        'first_key': video[0].get('key_frame') if video else None,
        'first_type': video[0].get('pict_type') if video else None,
        'first_packet_flags': packets[0].get('flags') if packets else None,
        'span': span,
    }
    _probe_cache[key] = summary
    return summary


def probe_format(path):
    """ffprobe's format duration and the codec names of the streams."""
    rc, data, err = ffprobe_json(['-show_format', '-show_streams'], path)
    check(rc == 0, f'ffprobe {path}: {err}')
    fmt = data.get('format', {})
    duration = fmt.get('duration')
    return {
        'duration': float(duration) if duration not in (None, 'N/A') else None,
        'codecs': [s.get('codec_name') for s in data.get('streams', [])],
        'streams': data.get('streams', []),
        'errors': err,
    }


def decodes(path):
    """ffmpeg decodes the whole file without an error message."""
    proc = subprocess.run(['ffmpeg', '-hide_banner', '-nostdin', '-v', 'error', '-i', path,
                           '-f', 'null', '-'], capture_output=True, text=True, timeout=120)
    return proc.returncode == 0 and not proc.stderr.strip(), proc.stderr.strip()


def flv_metadata_duration(path):
    """The duration number of the FLV's onMetaData script tag, parsed here."""
    with open(path, 'rb') as f:
        data = f.read(1 << 20)
    check(data[:3] == b'FLV', f'{path} is not an FLV file')
    offset = struct.unpack('>I', data[5:9])[0] + 4
    while offset + 11 <= len(data):
        tag_type = data[offset] & 0x1f
        size = int.from_bytes(data[offset + 1:offset + 4], 'big')
        body = data[offset + 11:offset + 11 + size]
        if tag_type == 18 and b'onMetaData' in body[:16]:
            i = body.find(b'\x00\x08duration\x00')
            if i < 0:
                return None
            return struct.unpack('>d', body[i + 11:i + 19])[0]
        offset += 11 + size + 4
    return None


def parse_playlist(path):
    """M3U8 media playlist: the segments (uri, duration, discontinuity before), whether it
    ends with ENDLIST, its tags."""
    with open(path, encoding='utf-8') as f:
        lines = [line.strip() for line in f if line.strip()]
    check(lines and lines[0] == '#EXTM3U', f'{path}: not an M3U8 playlist')
    segments = []
    duration = None
    disc = False
    tags = {}
    for line in lines[1:]:
        if line.startswith('#EXTINF:'):
            duration = float(line[len('#EXTINF:'):].split(',')[0])
        elif line == '#EXT-X-DISCONTINUITY':
            disc = True
        elif line.startswith('#'):
            name, _, value = line.partition(':')
            tags.setdefault(name, []).append(value)
        else:
            check(duration is not None, f'{path}: segment {line} without #EXTINF')
            segments.append({'uri': line, 'duration': duration, 'discontinuity': disc,
                             'path': os.path.normpath(os.path.join(os.path.dirname(path), line))})
            duration = None
            disc = False
    return {'segments': segments, 'endlist': lines[-1] == '#EXT-X-ENDLIST', 'tags': tags,
            'text': '\n'.join(lines)}


def check_slice_file(row, what):
    """A catalogued slice: its file exists with the catalogued size, decodes without an
    error, starts with a video keyframe, and lasts what the catalog says."""
    path = row['local_path']
    check(path and os.path.isabs(path), f'{what}: slice {row["id"]} has no absolute local_path')
    check(os.path.exists(path), f'{what}: slice file {path} is missing')
    size = os.path.getsize(path)
    check(size == row['size'], f'{what}: {path} is {size} bytes, the catalog says {row["size"]}')
    p = probe_frames(path)
    check(p['rc'] == 0 and not p['errors'], f'{what}: {path} does not decode cleanly: {p["errors"]!r}')
    check(p['video'] > 0 and p['audio'] > 0, f'{what}: {path} has {p["video"]} video and '
          f'{p["audio"]} audio frames')
    check(p['first_key'] == 1, f'{what}: {path} starts with a {p["first_type"]} frame, not a keyframe')
    check(p['first_packet_flags'] and p['first_packet_flags'].startswith('K'),
          f'{what}: {path}: first video packet flags {p["first_packet_flags"]!r}')
    check(p['span'] is not None and abs(p['span'] - row['duration_us'] / 1e6) <= 0.15,
          f'{what}: {path}: video lasts {p["span"]} s, the catalog says {row["duration_us"] / 1e6} s')
    return p

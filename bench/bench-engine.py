#!/usr/bin/env python3
# bench-engine.py: what the whole engine costs while it records N real publishers, against
# ffmpeg -c copy pulling the same N streams to HLS from the same nginx in the same run.
#
#   bench/bench-engine.py [--build DIR] [--work DIR] [--streams 20[,1…]] [--seconds 60]
#                         [--base-seconds 20] [--runs N] [--configs ts,all] [--minutes 3]
#                         [--keep]
#
# One daemon per (N, run, configuration): `livetape --headless --data-dir D --ingest-port P
# --api-listen 127.0.0.1:0` with its nginx-rtmp child, one rule added through the control
# API (OssEndpoint=local; "ts": m3u8 with 6 s slices; "all": m3u8 + mp4 + flv, default
# cycles), then N publishers `ffmpeg -re -stream_loop -1 -i INPUT -c copy -f flv` to
# rtmp://127.0.0.1:P/bench/sNN. Once every stream records:
#   base window (first configuration of each run, --base-seconds): livetape alone pulls from
#     nginx; nginx's CPU here is its cost for N publishers + one player each, the cost any
#     recorder pulling from nginx adds to the relay, so it is counted once on both sides;
#   measured window (--seconds): N `ffmpeg -i rtmp://…/bench/sNN -c copy -f hls -hls_time 6`
#     pull the same streams too; CPU (utime + stime from /proc/PID/stat) of the livetape
#     process, of its nginx child and of every ffmpeg, and peak RSS (VmHWM) of each.
# Figures are CPU seconds per hour of media per stream; the ratio is livetape/ffmpeg, the
# median of the per-run ratios when --runs > 1 (both sides measured in the same run share
# whatever else the machine was doing). Afterwards the catalog (table slices) says how many
# seconds of each stream Livetape recorded inside the windows, the peer's playlists
# (#EXT-X-PROGRAM-DATE-TIME) the same for ffmpeg: no dropped data means window-long coverage.
# Capacity projection: nproc × 3600 / (livetape + nginx base) per stream.
#
# Needs ffmpeg, ffprobe, nginx with libnginx-mod-rtmp, and a Secret Service for
# `livetape --create-access-key`: unless it already runs inside one (LT_BENCH_SESSION=1),
# the script re-runs itself under tools/lib/test-session.sh --bus --isolate.

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

from benchlib import cpu_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = 'bench'
BUCKET = 'bench'
SLICE_S = 6
DELAY_S = 15
CONFIGS = {
    'ts': ('TS slices', ('m3u8',)),
    'all': ('TS + MP4 + FLV', ('m3u8', 'mp4', 'flv')),
}
HZ = os.sysconf('SC_CLK_TCK')


def parse_args():
    p = argparse.ArgumentParser(description='The whole engine (livetape + its nginx) recording '
                                'N real publishers, against ffmpeg -c copy to HLS.')
    p.add_argument('--build', default=os.environ.get('BUILD', os.path.join(ROOT, '_build')))
    p.add_argument('--work', default=os.environ.get('LT_BENCH_DIR', os.path.join(
        os.environ.get('TMPDIR', '/tmp'), 'livetape-bench')))
    p.add_argument('--streams', default='20', help='publishers, a comma list runs each in turn')
    p.add_argument('--seconds', type=float, default=60, help='the measured window')
    p.add_argument('--base-seconds', type=float, default=20,
                   help='the window with livetape alone (nginx base cost)')
    p.add_argument('--runs', type=int, default=1)
    p.add_argument('--configs', default='ts,all')
    p.add_argument('--minutes', type=int, default=3, help='length of the generated input')
    p.add_argument('--keep', action='store_true', help='keep the data dirs and HLS output')
    args = p.parse_args()
    args.streams = [int(n) for n in args.streams.split(',') if n]
    args.configs = [c for c in args.configs.split(',') if c]
    for c in args.configs:
        if c not in CONFIGS:
            p.error(f'unknown configuration {c} (ts, all)')
    return args


def reexec_in_session():
    """The access key's secret goes to the keyring: run inside a private session bus with an
    unlocked gnome-keyring (what tools/test uses), once."""
    if os.environ.get('LT_BENCH_SESSION') == '1':
        return
    session = os.path.join(ROOT, 'tools', 'lib', 'test-session.sh')
    os.execvp(session, [session, '--bus', '--isolate', '--', 'env', 'LT_BENCH_SESSION=1',
                        sys.executable, os.path.abspath(__file__), *sys.argv[1:]])


# /proc -----------------------------------------------------------------------------------

def proc_cpu(pid):
    """utime + stime of @pid in seconds (all its threads; not its children)."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def proc_hwm_kb(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return 0


def children(pid):
    out = []
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/children') as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def nginx_of(pid):
    """The nginx processes under livetape @pid (one: it runs with master_process off)."""
    out, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            todo.append(child)
            try:
                if os.path.basename(os.readlink(f'/proc/{child}/exe')) == 'nginx':
                    out.append(child)
            except OSError:
                pass
    return out


def cpu_sum(pids):
    return sum(proc_cpu(p) for p in pids)


# Media -----------------------------------------------------------------------------------

def make_input(work, minutes):
    """The same input as bench-recorder.sh (shared when both use the same work dir)."""
    path = os.path.join(work, f'input-1080p30-{minutes}min.flv')
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        print(f'# generating {path} ({minutes} min 1080p30 ~5 Mbit/s)', flush=True)
        subprocess.run(['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
                        '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30,noise=alls=12:allf=t',
                        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
                        '-t', str(minutes * 60), '-c:v', 'libx264', '-preset', 'ultrafast',
                        '-b:v', '5M', '-maxrate', '5M', '-bufsize', '10M', '-g', '60',
                        '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
                        '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-f', 'flv', path + '.tmp'],
                       check=True)
        os.replace(path + '.tmp', path)
    return path


def probe(path, entry):
    return subprocess.run(['ffprobe', '-v', 'error', '-show_entries', f'format={entry}',
                           '-of', 'csv=p=0', path], capture_output=True, text=True,
                          check=True).stdout.strip()


def versions():
    gst = subprocess.run(['gst-launch-1.0', '--version'], capture_output=True, text=True).stdout
    gst = gst.splitlines()[1].replace('GStreamer ', 'GStreamer ') if gst else 'GStreamer ?'
    ngx = subprocess.run(['nginx', '-v'], capture_output=True, text=True).stderr.strip()
    ngx = ngx.split(': ', 1)[-1]
    rtmp = subprocess.run(['dpkg-query', '-W', '-f', '${Version}', 'libnginx-mod-rtmp'],
                          capture_output=True, text=True).stdout.strip()
    ff = ' '.join(subprocess.run(['ffmpeg', '-version'], capture_output=True,
                                 text=True).stdout.split()[:3])
    return f'{gst}, {ngx} + libnginx-mod-rtmp {rtmp or "?"}, {ff}'


# Coverage --------------------------------------------------------------------------------

def overlap(start, end, w0, w1):
    return max(0.0, min(end, w1) - max(start, w0))


PDT_RE = re.compile(r'^#EXT-X-PROGRAM-DATE-TIME:(.+)$')


def peer_coverage(playlist, w0, w1):
    """Seconds of [w0, w1] covered by the segments of ffmpeg's playlist (wall-clock starts
    from #EXT-X-PROGRAM-DATE-TIME, which ffmpeg writes between #EXTINF and the URI), and the
    playlist's total duration."""
    covered = total = 0.0
    if not os.path.exists(playlist):
        return 0.0, 0.0
    pdt = duration = None
    with open(playlist) as f:
        for line in f:
            line = line.strip()
            m = PDT_RE.match(line)
            if m:
                text = m.group(1).replace('Z', '+00:00')
                text = re.sub(r'([+-]\d\d)(\d\d)$', r'\1:\2', text)
                pdt = datetime.fromisoformat(text).timestamp()
            elif line.startswith('#EXTINF:'):
                duration = float(line[8:].split(',')[0])
            elif line and not line.startswith('#') and duration is not None:
                total += duration
                if pdt is not None:
                    covered += overlap(pdt, pdt + duration, w0, w1)
                    pdt += duration
                duration = None
    return covered, total


# One measurement -------------------------------------------------------------------------

def stop_proc(proc, sig=signal.SIGINT, timeout=8):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def add_rule(env, formats):
    params = {'DomainName': R.DOMAIN, 'AppName': APP, 'OssEndpoint': 'local',
              'OssBucket': BUCKET, 'DelayTime': str(DELAY_S)}
    for i, fmt in enumerate(formats, 1):
        params[f'RecordFormat.{i}.Format'] = fmt
        if fmt == 'm3u8':
            params[f'RecordFormat.{i}.SliceDuration'] = str(SLICE_S)
    R.expect_ok(env.client.call('AddLiveAppRecordConfig', params), 'AddLiveAppRecordConfig')


def recording_count(env):
    rows = env.query("SELECT count(*) AS n FROM sessions s JOIN streams t ON t.id = s.stream_id "
                     "WHERE t.app = ? AND s.state = 'recording'", (APP,))
    return rows[0]['n']


def measure(args, media, n, config, base, tag):
    """One daemon, one configuration, N publishers: a dict of raw figures."""
    formats = CONFIGS[config][1]
    env = R.Env(f'engine-{config}-{n}-')
    out_dir = os.path.join(args.work, 'engine', f'{tag}-peer')
    shutil.rmtree(out_dir, ignore_errors=True)
    publishers, pullers = [], []
    fig = {'config': config, 'n': n}
    try:
        env.start()
        add_rule(env, formats)
        lt_pid = env.daemon.proc.pid
        ngx = R.wait_for(lambda: nginx_of(lt_pid), 15, 'nginx under livetape')
        names = [f's{i:02d}' for i in range(1, n + 1)]
        pub_start = {}
        for name in names:
            url = f'rtmp://127.0.0.1:{env.port}/{APP}/{name}'
            publishers.append(subprocess.Popen(
                ['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-re',
                 '-stream_loop', '-1', '-i', media, '-c', 'copy', '-f', 'flv', url],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True, preexec_fn=R._die_with_parent))
            pub_start[name] = time.time()
        R.CHILDREN.extend(publishers)
        R.wait_for(lambda: recording_count(env) >= n, 30 + n, f'{n} sessions recording', 0.2)
        dead = [p for p in publishers if p.poll() is not None]
        R.check(not dead, f'a publisher exited: {dead[0].stderr.read() if dead else ""}')
        time.sleep(3)
        ngx = nginx_of(lt_pid)

        if base:
            b0 = time.time()
            c0 = (proc_cpu(lt_pid), cpu_sum(ngx))
            time.sleep(args.base_seconds)
            c1 = (proc_cpu(lt_pid), cpu_sum(ngx))
            fig['base_s'] = time.time() - b0
            fig['lt_alone'] = c1[0] - c0[0]
            fig['ngx_base'] = c1[1] - c0[1]

        os.makedirs(out_dir)
        for name in names:
            d = os.path.join(out_dir, name)
            os.makedirs(d)
            pullers.append(subprocess.Popen(
                ['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error',
                 '-i', f'rtmp://127.0.0.1:{env.port}/{APP}/{name}', '-c', 'copy', '-f', 'hls',
                 '-hls_time', str(SLICE_S), '-hls_list_size', '0', '-hls_flags',
                 'program_date_time', os.path.join(d, 'index.m3u8')],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True, preexec_fn=R._die_with_parent))
        R.CHILDREN.extend(pullers)

        def peers_writing():
            return all(any(f.endswith('.ts') for f in os.listdir(os.path.join(out_dir, nm)))
                       for nm in names)
        R.wait_for(peers_writing, 30 + n, 'every ffmpeg peer writing segments', 0.2)
        dead = [p for p in pullers if p.poll() is not None]
        R.check(not dead, f'an ffmpeg peer exited: {dead[0].stderr.read() if dead else ""}')
        time.sleep(2)

        ngx = nginx_of(lt_pid)
        w0 = time.time()
        c0 = (proc_cpu(lt_pid), cpu_sum(ngx), [proc_cpu(p.pid) for p in pullers])
        time.sleep(args.seconds)
        c1 = (proc_cpu(lt_pid), cpu_sum(ngx), [proc_cpu(p.pid) for p in pullers])
        w1 = time.time()
        fig['window_s'] = w1 - w0
        fig['lt'] = c1[0] - c0[0]
        fig['ngx'] = c1[1] - c0[1]
        fig['ff'] = sum(b - a for a, b in zip(c0[2], c1[2]))
        fig['lt_rss'] = proc_hwm_kb(lt_pid)
        fig['ngx_rss'] = sum(proc_hwm_kb(p) for p in ngx)
        ff_rss = [proc_hwm_kb(p.pid) for p in pullers]
        fig['ff_rss'] = sum(ff_rss)
        fig['ff_rss_one'] = statistics.median(ff_rss)
        fig['ngx_restarted'] = len(ngx) != 1 or nginx_of(lt_pid) != ngx

        for p in pullers:
            stop_proc(p)
        pub_stop = {}
        for name, p in zip(names, publishers):
            stop_proc(p)
            pub_stop[name] = time.time()
        # The last slices close when the publishers leave (the merge window pauses the
        # sessions); SIGTERM then ends them and finishes the files.
        time.sleep(2)
        stop_s = env.stop()
        fig['stop_s'] = stop_s

        # Coverage: Livetape's slices (wall-clock start_time_us) against the windows.
        span0 = b0 if base else w0
        lt_cov, lt_cov_all, lt_total, pub_span, ff_cov, ff_total = [], [], [], [], [], []
        for name in names:
            sid = env.stream_id(name, app=APP)
            rows = env.query("SELECT s.start_time_us, s.duration_us FROM slices s "
                             "JOIN recording_files f ON f.id = s.recording_file_id "
                             "WHERE s.stream_id = ? AND f.format = 'm3u8'", (sid,)) if sid else []
            spans = [(r['start_time_us'] / 1e6, (r['start_time_us'] + r['duration_us']) / 1e6)
                     for r in rows]
            lt_cov.append(sum(overlap(a, b, w0, w1) for a, b in spans))
            lt_cov_all.append(sum(overlap(a, b, span0, w1) for a, b in spans))
            lt_total.append(sum(b - a for a, b in spans))
            pub_span.append(pub_stop[name] - pub_start[name])
            c, t = peer_coverage(os.path.join(out_dir, name, 'index.m3u8'), w0, w1)
            ff_cov.append(c)
            ff_total.append(t)
        fig.update(lt_cov=lt_cov, lt_cov_all=lt_cov_all, cov_all_s=w1 - span0,
                   lt_total=lt_total, pub_span=pub_span, ff_cov=ff_cov, ff_total=ff_total)
        files = env.query("SELECT f.format, count(*) AS n, sum(f.size) AS bytes FROM "
                          "recording_files f JOIN streams t ON t.id = f.stream_id WHERE t.app = ? "
                          "GROUP BY f.format", (APP,))
        fig['files'] = {r['format']: (r['n'], r['bytes']) for r in files}
        sessions = env.query("SELECT s.state, s.end_reason FROM sessions s JOIN streams t "
                             "ON t.id = s.stream_id WHERE t.app = ?", (APP,))
        fig['sessions'] = len(sessions)
        fig['failed'] = [s['end_reason'] for s in sessions if s['state'] == 'failed']
        text = env.output_tail(200000)
        fig['warnings'] = [line for line in text.splitlines()
                           if 'WARNING' in line or 'CRITICAL' in line or 'ERROR' in line][:5]
        return fig
    finally:
        for p in pullers + publishers:
            stop_proc(p, signal.SIGKILL, 2)
        env.cleanup(keep=args.keep)
        if not args.keep:
            shutil.rmtree(out_dir, ignore_errors=True)


# Report ----------------------------------------------------------------------------------

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float('nan')


def per_hour(cpu, seconds, n):
    return cpu * 3600 / seconds / n


def line(what, lt, peer_name, peer, ratio, extra=''):
    print(f'{what:<58} livetape {lt:>8}   {peer_name:<25} {peer:>8}   ratio {ratio}{extra}',
          flush=True)


def fmt(v, digits=1):
    return 'nan' if v != v else f'{v:.{digits}f}'


def report(n, config, figs, base_figs, ncpu):
    label = CONFIGS[config][0]
    lt = [per_hour(f['lt'], f['window_s'], n) for f in figs]
    ff = [per_hour(f['ff'], f['window_s'], n) for f in figs]
    ngx2 = [per_hour(f['ngx'], f['window_s'], n) for f in figs]
    nb = [per_hour(b['ngx_base'], b['base_s'], n) for b in base_figs]
    nbase = med(nb)
    ratios = [a / b if b > 0 else float('nan') for a, b in zip(lt, ff)]
    whole = [a + nbase for a in lt]
    whole_ff = [b + nbase for b in ff]
    whole_r = [a / b for a, b in zip(whole, whole_ff)]
    tag = f'N={n} {label}'
    line(f'{tag}: process, CPU-s/media h/stream', fmt(med(lt)), 'ffmpeg -c copy → HLS',
         fmt(med(ff)), fmt(med(ratios), 2),
         f'  (runs: {", ".join(fmt(r, 2) for r in ratios)})' if len(ratios) > 1 else '')
    line(f'{tag}: + nginx base ({fmt(nbase)}), CPU-s/h/stream', fmt(med(whole)),
         'ffmpeg + same nginx base', fmt(med(whole_ff)), fmt(med(whole_r), 2))
    lt_rss = med([f['lt_rss'] for f in figs])
    ff_rss = med([f['ff_rss'] for f in figs])
    line(f'{tag}: peak RSS, KB (one livetape / {n} ffmpeg)', f'{lt_rss:.0f}',
         f'sum of {n} ffmpeg', f'{ff_rss:.0f}', fmt(lt_rss / ff_rss, 2),
         f'  (per stream {lt_rss / n / 1024:.1f} / {ff_rss / n / 1024:.1f} MB; '
         f'one ffmpeg {med([f["ff_rss_one"] for f in figs]) / 1024:.1f} MB)')
    lt_cov = [min(f['lt_cov']) for f in figs]
    ff_cov = [min(f['ff_cov']) for f in figs]
    win = med([f['window_s'] for f in figs])
    line(f'{tag}: recorded in the {win:.1f} s window, min s', fmt(med(lt_cov), 2),
         'ffmpeg playlist', fmt(med(ff_cov), 2),
         fmt(med(lt_cov) / med(ff_cov), 3) if med(ff_cov) > 0 else 'nan')
    alone = [per_hour(b['lt_alone'], b['base_s'], n) for b in base_figs if b['config'] == config]
    cov_all = [min(f['lt_cov_all']) / f['cov_all_s'] for f in figs]
    short = [max(p - t for p, t in zip(f['pub_span'], f['lt_total'])) for f in figs]
    print(f'#   nginx: {fmt(med(ngx2))} CPU-s/h/stream with both recorders pulling '
          f'(+{fmt(med(ngx2) - nbase)} for the second player), base {fmt(nbase)}; '
          f'peak RSS {med([f["ngx_rss"] for f in figs]) / 1024:.1f} MB', flush=True)
    if alone:
        print(f'#   livetape alone (base window): {fmt(med(alone))} CPU-s/h/stream', flush=True)
    print(f'#   livetape coverage of base + measured window: min {100 * med(cov_all):.2f} %; '
          f'published − recorded per stream (start-up, first keyframe): max {med(short):.2f} s; '
          f'ffmpeg playlists total {fmt(med([min(f["ff_total"]) for f in figs]), 1)} s min',
          flush=True)
    whole_med = med(whole)
    print(f'#   projection: {ncpu} cores × 3600 / {fmt(whole_med)} (livetape + nginx base) → '
          f'{int(ncpu * 3600 / whole_med) if whole_med > 0 else 0} concurrent 5 Mbit/s streams; '
          f'ffmpeg + nginx base → '
          f'{int(ncpu * 3600 / med(whole_ff)) if med(whole_ff) > 0 else 0}', flush=True)
    for f in figs:
        if f['failed'] or f['warnings'] or f['ngx_restarted'] or f['sessions'] != n:
            print(f'#   warning: sessions {f["sessions"]}, failed {f["failed"]}, nginx restarted '
                  f'{f["ngx_restarted"]}, daemon said {f["warnings"]}', flush=True)


def main():
    args = parse_args()
    reexec_in_session()
    build = os.path.abspath(args.build)
    os.environ['LT_LIVETAPE'] = os.path.join(build, 'src', 'livetape')
    os.environ['LT_BUILD_ROOT'] = build
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))
    global R
    import recordlib as R  # noqa: E402
    R.install_signal_handlers()
    for tool in ('ffmpeg', 'ffprobe', 'nginx', os.environ['LT_LIVETAPE']):
        if shutil.which(tool) is None:
            sys.exit(f'missing: {tool} (build with ninja -C {build})')
    os.makedirs(os.path.join(args.work, 'engine'), exist_ok=True)
    tempfile.tempdir = os.path.join(args.work, 'engine')
    ncpu = os.cpu_count()

    print(f'# bench-engine: {datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}')
    print(f'# machine: {ncpu} cores, {cpu_model()}; load average {os.getloadavg()[0]:.2f} '
          f'at start (other work on the machine makes these figures noisy)')
    lt_version = subprocess.run([os.environ['LT_LIVETAPE'], '--version'], capture_output=True,
                                text=True).stdout.strip()
    print(f'# versions: {lt_version}, {versions()}')
    media = make_input(args.work, args.minutes)
    rate = float(probe(media, 'bit_rate')) / 1e6
    print(f'# input: {media}, {float(probe(media, "duration")):.0f} s, {rate:.2f} Mbit/s, '
          f'published with ffmpeg -re -stream_loop -1 -c copy', flush=True)
    print(f'# peer: one `ffmpeg -i rtmp://… -c copy -f hls -hls_time {SLICE_S}` per stream from '
          f'the same nginx, in the same run; windows: base {args.base_seconds:.0f} s (livetape '
          f'alone), measured {args.seconds:.0f} s; {args.runs} run(s), medians', flush=True)

    t_start = time.monotonic()
    try:
        for n in args.streams:
            figs = {c: [] for c in args.configs}
            base_figs = []
            for run in range(1, args.runs + 1):
                for i, config in enumerate(args.configs):
                    t = time.monotonic()
                    fig = measure(args, media, n, config, base=(i == 0), tag=f'n{n}-r{run}-{config}')
                    figs[config].append(fig)
                    if 'ngx_base' in fig:
                        base_figs.append(fig)
                    print(f'# N={n} run {run} {config}: livetape {fmt(per_hour(fig["lt"], fig["window_s"], n))}'
                          f', ffmpeg {fmt(per_hour(fig["ff"], fig["window_s"], n))}, nginx '
                          f'{fmt(per_hour(fig["ngx"], fig["window_s"], n))} CPU-s/h/stream; '
                          f'load {os.getloadavg()[0]:.2f}; {time.monotonic() - t:.0f} s', flush=True)
            print(f'## N={n} publishers, {args.runs} run(s)', flush=True)
            for config in args.configs:
                report(n, config, figs[config], base_figs, ncpu)
    finally:
        R.kill_children()
    print(f'# total {time.monotonic() - t_start:.0f} s', flush=True)


if __name__ == '__main__':
    main()

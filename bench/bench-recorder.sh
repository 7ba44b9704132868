#!/bin/bash
# bench-recorder.sh: what the recorder costs, against ffmpeg -c copy on the same input in
# the same run. CPU seconds per hour of media (user + system), peak RSS, and ratios
# livetape/ffmpeg for:
#   offline  an FLV file to 6 s TS slices + playlist (ffmpeg -f hls) as fast as possible;
#   live     pulled from nginx-rtmp while ffmpeg -re publishes (ffmpeg pulling to HLS);
#            TS only, and TS + MP4 + FLV (compared with ffmpeg's TS-only cost);
#   memory   peak RSS of one recording process, and what each further session adds;
# and, on request:
#   --strategies  the MP4/FLV alternatives: GStreamer mp4mux/flvmux written alongside (live)
#                 and assembled from the TS slices when a cycle closes (offline remux);
#   --streams N   N real publishers on loopback recorded by one process: recorder + nginx
#                 cost per stream and the number of 5 Mbit/s streams that projects to.
#
#   bench/bench-recorder.sh [--build DIR] [--work DIR] [--minutes N] [--live-seconds N]
#                           [--runs N] [--instances N] [--strategies] [--streams N]
#                           [--skip-offline] [--skip-live]
#
# Needs ffmpeg, ffprobe, nginx with libnginx-mod-rtmp, gst-launch-1.0, GNU time. The input
# (1080p30, ~5 Mbit/s H.264 + AAC, libx264 ultrafast) is generated once into the work dir.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/_build}
WORK=${LT_BENCH_DIR:-${TMPDIR:-/tmp}/livetape-bench}
MINUTES=3
LIVE_SECONDS=120
RUNS=3
INSTANCES=3
STRATEGIES=0
STREAMS=0
DO_OFFLINE=1
DO_LIVE=1

while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --minutes) MINUTES=$2; shift 2 ;;
    --live-seconds) LIVE_SECONDS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --instances) INSTANCES=$2; shift 2 ;;
    --strategies) STRATEGIES=1; shift ;;
    --streams) STREAMS=$2; shift 2 ;;
    --skip-offline) DO_OFFLINE=0; shift ;;
    --skip-live) DO_LIVE=0; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

HELPER=$BUILD/tests/lt-recorder-helper
TIME=/usr/bin/time
for tool in ffmpeg ffprobe nginx gst-launch-1.0 "$TIME" "$HELPER"; do
  command -v "$tool" > /dev/null || { echo "missing: $tool (build with ninja -C $BUILD)" >&2; exit 1; }
done
NGINX_MODULE=${LT_NGINX_RTMP_MODULE:-/usr/lib/nginx/modules/ngx_rtmp_module.so}

mkdir -p "$WORK"
INPUT=$WORK/input-1080p30-${MINUTES}min.flv
CHILDREN=()
cleanup () {
  for pid in "${CHILDREN[@]}"; do kill "$pid" 2> /dev/null || true; done
}
trap cleanup EXIT

median () { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
per_hour () { awk -v c="$1" -v d="$2" 'BEGIN { printf "%.1f", c * 3600 / d }'; }
# "%e %U %S %M" from GNU time → CPU seconds and KB
cpu_of () { tail -n 1 "$1" | awk '{ printf "%.3f", $2 + $3 }'; }
rss_of () { tail -n 1 "$1" | awk '{ print $4 }'; }
line () { printf '%-44s livetape %8s   %-18s %8s   ratio %s\n' "$1" "$2" "$3" "$4" "$5"; }

echo "# bench-recorder: $(date -u +%FT%TZ)"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# versions: $(gst-launch-1.0 --version | sed -n 2p | sed 's/GStreamer //'), $(nginx -v 2>&1 | sed 's/.*: //'), $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"
echo "# rtmp source: ${LT_RECORDER_RTMP_ELEMENT:-LtRtmpSrc (lt-recorder-rtmp.c)}, and rtmp2src alongside for comparison"

if [ ! -s "$INPUT" ]; then
  echo "# generating $INPUT ($MINUTES min 1080p30 ~5 Mbit/s)"
  ffmpeg -hide_banner -nostdin -loglevel error -y \
    -f lavfi -i "testsrc2=size=1920x1080:rate=30,noise=alls=12:allf=t" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000" -t $((MINUTES * 60)) \
    -c:v libx264 -preset ultrafast -b:v 5M -maxrate 5M -bufsize 10M -g 60 -keyint_min 60 \
    -sc_threshold 0 -pix_fmt yuv420p -c:a aac -b:a 128k -ac 2 -f flv "$INPUT.tmp"
  mv "$INPUT.tmp" "$INPUT"
fi
MEDIA=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$INPUT")
echo "# input: $INPUT, ${MEDIA%.*} s, $(ffprobe -v error -show_entries format=bit_rate -of csv=p=0 "$INPUT" | awk '{ printf "%.2f Mbit/s", $1 / 1e6 }')"

# ---- offline ----
if [ "$DO_OFFLINE" = 1 ]; then
  echo "## offline: FLV file → 6 s TS slices (+ MP4 + FLV), as fast as possible, median of $RUNS"
  declare -a OFF_FF OFF_TS OFF_ALL
  for run in $(seq "$RUNS"); do
    out=$WORK/offline; rm -rf "$out"; mkdir -p "$out/ff"
    $TIME -o "$out/ff.time" -f "%e %U %S %M" ffmpeg -hide_banner -nostdin -loglevel error -y \
      -i "$INPUT" -c copy -f hls -hls_time 6 -hls_list_size 0 "$out/ff/x.m3u8"
    $TIME -o "$out/ts.time" -f "%e %U %S %M" "$HELPER" --root "$out/ts" \
      --uri "file://$INPUT" --format m3u8:slice=6 > /dev/null
    $TIME -o "$out/all.time" -f "%e %U %S %M" "$HELPER" --root "$out/all" \
      --uri "file://$INPUT" --format m3u8:slice=6 --format mp4 --format flv > /dev/null
    OFF_FF+=("$(cpu_of "$out/ff.time")"); OFF_TS+=("$(cpu_of "$out/ts.time")"); OFF_ALL+=("$(cpu_of "$out/all.time")")
  done
  ff=$(printf '%s\n' "${OFF_FF[@]}" | median); ts=$(printf '%s\n' "${OFF_TS[@]}" | median)
  all=$(printf '%s\n' "${OFF_ALL[@]}" | median)
  line "offline TS slices (CPU-s/media h)" "$(per_hour "$ts" "$MEDIA")" "ffmpeg -f hls" "$(per_hour "$ff" "$MEDIA")" "$(ratio "$ts" "$ff")  (target <= 3)"
  line "offline TS+MP4+FLV vs ffmpeg TS only" "$(per_hour "$all" "$MEDIA")" "ffmpeg -f hls" "$(per_hour "$ff" "$MEDIA")" "$(ratio "$all" "$ff")"
  line "offline peak RSS (KB)" "$(rss_of "$out/ts.time")" "ffmpeg" "$(rss_of "$out/ff.time")" "$(ratio "$(rss_of "$out/ts.time")" "$(rss_of "$out/ff.time")")"
fi

# ---- nginx ----
free_port () { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
NGINX_DIR=
start_nginx () {
  NGINX_DIR=$WORK/nginx; rm -rf "$NGINX_DIR"; mkdir -p "$NGINX_DIR/logs"
  PORT=$(free_port)
  cat > "$NGINX_DIR/nginx.conf" <<EOF
load_module $NGINX_MODULE;
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 1024; }
rtmp { server { listen 127.0.0.1:$PORT; application live { live on; } } }
EOF
  nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -g 'daemon off;' > "$NGINX_DIR/logs/stdout" 2>&1 &
  CHILDREN+=($!)
  NGINX_MASTER=$!
  for _ in $(seq 50); do
    (exec 3<> "/dev/tcp/127.0.0.1/$PORT") 2> /dev/null && break
    sleep 0.1
  done
  NGINX_WORKER=$(pgrep -P "$NGINX_MASTER" | head -1)
}
proc_cpu () { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }

# Runs "name command" pairs under GNU time while $1 seconds of the input are published to
# $URL, then stops them (SIGINT; SIGTERM for ffmpeg, which waits for a stream that ended).
run_live () {
  local seconds=$1; shift
  local dir=$WORK/live; rm -rf "$dir"; mkdir -p "$dir"
  local pids=() names=()
  while [ $# -gt 0 ]; do
    names+=("$1")
    setsid $TIME -o "$dir/$1.time" -f "%e %U %S %M" bash -c "exec $2" > "$dir/$1.log" 2>&1 &
    pids+=($!)
    shift 2
  done
  sleep 1
  local nginx_before; nginx_before=$(proc_cpu "$NGINX_WORKER")
  ffmpeg -hide_banner -nostdin -loglevel error -re -i "$INPUT" -t "$seconds" -c copy -f flv "$URL"
  NGINX_CPU=$(awk -v a="$(proc_cpu "$NGINX_WORKER")" -v b="$nginx_before" 'BEGIN { printf "%.3f", a - b }')
  sleep 2
  for pid in "${pids[@]}"; do pkill -INT -P "$pid" 2> /dev/null || true; done
  sleep 3
  for pid in "${pids[@]}"; do pkill -TERM -P "$pid" 2> /dev/null || true; done
  wait "${pids[@]}" 2> /dev/null || true
  LIVE_DIR=$dir
}

if [ "$DO_LIVE" = 1 ]; then
  start_nginx
  URL=rtmp://127.0.0.1:$PORT/live/bench
  SECONDS_LIVE=$(awk -v a="$LIVE_SECONDS" -v b="$MEDIA" 'BEGIN { print (a < b ? a : int(b)) }')
  echo "## live: pulled from nginx-rtmp while ffmpeg -re publishes ${SECONDS_LIVE} s; $INSTANCES instances of each, $RUNS runs, medians"
  declare -a L_FF L_TS L_ALL L_R2 RSS_TS RSS_ALL RSS_FF RSS_S1 RSS_S8 CPU_S8
  for run in $(seq "$RUNS"); do
    args=()
    for i in $(seq "$INSTANCES"); do
      args+=("ffmpeg$i" "ffmpeg -hide_banner -nostdin -loglevel error -i $URL -c copy -f hls -hls_time 6 -hls_list_size 0 $WORK/live/ff$i.m3u8"
             "ts$i" "$HELPER --root $WORK/live/ts$i --uri $URL --format m3u8:slice=6"
             "all$i" "$HELPER --root $WORK/live/all$i --uri $URL --format m3u8:slice=6 --format mp4 --format flv"
             "r2ts$i" "env LT_RECORDER_RTMP_ELEMENT=rtmp2src $HELPER --root $WORK/live/r2ts$i --uri $URL --format m3u8:slice=6")
    done
    # Memory per session: one process recording the stream 8 times.
    args+=("sessions8" "$HELPER --root $WORK/live/s8 --uri $URL --sessions 8 --format m3u8:slice=6 --format mp4 --format flv")
    run_live "$SECONDS_LIVE" "${args[@]}"
    for i in $(seq "$INSTANCES"); do
      L_FF+=("$(cpu_of "$LIVE_DIR/ffmpeg$i.time")"); L_TS+=("$(cpu_of "$LIVE_DIR/ts$i.time")")
      L_ALL+=("$(cpu_of "$LIVE_DIR/all$i.time")"); L_R2+=("$(cpu_of "$LIVE_DIR/r2ts$i.time")")
      RSS_FF+=("$(rss_of "$LIVE_DIR/ffmpeg$i.time")"); RSS_TS+=("$(rss_of "$LIVE_DIR/ts$i.time")")
      RSS_ALL+=("$(rss_of "$LIVE_DIR/all$i.time")")
    done
    RSS_S8+=("$(rss_of "$LIVE_DIR/sessions8.time")"); CPU_S8+=("$(cpu_of "$LIVE_DIR/sessions8.time")")
    grep -q "slice-closed" "$LIVE_DIR/ts1.log" || echo "# warning: run $run recorded nothing (see $LIVE_DIR)"
    echo "# run $run: nginx worker $(per_hour "$NGINX_CPU" "$SECONDS_LIVE") CPU-s/media h for 1 publisher + $((INSTANCES * 4 + 8)) players"
  done
  ff=$(printf '%s\n' "${L_FF[@]}" | median); ts=$(printf '%s\n' "${L_TS[@]}" | median)
  all=$(printf '%s\n' "${L_ALL[@]}" | median); r2=$(printf '%s\n' "${L_R2[@]}" | median)
  line "live TS slices (CPU-s/media h)" "$(per_hour "$ts" "$SECONDS_LIVE")" "ffmpeg pull → HLS" "$(per_hour "$ff" "$SECONDS_LIVE")" "$(ratio "$ts" "$ff")  (target <= 1.0)"
  line "live TS+MP4+FLV vs ffmpeg TS only" "$(per_hour "$all" "$SECONDS_LIVE")" "ffmpeg pull → HLS" "$(per_hour "$ff" "$SECONDS_LIVE")" "$(ratio "$all" "$ff")  (target <= 2.0)"
  line "live TS slices with rtmp2src (info)" "$(per_hour "$r2" "$SECONDS_LIVE")" "ffmpeg pull → HLS" "$(per_hour "$ff" "$SECONDS_LIVE")" "$(ratio "$r2" "$ff")"
  rts=$(printf '%s\n' "${RSS_TS[@]}" | median); rall=$(printf '%s\n' "${RSS_ALL[@]}" | median)
  rff=$(printf '%s\n' "${RSS_FF[@]}" | median); r8=$(printf '%s\n' "${RSS_S8[@]}" | median)
  line "live peak RSS, TS (KB, whole process)" "$rts" "ffmpeg" "$rff" "$(ratio "$rts" "$rff")"
  line "live peak RSS, TS+MP4+FLV (KB)" "$rall" "ffmpeg" "$rff" "$(ratio "$rall" "$rff")"
  per_session=$(awk -v a="$r8" -v b="$rall" 'BEGIN { printf "%d", (a - b) / 7 }')
  echo "# memory per session: 8 sessions (all formats) in one process peak at $r8 KB: $per_session KB per extra session (target < 20 MB per session)"
  echo "# CPU of those 8 sessions: $(per_hour "$(printf '%s\n' "${CPU_S8[@]}" | median)" "$SECONDS_LIVE") CPU-s/media h in all"
fi

# ---- MP4/FLV strategies ----
if [ "$STRATEGIES" = 1 ]; then
  echo "## MP4/FLV strategies (CPU-s/media h): written alongside vs assembled from TS slices"
  [ -n "$NGINX_DIR" ] || start_nginx
  URL=rtmp://127.0.0.1:$PORT/live/bench
  Q="queue max-size-time=0 max-size-buffers=0 max-size-bytes=0"
  SRC="rtmp2src location=$URL ! flvdemux name=d"
  SECONDS_LIVE=$(awk -v a="$LIVE_SECONDS" -v b="$MEDIA" 'BEGIN { print (a < b ? a : int(b)) }')
  out=$WORK/strategies; rm -rf "$out"; mkdir -p "$out"
  run_live "$SECONDS_LIVE" \
    floor "gst-launch-1.0 -q $SRC d.video ! h264parse ! fakesink sync=false async=false d.audio ! aacparse ! fakesink sync=false async=false" \
    mp4frag "gst-launch-1.0 -e -q $SRC d.video ! $Q ! h264parse ! mp4mux fragment-duration=2000 name=m ! filesink location=$out/frag.mp4 async=false d.audio ! $Q ! aacparse ! m." \
    mp4robust "gst-launch-1.0 -e -q $SRC d.video ! $Q ! h264parse ! mp4mux reserved-moov-update-period=2000000000 reserved-max-duration=$((SECONDS_LIVE + 60))000000000 name=m ! filesink location=$out/robust.mp4 async=false d.audio ! $Q ! aacparse ! m." \
    flvmux "gst-launch-1.0 -e -q $SRC d.video ! $Q ! h264parse ! flvmux name=m ! filesink location=$out/x.flv async=false d.audio ! $Q ! aacparse ! m." \
    lt-ts "$HELPER --root $out/lt-ts --uri $URL --format m3u8:slice=6" \
    lt-all "$HELPER --root $out/lt-all --uri $URL --format m3u8:slice=6 --format mp4 --format flv"
  floor=$(cpu_of "$LIVE_DIR/floor.time")
  for v in mp4frag mp4robust flvmux; do
    echo "# alongside, GStreamer $v: +$(per_hour "$(awk -v a="$(cpu_of "$LIVE_DIR/$v.time")" -v b="$floor" 'BEGIN { print a - b }')" "$SECONDS_LIVE") over rtmp2src+flvdemux+parsers ($(per_hour "$floor" "$SECONDS_LIVE"))"
  done
  echo "# alongside, Livetape's own fMP4 + FLV writers: +$(per_hour "$(awk -v a="$(cpu_of "$LIVE_DIR/lt-all.time")" -v b="$(cpu_of "$LIVE_DIR/lt-ts.time")" 'BEGIN { print a - b }')" "$SECONDS_LIVE") for both over TS only"
  # Assembly: the TS slices of the live run, concatenated, remuxed once (what a cycle close costs).
  ls "$out"/lt-ts/bucket/record/live/test/*.ts | sort -t_ -k2 -n | xargs cat > "$out/cycle.ts"
  TSMEDIA=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out/cycle.ts")
  declare -a A_MP4 A_MP4F A_FLV RA_MP4 RA_FLV
  for run in $(seq "$RUNS"); do
    $TIME -o "$out/amp4.time" -f "%e %U %S %M" gst-launch-1.0 -q filesrc location="$out/cycle.ts" ! tsdemux name=d d. ! $Q ! h264parse ! mp4mux name=m ! filesink location="$out/a.mp4" d. ! $Q ! aacparse ! m.
    $TIME -o "$out/amp4f.time" -f "%e %U %S %M" gst-launch-1.0 -q filesrc location="$out/cycle.ts" ! tsdemux name=d d. ! $Q ! h264parse ! mp4mux faststart=true name=m ! filesink location="$out/af.mp4" d. ! $Q ! aacparse ! m.
    $TIME -o "$out/aflv.time" -f "%e %U %S %M" gst-launch-1.0 -q filesrc location="$out/cycle.ts" ! tsdemux name=d d. ! $Q ! h264parse ! flvmux name=m ! filesink location="$out/a.flv" d. ! $Q ! aacparse ! m.
    A_MP4+=("$(cpu_of "$out/amp4.time")"); A_MP4F+=("$(cpu_of "$out/amp4f.time")"); A_FLV+=("$(cpu_of "$out/aflv.time")")
    RA_MP4+=("$(rss_of "$out/amp4.time")"); RA_FLV+=("$(rss_of "$out/aflv.time")")
  done
  echo "# assembled from TS at cycle close (offline remux of ${TSMEDIA%.*} s): mp4mux $(per_hour "$(printf '%s\n' "${A_MP4[@]}" | median)" "$TSMEDIA"), mp4mux faststart $(per_hour "$(printf '%s\n' "${A_MP4F[@]}" | median)" "$TSMEDIA"), flvmux $(per_hour "$(printf '%s\n' "${A_FLV[@]}" | median)" "$TSMEDIA"); peak RSS $(printf '%s\n' "${RA_MP4[@]}" | median) / $(printf '%s\n' "${RA_FLV[@]}" | median) KB"
fi

# ---- many streams ----
if [ "$STREAMS" -gt 0 ]; then
  [ -n "$NGINX_DIR" ] || start_nginx
  echo "## $STREAMS real publishers on loopback, one recording process (TS slices), 60 s"
  dir=$WORK/streams; rm -rf "$dir"; mkdir -p "$dir"
  uris=(); pubs=()
  for i in $(seq "$STREAMS"); do uris+=(--uri "rtmp://127.0.0.1:$PORT/live/s$i"); done
  setsid $TIME -o "$dir/rec.time" -f "%e %U %S %M" "$HELPER" --root "$dir/rec" "${uris[@]}" --format m3u8:slice=6 > "$dir/rec.log" 2>&1 &
  rec=$!
  sleep 1
  for i in $(seq "$STREAMS"); do
    ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i "$INPUT" -t 60 -c copy -f flv "rtmp://127.0.0.1:$PORT/live/s$i" &
    pubs+=($!)
  done
  nginx_before=$(proc_cpu "$NGINX_WORKER")
  wait "${pubs[@]}"
  nginx_cpu=$(awk -v a="$(proc_cpu "$NGINX_WORKER")" -v b="$nginx_before" 'BEGIN { printf "%.3f", a - b }')
  sleep 2; pkill -INT -P "$rec" 2> /dev/null || true; wait "$rec" || true
  rec_cpu=$(cpu_of "$dir/rec.time")
  per_stream=$(awk -v r="$rec_cpu" -v n="$nginx_cpu" -v s="$STREAMS" 'BEGIN { printf "%.1f", (r + n) * 3600 / 60 / s }')
  recorded=$(grep -c "slice-closed" "$dir/rec.log" || true)
  echo "# recorder $(per_hour "$rec_cpu" 60), nginx $(per_hour "$nginx_cpu" 60) CPU-s per hour for $STREAMS streams; $recorded slices closed (expect ~$((STREAMS * 10)))"
  echo "# per stream (recorder + nginx): $per_stream CPU-s/media h → $(awk -v p="$per_stream" -v c="$(nproc)" 'BEGIN { printf "%d", c * 3600 / p }') streams on $(nproc) cores (target >= 100)"
fi

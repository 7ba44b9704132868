#!/usr/bin/env bash
# tools/lib/test-session.sh: runs a command inside a private desktop session.
#
#   test-session.sh [--xvfb] [--bus] [--isolate] -- COMMAND [ARG…]
#
#   --xvfb     start an Xvfb (1280x800x24) on a free display, wait until it accepts
#              connections, export DISPLAY and drop WAYLAND_DISPLAY
#   --bus      run inside `dbus-run-session` and start gnome-keyring-daemon (secrets
#              component only) unlocked with a random per-session password; the keyring
#              lives in a temporary directory, so nothing is read from or written to the
#              user's own keyring, and the first store never waits for a password prompt
#   --isolate  temporary XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME, XDG_RUNTIME_DIR
#              and HOME for COMMAND (what tools/test wants; tools/run does not)
#
# Everything started here is stopped and the temporary directory removed when COMMAND
# ends, whatever way it ends. The exit status is COMMAND's.

set -euo pipefail

lt_session_usage ()
{
  sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Runs "$@" in the background and waits for it, so that a TERM, INT or HUP sent to this
# shell (by timeout, meson, a CI runner) is passed on as TERM instead of leaving the child
# and the servers behind. Explicit <&0: a background job would otherwise read /dev/null.
# Returns the child's exit status.
lt_run_forwarding_signals ()
{
  "$@" <&0 &
  local child=$! status=0
  # shellcheck disable=SC2064 # the pid is fixed now
  trap "kill -TERM $child 2>/dev/null || true" TERM INT HUP
  while :; do
    status=0
    wait "$child" || status=$?
    kill -0 "$child" 2>/dev/null || break
  done
  trap - TERM INT HUP
  return "$status"
}

# The second stage runs inside dbus-run-session (or directly when --bus is not given).
if [[ ${1:-} == --lt-inner ]]; then
  shift
  opt_xvfb=$1 opt_bus=$2 tmp=$3
  shift 3

  xvfb_pid=
  keyring_pid=

  # shellcheck disable=SC2317 # called by the EXIT trap
  cleanup_inner ()
  {
    if [[ -n $keyring_pid ]]; then
      kill "$keyring_pid" 2>/dev/null || true
      wait "$keyring_pid" 2>/dev/null || true
    fi
    if [[ -n $xvfb_pid ]]; then
      kill "$xvfb_pid" 2>/dev/null || true
      wait "$xvfb_pid" 2>/dev/null || true
    fi
  }
  trap cleanup_inner EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  echo $$ > "$tmp/inner.pid"

  if [[ $opt_xvfb == 1 ]]; then
    # -displayfd: Xvfb picks a free display itself and writes its number once it accepts
    # connections, so there is no race on lock files and no fixed sleep.
    exec 3>"$tmp/xvfb-display"
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset \
      >"$tmp/xvfb.log" 2>&1 &
    xvfb_pid=$!
    exec 3>&-
    for _ in $(seq 1 200); do
      if [[ -s $tmp/xvfb-display ]]; then
        break
      fi
      if ! kill -0 "$xvfb_pid" 2>/dev/null; then
        echo "test-session: Xvfb failed to start:" >&2
        cat "$tmp/xvfb.log" >&2
        exit 1
      fi
      sleep 0.05
    done
    display=$(tr -d '[:space:]' < "$tmp/xvfb-display")
    if [[ ! $display =~ ^[0-9]+$ ]]; then
      echo "test-session: Xvfb did not report a display within 10 s" >&2
      cat "$tmp/xvfb.log" >&2
      exit 1
    fi
    export DISPLAY=:$display
    unset WAYLAND_DISPLAY
  fi

  if [[ $opt_bus == 1 ]]; then
    # gnome-keyring-daemon keeps its keyrings under $XDG_DATA_HOME/keyrings and its
    # control socket under $XDG_RUNTIME_DIR: point both at the session's temporary dir
    # for the daemon only, so COMMAND keeps whatever XDG dirs it was given.
    mkdir -p "$tmp/keyring-data" "$tmp/keyring-runtime"
    chmod 700 "$tmp/keyring-runtime"
    password=$(head -c 24 /dev/urandom | base64)
    printf '%s' "$password" | \
      XDG_DATA_HOME=$tmp/keyring-data XDG_RUNTIME_DIR=$tmp/keyring-runtime \
      gnome-keyring-daemon --foreground --unlock --components=secrets \
        >"$tmp/keyring.log" 2>&1 &
    keyring_pid=$!
    unset password
    if ! gdbus wait --session --timeout 10 org.freedesktop.secrets 2>/dev/null; then
      echo "test-session: gnome-keyring-daemon did not appear on the session bus:" >&2
      cat "$tmp/keyring.log" >&2
      exit 1
    fi
  fi

  # Not exec: the traps above must outlive COMMAND to stop Xvfb and the keyring.
  rc=0
  lt_run_forwarding_signals "$@" || rc=$?
  exit "$rc"
fi

opt_xvfb=0
opt_bus=0
opt_isolate=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --xvfb) opt_xvfb=1 ;;
    --bus) opt_bus=1 ;;
    --isolate) opt_isolate=1 ;;
    --) shift; break ;;
    *) lt_session_usage ;;
  esac
  shift
done
[[ $# -gt 0 ]] || lt_session_usage

tools=()
[[ $opt_xvfb == 1 ]] && tools+=(Xvfb)
[[ $opt_bus == 1 ]] && tools+=(dbus-run-session gnome-keyring-daemon gdbus)
for tool in "${tools[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "test-session: $tool is not installed (tools/lib/deps.sh installs it)" >&2
    exit 1
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/livetape-session.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup_outer ()
{
  rm -rf "$tmp"
}
trap cleanup_outer EXIT

if [[ $opt_isolate == 1 ]]; then
  mkdir -p "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/runtime"
  chmod 700 "$tmp/runtime"
  export HOME=$tmp/home
  export XDG_DATA_HOME=$tmp/data
  export XDG_CONFIG_HOME=$tmp/config
  export XDG_CACHE_HOME=$tmp/cache
  export XDG_RUNTIME_DIR=$tmp/runtime
fi

# A signal for us goes to the inner stage (dbus-run-session would not pass it on), which
# stops COMMAND and then its servers.
# shellcheck disable=SC2317 # called by the traps
forward_to_inner ()
{
  local pid
  pid=$(cat "$tmp/inner.pid" 2>/dev/null || true)
  if [[ $pid =~ ^[0-9]+$ ]]; then
    kill -TERM "$pid" 2>/dev/null || true
  else
    kill -TERM "$child" 2>/dev/null || true
  fi
}

self=$(readlink -f "$0")
launcher=()
if [[ $opt_bus == 1 ]]; then
  # A fresh bus even when the caller has one: tests must not see the desktop's services.
  unset DBUS_SESSION_BUS_ADDRESS
  launcher=(dbus-run-session --)
fi
"${launcher[@]}" bash "$self" --lt-inner "$opt_xvfb" "$opt_bus" "$tmp" "$@" <&0 &
child=$!
trap forward_to_inner TERM INT HUP
rc=0
while :; do
  rc=0
  wait "$child" || rc=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$rc"

# tools/lib/deps.sh: installs what Livetape needs to build, run and test on Debian 12.
#
# Sourced by tools/run and tools/test. One list of Debian packages (build + runtime + test);
# only missing packages are installed, and apt-get update runs only when something is
# missing, so a machine that has everything never touches the network. npm packages pinned
# in tests/package-lock.json (test fixtures such as an S3 server) are installed with
# `npm ci` when that lockfile exists.
#
# shellcheck shell=bash

# Build.
LT_DEPS_BUILD=(
  meson ninja-build pkg-config gcc
  libglib2.0-dev libglib2.0-bin
  libgtk-4-dev libadwaita-1-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libsoup-3.0-dev libjson-glib-dev libsecret-1-dev libsqlite3-dev
  gettext desktop-file-utils appstream
)

# Running the app: GStreamer elements for ingest, remux, the demo source and playback, a
# GSettings backend that persists, the icon theme and fonts (CJK for the zh_CN translation),
# nginx with the RTMP module (the push ingest, run as a child process), a keyring.
LT_DEPS_RUNTIME=(
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools
  libgtk-4-media-gstreamer dconf-gsettings-backend
  adwaita-icon-theme librsvg2-common fonts-cantarell fonts-noto-cjk
  nginx libnginx-mod-rtmp
  dbus dbus-x11 gnome-keyring
)

# Tests: X server, session bus, tools the integration tests drive (ffmpeg as a publisher,
# sqlite3 to inspect the catalog, strace for ENOSPC injection; clock skew is injected by the
# test servers, so no faketime).
# gcc already brings libasan and libubsan for the sanitizer pass. nodejs runs the npm
# fixtures (s3rver); npm itself is installed by lt_install_npm_deps only when no `npm`
# command exists, because NodeSource's nodejs package bundles npm and conflicts with
# Debian's. python3-botocore is the independent SigV4 check in tests/integration/s3strict.py;
# curl (--aws-sigv4) is the peer of bench/bench-s3.py.
LT_DEPS_TEST=(
  xvfb xauth python3 ffmpeg sqlite3 strace
  nodejs python3-botocore curl
)

# Runs "$@" as root: directly when we are root, else through sudo.
lt_as_root ()
{
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "deps: installing packages needs root, and sudo is not installed: run as root" >&2
    return 1
  fi
}

# Lists the packages of "$@" that are not installed.
lt_missing_packages ()
{
  local pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [[ $status != installed ]]; then
      printf '%s\n' "$pkg"
    fi
  done
}

# Runs "$@" with a policy-rc.d that forbids starting services, so that installing nginx
# does not leave Debian's default nginx running on port 80 (we run our own nginx as a
# child process). An existing policy-rc.d is left alone.
lt_with_no_service_start ()
{
  local policy=/usr/sbin/policy-rc.d
  local created=0
  local rc=0

  if [[ ! -e $policy ]]; then
    lt_as_root sh -c "printf '#!/bin/sh\n# written by livetape tools/lib/deps.sh during apt-get install\nexit 101\n' > $policy && chmod 755 $policy"
    created=1
  fi
  "$@" || rc=$?
  if [[ $created -eq 1 ]]; then
    lt_as_root rm -f "$policy"
  fi
  return "$rc"
}

# Stops and disables the system nginx that apt-get just installed, in case it was started
# anyway (a policy-rc.d that allows it) or is enabled for the next boot: it would hold
# port 80 and is not ours. An nginx that was installed before is left alone, and so are
# our own nginx children (they use their own prefix and pid file).
lt_stop_system_nginx ()
{
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    lt_as_root systemctl disable --now nginx >/dev/null 2>&1 || true
  fi
  if [[ -e /run/nginx.pid ]]; then
    lt_as_root service nginx stop >/dev/null 2>&1 || true
  fi
  if [[ -e /run/nginx.pid ]]; then
    local pid
    pid=$(cat /run/nginx.pid 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]]; then
      lt_as_root kill "$pid" 2>/dev/null || true
    fi
  fi
}

# Installs the npm packages pinned in tests/package-lock.json (if that file exists) into
# tests/node_modules, again only when the lockfile changed since the last install.
lt_install_npm_deps ()
{
  local root=$1
  local dir=$root/tests
  local stamp=$dir/node_modules/.livetape-lock.sha256
  local sum

  [[ -f $dir/package-lock.json ]] || return 0

  if ! command -v npm >/dev/null 2>&1; then
    local missing
    mapfile -t missing < <(lt_missing_packages nodejs npm)
    echo "deps: installing ${missing[*]} for the npm test fixtures"
    lt_as_root apt-get update -q
    lt_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "${missing[@]}" ca-certificates
  fi

  sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$sum" ]]; then
    return 0
  fi
  echo "deps: npm ci in tests/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  mkdir -p "$dir/node_modules"
  printf '%s\n' "$sum" > "$stamp"
}

# Installs everything that is missing. $1: the repository root.
lt_install_deps ()
{
  local root=$1
  local missing=()

  mapfile -t missing < <(lt_missing_packages "${LT_DEPS_BUILD[@]}" "${LT_DEPS_RUNTIME[@]}" \
                                             "${LT_DEPS_TEST[@]}")
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "deps: installing ${#missing[@]} missing Debian package(s): ${missing[*]}"
    lt_as_root apt-get update -q
    lt_with_no_service_start \
      lt_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
    if [[ " ${missing[*]} " == *" nginx "* ]]; then
      lt_stop_system_nginx
    fi
  fi
  lt_install_npm_deps "$root"
}

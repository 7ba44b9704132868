# tools/lib/build.sh: configure and build a meson build directory, shared by tools/run and
# tools/test.
#
# shellcheck shell=bash

# lt_meson_setup BUILDDIR [MESON OPTION…]
# Configures BUILDDIR once; afterwards ninja regenerates it by itself when a meson.build
# changes. A directory left half-configured (no build.ninja) is wiped and set up again.
lt_meson_setup ()
{
  local builddir=$1
  shift
  if [[ -f $builddir/build.ninja ]]; then
    return 0
  fi
  if [[ -d $builddir ]]; then
    meson setup --wipe "$builddir" "$@"
  else
    meson setup "$builddir" "$@"
  fi
}

# lt_build BUILDDIR: builds everything in BUILDDIR with one job per core.
lt_build ()
{
  ninja -C "$1" -j "$(nproc)"
}

# When run through sudo, gives the build products back to the user who ran sudo, so that a
# later run without sudo can still write to them.
lt_give_back_to_sudo_user ()
{
  local root=$1
  shift
  if [[ $(id -u) -ne 0 || -z ${SUDO_UID:-} || ${SUDO_UID} -eq 0 ]]; then
    return 0
  fi
  local dir
  for dir in "$@"; do
    if [[ -e $root/$dir ]]; then
      chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$root/$dir" || true
    fi
  done
}

# lt_elapsed START: seconds since START (from `date +%s`) as "Mm SSs".
lt_elapsed ()
{
  local s=$(( $(date +%s) - $1 ))
  printf '%dm%02ds' $((s / 60)) $((s % 60))
}

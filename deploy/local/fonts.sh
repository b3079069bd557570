#!/usr/bin/env bash
# A CJK font from Debian's own package, for the Chinese labels of the board snapshots
# (`basin boards snapshot`, boards/charts.py) and the monthly exports.
#
#   deploy/local/fonts.sh install   apt-get install fonts-noto-cjk if it is missing (once per machine)
#   deploy/local/fonts.sh path      print the path of the font file the charts use (exit 1 if missing)
#
# Every step is idempotent. Installing needs root (or sudo) and the Debian apt mirror; the apt
# output goes to $BASIN_STATE_DIR/fonts/install.log (BASIN_STATE_DIR: see lib.sh).
# boards/charts.py looks for the same file (FONT_FILES there) and says to run this script when it
# finds none.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"
state_dir="$BASIN_STATE_DIR/fonts"
log_file="$state_dir/install.log"
PACKAGE="fonts-noto-cjk"
FONT_FILE="/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

installed() { dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null | grep -q 'install ok installed' && [ -f "$FONT_FILE" ]; }

# Run apt-get as root: directly, or through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "installing $PACKAGE needs root; run as root or install sudo"
    fi
}

apt_logged() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$log_file" 2>&1
}

install() {
    if installed; then
        say "installed: $PACKAGE at $FONT_FILE"
        return 0
    fi
    command -v apt-get >/dev/null || die "apt-get not found: install Debian's $PACKAGE package by hand"
    mkdir -p "$state_dir"
    : >"$log_file"
    local started=$SECONDS
    say "installing the Debian package $PACKAGE (apt-get install -y --no-install-recommends); log in $log_file"
    # A fresh container has no package lists: update first when the package is unknown to apt.
    if ! apt-cache show "$PACKAGE" >/dev/null 2>&1; then
        say "apt-get update (no package list knows $PACKAGE yet)"
        apt_logged update || { tail -n 30 "$log_file" >&2 || true; die "apt-get update failed"; }
    fi
    if ! apt_logged install -y --no-install-recommends "$PACKAGE"; then
        # Stale package lists (404 on a superseded .deb): update once and try again.
        say "apt-get install failed; apt-get update and one more try"
        apt_logged update || { tail -n 30 "$log_file" >&2 || true; die "apt-get update failed"; }
        apt_logged install -y --no-install-recommends "$PACKAGE" \
            || { tail -n 30 "$log_file" >&2 || true; die "apt-get install -y $PACKAGE failed"; }
    fi
    installed || die "$PACKAGE is installed but $FONT_FILE is missing"
    say "installed $PACKAGE at $FONT_FILE in $((SECONDS - started)) s"
}

path() {
    installed || die "$PACKAGE is not installed; run: deploy/local/fonts.sh install"
    echo "$FONT_FILE"
}

case "${1:-}" in
    install) install ;;
    path) path ;;
    *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Chromium from Debian's own package, for the headless-browser tests (tests/browser.py).
#
#   deploy/local/chromium.sh install   apt-get install chromium if it is missing (once per machine)
#   deploy/local/chromium.sh path      print the path of the chromium executable (exit 1 if missing)
#   deploy/local/chromium.sh version   print the version of the installed chromium
#
# `path` gives the executable itself (/usr/lib/chromium/chromium), not Debian's /usr/bin/chromium
# launcher script, which adds flags of its own from /etc/chromium.d: the tests start chromium with
# exactly the flags they choose.
#
# Every step is idempotent. The tests drive chromium over the Chrome DevTools Protocol, so no
# chromium-driver is needed. Installing needs root (or sudo) and the Debian apt mirror; the apt
# output goes to $BASIN_STATE_DIR/chromium/install.log (BASIN_STATE_DIR: see lib.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"

state_dir="$BASIN_STATE_DIR/chromium"
log_file="$state_dir/install.log"
PACKAGE="chromium"

# The executable: Debian's /usr/lib/chromium/chromium (what the /usr/bin/chromium launcher execs);
# any other chromium on the PATH otherwise.
binary() {
    local candidate
    for candidate in /usr/lib/chromium/chromium "$(command -v chromium 2>/dev/null || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

installed() { package_installed "$PACKAGE" && binary >/dev/null; }

install() {
    if installed; then
        say "installed: $(version) at $(binary)"
        return 0
    fi
    local started=$SECONDS
    mkdir -p "$state_dir"
    : >"$log_file"
    apt_install "$log_file" "$PACKAGE"
    installed || die "$PACKAGE is installed but no chromium binary was found"
    say "installed $(version) at $(binary) in $((SECONDS - started)) s"
}

path() {
    binary || die "chromium is not installed; run: deploy/local/chromium.sh install"
}

version() {
    local bin
    bin="$(path)"
    "$bin" --version 2>/dev/null | head -n1 | sed 's/[[:space:]]*$//'
}

case "${1:-}" in
    install) install ;;
    path) path ;;
    version) version ;;
    *) echo "usage: $0 install|path|version" >&2; exit 2 ;;
esac

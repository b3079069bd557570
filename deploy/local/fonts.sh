#!/usr/bin/env bash
# A CJK font from Debian's own package, for the Chinese labels of the board snapshots
# (`basin boards snapshot`, boards/charts.py) and the monthly exports (exports/pdf.py), and
# poppler-utils (pdftotext, pdftoppm) with which the export tests read and render the PDF.
#
#   deploy/local/fonts.sh install   apt-get install fonts-noto-cjk and poppler-utils if missing
#                                   (once per machine)
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

TOOLS_PACKAGE="poppler-utils"

installed() { package_installed "$PACKAGE" && [ -f "$FONT_FILE" ]; }
tools_installed() { package_installed "$TOOLS_PACKAGE" && command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null; }

install() {
    if installed && tools_installed; then
        say "installed: $PACKAGE at $FONT_FILE, $TOOLS_PACKAGE (pdftotext, pdftoppm)"
        return 0
    fi
    local started=$SECONDS
    mkdir -p "$state_dir"
    : >"$log_file"
    apt_install "$log_file" "$PACKAGE" "$TOOLS_PACKAGE"
    installed || die "$PACKAGE is installed but $FONT_FILE is missing"
    tools_installed || die "$TOOLS_PACKAGE is installed but pdftotext or pdftoppm is missing"
    say "installed $PACKAGE at $FONT_FILE and $TOOLS_PACKAGE in $((SECONDS - started)) s"
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

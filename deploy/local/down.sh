#!/usr/bin/env bash
# Stop the local stack (idempotent); data stays in ~/.local/state/basinwatch.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"
state="$BASIN_STATE_DIR"
for name in store worker receiver; do
    if [ -f "$state/$name.pid" ] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then
        kill -TERM "$(cat "$state/$name.pid")" && echo "[down] $name stopped" >&2
    fi
    rm -f "$state/$name.pid"
done
"$here/influxdb.sh" stop
"$here/kafka.sh" stop

#!/usr/bin/env bash
# Stop the local stack (idempotent); data stays in ~/.local/state/basinwatch.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
state="${BASIN_STATE_DIR:-$HOME/.local/state/basinwatch}"
if [ -f "$state/worker.pid" ] && kill -0 "$(cat "$state/worker.pid")" 2>/dev/null; then
    kill -TERM "$(cat "$state/worker.pid")" && echo "[down] worker stopped" >&2
fi
rm -f "$state/worker.pid"
"$here/kafka.sh" stop

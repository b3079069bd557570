#!/usr/bin/env bash
# Start the local stack (idempotent): Kafka, the project's topics, InfluxDB (built from the Go
# module proxy the first time on a machine: about 10 minutes, progress is shown).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
"$here/kafka.sh" start
"$repo/.venv/bin/basin" topics ensure
"$here/influxdb.sh" start

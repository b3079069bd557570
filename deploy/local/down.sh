#!/usr/bin/env bash
# Stop the local stack (idempotent): the app processes of the demo, InfluxDB and Kafka. The data
# stays in $BASIN_STATE_DIR (see lib.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/apps.sh" stop
"$here/influxdb.sh" stop
"$here/kafka.sh" stop

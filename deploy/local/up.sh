#!/usr/bin/env bash
# Start the local stack (idempotent): Kafka, then the project's topics.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
"$here/kafka.sh" start
"$repo/.venv/bin/basin" topics ensure

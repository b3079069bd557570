#!/usr/bin/env bash
# The demo: the local stack, the worker, real published data through it, live counts.
# Servers and the worker keep running afterwards; `make down` stops them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"
cd "$repo"
basin="$repo/.venv/bin/basin"
state="$BASIN_STATE_DIR"
data="$repo/tests/data/cnemc-2021-04/江苏省"
watch_seconds="${BASIN_DEMO_WATCH_SECONDS:-20}"
gateway_port="${BASIN_GATEWAY_PORT:-9212}"
secrets="$state/gateway-secrets.env"
mkdir -p "$state"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "local servers (Kafka 3.9, KRaft, 127.0.0.1:9092; InfluxDB 2.9, 127.0.0.1:8086) and topics"
"$here/up.sh"

step "party views: the data-sharing list (stations/data/sharing.yaml) into InfluxDB (basin sharing apply)"
"$basin" sharing apply

step "station registry: $(ls stations/data/stations.yaml)"
"$basin" stations check

step "GB 3838-2002 classes of the real published results (CNEMC, 37 Jiangsu sections, April 2021)"
"$basin" classify --format cnemc --year 2021 --summary "$data"/*.csv >"$state/classified.jsonl"
echo "one JSON line per result in $state/classified.jsonl"

step "local alert receiver on 127.0.0.1:9300 (every duty desk of alerts/data/alerts.yaml posts here)"
"$here/apps.sh" start receiver

step "worker (checks, QC, classes, breaches, alerts, notifications) and store (InfluxDB writer, party views)"
"$here/apps.sh" start worker
if "$here/apps.sh" status store >/dev/null 2>&1; then
    echo "the store runs already: restarting it so that it writes the party views"
    "$here/apps.sh" stop store
fi
BASIN_STORE_VIEWS=true "$here/apps.sh" start store

step "publishing the real results as station reports, plus two bad messages"
"$basin" import cnemc --year 2021 "$data"/*.csv
"$repo/.venv/bin/python" - <<'PY'
from kafka import KafkaProducer
from streams.settings import Settings
s = Settings()
p = KafkaProducer(**s.kafka_client_options())
p.send(s.topic_raw, key=b"??", value=b"\x00garbage from a broken logger")
p.send(s.topic_raw, key=b"ZJ-XX-999", value=b'{"schema":1,"station":"ZJ-XX-999","observed_at":"2021-04-01T04:00:00+08:00","received_at":"2021-04-01T04:00:00+08:00","source":"demo","values":{}}')
p.flush(); p.close()
print("sent: 1 undecodable message, 1 report of an unknown station")
PY

step "simulated stations: 1,500 reports of the whole registry with faults (seed 1)"
"$basin" simulate --count 1500 --seed 1

step "HJ 212 gateway on 127.0.0.1:$gateway_port (basin gateway); station passwords in $secrets (mode 600)"
if [ ! -s "$secrets" ]; then
    (umask 077 && "$repo/.venv/bin/python" - "$secrets" <<'PY'
import secrets
import sys

from stations.registry import load_registry

lines = [f"{s.hj212.password_ref}={secrets.token_hex(4)}" for s in load_registry() if s.hj212]
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write("".join(f"{line}\n" for line in lines))
print(f"{len(lines)} development passwords, one per station logger (password_ref)")
PY
    )
fi
export BASIN_GATEWAY_SECRETS_PATH="$secrets"
"$here/apps.sh" start gateway

step "simulated data loggers: 40 loggers send 500 reports to the gateway over TCP (split writes, sub-packets, re-sends until the 9014, wrong passwords, corrupted bytes)"
"$basin" simulate --hj212 "127.0.0.1:$gateway_port" --loggers 40 --count 500 --period 0.2 --seed 1

step "stations in real time (240x) and live counts for ${watch_seconds} s (Ctrl-C to stop early)"
"$basin" simulate --realtime --speed 240 --duration "$watch_seconds" >"$state/simulate.log" 2>&1 &
simulator=$!
"$basin" watch --duration "$watch_seconds"
wait "$simulator" || echo "the simulator failed: see $state/simulate.log"
echo "simulator: $(tail -n 1 "$state/simulate.log")"

step "alerts: what the on-call staff received (the receiver's log, first messages)"
for _ in $(seq 1 30); do grep -q "^--- " "$state/receiver.log" && break; sleep 1; done
echo "$(grep -c '^--- ' "$state/receiver.log" || true) notifications so far; the first ones:"
awk '/^--- /{n++} n<=3' "$state/receiver.log"
step "alerts the worker holds (basin alerts list --jurisdiction SH); console: http://127.0.0.1:6066/console/"
"$basin" alerts list --jurisdiction SH | head -n 15

step "what the boards read from InfluxDB: latest values at 西山 (JS-TH-028)"
"$basin" query latest --station JS-TH-028 --days 3650

step "what a party's token reads: ZJ's view (its read token from $state/views/)"
"$repo/.venv/bin/python" - <<'PY'
from influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException

from streams.settings import Settings
from streams.store.views import view_bucket

s = Settings()
path = s.state_dir / "views" / f"{s.influx_bucket}.tokens.env"
lines = [line for line in path.read_text().splitlines() if "=" in line and line[0] != "#"]
token = dict(line.split("=", 1) for line in lines)["BASIN_VIEW_TOKEN_ZJ"]
zj, js = view_bucket(s.influx_bucket, "ZJ"), view_bucket(s.influx_bucket, "JS")


def count(client: InfluxDBClient, bucket: str, parameter: str) -> int:
    flux = (
        f'from(bucket: "{bucket}") |> range(start: 0) |> filter(fn: (r) => '
        'r._measurement == "water_quality" and r.station == "JS-TH-028" and '
        f'r.parameter == "{parameter}" and r._field == "value") |> count()'
    )
    tables = client.query_api().query(flux, org=s.influx_org)
    return sum(int(r.get_value()) for t in tables for r in t.records)


with (
    InfluxDBClient(url=s.influx_url, token=s.influx_token_value(), org=s.influx_org) as admin,
    InfluxDBClient(url=s.influx_url, token=token, org=s.influx_org) as party,
):
    print(f"ZJ's token (BASIN_VIEW_TOKEN_ZJ in {path}) reads {zj} only:")
    for name, terms in (("tp", "shared with ZJ in real time"), ("do", "not shared with ZJ")):
        print(
            f"  西山 JS-TH-028 {name:<2} ({terms}): ZJ reads {count(party, zj, name)} values; "
            f"the main bucket holds {count(admin, s.influx_bucket, name)}"
        )
    try:
        count(party, js, "tp")
        print(f"  ZJ's token on JS's view {js}: READ, which must not happen")
    except ApiException as exc:
        print(f"  ZJ's token on JS's view {js}: refused by InfluxDB (HTTP {exc.status})")
PY

snapshots="$repo/var/snapshots"
built="$repo/var/boards"
step "board snapshots (each panel as a PNG, April 2021): 流域总览 basin and 站点 station 西山 (JS-TH-028)"
"$basin" boards snapshot --board basin --out "$snapshots" --from 2021-04-01 --to 2021-05-01
"$basin" boards snapshot --board station --station JS-TH-028 --out "$snapshots" \
    --from 2021-04-01 --to 2021-05-01

step "the Grafana dashboards and provisioning files (basin boards build)"
"$basin" boards build --out "$built"

exports="$repo/var/exports/2021-04"
step "the joint meeting's export of April 2021 (basin export --month 2021-04): XLSX, CSV, PDF"
"$basin" export --month 2021-04 --out "$exports"
step "the same month as Zhejiang sees it, read through ZJ's view with ZJ's token (--party ZJ)"
"$basin" export --month 2021-04 --party ZJ --out "$exports-zj"

cat <<EOF

Boards (Grafana cannot run here; see docs/boards.md):
  snapshots          $snapshots   (one PNG per panel, a folder per board)
  dashboards         $built   (dashboard JSON and Grafana's provisioning YAML)
  push to a Grafana  BASIN_GRAFANA_TOKEN=<service account token, Admin role> \\
                     BASIN_VIEW_TOKEN_JS=... (one per party view) \\
                     .venv/bin/basin boards push --grafana-url http://<grafana>:3000

The joint meeting's export of April 2021 (docs/exports.md):
  export             $exports   (basinwatch-2021-04-basin.xlsx, .pdf, one CSV per table)
  ZJ's export        $exports-zj   (only what the sharing list gives ZJ)
EOF

cat <<EOF

Still running: Kafka (127.0.0.1:9092), InfluxDB (http://127.0.0.1:8086, credentials in
$state/influxdb/credentials.env), the worker (pid $(cat "$state/worker.pid")), the store
(pid $(cat "$state/store.pid")) and the HJ 212 gateway (pid $(cat "$state/gateway.pid"), port $gateway_port).
Where to look:
  worker log         $state/worker.log   (health: http://127.0.0.1:6066/health)
  alert console      http://127.0.0.1:6066/console/?jurisdiction=JS
  notifications      $state/receiver.log   (basin alerts list | ack | silence)
  store log          $state/store.log    (health: http://127.0.0.1:6067/health)
  gateway log        $state/gateway.log  (loggers: basin simulate --hj212 127.0.0.1:$gateway_port --loggers 10 --seconds 30;
                     BASIN_GATEWAY_SECRETS_PATH=$secrets)
  InfluxDB           .venv/bin/basin query latest | .venv/bin/basin query monthly --month 2021-04
  party views        .venv/bin/basin sharing show --party ZJ; read tokens in $state/views/
  Kafka log          $state/kafka/kafka.log
  live counts        .venv/bin/basin watch
  topics             .venv/bin/basin topics ensure
  app processes      deploy/local/apps.sh status | stop | start
Stop everything:     make down
EOF

#!/usr/bin/env bash
# The project's own processes in the background, for the demo: the alert receiver, the worker, the
# store worker and the HJ 212 gateway, with pid files and logs in $BASIN_STATE_DIR (see lib.sh).
#
#   deploy/local/apps.sh start  [NAME...]  start if stopped, wait until ready (default: all four)
#   deploy/local/apps.sh stop   [NAME...]  SIGTERM, bounded wait, then SIGKILL (default: all four)
#   deploy/local/apps.sh status [NAME...]  exit 0 and say so when all of them run and are ready
#
# NAME is receiver, worker, store or gateway. The worker and the store are ready when their /health
# answers 200 (streams/health.py: started, partitions assigned, no rebalance under way); the
# receiver and the gateway when their port is open (the gateway reads the station passwords from
# BASIN_GATEWAY_SECRETS_PATH or its environment: streams/gateway/secrets.py). They run
# `.venv/bin/basin` of this checkout from its root (so its .env is read), and need the servers
# (deploy/local/up.sh). Environment: BASIN_WORKER_WEB_HOST,
# BASIN_WORKER_WEB_PORT, BASIN_STORE_WEB_PORT, BASIN_GATEWAY_PORT as the apps read them (defaults
# as in streams/settings.py).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"

basin="$repo/.venv/bin/basin"
web_host="${BASIN_WORKER_WEB_HOST:-127.0.0.1}"
worker_port="${BASIN_WORKER_WEB_PORT:-6066}"
store_port="${BASIN_STORE_WEB_PORT:-6067}"
gateway_port="${BASIN_GATEWAY_PORT:-9212}"
receiver_port=9300 # every duty desk of alerts/data/alerts.yaml posts here
start_timeout=120 # the first start creates the tables' changelog topics

# name, port, health URL and the `basin` command of each process
server receiver port="$receiver_port" command="alerts receiver --port $receiver_port" \
    match="basin alerts receiver" start_timeout=30 stop_timeout=10
server worker port="$worker_port" port_var=BASIN_WORKER_WEB_PORT command="worker" \
    match="basin worker" health_url="http://$web_host:$worker_port/health" \
    start_timeout="$start_timeout" stop_timeout=60
server store port="$store_port" port_var=BASIN_STORE_WEB_PORT command="store" \
    match="basin store" health_url="http://$web_host:$store_port/health" \
    start_timeout="$start_timeout" stop_timeout=60
server gateway port="$gateway_port" port_var=BASIN_GATEWAY_PORT command="gateway" \
    match="basin gateway" start_timeout=60 stop_timeout=30
ALL=(receiver worker store gateway) # in the order of starting; stopped in reverse
for name in "${ALL[@]}"; do
    server "$name" pid_file="$BASIN_STATE_DIR/$name.pid" log="$BASIN_STATE_DIR/$name.log"
done

usage() {
    echo "usage: $0 start|stop|status [${ALL[*]}]" >&2
    exit 2
}

start() {
    local command
    if already_running "$1"; then
        return 0
    fi
    [ -x "$basin" ] || die "$basin not found: run make setup"
    read -ra command <<<"$(srv "$1" command)"
    note "$1" "starting basin ${command[*]}, log $(srv "$1" log)"
    (cd "$repo" && start_server "$1" "$basin" "${command[@]}")
}

action="${1:-}"
shift || true
names=("$@")
[ "${#names[@]}" -gt 0 ] || names=("${ALL[@]}")
for name in "${names[@]}"; do
    case " ${ALL[*]} " in *" $name "*) ;; *) usage ;; esac
done
case "$action" in
    start) for name in "${names[@]}"; do start "$name"; done ;;
    stop) for ((i = ${#names[@]} - 1; i >= 0; i--)); do stop_server "${names[i]}"; done ;;
    status)
        rc=0
        for name in "${names[@]}"; do server_status "$name" || rc=1; done
        exit "$rc"
        ;;
    *) usage ;;
esac

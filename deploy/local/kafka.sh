#!/usr/bin/env bash
# Local Apache Kafka 3.9 in KRaft mode: one combined broker + controller on 127.0.0.1.
#
#   deploy/local/kafka.sh install   fetch the jars from Maven Central into the cache (once per machine)
#   deploy/local/kafka.sh start     install if missing, format storage if new, start if stopped, wait
#   deploy/local/kafka.sh stop      stop the broker (SIGTERM, bounded wait, then SIGKILL)
#   deploy/local/kafka.sh status    exit 0 and say so when the broker answers, 1 otherwise
#   deploy/local/kafka.sh restart   stop then start (the data directory is kept)
#   deploy/local/kafka.sh reset     stop and delete the data directory
#
# Every step is idempotent. Environment (defaults in brackets):
#   BASIN_CACHE_DIR   [~/.cache/basinwatch]   jars, shared by every checkout on the machine
#   BASIN_STATE_DIR   [~/.local/state/basinwatch]  data, logs, pid files of the local servers (one
#                     set per machine, shared by every checkout, so two clones never fight for a port)
#   BASIN_KAFKA_PORT  [9092]  BASIN_KAFKA_CONTROLLER_PORT [9093]
#   BASIN_KAFKA_HEAP  [768m]  BASIN_KAFKA_START_TIMEOUT [90] seconds
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
KAFKA_VERSION="3.9.2"
cache_dir="${BASIN_CACHE_DIR:-$HOME/.cache/basinwatch}"
kafka_home="$cache_dir/kafka-$KAFKA_VERSION"
libs="$kafka_home/libs"
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"
state_dir="$BASIN_STATE_DIR/kafka"
data_dir="$state_dir/data"
port="${BASIN_KAFKA_PORT:-9092}"
controller_port="${BASIN_KAFKA_CONTROLLER_PORT:-9093}"
heap="${BASIN_KAFKA_HEAP:-768m}"
start_timeout="${BASIN_KAFKA_START_TIMEOUT:-90}"
pid_file="$state_dir/kafka.pid"
log_file="$state_dir/kafka.log"
config="$state_dir/server.properties"

say() { printf '[kafka] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

require_java() {
    command -v java >/dev/null || die "java not found: install OpenJDK 17 (apt-get install openjdk-17-jre-headless)"
    local major
    major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
    [ "${major:-0}" -ge 17 ] || die "Java 17 or newer needed, found: $(java -version 2>&1 | head -n1)"
}

installed() { [ -f "$kafka_home/.complete" ] && [ -f "$libs/kafka_2.13-$KAFKA_VERSION.jar" ]; }

install() {
    if installed; then
        return 0
    fi
    require_java
    command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven)"
    say "installing Kafka $KAFKA_VERSION jars from Maven Central into $libs"
    local started=$SECONDS
    rm -rf "$libs"
    mkdir -p "$kafka_home"
    mvn -B -q -Dstyle.color=never -f "$here/kafka/pom.xml" -Dkafka.home="$kafka_home" package \
        || die "maven could not fetch the Kafka jars (see the output above)"
    [ -f "$libs/kafka_2.13-$KAFKA_VERSION.jar" ] || die "maven ran but $libs has no kafka jar"
    touch "$kafka_home/.complete"
    say "installed $(find "$libs" -name '*.jar' | wc -l) jars in $((SECONDS - started)) s"
}

running_pid() {
    [ -f "$pid_file" ] || return 1
    local pid
    pid="$(cat "$pid_file")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    # The pid may have been reused by another program after a crash.
    grep -q "kafka.Kafka" "/proc/$pid/cmdline" 2>/dev/null || return 1
    echo "$pid"
}

java_run() {
    java -Xmx256m -cp "$libs/*" -Dlog4j.configuration="file:$state_dir/tools-log4j.properties" "$@"
}

write_config() {
    mkdir -p "$state_dir" "$data_dir"
    cat >"$config" <<EOF
# Written by deploy/local/kafka.sh; edits are overwritten at each start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data_dir
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
log.retention.hours=720
log.segment.bytes=104857600
EOF
    cat >"$state_dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$log_file
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
EOF
    cat >"$state_dir/tools-log4j.properties" <<EOF
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

format_storage() {
    if [ -f "$data_dir/meta.properties" ]; then
        return 0
    fi
    local cluster_id
    cluster_id="$(java_run kafka.tools.StorageTool random-uuid)"
    say "formatting storage in $data_dir (cluster $cluster_id)"
    java_run kafka.tools.StorageTool format -t "$cluster_id" -c "$config" --ignore-formatted >/dev/null \
        || die "StorageTool format failed"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

answers_metadata() {
    java_run kafka.admin.BrokerApiVersionsCommand --bootstrap-server "127.0.0.1:$port" >/dev/null 2>&1
}

wait_ready() {
    local deadline=$((SECONDS + start_timeout))
    while [ $SECONDS -lt $deadline ]; do
        if ! running_pid >/dev/null; then
            say "the broker exited during start-up; last lines of $log_file:"
            tail -n 30 "$log_file" >&2 || true
            tail -n 30 "$state_dir/kafka.out" >&2 || true
            exit 1
        fi
        if port_open && answers_metadata; then
            return 0
        fi
        sleep 1
    done
    say "the broker did not answer metadata requests within $start_timeout s; last lines of $log_file:"
    tail -n 30 "$log_file" >&2 || true
    exit 1
}

start() {
    install
    require_java
    if pid="$(running_pid)"; then
        say "already running (pid $pid) on 127.0.0.1:$port"
        wait_ready
        return 0
    fi
    if port_open; then
        die "127.0.0.1:$port is taken by another program; stop it or set BASIN_KAFKA_PORT"
    fi
    write_config
    format_storage
    local started=$SECONDS
    say "starting on 127.0.0.1:$port (controller :$controller_port), log $log_file"
    nohup java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -Djava.awt.headless=true -Dlog4j.configuration="file:$state_dir/log4j.properties" \
        -Dkafka.logs.dir="$state_dir" -cp "$libs/*" kafka.Kafka "$config" \
        >"$state_dir/kafka.out" 2>&1 </dev/null &
    echo $! >"$pid_file"
    wait_ready
    say "ready in $((SECONDS - started)) s (pid $(cat "$pid_file"))"
}

stop() { stop_server; }

answers() { port_open && answers_metadata; }
status() { server_status "127.0.0.1:$port"; }

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    status) status ;;
    reset) stop; rm -rf "$state_dir"; say "data removed" ;;
    *) echo "usage: $0 install|start|stop|restart|status|reset" >&2; exit 2 ;;
esac

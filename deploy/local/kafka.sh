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
#   BASIN_CACHE_DIR   jars, shared by every checkout on the machine
#   BASIN_STATE_DIR   data, logs, pid files of the local servers (one set per machine, shared by
#                     every checkout, so two clones never fight for a port); defaults in lib.sh
#   BASIN_KAFKA_PORT  [9092]  BASIN_KAFKA_CONTROLLER_PORT [9093]
#   BASIN_KAFKA_HEAP  [768m]  BASIN_KAFKA_START_TIMEOUT [90] seconds
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"

KAFKA_VERSION="3.9.2"
kafka_home="$BASIN_CACHE_DIR/kafka-$KAFKA_VERSION"
libs="$kafka_home/libs"
state_dir="$BASIN_STATE_DIR/kafka"
data_dir="$state_dir/data"
port="${BASIN_KAFKA_PORT:-9092}"
controller_port="${BASIN_KAFKA_CONTROLLER_PORT:-9093}"
heap="${BASIN_KAFKA_HEAP:-768m}"
log_file="$state_dir/kafka.log"
config="$state_dir/server.properties"

server kafka pid_file="$state_dir/kafka.pid" log="$log_file" out="$state_dir/kafka.out" \
    port="$port" port_var=BASIN_KAFKA_PORT match="kafka.Kafka" health=answers \
    start_timeout="${BASIN_KAFKA_START_TIMEOUT:-90}" stop_timeout=60 detail="data in $data_dir"

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

answers_metadata() {
    java_run kafka.admin.BrokerApiVersionsCommand --bootstrap-server "127.0.0.1:$port" >/dev/null 2>&1
}

answers() { port_open "$port" && answers_metadata; }

start() {
    install
    require_java
    if already_running kafka; then
        return 0
    fi
    write_config
    format_storage
    say "starting on 127.0.0.1:$port (controller :$controller_port), log $log_file"
    start_server kafka java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -Djava.awt.headless=true -Dlog4j.configuration="file:$state_dir/log4j.properties" \
        -Dkafka.logs.dir="$state_dir" -cp "$libs/*" kafka.Kafka "$config"
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop_server kafka ;;
    restart) stop_server kafka; start ;;
    status) server_status kafka ;;
    reset) stop_server kafka; rm -rf "$state_dir"; say "data removed" ;;
    *) echo "usage: $0 install|start|stop|restart|status|reset" >&2; exit 2 ;;
esac

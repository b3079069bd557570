#!/usr/bin/env bash
# Local InfluxDB 2.x (OSS, no UI) on 127.0.0.1, built once per machine from the Go module proxy.
#
#   deploy/local/influxdb.sh install   build influxd from source into the cache (once per machine; the
#                                      first build takes about 10 minutes on 2 cores: Go + Rust libflux)
#   deploy/local/influxdb.sh start     install if missing, start if stopped, wait for /health, onboard
#   deploy/local/influxdb.sh stop      stop the server (SIGTERM, bounded wait, then SIGKILL)
#   deploy/local/influxdb.sh status    exit 0 and say so when /health answers pass, 1 otherwise
#   deploy/local/influxdb.sh restart   stop then start (the data directory is kept)
#   deploy/local/influxdb.sh reset     stop and delete the data directory and the credentials
#   deploy/local/influxdb.sh onboard   create org, bucket, admin user and token if not done yet
#
# Onboarding writes $BASIN_STATE_DIR/influxdb/credentials.env (mode 600), which the tools can source:
#   BASIN_INFLUX_URL  BASIN_INFLUX_ORG  BASIN_INFLUX_BUCKET  BASIN_INFLUX_TOKEN
#   (plus BASIN_INFLUX_USER and BASIN_INFLUX_PASSWORD of the admin user)
#
# Every step is idempotent. Environment (defaults in brackets):
#   BASIN_CACHE_DIR   the influxd binary, shared by every checkout on the machine
#   BASIN_STATE_DIR   data, logs, pid files of the local servers (one set per machine, shared by
#                     every checkout, so two clones never fight for a port); defaults in lib.sh
#   BASIN_INFLUX_PORT [8086]  BASIN_INFLUX_START_TIMEOUT [90] seconds
#
# The build needs go (>= the go line of InfluxDB's go.mod), cargo + rustup (stable), a C compiler and
# pkg-config; it reaches only the Go module proxy and crates.io. The web UI is not built (its assets
# come from GitHub releases): the server runs with --ui-disabled and serves the HTTP API only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"

INFLUX_VERSION="2.9.1"
INFLUX_MODULE="github.com/influxdata/influxdb/v2"
# Build tags of InfluxDB's GNUmakefile (COMMON_TAGS), without "assets" (the UI).
BUILD_TAGS="sqlite_foreign_keys,sqlite_json"
cache_dir="$BASIN_CACHE_DIR"
influx_home="$cache_dir/influxdb-$INFLUX_VERSION"
influxd="$influx_home/influxd"
build_dir="$cache_dir/build/influxdb-$INFLUX_VERSION"
state_dir="$BASIN_STATE_DIR/influxdb"
data_dir="$state_dir/data"
port="${BASIN_INFLUX_PORT:-8086}"
log_file="$state_dir/influxd.log"
credentials="$state_dir/credentials.env"
url="http://127.0.0.1:$port"
ORG="basinwatch"
BUCKET="basinwatch"
ADMIN_USER="basin-admin"

server influxdb pid_file="$state_dir/influxd.pid" log="$log_file" append=yes \
    port="$port" port_var=BASIN_INFLUX_PORT match="influxd run" \
    health_url="$url/health" health_body='"status": *"pass"' \
    start_timeout="${BASIN_INFLUX_START_TIMEOUT:-90}" stop_timeout=60 detail="data in $data_dir"

installed() { [ -f "$influx_home/.complete" ] && [ -x "$influxd" ]; }

require_build_tools() {
    local tool
    for tool in go cargo rustup cc pkg-config curl; do
        command -v "$tool" >/dev/null || die "$tool not found: the one-time build needs go, cargo/rustup, a C compiler and pkg-config"
    done
}

# Run a long build step with its output in a log file; print a heartbeat every minute.
run_logged() {
    local what="$1" log="$2"
    shift 2
    local started=$SECONDS
    "$@" >>"$log" 2>&1 &
    local pid=$! rc=0 ticks=0
    while kill -0 "$pid" 2>/dev/null; do
        sleep 2
        ticks=$((ticks + 1))
        if [ $((ticks % 30)) -eq 0 ]; then
            say "  ... $what: $(((SECONDS - started) / 60)) min"
        fi
    done
    wait "$pid" || rc=$?
    if [ "$rc" -ne 0 ]; then
        say "$what failed (exit $rc); last lines of $log:"
        tail -n 40 "$log" >&2 || true
        exit 1
    fi
    say "  $what done in $((SECONDS - started)) s"
}

install() {
    if installed; then
        return 0
    fi
    require_build_tools
    say "building InfluxDB $INFLUX_VERSION from source into $influx_home"
    say "this one-time build takes about 10 minutes on 2 cores (7 with warm Go/cargo caches; later starts take seconds); log in $build_dir/build.log"
    local started=$SECONDS
    mkdir -p "$build_dir"
    local log="$build_dir/build.log"
    : >"$log"
    # A build directory of its own: the Go build cache, the pkg-config wrapper and the libflux copy
    # (cargo target) live here and go away once the binary is cached.
    export GOCACHE="$build_dir/gocache"
    export GOFLAGS="-mod=mod -buildvcs=false"
    export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
    export CGO_ENABLED=1
    export RUSTUP_TOOLCHAIN=stable      # flux pins rust 1.83; any recent stable builds it
    export RUSTFLAGS="--cap-lints=warn" # flux-core denies warnings; newer compilers warn more
    export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
    export PKG_CONFIG_LOG="$build_dir/pkg-config.log"

    say "1/4 source of $INFLUX_MODULE@v$INFLUX_VERSION from the Go module proxy"
    local info moddir commit
    info="$(cd "$build_dir" && go mod download -json "$INFLUX_MODULE@v$INFLUX_VERSION")" \
        || die "go mod download failed: $info"
    moddir="$(printf '%s' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    commit="$(printf '%s' "$info" | sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{7\}\).*/\1/p')"
    { [ -n "$moddir" ] && [ -f "$moddir/go.mod" ]; } || die "go mod download gave no source directory: $info"
    if [ ! -f "$build_dir/src/.copied" ]; then
        rm -rf "$build_dir/src"
        cp -R "$moddir" "$build_dir/src"
        chmod -R u+w "$build_dir/src"
        touch "$build_dir/src/.copied"
    fi

    local pkgconfig_version
    pkgconfig_version="$(awk '$1 == "github.com/influxdata/pkg-config" { print $2 }' "$build_dir/src/go.mod")"
    [ -n "$pkgconfig_version" ] || die "no github.com/influxdata/pkg-config in $build_dir/src/go.mod"
    say "2/4 influxdata pkg-config wrapper $pkgconfig_version"
    run_logged "pkg-config wrapper" "$log" \
        env GOBIN="$build_dir/bin" go install "github.com/influxdata/pkg-config@$pkgconfig_version"
    export PKG_CONFIG="$build_dir/bin/pkg-config"

    # The wrapper builds libflux (Rust, crates from crates.io) the first time it is asked for flux;
    # ask once here so the long Rust step has its own progress line and error report.
    say "3/4 libflux (Rust, cargo build --release)"
    # shellcheck disable=SC2016 # expanded by the inner bash
    run_logged "libflux" "$log" \
        bash -c 'cd "$1/src" && "$PKG_CONFIG" --cflags --libs -- flux' _ "$build_dir"

    local tags="$BUILD_TAGS"
    case "$(go env GOARCH)" in
        amd64 | s390x) ;;
        *) tags="$tags,noasm" ;; # as the GNUmakefile: Flux panics without it on other CPUs
    esac
    say "4/4 influxd (go build -tags $tags)"
    # shellcheck disable=SC2016 # expanded by the inner bash
    run_logged "go build" "$log" \
        bash -c 'cd "$1/src" && go build -p 2 -trimpath -tags "$2" \
            -ldflags "-s -w -X main.version=v$3 -X main.commit=$4 -X main.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
            -o "$1/influxd" ./cmd/influxd' _ "$build_dir" "$tags" "$INFLUX_VERSION" "${commit:-none}"
    "$build_dir/influxd" version >/dev/null || die "the built influxd does not run"

    mkdir -p "$influx_home"
    mv -f "$build_dir/influxd" "$influxd"
    cp -f "$log" "$influx_home/build.log"
    local minutes=$(((SECONDS - started + 30) / 60))
    printf 'version=%s\ncommit=%s\ntags=%s\nbuild_seconds=%s\nbuilt=%s\n' "$INFLUX_VERSION" "${commit:-}" \
        "$tags" "$((SECONDS - started))" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$influx_home/build-info"
    touch "$influx_home/.complete"
    rm -rf "$build_dir"
    rmdir "$cache_dir/build" 2>/dev/null || true
    say "installed $("$influxd" version) ($(du -h "$influxd" | cut -f1)) in $minutes min"
}

new_secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))' 2>/dev/null || openssl rand -hex 32; }

onboard() {
    healthy influxdb || die "influxd does not answer on $url; run: deploy/local/influxdb.sh start"
    local setup
    setup="$(curl -fsS --max-time 10 "$url/api/v2/setup")" || die "GET $url/api/v2/setup failed"
    if ! printf '%s' "$setup" | grep -q '"allowed": *true'; then
        [ -f "$credentials" ] || die "InfluxDB in $data_dir is already onboarded but $credentials is missing; run: deploy/local/influxdb.sh reset (deletes the data)"
        local token
        token="$(sed -n 's/^BASIN_INFLUX_TOKEN=//p' "$credentials")"
        curl -fs --max-time 10 -o /dev/null -H "Authorization: Token $token" "$url/api/v2/buckets?name=$BUCKET" \
            || die "the token in $credentials is refused by the server; run: deploy/local/influxdb.sh reset (deletes the data)"
        say "onboarded; credentials in $credentials"
        return 0
    fi
    local password token tmp
    password="$(new_secret)"
    token="$(new_secret)"
    mkdir -p "$state_dir"
    tmp="$credentials.tmp"
    (umask 077 && cat >"$tmp" <<EOF
BASIN_INFLUX_URL=$url
BASIN_INFLUX_ORG=$ORG
BASIN_INFLUX_BUCKET=$BUCKET
BASIN_INFLUX_TOKEN=$token
BASIN_INFLUX_USER=$ADMIN_USER
BASIN_INFLUX_PASSWORD=$password
EOF
    )
    say "onboarding: org $ORG, bucket $BUCKET (infinite retention), user $ADMIN_USER"
    local body
    body="$(printf '{"username":"%s","password":"%s","org":"%s","bucket":"%s","retentionPeriodSeconds":0,"token":"%s"}' \
        "$ADMIN_USER" "$password" "$ORG" "$BUCKET" "$token")"
    if ! curl -fsS --max-time 30 -o /dev/null -H 'Content-Type: application/json' \
        -X POST --data-binary @- "$url/api/v2/setup" <<<"$body"; then
        rm -f "$tmp"
        die "POST $url/api/v2/setup failed; see $log_file"
    fi
    chmod 600 "$tmp"
    mv -f "$tmp" "$credentials"
    say "credentials in $credentials"
}

start() {
    install
    if already_running influxdb; then
        onboard
        return 0
    fi
    mkdir -p "$data_dir"
    say "starting on $url, data in $data_dir, log $log_file"
    # Run from the state directory with it as the config path, so no stray config.toml is read.
    (
        cd "$state_dir"
        start_server influxdb env INFLUXD_CONFIG_PATH="$state_dir" "$influxd" run \
            --http-bind-address "127.0.0.1:$port" \
            --bolt-path "$data_dir/influxd.bolt" \
            --sqlite-path "$data_dir/influxd.sqlite" \
            --engine-path "$data_dir/engine" \
            --reporting-disabled \
            --ui-disabled \
            --log-level info
    )
    onboard
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop_server influxdb ;;
    restart) stop_server influxdb; start ;;
    status) server_status influxdb ;;
    reset) stop_server influxdb; rm -rf "$state_dir"; say "data and credentials removed" ;;
    onboard) onboard ;;
    *) echo "usage: $0 install|start|stop|restart|status|reset|onboard" >&2; exit 2 ;;
esac

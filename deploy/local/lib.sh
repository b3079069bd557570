# shellcheck shell=bash
# The library of the deploy/local scripts (sourced, never run): the state directory, pid files,
# ports, readiness and stopping, for the local servers (Kafka, InfluxDB) and the app processes
# (worker, store, alert receiver) alike.
#
# A server is data, declared once with `server NAME key=value ...`:
#   pid_file       its pid file (the pid only, as every tool expects)
#   log            its log, shown when it fails to start; out: where its output goes [log]
#   append         yes: append its output to `out` on each start [no: start a fresh file]
#   port           the TCP port on 127.0.0.1 it listens on; port_var: the setting that moves it
#   match          a text its command line contains (with the start time: the pid-reuse check)
#   health_url     a URL that answers 2xx when it is ready (a /health view), and optionally
#   health_body    an extended regexp its answer must match (InfluxDB: "status": "pass"), or
#   health         a command that succeeds when it is ready (Kafka: a metadata request);
#                  with neither, "ready" means its port is open
#   start_timeout  seconds to wait until it is ready [90]; stop_timeout: after SIGTERM [60]
#   detail         said after "running (pid N) on ..." by `server_status`
# and the routines below take its name: running_pid, healthy, wait_ready, already_running,
# start_server, stop_server, server_status. Their local variables start with "_": bash scopes
# dynamically, so a `health` command sees the script's own variables (port, state_dir) unshadowed.
#
# A pid counts only while its process is alive (not a zombie), its command line contains `match`,
# and its start time is the one recorded beside the pid file (PID_FILE.start: "pid start-ticks",
# written by start_server): after a crash the pid may belong to another program (pid reuse).
# A pid file without that record (written by an older script) is checked by the command line
# alone. Linux (/proc) only.

# Where the local servers keep data, logs, pid files and credentials (one set per machine, shared
# by every checkout); streams/settings.py reads the same variable with the same default.
: "${BASIN_STATE_DIR:=$HOME/.local/state/basinwatch}"
# Downloaded and built server binaries, shared by every checkout on the machine.
: "${BASIN_CACHE_DIR:=$HOME/.cache/basinwatch}"

say_tag="${say_tag:-$(basename "$0" .sh)}"
say() { printf '[%s] %s\n' "$say_tag" "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}
# say, on behalf of server $1
note() {
    local name="$1"
    shift
    printf '[%s] %s\n' "$name" "$*" >&2
}

# server NAME key=value ...: declare (or amend) a server.
server() {
    local name="$1" pair
    shift
    for pair in "$@"; do
        printf -v "srv_${name}_${pair%%=*}" '%s' "${pair#*=}"
    done
}

# srv NAME KEY [DEFAULT]: one property of a server.
srv() {
    local var="srv_${1}_${2}"
    printf '%s' "${!var-${3-}}"
}

port_open() { (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

# alive PID: the process exists and is not a zombie (a zombie still answers kill -0).
alive() {
    local stat
    kill -0 "$1" 2>/dev/null || return 1
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [ "${stat%% *}" != Z ]
}

# start_ticks PID: when the process started, in clock ticks after boot (field 22 of its stat).
start_ticks() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }" # fields 3.. (the command name in field 2 may hold spaces)
    # shellcheck disable=SC2086 # split into fields on purpose
    set -- $stat
    echo "${20}"
}

# record_pid NAME PID: write the pid file and the start time beside it.
record_pid() {
    local pid_file ticks
    pid_file="$(srv "$1" pid_file)"
    echo "$2" >"$pid_file"
    if ticks="$(start_ticks "$2")"; then
        echo "$2 $ticks" >"$pid_file.start"
    else
        rm -f "$pid_file.start"
    fi
}

forget_pid() {
    local pid_file
    pid_file="$(srv "$1" pid_file)"
    rm -f "$pid_file" "$pid_file.start"
}

# running_pid NAME: print the pid of the server's process; status 1 when it does not run.
running_pid() {
    local pid_file pid="" cmdline recorded_pid="" recorded_ticks=""
    pid_file="$(srv "$1" pid_file)"
    [ -s "$pid_file" ] || return 1
    read -r pid <"$pid_file" || true
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    alive "$pid" || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    case "$cmdline" in *"$(srv "$1" match)"*) ;; *) return 1 ;; esac
    if [ -s "$pid_file.start" ]; then
        read -r recorded_pid recorded_ticks <"$pid_file.start" || true
        if [ "$recorded_pid" = "$pid" ] && [ "$(start_ticks "$pid")" != "$recorded_ticks" ]; then
            return 1
        fi
    fi
    echo "$pid"
}

# where NAME: how the server is reached, for messages.
where() {
    local url
    url="$(srv "$1" health_url)"
    if [ -n "$url" ]; then
        echo "${url%/health}"
    else
        echo "127.0.0.1:$(srv "$1" port)"
    fi
}

# healthy NAME: one readiness probe.
healthy() {
    local _check _url _body
    _check="$(srv "$1" health)"
    _url="$(srv "$1" health_url)"
    if [ -n "$_check" ]; then
        $_check
    elif [ -n "$_url" ]; then
        _body="$(curl -fsS --max-time 3 "$_url" 2>/dev/null)" || return 1
        grep -Eq -- "$(srv "$1" health_body '.')" <<<"$_body"
    else
        port_open "$(srv "$1" port)"
    fi
}

show_log() {
    local file
    for file in "$(srv "$1" log)" "$(srv "$1" out)"; do
        if [ -n "$file" ] && [ -s "$file" ]; then
            note "$1" "last lines of $file:"
            tail -n 30 "$file" >&2 || true
        fi
    done
}

# wait_ready NAME: wait until the server is ready (health URL, health command or open port);
# exit 1 with its log when it exits first or is not ready within start_timeout seconds.
wait_ready() {
    local _timeout _deadline _pid=""
    _timeout="$(srv "$1" start_timeout 90)"
    _deadline=$((SECONDS + _timeout))
    read -r _pid <"$(srv "$1" pid_file)" 2>/dev/null || true
    while :; do
        # Alive is enough here: right after the fork, until the exec, the child's command line is
        # still the script's, so running_pid's command-line check would call it gone.
        if [ -z "$_pid" ] || ! alive "$_pid"; then
            note "$1" "exited during start-up"
            show_log "$1"
            exit 1
        fi
        if healthy "$1"; then
            return 0
        fi
        if [ "$SECONDS" -ge "$_deadline" ]; then
            note "$1" "not ready within $_timeout s ($(srv "$1" health_url "$(where "$1")"))"
            show_log "$1"
            exit 1
        fi
        sleep 0.5
    done
}

# already_running NAME: when it runs, say so and wait until it is ready (status 0); when its port
# is taken by another program, exit 1; status 1 when it is to be started.
already_running() {
    local _pid _port
    if _pid="$(running_pid "$1")"; then
        note "$1" "already running (pid $_pid) on $(where "$1")"
        wait_ready "$1"
        return 0
    fi
    _port="$(srv "$1" port)"
    if [ -n "$_port" ] && port_open "$_port"; then
        note "$1" "error: 127.0.0.1:$_port is taken by another program; stop it or set $(srv "$1" port_var "its port")"
        exit 1
    fi
    return 1
}

# start_server NAME COMMAND...: start COMMAND in the background as the server (output to its
# `out` file, pid to its pid file) and wait until it is ready.
start_server() {
    local _name="$1" _pid_file _out _started=$SECONDS
    shift
    _pid_file="$(srv "$_name" pid_file)"
    _out="$(srv "$_name" out "$(srv "$_name" log)")"
    mkdir -p "$(dirname "$_pid_file")" "$(dirname "$_out")"
    if [ "$(srv "$_name" append no)" != yes ]; then
        : >"$_out"
    fi
    nohup "$@" >>"$_out" 2>&1 </dev/null &
    record_pid "$_name" $!
    wait_ready "$_name"
    note "$_name" "ready in $((SECONDS - _started)) s (pid $(cat "$_pid_file")) on $(where "$_name")"
}

# wait_gone PID SECONDS: status 0 once the process is gone, 1 if it still runs after SECONDS.
wait_gone() {
    local deadline=$((SECONDS + $2))
    while alive "$1"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# stop_server NAME: SIGTERM, up to stop_timeout seconds, then SIGKILL (only if the pid still names
# the same process). Idempotent.
stop_server() {
    local _pid _timeout
    if ! _pid="$(running_pid "$1")"; then
        forget_pid "$1"
        note "$1" "not running"
        return 0
    fi
    _timeout="$(srv "$1" stop_timeout 60)"
    note "$1" "stopping pid $_pid (SIGTERM, up to $_timeout s)"
    kill -TERM "$_pid" 2>/dev/null || true
    if ! wait_gone "$_pid" "$_timeout" && [ "$(running_pid "$1")" = "$_pid" ]; then
        note "$1" "still running after $_timeout s: SIGKILL"
        kill -KILL "$_pid" 2>/dev/null || true
        wait_gone "$_pid" 10 || die "pid $_pid survived SIGKILL"
    fi
    forget_pid "$1"
    note "$1" "stopped"
}

# server_status NAME: status 0 and say so when it runs and is ready; 1 otherwise.
server_status() {
    local _pid _detail
    if ! _pid="$(running_pid "$1")"; then
        note "$1" "not running"
        return 1
    fi
    if ! healthy "$1"; then
        note "$1" "running (pid $_pid) but not ready on $(where "$1")"
        return 1
    fi
    _detail="$(srv "$1" detail)"
    note "$1" "running (pid $_pid) on $(where "$1")${_detail:+, $_detail}"
}

# --- Debian packages (chromium.sh, fonts.sh) ---------------------------------------------------

package_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# as_root COMMAND...: run it as root, directly or through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "installing Debian packages needs root; run as root or install sudo"
    fi
}

# apt_install LOG PACKAGE...: apt-get install -y --no-install-recommends, its output appended to
# LOG. A fresh machine has no package lists: update first when apt knows the first package not;
# stale lists (404 on a superseded .deb): update once and try again.
apt_install() {
    local _log="$1"
    shift
    command -v apt-get >/dev/null || die "apt-get not found: install Debian's $* by hand"
    mkdir -p "$(dirname "$_log")"
    _apt() { as_root env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$_log" 2>&1; }
    _apt_failed() {
        tail -n 30 "$_log" >&2 || true
        die "apt-get $1 failed (log: $_log)"
    }
    say "installing the Debian packages $* (apt-get install -y --no-install-recommends); log in $_log"
    if ! apt-cache show "$1" >/dev/null 2>&1; then
        say "apt-get update (no package list knows $1 yet)"
        _apt update || _apt_failed update
    fi
    if ! _apt install -y --no-install-recommends "$@"; then
        say "apt-get install failed; apt-get update and one more try"
        _apt update || _apt_failed update
        _apt install -y --no-install-recommends "$@" || _apt_failed "install -y $*"
    fi
}

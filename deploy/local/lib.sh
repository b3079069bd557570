# Shared by the deploy/local scripts (sourced). The script defines say, running_pid and
# pid_file before calling the functions.

# Data, logs, pid files and credentials of the local servers, one set per machine. The one
# default in shell; streams/settings.py has the same (tests/unit/streams/test_settings.py checks).
BASIN_STATE_DIR="${BASIN_STATE_DIR:-$HOME/.local/state/basinwatch}"

# Stop the server of $pid_file: SIGTERM, up to 60 s, then SIGKILL. Idempotent.
stop_server() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$pid_file"
        say "not running"
        return 0
    fi
    say "stopping pid $pid"
    kill -TERM "$pid"
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
        say "still running after 60 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
    say "stopped"
}

# Exit status 0 and say so when the server of $pid_file runs and `answers` (defined by the
# script) succeeds; 1 otherwise. $1: where it listens.
server_status() {
    local pid
    if pid="$(running_pid)" && answers; then
        say "running (pid $pid) on $1, data in $data_dir"
        return 0
    fi
    say "not running"
    return 1
}

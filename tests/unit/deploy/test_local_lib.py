"""deploy/local/lib.sh on processes of its own: pid files, readiness, stopping, pid reuse.

Each test runs bash with the library sourced and a temporary BASIN_STATE_DIR; the "servers" are a
Python HTTP server on a free port and shell loops, never the shared Kafka or InfluxDB.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[3] / "deploy" / "local" / "lib.sh"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Shell:
    """Runs bash snippets with lib.sh sourced and the test servers declared."""

    def __init__(self, state: Path, port: int) -> None:
        self.state = state
        self.port = port
        self.prelude = f"""
set -euo pipefail
. {LIB}
server web pid_file="$BASIN_STATE_DIR/web.pid" log="$BASIN_STATE_DIR/web.log" port={port} \\
    match="http.server {port}" health_url="http://127.0.0.1:{port}/" start_timeout=15 \\
    stop_timeout=5
server stubborn pid_file="$BASIN_STATE_DIR/stubborn.pid" log="$BASIN_STATE_DIR/stubborn.log" \\
    match="ignores-term" health=true stop_timeout=1
start_web() {{
    already_running web || start_server web python3 -m http.server {port} --bind 127.0.0.1
}}
"""

    def run(self, script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BASIN_")}
        env["BASIN_STATE_DIR"] = str(self.state)
        return subprocess.run(
            ["bash", "-c", self.prelude + script],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def pid(self, name: str) -> int:
        return int((self.state / f"{name}.pid").read_text().strip())


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    sh = Shell(tmp_path / "state", free_port())
    yield sh
    for pid_file in sh.state.glob("*.pid"):  # whatever a failed test left running
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(") ", 1)[1][0] != "Z"


def test_start_waits_until_ready_and_a_second_start_leaves_it_alone(shell: Shell) -> None:
    first = shell.run("start_web")
    assert first.returncode == 0, first.stderr
    assert "[web] ready in" in first.stderr
    pid = shell.pid("web")
    assert running(pid)

    second = shell.run("start_web; server_status web")

    assert second.returncode == 0, second.stderr
    assert f"[web] already running (pid {pid})" in second.stderr
    assert f"[web] running (pid {pid}) on http://127.0.0.1:{shell.port}/" in second.stderr
    assert shell.pid("web") == pid


def test_stop_terminates_and_removes_the_pid_file_and_is_idempotent(shell: Shell) -> None:
    assert shell.run("start_web").returncode == 0
    pid = shell.pid("web")

    stopped = shell.run("stop_server web; stop_server web; server_status web")

    assert stopped.returncode == 1, "status says not running"
    assert "[web] stopped" in stopped.stderr
    assert stopped.stderr.count("[web] not running") == 2
    assert not running(pid)
    assert not (shell.state / "web.pid").exists()
    assert not (shell.state / "web.pid.start").exists()


def test_a_process_ignoring_sigterm_is_killed_after_the_stop_timeout(shell: Shell) -> None:
    loop = "trap '' TERM; : ignores-term; while :; do sleep 0.1; done"
    started = shell.run(f'start_server stubborn bash -c "{loop}"')
    assert started.returncode == 0, started.stderr
    pid = shell.pid("stubborn")

    began = time.monotonic()
    stopped = shell.run("stop_server stubborn")

    assert stopped.returncode == 0, stopped.stderr
    assert "still running after 1 s: SIGKILL" in stopped.stderr
    assert not running(pid)
    assert time.monotonic() - began < 10


def test_a_reused_pid_is_not_taken_for_the_server(shell: Shell) -> None:
    """The pid file names a process with the server's command line that is not the process the
    start recorded (the server died and its pid went to another program): not running, not
    stopped, and its port is not taken over."""
    assert shell.run("start_web").returncode == 0
    pid, ticks = (shell.state / "web.pid.start").read_text().split()
    assert pid == str(shell.pid("web")) and int(ticks) > 0
    assert shell.run("stop_server web").returncode == 0
    other = subprocess.Popen(
        ["python3", "-m", "http.server", str(shell.port), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(shell.port)
        (shell.state / "web.pid").write_text(f"{other.pid}\n")
        (shell.state / "web.pid.start").write_text(f"{other.pid} {int(ticks) - 1}\n")

        result = shell.run("running_pid web || echo 'no pid'; stop_server web; start_web")

        assert result.stdout.strip() == "no pid"
        assert other.poll() is None, "stop_server left the other program alone"
        assert result.returncode == 1
        assert f"127.0.0.1:{shell.port} is taken by another program" in result.stderr
    finally:
        other.kill()
        other.wait(10)


def test_a_pid_file_without_a_start_record_is_checked_by_the_command_line(shell: Shell) -> None:
    """As an older script wrote it: the server's process counts, and stops."""
    assert shell.run("start_web").returncode == 0
    (shell.state / "web.pid.start").unlink()

    result = shell.run("server_status web && stop_server web")

    assert result.returncode == 0, result.stderr
    assert "[web] stopped" in result.stderr
    assert not (shell.state / "web.pid").exists()


def test_a_pid_of_another_command_is_not_taken_for_the_server(shell: Shell) -> None:
    shell.state.mkdir(parents=True)
    other = subprocess.Popen(["sleep", "60"])
    try:
        (shell.state / "web.pid").write_text(f"{other.pid}\n")

        result = shell.run("running_pid web || echo 'no pid'; server_status web")

        assert result.stdout.strip() == "no pid"
        assert result.returncode == 1
        assert other.poll() is None
    finally:
        other.kill()
        other.wait(10)


def test_a_server_that_exits_during_start_up_fails_with_its_log(shell: Shell) -> None:
    fails = f"echo http.server {shell.port} cannot bind >&2; exit 3"
    result = shell.run(f"start_server web bash -c '{fails}'")

    assert result.returncode == 1
    assert "[web] exited during start-up" in result.stderr
    assert "cannot bind" in result.stderr


def test_a_server_that_never_gets_ready_fails_at_the_start_timeout(shell: Shell) -> None:
    silent = f": http.server {shell.port}; sleep 30; :"
    result = shell.run(f"server web start_timeout=1; start_server web bash -c '{silent}'")

    assert result.returncode == 1
    assert f"[web] not ready within 1 s (http://127.0.0.1:{shell.port}/)" in result.stderr
    assert running(shell.pid("web")), "left running: the next start waits for it again"
    assert shell.run("stop_server web").returncode == 0


def test_the_state_directory_has_one_default() -> None:
    env = {k: v for k, v in os.environ.items() if k != "BASIN_STATE_DIR"}
    result = subprocess.run(
        ["bash", "-c", f'. {LIB}; echo "$BASIN_STATE_DIR"'],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == str(Path.home() / ".local/state/basinwatch")
    scripts = (LIB.parent).glob("*.sh")
    defaults = [p.name for p in scripts if ".local/state/basinwatch" in p.read_text()]
    assert defaults == ["lib.sh"]


def test_a_health_command_sees_the_scripts_own_variables(shell: Shell) -> None:
    """As kafka.sh's health command reads its global $port: no routine's local hides it."""
    script = f"""
port={shell.port} pid_file=unused timeout=unused
answers() {{ port_open "$port"; }}
server web health=answers
start_web
start_web
server_status web
"""
    result = shell.run(script)

    assert result.returncode == 0, result.stderr
    assert "[web] ready in" in result.stderr
    assert "[web] already running (pid" in result.stderr
    assert "[web] running (pid" in result.stderr

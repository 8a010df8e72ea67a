"""The warm server the language host forks programs from: a program run through it behaves as
one started in a new process (argv, sys.path[0], directory, environment, streams, exit code,
exit handlers), its library modules are preloaded for the next run and its own are not, and
the host falls back to a new process whenever no server answers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.toolchain.program_servers import end_servers
from toolchain import python_program_server as server

VENV = sys.prefix
"""The tests' own virtualenv: the one the servers are keyed by."""


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private directory for this test's servers (never the user's), with a short path: a
    Unix socket's path has at most 107 bytes, and pytest's tmp_path is long."""
    directory = Path(tempfile.mkdtemp(prefix="pps-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(directory))
    monkeypatch.setenv(server.IDLE_ENV, "30")
    try:
        yield directory
    finally:
        end_servers(directory)


@pytest.fixture
def running_server(runtime_dir: Path) -> Iterator[Path]:
    """A server started by the test (so that the test can end it), ready for runs."""
    socket_path = server.server_socket(VENV)
    assert server.private_directory(socket_path.parent)
    process = subprocess.Popen([sys.executable, server.__file__, "serve", str(socket_path)])
    try:
        deadline = time.monotonic() + 30
        while not socket_path.exists():
            assert process.poll() is None, "the server exited before it listened"
            assert time.monotonic() < deadline, "the server did not listen within 30 s"
            time.sleep(0.05)
        yield socket_path
    finally:
        process.terminate()
        process.wait(timeout=30)


def program(tmp_path: Path, text: str) -> Path:
    script = tmp_path / "runner"
    script.write_text(text, encoding="utf-8")
    return script


def run_through_server(script: Path, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Runs `script` through the server with stdout to a file; (exit code, its output)."""
    output = cwd / "stdout.txt"
    saved = os.dup(1)
    with output.open("wb") as stdout:
        os.dup2(stdout.fileno(), 1)
        try:
            run = server.start_program(
                sys.executable, VENV, [str(script), "--stack=dev"], env, str(cwd)
            )
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    assert run is not None, "the server did not take the run"
    return run.wait(), output.read_text(encoding="utf-8")


def test_a_program_run_through_the_server_is_run_as_a_new_process_would_be(
    tmp_path: Path, running_server: Path
):
    script = program(
        tmp_path,
        "import atexit, os, sys\n"
        "atexit.register(lambda: print('handler', flush=True))\n"
        "print(__name__, sys.argv, sys.path[0], os.getcwd(), flush=True)\n"
        "print(os.environ.get('PULUMI_CONFIG'), os.environ.get('ONLY_IN_THE_SERVER'), flush=True)\n"
        "sys.exit(7)\n",
    )
    env = {"PATH": os.environ["PATH"], "PULUMI_CONFIG": '{"demo-orq:message": "hi"}'}
    code, output = run_through_server(script, tmp_path, env)
    assert code == 7
    assert output.splitlines() == [
        f"__main__ {[str(script), '--stack=dev']} {tmp_path} {tmp_path}",
        '{"demo-orq:message": "hi"} None',
        "handler",
    ]


def test_a_run_records_its_library_modules_and_never_the_programs_own(
    tmp_path: Path, running_server: Path
):
    (tmp_path / "own_module_of_the_program.py").write_text("VALUE = 1\n", encoding="utf-8")
    script = program(tmp_path, "import sys, colorsys, own_module_of_the_program\n")
    code, _ = run_through_server(script, tmp_path, {"PATH": os.environ["PATH"]})
    assert code == 0
    recorded = json.loads(server.modules_file(running_server).read_text(encoding="utf-8"))
    assert "colorsys" in recorded
    assert "own_module_of_the_program" not in recorded


def test_a_program_killed_by_a_signal_reports_it_as_the_exit_code(
    tmp_path: Path, running_server: Path
):
    script = program(tmp_path, "import time\ntime.sleep(60)\n")
    run = server.start_program(sys.executable, VENV, [str(script)], dict(os.environ), str(tmp_path))
    assert run is not None
    run.signal(15)
    assert run.wait() == -15


def runner(script: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """python_program_server.py's runner, as the language host starts it."""
    return subprocess.Popen([sys.executable, server.__file__, "run", str(script)], cwd=cwd)


def test_the_runner_exits_as_the_program_did_with_or_without_a_server(
    tmp_path: Path, runtime_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    script = program(tmp_path, "import sys\nsys.exit(3)\n")
    monkeypatch.setenv(server.IDLE_ENV, "0")
    assert runner(script, tmp_path).wait(timeout=60) == 3
    monkeypatch.setenv(server.IDLE_ENV, "30")
    socket_path = server.server_socket(VENV)
    assert runner(script, tmp_path).wait(timeout=60) == 3  # runs it, starts a server
    deadline = time.monotonic() + 30
    while not socket_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert socket_path.exists(), "the runner started no server for the next run"
    assert runner(script, tmp_path).wait(timeout=60) == 3  # through the server


def test_the_runner_passes_a_signal_on_to_the_program_the_server_forked(
    tmp_path: Path, running_server: Path
):
    pid_file = tmp_path / "pid"
    script = program(
        tmp_path, f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n"
    )  # fmt: skip
    process = runner(script, tmp_path)
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    program_pid = int(pid_file.read_text(encoding="utf-8"))
    assert program_pid != process.pid, "the program was not forked from the server"
    process.terminate()
    assert process.wait(timeout=30) == -15


def test_servers_turned_off_leave_every_run_to_a_new_process(
    tmp_path: Path, runtime_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(server.IDLE_ENV, "0")
    assert server.start_program(sys.executable, VENV, ["x"], {}, str(tmp_path)) is None
    assert not list(runtime_dir.iterdir())


def test_a_stale_socket_is_removed_and_the_run_left_to_the_host(tmp_path: Path, runtime_dir: Path):
    socket_path = server.server_socket(VENV)
    assert server.private_directory(socket_path.parent)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(socket_path))
    dead.close()  # the file stays, nothing listens
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server, "start_server", lambda python, venv, path: None)
        assert server.start_program(sys.executable, VENV, ["x"], {}, str(tmp_path)) is None
    assert not socket_path.exists()


def test_a_directory_that_others_can_open_is_not_used(tmp_path: Path):
    open_to_all = tmp_path / "open-to-all"
    open_to_all.mkdir(mode=0o777)
    open_to_all.chmod(0o777)
    assert not server.private_directory(open_to_all)
    private = tmp_path / "private"
    assert server.private_directory(private)
    assert oct(private.stat().st_mode & 0o777) == oct(0o700)


def test_preloading_keeps_a_lazy_packages_class_bound_over_its_submodule_of_the_same_name():
    """pulumi_kubernetes.apiextensions is loaded lazily and exports the class CustomResource
    from its submodule CustomResource: preloaded in the order a run recorded them, the program
    must still find the class there (importing the submodule by name used to rebind it)."""
    recorded = [
        "pulumi_kubernetes",
        "pulumi_kubernetes.apiextensions",
        "pulumi_kubernetes.apiextensions.CustomResource",
        "pulumi_kubernetes.apiextensions.CustomResourcePatch",
        "pulumi_kubernetes.core.v1.Namespace",
    ]
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(server.__file__).parent)!r})\n"
        "import python_program_server as server\n"
        f"for name in {recorded!r}:\n"
        "    server.import_as_the_program_did(name)\n"
        "import pulumi_kubernetes as k8s\n"
        "print(type(k8s.apiextensions.CustomResource).__name__, "
        "type(k8s.core.v1.Namespace).__name__)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert completed.stdout.split() == ["type", "type"], completed.stderr

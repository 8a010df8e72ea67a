"""demo-orq's Python language host (toolchain/langhost, Go), tested as the engine uses it: the
binary built from this folder's source, started as a plugin (its port on the first line), asked
over gRPC with the SDK's own stubs to run programs (through python_program_server.py's runner and
a stand-in for Pulumi's pulumi-language-python-exec, both beside it) and plugins (policy packs)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from demo_orq.facts import PROJECT_DIR
from tests.toolchain.program_servers import end_servers
from toolchain import python_program_server

SOURCE = PROJECT_DIR / "toolchain" / "langhost"
REPORTING_EXEC = """\
import gc, json, os, sys
report = {
    "argv": sys.argv, "cwd": os.getcwd(), "path0": sys.path[0], "name": __name__,
    "executable": sys.executable, "pulumi_loaded": "pulumi" in sys.modules,
    "frozen": gc.get_freeze_count() > 0,
    "config": os.environ.get("PULUMI_CONFIG"),
    "secret_keys": os.environ.get("PULUMI_CONFIG_SECRET_KEYS"),
}
with open(os.environ["REPORT_TO"], "w") as out:
    json.dump(report, out)
sys.exit(int(json.loads(report["config"]).get("exit", "0")))
"""
"""Stands in for pulumi-language-python-exec: reports how it was run, exits with the config's
`exit`."""


@pytest.fixture(scope="session")
def host_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The host built from this folder's source (Go's cache makes it a few seconds)."""
    binary = tmp_path_factory.mktemp("langhost") / "pulumi-language-python"
    subprocess.run(
        ["go", "build", "-mod=mod", "-trimpath", "-tags", "osusergo,grpcnotrace", "-o",
         str(binary), "."],
        cwd=SOURCE, check=True, env={**os.environ, "CGO_ENABLED": "0"}, timeout=600,
    )  # fmt: skip
    return binary


@dataclass
class Host:
    process: subprocess.Popen[str]
    stub: language_pb2_grpc.LanguageRuntimeStub
    directory: Path


@pytest.fixture
def host(host_binary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    """The host started as the engine starts it, beside the runner and REPORTING_EXEC; its
    programs start as new processes (no warm server), and any server would be the test's own."""
    runtime = Path(tempfile.mkdtemp(prefix="lh-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv(python_program_server.IDLE_ENV, "0")
    install = tmp_path / "bin"
    install.mkdir()
    shutil.copy2(host_binary, install / host_binary.name)
    shutil.copy2(python_program_server.__file__, install / "python_program_server.py")
    (install / "pulumi-language-python-exec").write_text(REPORTING_EXEC, encoding="utf-8")
    monkeypatch.setenv("REPORT_TO", str(tmp_path / "report.json"))
    process = subprocess.Popen(
        [str(install / host_binary.name), "-root=/nowhere", "127.0.0.1:4242"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    assert port.isdigit(), f"the host printed {port!r} instead of its port"
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Host(process, language_pb2_grpc.LanguageRuntimeStub(channel), tmp_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        end_servers(runtime)


def project(directory: Path, virtualenv: str | None = "venv") -> language_pb2.ProgramInfo:
    """A project whose virtualenv's python runs this test's interpreter (with the pulumi SDK),
    and whose pyvenv.cfg tells its version."""
    options = struct_pb2.Struct()
    if virtualenv is not None:
        options.update({"virtualenv": virtualenv})
        venv = (directory / virtualenv).resolve()
        if not venv.exists():
            (venv / "bin").mkdir(parents=True)
            python = venv / "bin" / "python"
            python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
            python.chmod(0o755)
            version = sys.version.split()[0]
            (venv / "pyvenv.cfg").write_text(f"version = {version}\n", encoding="utf-8")
    return language_pb2.ProgramInfo(
        root_directory=str(directory), program_directory=str(directory), entry_point=".",
        options=options,
    )  # fmt: skip


def run_request(directory: Path, **fields: object) -> language_pb2.RunRequest:
    defaults: dict[str, object] = dict(
        project="demo-orq", stack="dev", pwd=str(directory), parallel=8, dryRun=True,
        monitor_address="127.0.0.1:1234", organization="org", info=project(directory),
        config={"demo-orq:message": "hello"}, configSecretKeys=["demo-orq:token"],
    )  # fmt: skip
    return language_pb2.RunRequest(**{**defaults, **fields})


def report(host: Host) -> dict[str, object]:
    text = (host.directory / "report.json").read_text(encoding="utf-8")
    result: dict[str, object] = json.loads(text)
    return result


def test_the_host_prints_its_port_and_answers_the_engine(host: Host):
    info = host.stub.GetPluginInfo(empty_pb2.Empty(), timeout=10)
    assert info.version
    about = host.stub.About(language_pb2.AboutRequest(info=project(host.directory)), timeout=10)
    assert about.executable == str(host.directory / "venv" / "bin" / "python")
    assert about.version == sys.version.split()[0]


def test_a_program_runs_with_the_whole_request_as_the_exec_scripts_flags(host: Host):
    response = host.stub.Run(run_request(host.directory), timeout=60)
    assert not response.error and not response.bail
    seen = report(host)
    exec_script = str(host.directory / "bin" / "pulumi-language-python-exec")
    assert seen["argv"] == [
        exec_script,
        "--project=demo-orq",
        f"--root_directory={host.directory}",
        "--stack=dev",
        "--parallel=8",
        "--dry_run=true",
        f"--pwd={host.directory}",
        "--monitor=127.0.0.1:1234",
        "--engine=127.0.0.1:4242",
        "--organization=org",
        str(host.directory),
    ]
    assert seen["cwd"] == str(host.directory)
    assert seen["name"] == "__main__" and seen["path0"] == str(host.directory / "bin")
    assert json.loads(str(seen["config"])) == {"demo-orq:message": "hello"}
    assert json.loads(str(seen["secret_keys"])) == ["demo-orq:token"]
    # Run as the runner runs it: the SDK imported first and frozen out of the collector.
    assert seen["pulumi_loaded"] and seen["frozen"]


def test_the_engines_address_from_the_handshake_replaces_the_one_it_was_started_with(host: Host):
    host.stub.Handshake(language_pb2.LanguageHandshakeRequest(engine_address="127.0.0.1:5"))
    host.stub.Run(run_request(host.directory), timeout=60)
    assert "--engine=127.0.0.1:5" in list(report(host)["argv"])  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("exit_code", "error", "bail"),
    [(0, "", False), (32, "", True), (3, "Program exited with non-zero exit code: 3", False)],
)
def test_exit_codes_map_like_the_upstream_host(host: Host, exit_code: int, error: str, bail: bool):
    request = run_request(host.directory, config={"exit": str(exit_code)})
    response = host.stub.Run(request, timeout=60)
    assert (response.error, response.bail) == (error, bail)


def test_a_program_runs_through_the_warm_server_once_there_is_one(
    host: Host, monkeypatch: pytest.MonkeyPatch
):
    """The first run starts a server (and runs the program itself); a later one is forked from
    that server: its parent is the server's supervisor, whose command line says `serve`."""
    monkeypatch.setenv(python_program_server.IDLE_ENV, "30")
    host.process.send_signal(signal.SIGINT)  # restarted below with this environment
    host.process.wait(timeout=30)
    parent_probe = host.directory / "bin" / "pulumi-language-python-exec"
    parent_probe.write_text(
        "import os, sys\n"
        "command = open(f'/proc/{os.getppid()}/cmdline', 'rb').read().split(b'\\0')\n"
        "open(os.environ['REPORT_TO'], 'w').write('serve' if b'serve' in command else 'new')\n",
        encoding="utf-8",
    )
    binary = host.directory / "bin" / "pulumi-language-python"
    process = subprocess.Popen([str(binary), "127.0.0.1:4242"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    ways = []
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = language_pb2_grpc.LanguageRuntimeStub(channel)
            for _ in range(20):
                stub.Run(run_request(host.directory), timeout=60)
                ways.append((host.directory / "report.json").read_text(encoding="utf-8"))
                if ways[-1] == "serve":
                    break
                time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert ways[0] == "new" and ways[-1] == "serve", ways


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while process_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not process_exists(pid)


def test_the_host_ends_a_program_still_running_when_the_engine_ends_the_host(host: Host):
    """After a preview that a policy violation stopped, the program may still be running when
    the engine interrupts the host; the host must end it and exit at once (the engine would
    wait 5 s, then kill both)."""
    (host.directory / "bin" / "pulumi-language-python-exec").write_text(
        "import os, time\nopen(os.environ['REPORT_TO'], 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n",
        encoding="utf-8",
    )
    future = host.stub.Run.future(run_request(host.directory), timeout=60)
    report_file = host.directory / "report.json"
    deadline = time.monotonic() + 30
    while not report_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    program = int(report_file.read_text(encoding="utf-8"))
    started = time.monotonic()
    host.process.send_signal(signal.SIGINT)
    host.process.wait(timeout=30)
    assert time.monotonic() - started < 3, "the host took seconds to exit"
    assert wait_gone(program), "the program kept running after the host was ended"
    try:
        response = future.result(timeout=30)
    except grpc.RpcError:
        return  # the host was gone before it could answer
    assert response.error, "the ended program was reported as a success"


# RunPlugin: how the engine starts a policy pack (`pulumi preview --policy-pack <dir>`).


def plugin_request(
    pack: Path, virtualenv: str | None = "venv", **fields: object
) -> language_pb2.RunPluginRequest:
    """What the engine of pulumi v3.260.0 sends for a policy pack: the pack's directory as root
    and program directory, its PulumiPolicy.yaml runtime options, its own address as the only
    argument, and its whole environment."""
    pack.mkdir(exist_ok=True)
    defaults: dict[str, object] = dict(
        pwd=str(pack), args=["127.0.0.1:4242"], env=["PULUMI_TEST_SETTING=from-engine"],
        info=project(pack, virtualenv), kind="analyzer",
    )  # fmt: skip
    return language_pb2.RunPluginRequest(**{**defaults, **fields})


def plugin_outputs(stream: Iterator[language_pb2.RunPluginResponse]) -> tuple[str, str, int]:
    stdout, stderr, code = b"", b"", None
    for response in stream:
        stdout += response.stdout
        stderr += response.stderr
        if response.WhichOneof("output") == "exitcode":
            code = response.exitcode
    assert code is not None, "no exit code was sent"
    return stdout.decode(), stderr.decode(), code


def test_a_plugin_streams_its_output_then_its_exit_code_in_its_virtualenv(host: Host):
    """Any plugin but a policy pack: `python -u <dir> <engine's args>`, with the engine's
    environment, in its virtualenv as `activate` would set it."""
    plugin = host.directory / "plugin"
    plugin.mkdir()
    (plugin / "__main__.py").write_text(
        "import os, sys\n"
        "print(sys.argv[1:], os.environ['PULUMI_TEST_SETTING'], os.environ['VIRTUAL_ENV'])\n"
        "print(os.environ['PATH'].split(os.pathsep)[0], 'PYTHONHOME' in os.environ)\n"
        "print('oops', file=sys.stderr)\n"
        "sys.exit(3)\n",
        encoding="utf-8",
    )
    request = plugin_request(plugin, virtualenv="../venv", kind="resource")
    stdout, stderr, code = plugin_outputs(host.stub.RunPlugin(request, timeout=60))
    venv = host.directory / "venv"
    assert stdout.splitlines() == [
        f"['127.0.0.1:4242'] from-engine {venv}",
        f"{venv / 'bin'} False",
    ]
    assert (stderr, code) == ("oops\n", 3)


def test_a_policy_pack_runs_with_the_sdks_policy_runner(host: Host):
    """`python -u -m pulumi.policy <engine address> <pack dir>`: the SDK's runner, which runs
    the pack's __main__.py (here one that reports its command line: runpy puts the pack's path
    first)."""
    pack = host.directory / "policy"
    pack.mkdir()
    (pack / "__main__.py").write_text(
        "import sys\nprint(sys.argv, 'pulumi.policy' in sys.modules)\n", encoding="utf-8"
    )
    stdout, _, code = plugin_outputs(
        host.stub.RunPlugin(plugin_request(pack, virtualenv="../venv"), timeout=60)
    )
    assert code == 0
    assert stdout == f"{[str(pack), '127.0.0.1:4242', str(pack)]} True\n"


def test_the_engine_ends_a_policy_pack_by_cancelling_the_call(host: Host):
    plugin = host.directory / "plugin"
    plugin.mkdir()
    # Stands in for a plugin: prints its "port" (here its pid), then serves until ended.
    (plugin / "__main__.py").write_text(
        "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(60)\n", encoding="utf-8"
    )
    stream = host.stub.RunPlugin(plugin_request(plugin, virtualenv="../venv", kind="resource"))
    first_line = b""
    while not first_line.endswith(b"\n"):
        first_line += next(stream).stdout
    stream.cancel()
    assert wait_gone(int(first_line)), "the plugin kept running after the engine cancelled it"


def test_a_plugin_without_its_virtualenv_is_refused_with_the_option_and_the_path(host: Host):
    request = plugin_request(host.directory / "policy", virtualenv=None)
    request.info.options.update({"virtualenv": "../nowhere"})
    with pytest.raises(grpc.RpcError) as error:
        next(host.stub.RunPlugin(request, timeout=60))
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = error.value.details()
    assert "virtualenv '../nowhere'" in details
    assert str(host.directory / "nowhere" / "bin" / "python") in details

"""The Python language host's mapping of engine requests to Pulumi's own program runner, and to
the plugins (policy packs) it runs for the engine."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from toolchain import pulumi_language_python as language_host_module
from toolchain.pulumi_language_python import (
    EXIT_CODE_MESSAGE_SHOWN,
    LanguageHost,
    PluginSetupError,
    exec_arguments,
    exec_environment,
    plugin_command,
    plugin_environment,
    plugin_interpreter,
    plugin_output,
    program_interpreter,
    run_response,
    stop,
)


def run_request(**fields) -> language_pb2.RunRequest:
    info = language_pb2.ProgramInfo(
        root_directory="/project", program_directory="/project", entry_point="."
    )
    defaults = dict(
        project="demo-orq",
        stack="dev",
        pwd="/project",
        parallel=8,
        dryRun=True,
        monitor_address="127.0.0.1:1234",
        organization="org",
        info=info,
    )
    return language_pb2.RunRequest(**{**defaults, **fields})


def test_exec_arguments_carry_the_whole_request():
    assert exec_arguments(run_request(), "127.0.0.1:999") == [
        "--project=demo-orq",
        "--root_directory=/project",
        "--stack=dev",
        "--parallel=8",
        "--dry_run=true",
        "--pwd=/project",
        "--monitor=127.0.0.1:1234",
        "--engine=127.0.0.1:999",
        "--organization=org",
        "/project",
    ]


def test_config_and_secret_keys_go_through_the_environment():
    env = exec_environment(
        run_request(config={"demo-orq:message": "hola"}, configSecretKeys=["demo-orq:token"])
    )
    assert env["PULUMI_CONFIG"] == '{"demo-orq:message": "hola"}'
    assert env["PULUMI_CONFIG_SECRET_KEYS"] == '["demo-orq:token"]'


@pytest.mark.parametrize(
    "exit_code, error, bail",
    [
        (0, "", False),
        (EXIT_CODE_MESSAGE_SHOWN, "", True),
        (1, "Program exited with non-zero exit code: 1", False),
    ],
)
def test_exit_codes_map_like_the_upstream_host(exit_code, error, bail):
    response = run_response(exit_code)
    assert (response.error, response.bail) == (error, bail)


def test_the_program_runs_in_the_virtualenv_named_by_the_project(tmp_path):
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    options = struct_pb2.Struct()
    options.update({"virtualenv": "venv"})
    info = language_pb2.ProgramInfo(root_directory=str(tmp_path), options=options)
    assert program_interpreter(info) == str(python)
    assert (
        program_interpreter(language_pb2.ProgramInfo(root_directory=str(tmp_path)))
        == sys.executable
    )


# RunPlugin: how the engine starts a policy pack (`pulumi preview --policy-pack <dir>`).


def fake_virtualenv(directory: Path) -> Path:
    """A virtualenv whose python is this test's interpreter (which has the pulumi SDK)."""
    python = directory / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return python


def plugin_request(
    pack: Path, virtualenv: str | None = "venv", **fields
) -> language_pb2.RunPluginRequest:
    """What the engine of pulumi v3.260.0 sends for a policy pack: the pack's directory as root
    and program directory, its PulumiPolicy.yaml runtime options, its own address as the only
    argument, and its whole environment."""
    options = struct_pb2.Struct()
    if virtualenv is not None:
        options.update({"virtualenv": virtualenv})
    info = language_pb2.ProgramInfo(
        root_directory=str(pack), program_directory=str(pack), entry_point=".", options=options
    )
    defaults = dict(
        pwd="/project",
        args=["127.0.0.1:4242"],
        env=["PULUMI_TEST_SETTING=from-engine"],
        info=info,
        kind="analyzer",
    )
    return language_pb2.RunPluginRequest(**{**defaults, **fields})


def test_a_policy_pack_runs_with_the_sdks_policy_runner(tmp_path):
    request = plugin_request(tmp_path / "policy")
    assert plugin_command(request, "/venv/bin/python") == [
        "/venv/bin/python",
        "-u",
        "-m",
        "pulumi.policy",
        "127.0.0.1:4242",
        str(tmp_path / "policy"),
    ]


def test_another_plugin_runs_its_directory_with_the_engines_arguments(tmp_path):
    request = plugin_request(tmp_path / "provider", kind="resource")
    assert plugin_command(request, "/venv/bin/python") == [
        "/venv/bin/python",
        "-u",
        str(tmp_path / "provider"),
        "127.0.0.1:4242",
    ]


def test_a_plugin_runs_in_the_virtualenv_of_its_runtime_options(tmp_path):
    python = fake_virtualenv(tmp_path / "venv")
    pack = tmp_path / "policy"
    assert plugin_interpreter(plugin_request(pack, virtualenv="../venv").info) == str(python)
    assert plugin_interpreter(plugin_request(tmp_path, virtualenv=None).info) == str(python)


def test_a_plugin_whose_virtualenv_is_missing_fails_with_the_option_and_the_path(tmp_path):
    with pytest.raises(PluginSetupError) as error:
        plugin_interpreter(plugin_request(tmp_path / "policy", virtualenv="../nowhere").info)
    message = str(error.value)
    assert (
        "virtualenv '../nowhere'" in message
        and str(tmp_path / "nowhere" / "bin" / "python") in message
    )


def test_a_plugin_gets_the_engines_environment_in_its_virtualenv(tmp_path):
    env = plugin_environment(plugin_request(tmp_path), "/x/venv/bin/python")
    assert env["PULUMI_TEST_SETTING"] == "from-engine"
    assert env["VIRTUAL_ENV"] == "/x/venv"
    assert env["PATH"].startswith("/x/venv/bin" + os.pathsep)


def test_plugin_output_streams_stdout_and_stderr_then_the_exit_code():
    script = (
        "import sys; print('4242', flush=True); print('oops', file=sys.stderr, flush=True); "
        "sys.exit(3)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    responses = list(plugin_output(process))
    assert b"".join(r.stdout for r in responses) == b"4242\n"
    assert b"".join(r.stderr for r in responses) == b"oops\n"
    assert responses[-1].WhichOneof("output") == "exitcode" and responses[-1].exitcode == 3


def test_stop_ends_a_plugin_that_keeps_running():
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stop(process)
    assert process.returncode is not None


@pytest.fixture
def language_host() -> Iterator[language_pb2_grpc.LanguageRuntimeStub]:
    """The language host served on a loopback port, as the engine reaches it."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost("127.0.0.1:4242"), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield language_pb2_grpc.LanguageRuntimeStub(channel)
    server.stop(grace=0)


def test_the_engine_starts_a_policy_pack_reads_its_port_and_ends_it_by_cancelling(
    tmp_path, language_host
):
    fake_virtualenv(tmp_path / "venv")
    pack = tmp_path / "policy"
    pack.mkdir()
    # Stands in for PolicyPack(...): prints its "port" (here its pid), then serves until ended.
    (pack / "__main__.py").write_text(
        "import os, time\nprint(os.getpid(), os.environ['PULUMI_TEST_SETTING'])\ntime.sleep(60)\n"
    )
    stream = language_host.RunPlugin(plugin_request(pack, virtualenv="../venv", pwd=str(tmp_path)))
    first_line = b""
    while not first_line.endswith(b"\n"):
        first_line += next(stream).stdout
    pid, setting = first_line.decode().split()
    assert setting == "from-engine"
    stream.cancel()
    deadline = time.monotonic() + 10
    while process_exists(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_exists(int(pid)), (
        "the policy pack kept running after the engine cancelled it"
    )


def test_a_policy_pack_without_its_virtualenv_is_refused_with_the_reason(tmp_path, language_host):
    with pytest.raises(grpc.RpcError) as error:
        next(language_host.RunPlugin(plugin_request(tmp_path / "policy", virtualenv="../nowhere")))
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "virtualenv '../nowhere'" in error.value.details()


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_host_ends_a_program_still_running_when_the_engine_ends_the_host(tmp_path, monkeypatch):
    """After a preview that a policy violation stopped, the program may still be running when
    the engine interrupts the host; the host must not wait for it (the engine would wait 5 s,
    then kill both)."""
    program = tmp_path / "pulumi-language-python-exec"
    program.write_text("import time\ntime.sleep(60)\n")
    monkeypatch.setattr(language_host_module, "EXEC_SCRIPT", program)
    host = LanguageHost("127.0.0.1:4242")
    responses: list[language_pb2.RunResponse] = []
    run = threading.Thread(
        target=lambda: responses.append(host.Run(run_request(pwd=str(tmp_path)), None))
    )
    run.start()
    deadline = time.monotonic() + 10
    while not host.children and time.monotonic() < deadline:
        time.sleep(0.05)
    host.stop_children()
    run.join(timeout=10)
    assert not run.is_alive()
    assert responses[0].error == "Program exited with non-zero exit code: -15"


def test_the_host_started_by_the_engine_serves_without_importing_the_whole_sdk():
    """Run as a program, the host loads only the SDK's generated gRPC modules (stand-in
    packages, see stand_in_sdk_packages) and still answers the engine."""
    probe = (
        "import runpy, sys, threading\n"
        "sys.argv = [sys.argv[1], '127.0.0.1:1']\n"
        "def report():\n"
        "    import time; time.sleep(0.5)\n"
        "    print('sdk settings loaded:', 'pulumi.runtime.settings' in sys.modules, flush=True)\n"
        "threading.Thread(target=report, daemon=True).start()\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    host = subprocess.Popen(
        [sys.executable, "-c", probe, language_host_module.__file__],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert host.stdout is not None
        port = host.stdout.readline().strip()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = language_pb2_grpc.LanguageRuntimeStub(channel).GetPluginInfo(
                empty_pb2.Empty(), timeout=10
            )
        assert info.version == language_host_module.HOST_VERSION
        assert host.stdout.readline().strip() == "sdk settings loaded: False"
    finally:
        stop(host)


def test_the_program_runner_starts_as_python_script_would_and_keeps_exit_handlers(
    tmp_path, monkeypatch
):
    """program_command runs pulumi-language-python-exec with its own argv, sys.path[0] and
    __main__, the SDK already imported and frozen out of the collector's scans; the program's
    exit handlers and exit code are kept."""
    script = tmp_path / "runner"
    script.write_text(
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('handler', flush=True))\n"
        "print(__name__, __file__, sys.argv[1:], sys.path[0], flush=True)\n"
        "print('pulumi' in sys.modules, gc.get_freeze_count() > 0, flush=True)\n"
        "sys.exit(7)\n"
    )
    monkeypatch.setattr(language_host_module, "EXEC_SCRIPT", script)
    command = [*language_host_module.program_command(sys.executable), "--stack=dev", "prog"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 7, completed.stderr
    assert completed.stdout.splitlines() == [
        f"__main__ {script} ['--stack=dev', 'prog'] {tmp_path}",
        "True True",
        "handler",
    ]

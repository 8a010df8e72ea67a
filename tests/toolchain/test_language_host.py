"""The Python language host's mapping of engine requests to Pulumi's own program runner."""

import sys

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import language_pb2

from toolchain.pulumi_language_python import (EXIT_CODE_MESSAGE_SHOWN, exec_arguments, exec_environment,
                                              program_interpreter, run_response)


def run_request(**fields) -> language_pb2.RunRequest:
    info = language_pb2.ProgramInfo(root_directory="/project", program_directory="/project", entry_point=".")
    defaults = dict(project="demo-orq", stack="dev", pwd="/project", parallel=8, dryRun=True,
                    monitor_address="127.0.0.1:1234", organization="org", info=info)
    return language_pb2.RunRequest(**{**defaults, **fields})


def test_exec_arguments_carry_the_whole_request():
    assert exec_arguments(run_request(), "127.0.0.1:999") == [
        "--project=demo-orq", "--root_directory=/project", "--stack=dev", "--parallel=8",
        "--dry_run=true", "--pwd=/project", "--monitor=127.0.0.1:1234", "--engine=127.0.0.1:999",
        "--organization=org", "/project",
    ]


def test_config_and_secret_keys_go_through_the_environment():
    env = exec_environment(run_request(config={"demo-orq:message": "hola"}, configSecretKeys=["demo-orq:token"]))
    assert env["PULUMI_CONFIG"] == '{"demo-orq:message": "hola"}'
    assert env["PULUMI_CONFIG_SECRET_KEYS"] == '["demo-orq:token"]'


@pytest.mark.parametrize("exit_code, error, bail", [
    (0, "", False),
    (EXIT_CODE_MESSAGE_SHOWN, "", True),
    (1, "Program exited with non-zero exit code: 1", False),
])
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
    assert program_interpreter(language_pb2.ProgramInfo(root_directory=str(tmp_path))) == sys.executable

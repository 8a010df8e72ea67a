"""A Python language host for the Pulumi engine, used when the Go one cannot be built.

The Pulumi CLI runs Python programs through a plugin called `pulumi-language-python`, a gRPC
server that the engine starts, reads a port from, and asks to run the program. Upstream it is a
Go program in its own module, and the Go module proxy reachable here does not serve that module.
This host speaks the same protocol with the `pulumi` SDK's own generated stubs, and runs the
program exactly as the upstream host does: it starts Pulumi's own `pulumi-language-python-exec`
script (shipped in the `sdk/v3` Go module, copied next to this file by toolchain/ensure.sh) in a
subprocess of the project's virtualenv interpreter, and maps its exit code the same way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

HOST_VERSION = "0.1.0"
EXEC_SCRIPT = Path(__file__).with_name("pulumi-language-python-exec")
# pulumi-language-python-exec exits with this code after it has already shown the user
# an actionable message (for example a pulumi.RunError): the engine must not add another.
EXIT_CODE_MESSAGE_SHOWN = 32


def program_interpreter(info: language_pb2.ProgramInfo) -> str:
    """The Python of the project's virtualenv (Pulumi.yaml runtime option), else this one."""
    options = dict(info.options.items()) if info.HasField("options") else {}
    virtualenv = options.get("virtualenv")
    if virtualenv:
        venv = Path(info.root_directory or ".", virtualenv)
        candidate = venv / "bin" / "python"
        if candidate.exists():
            return str(candidate)
    return sys.executable


def exec_arguments(request: language_pb2.RunRequest, engine_address: str) -> list[str]:
    """Command-line flags of pulumi-language-python-exec for one RunRequest."""
    program = request.info.program_directory or request.program or "."
    entry_point = request.info.entry_point
    if entry_point and entry_point != ".":
        program = os.path.join(program, entry_point)
    return [
        f"--project={request.project}",
        f"--root_directory={request.info.root_directory or request.pwd}",
        f"--stack={request.stack}",
        f"--parallel={request.parallel}",
        f"--dry_run={'true' if request.dryRun else 'false'}",
        f"--pwd={request.pwd}",
        f"--monitor={request.monitor_address}",
        f"--engine={engine_address}",
        f"--organization={request.organization or 'organization'}",
        program,
        *request.args,
    ]


def exec_environment(request: language_pb2.RunRequest) -> dict[str, str]:
    """The environment through which the exec script receives the stack's configuration."""
    env = dict(os.environ)
    env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
    env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
    return env


def run_response(exit_code: int) -> language_pb2.RunResponse:
    if exit_code == 0:
        return language_pb2.RunResponse()
    if exit_code == EXIT_CODE_MESSAGE_SHOWN:
        return language_pb2.RunResponse(bail=True)
    return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {exit_code}")


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address: str) -> None:
        self.engine_address = engine_address

    def Handshake(self, request, context):
        if request.engine_address:
            self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=HOST_VERSION)

    def GetRequiredPlugins(self, request, context):
        # Providers are loaded on demand, at the version each SDK registers its resources with.
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request, context):
        return language_pb2.GetRequiredPackagesResponse()

    def InstallDependencies(self, request, context):
        # The virtualenv is made by toolchain/ensure.sh from requirements.txt; nothing to stream.
        return iter(())

    def RuntimeOptionsPrompts(self, request, context):
        return language_pb2.RuntimeOptionsResponse()

    def About(self, request, context):
        return language_pb2.AboutResponse(
            executable=program_interpreter(request.info),
            version=sys.version.split()[0],
        )

    def Run(self, request, context):
        command = [program_interpreter(request.info), str(EXEC_SCRIPT)]
        command += exec_arguments(request, self.engine_address)
        completed = subprocess.run(command, env=exec_environment(request), cwd=request.pwd or None)
        return run_response(completed.returncode)

    def GetProgramDependencies(self, request, context):
        return language_pb2.GetProgramDependenciesResponse()

    def Cancel(self, request, context):
        return empty_pb2.Empty()


def serve(engine_address: str) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(engine_address), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    # The engine reads the port from the first line of standard output.
    print(port, flush=True)
    # The engine interrupts its plugins when it is done with them: stop quietly.
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: server.stop(grace=0))
    server.wait_for_termination()


def main(argv: list[str]) -> None:
    # The engine passes flags (-root=..., -tracing=...) and then its own address, last.
    positional = [arg for arg in argv if not arg.startswith("-")]
    serve(positional[-1] if positional else "")


if __name__ == "__main__":
    main(sys.argv[1:])

"""A Python language host for the Pulumi engine, used when the Go one cannot be built.

The Pulumi CLI runs Python programs through a plugin called `pulumi-language-python`, a gRPC
server that the engine starts, reads a port from, and asks to run the program. Upstream it is a
Go program in its own module, and the Go module proxy reachable here does not serve that module.
This host speaks the same protocol with the `pulumi` SDK's own generated stubs, and runs the
program exactly as the upstream host does: it starts Pulumi's own `pulumi-language-python-exec`
script (shipped in the `sdk/v3` Go module, copied next to this file by toolchain/ensure.sh) in a
subprocess of the project's virtualenv interpreter, and maps its exit code the same way.

It also runs Python plugins for the engine (`RunPlugin`), which is how `--policy-pack` starts a
Python policy pack: see `plugin_command`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import IO


def stand_in_sdk_packages() -> None:
    """Lets the host import the SDK's generated gRPC modules without the SDK itself.

    `from pulumi.runtime.proto import language_pb2` first runs pulumi/__init__.py, which imports
    the whole SDK: about 0.15 s of the host's start-up (bench/: `language host: spawn -> port`),
    paid twice per command, since the engine starts the host once to ask About() and once to run
    the program. Empty packages whose __path__ is the real directory let the generated modules
    load alone. Only in the host's own process, where nothing else imports the SDK: there,
    `import pulumi` would get these empty packages."""
    spec = importlib.util.find_spec("pulumi")
    if spec is None or not spec.submodule_search_locations:
        return  # the import below then fails with Python's own message
    root = Path(next(iter(spec.submodule_search_locations)))
    for name, directory in (
        ("pulumi", root),
        ("pulumi.runtime", root / "runtime"),
        ("pulumi.runtime.proto", root / "runtime" / "proto"),
    ):
        package = types.ModuleType(name)
        package.__path__ = [str(directory)]
        sys.modules[name] = package


if __name__ == "__main__":
    stand_in_sdk_packages()

import grpc  # noqa: E402
from google.protobuf import empty_pb2  # noqa: E402
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2  # noqa: E402

HOST_VERSION = "0.2.0"
EXEC_SCRIPT = Path(__file__).with_name("pulumi-language-python-exec")
# pulumi-language-python-exec exits with this code after it has already shown the user
# an actionable message (for example a pulumi.RunError): the engine must not add another.
EXIT_CODE_MESSAGE_SHOWN = 32
ANALYZER_KIND = "analyzer"
"""RunPluginRequest.kind of a policy pack (`pulumi preview --policy-pack <dir>`)."""
DEFAULT_PLUGIN_VIRTUALENV = "venv"
"""Like upstream, a plugin never runs in the ambient Python: without a `virtualenv` option it
runs in the `venv` directory beside its PulumiPolicy.yaml / PulumiPlugin.yaml."""
STOP_GRACE_SECONDS = 5.0
READ_CHUNK_BYTES = 64 * 1024


class PluginSetupError(Exception):
    """A plugin cannot be started as its PulumiPolicy.yaml / PulumiPlugin.yaml describes it."""


def runtime_options(info: language_pb2.ProgramInfo) -> dict[str, object]:
    """The `runtime.options` of Pulumi.yaml (programs) or PulumiPolicy.yaml (policy packs)."""
    return dict(info.options.items()) if info.HasField("options") else {}


def program_interpreter(info: language_pb2.ProgramInfo) -> str:
    """The Python of the project's virtualenv (Pulumi.yaml runtime option), else this one."""
    virtualenv = runtime_options(info).get("virtualenv")
    if virtualenv:
        venv = Path(info.root_directory or ".", str(virtualenv))
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


PROGRAM_BOOTSTRAP = """\
import atexit, gc, os, runpy, sys
atexit.register(gc.freeze)
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(sys.argv[0])
try:
    import pulumi
except ImportError:
    pass
else:
    gc.freeze()
runpy.run_path(sys.argv[0], run_name="__main__")
"""
"""Runs pulumi-language-python-exec as `python <script>` would (same argv, sys.path[0] and
__main__), with the garbage collector frozen twice:

- after `import pulumi`, which the runner does first anyway (a missing SDK is left to the
  runner's own message): the SDK's objects, alive until exit, then leave the collector's scans
  while the program imports pulumi_kubernetes (bench/: python: import the program's modules);
- at exit, by the last exit handler (registered first, so the program's own handlers run
  before it): the interpreter then skips the collections of its shutdown, which with the SDK
  and pulumi_kubernetes loaded take 0.25-0.5 s (bench/: python: exit after the program's
  imports) between the program's end and the engine seeing it.

Frozen objects are never collected: only those that nothing but a reference cycle keeps alive
stay in memory (the SDK's, a few) or miss their finalizer at exit (which Python never promises)."""


def program_command(python: str) -> list[str]:
    """How the program's runner starts, before its arguments (exec_arguments)."""
    return [python, "-c", PROGRAM_BOOTSTRAP, str(EXEC_SCRIPT)]


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


def plugin_interpreter(info: language_pb2.ProgramInfo) -> str:
    """The Python of the plugin's virtualenv: its `virtualenv` runtime option, relative to the
    plugin's directory (the engine sends that directory as root_directory)."""
    virtualenv = str(runtime_options(info).get("virtualenv") or DEFAULT_PLUGIN_VIRTUALENV)
    python = os.path.normpath(os.path.join(info.root_directory, virtualenv, "bin", "python"))
    if not os.access(python, os.X_OK):
        raise PluginSetupError(
            f"plugin {info.root_directory}: runtime option virtualenv '{virtualenv}' has no "
            f"{python} (accepted: a virtualenv with the plugin's packages, relative to the "
            f"plugin's directory; toolchain/ensure.sh makes the project's venv/)"
        )
    return python


def plugin_command(request: language_pb2.RunPluginRequest, python: str) -> list[str]:
    """How a plugin starts. The engine's arguments (for a policy pack: its own address) come
    first for a policy pack, whose runner is the SDK's `pulumi.policy` module: it loads the
    stack config from the environment and runs the pack's __main__.py. Any other plugin is a
    directory with a __main__.py that takes the engine's arguments."""
    directory = request.info.program_directory or request.info.root_directory
    # -u: the engine waits for the plugin's port on its first line of output, unbuffered.
    if request.kind == ANALYZER_KIND:
        return [python, "-u", "-m", "pulumi.policy", *request.args, directory]
    return [python, "-u", directory, *request.args]


def plugin_environment(request: language_pb2.RunPluginRequest, python: str) -> dict[str, str]:
    """The engine's environment for the plugin (it sends the whole of it, KEY=VALUE), in the
    plugin's virtualenv as `activate` would set it."""
    env = dict(os.environ)
    for entry in request.env:
        key, separator, value = entry.partition("=")
        if separator:
            env[key] = value
    venv_bin = os.path.dirname(python)
    env["VIRTUAL_ENV"] = os.path.dirname(venv_bin)
    env["PATH"] = os.pathsep.join([venv_bin, env.get("PATH", "")])
    env.pop("PYTHONHOME", None)
    return env


def pump(stream: IO[bytes], name: str, chunks: queue.Queue[tuple[str, bytes]]) -> None:
    """Copies one output stream of a plugin into `chunks` as soon as bytes arrive; b"" at EOF."""
    read = getattr(stream, "read1", stream.read)
    while chunk := read(READ_CHUNK_BYTES):
        chunks.put((name, chunk))
    chunks.put((name, b""))


def plugin_output(process: subprocess.Popen[bytes]) -> Iterator[language_pb2.RunPluginResponse]:
    """The plugin's stdout and stderr as they come, then its exit code, as the engine reads
    them: it takes the port from the first stdout line and ends the plugin at the exit code."""
    chunks: queue.Queue[tuple[str, bytes]] = queue.Queue()
    streams = {"stdout": process.stdout, "stderr": process.stderr}
    for name, stream in streams.items():
        assert stream is not None, f"the plugin's {name} must be a pipe"
        threading.Thread(target=pump, args=(stream, name, chunks), daemon=True).start()
    open_streams = len(streams)
    while open_streams:
        name, chunk = chunks.get()
        if not chunk:
            open_streams -= 1
        elif name == "stdout":
            yield language_pb2.RunPluginResponse(stdout=chunk)
        else:
            yield language_pb2.RunPluginResponse(stderr=chunk)
    yield language_pb2.RunPluginResponse(exitcode=process.wait())


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ends a plugin: SIGTERM, then SIGKILL if it has not exited after a grace period."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address: str) -> None:
        self.engine_address = engine_address
        self.children: set[subprocess.Popen[bytes]] = set()
        """Running programs and plugins. The host ends them when the engine ends it: a worker
        thread waiting for one would otherwise keep the host alive until the engine kills it
        (5 s later, after a preview that a policy violation stopped)."""

    def Handshake(
        self, request: language_pb2.LanguageHandshakeRequest, context: grpc.ServicerContext
    ) -> language_pb2.LanguageHandshakeResponse:
        if request.engine_address:
            self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=HOST_VERSION)

    def GetRequiredPlugins(
        self, request: language_pb2.GetRequiredPluginsRequest, context: grpc.ServicerContext
    ) -> language_pb2.GetRequiredPluginsResponse:
        # Providers are loaded on demand, at the version each SDK registers its resources with.
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(
        self, request: language_pb2.GetRequiredPackagesRequest, context: grpc.ServicerContext
    ) -> language_pb2.GetRequiredPackagesResponse:
        return language_pb2.GetRequiredPackagesResponse()

    def InstallDependencies(
        self, request: language_pb2.InstallDependenciesRequest, context: grpc.ServicerContext
    ) -> Iterator[language_pb2.InstallDependenciesResponse]:
        # The virtualenv (also the policy pack's) is made by toolchain/ensure.sh from
        # requirements.txt; nothing to stream.
        return iter(())

    def RuntimeOptionsPrompts(
        self, request: language_pb2.RuntimeOptionsRequest, context: grpc.ServicerContext
    ) -> language_pb2.RuntimeOptionsResponse:
        return language_pb2.RuntimeOptionsResponse()

    def About(
        self, request: language_pb2.AboutRequest, context: grpc.ServicerContext
    ) -> language_pb2.AboutResponse:
        return language_pb2.AboutResponse(
            executable=program_interpreter(request.info),
            version=sys.version.split()[0],
        )

    def Run(
        self, request: language_pb2.RunRequest, context: grpc.ServicerContext
    ) -> language_pb2.RunResponse:
        command = program_command(program_interpreter(request.info))
        command += exec_arguments(request, self.engine_address)
        process = subprocess.Popen(command, env=exec_environment(request), cwd=request.pwd or None)
        self.children.add(process)
        try:
            return run_response(process.wait())
        finally:
            self.children.discard(process)

    def RunPlugin(
        self, request: language_pb2.RunPluginRequest, context: grpc.ServicerContext
    ) -> Iterator[language_pb2.RunPluginResponse]:
        try:
            python = plugin_interpreter(request.info)
        except PluginSetupError as error:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(error))
        process = subprocess.Popen(
            plugin_command(request, python),
            cwd=request.pwd or None,
            env=plugin_environment(request, python),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.children.add(process)
        # The engine ends a plugin by cancelling this call, once it is done with it.
        context.add_callback(lambda: stop(process))
        try:
            yield from plugin_output(process)
        finally:
            self.children.discard(process)

    def stop_children(self) -> None:
        for process in list(self.children):
            stop(process)

    def GetProgramDependencies(
        self, request: language_pb2.GetProgramDependenciesRequest, context: grpc.ServicerContext
    ) -> language_pb2.GetProgramDependenciesResponse:
        return language_pb2.GetProgramDependenciesResponse()

    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
        return empty_pb2.Empty()


def serve(engine_address: str) -> None:
    host = LanguageHost(engine_address)
    # A running plugin holds a worker for as long as it runs (a policy pack: the whole update),
    # beside the program's Run and the engine's other calls.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    # The engine reads the port from the first line of standard output.
    print(port, flush=True)

    def shut_down(signal_number: int, frame: object) -> None:
        # The engine interrupts its plugins when it is done with them: stop quietly, and take
        # along the program or plugin (policy pack) still running.
        server.stop(grace=0)
        host.stop_children()

    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, shut_down)
    server.wait_for_termination()


def main(argv: list[str]) -> None:
    # The engine passes flags (-root=..., -tracing=...) and then its own address, last.
    positional = [arg for arg in argv if not arg.startswith("-")]
    serve(positional[-1] if positional else "")


if __name__ == "__main__":
    main(sys.argv[1:])

"""How demo-orq's language host (toolchain/langhost) runs a Pulumi program: this file's runner,
and a warm Python process that the runner forks programs from.

    python python_program_server.py run <pulumi-language-python-exec> <its flags>
    python python_program_server.py serve <socket>      (started by the runner, in background)

Before a program registers anything, a new Python process spends about 0.45 s (2 cores)
importing the SDK, pulumi_kubernetes and their dependencies, on every `pulumi up`, preview and
destroy: a third of Pulumi's overhead above kubectl (bench/README). The server imports those
libraries once, then forks a copy of itself for each program run, which starts with them loaded.

- **The runner** asks the server of its virtualenv to run the program with its own command line,
  environment, directory, stdin, stdout and stderr (as file descriptors), passes signals on to
  it and exits as it did. Without a server (or when it fails before the program started) it
  starts one in the background for the next run and runs the program itself, as
  `python <pulumi-language-python-exec> <flags>` would, plus two collector freezes (run_here).
- **What the server preloads:** the library modules (inside the virtualenv or the standard
  library) that the last run of the same virtualenv imported, recorded by that run at its exit
  in a file beside the socket. The program's own modules (the project's folder) are never
  preloaded: each run imports them fresh, so an edit always counts.
- **Safety and lifetime:** one server per virtualenv (its real path and its site-packages'
  mtime: a `pip install` gets a new one), Python and version of this file, on a Unix socket
  in a directory only its user can open; it checks each peer's user id, and exits after
  IDLE_SECONDS without a run (DEMO_ORQ_PYTHON_HOST_IDLE, seconds; 0 turns it off).

Standard library only: the server must not import grpc (or start any thread) before it forks.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import hashlib
import importlib
import json
import os
import runpy
import signal
import socket
import stat
import struct
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

PROTOCOL = "1"
IDLE_ENV = "DEMO_ORQ_PYTHON_HOST_IDLE"
IDLE_SECONDS = 600.0
PRELOAD_FIRST = ("pulumi", "pulumi.runtime", "argparse", "asyncio", "runpy", "logging")
"""Preloaded before any run has recorded its modules: what every program's runner imports."""
ACCEPT_TIMEOUT_SECONDS = 1.0
READY_TIMEOUT_SECONDS = 10.0
"""How long a host waits for a server to take its run (it preloads first, about 0.5 s) before
it runs the program itself; the server sees the request only after it said it was ready."""
RECORD_DAYS = 7
HEADER = struct.Struct("!I")
STANDARD_FDS = (0, 1, 2)


def idle_seconds() -> float:
    """How long a server waits for a run before it exits; 0 when servers are turned off."""
    try:
        return max(0.0, float(os.environ.get(IDLE_ENV, IDLE_SECONDS)))
    except ValueError:
        return IDLE_SECONDS


def site_packages(venv: Path) -> list[Path]:
    return sorted(venv.glob("lib/python*/site-packages"))


def server_socket(venv: str) -> Path:
    """The socket of the server for programs of the virtualenv `venv` (its sys.prefix): one per
    virtualenv, Python and version of this file (a server of an older one is not used)."""
    real = Path(venv).resolve()
    stamps = [str(path.stat().st_mtime_ns) for path in site_packages(real)]
    this_file = str(Path(__file__).stat().st_mtime_ns)
    key = "\0".join([PROTOCOL, str(real), *stamps, sys.version, this_file])
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return runtime_directory() / f"{digest}.sock"


def runtime_directory() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    return Path(base) / f"demo-orq-python-{os.getuid()}"


def private_directory(directory: Path) -> bool:
    """Makes `directory` (mode 0700) if missing; False unless it is this user's alone."""
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700)
    info = directory.lstat()
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and stat.S_IMODE(info.st_mode) & 0o077 == 0
    )


def modules_file(socket_path: Path) -> Path:
    return socket_path.with_suffix(".modules")


# --- the client side, in the runner ------------------------------------------------------------


def start_server(python: str, venv: str, socket_path: Path) -> None:
    """Starts a server in the background, detached from the host (which the engine may kill).
    It runs the virtualenv's interpreter by its real path, from /: a project copy whose `venv`
    links to the real one may be deleted while the server lives (its sys.path would go too)."""
    if not idle_seconds() or not private_directory(socket_path.parent):
        return
    interpreter = Path(venv).resolve() / "bin" / Path(python).name
    subprocess.Popen(
        [str(interpreter), __file__, "serve", str(socket_path)],
        cwd="/",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


class ProgramRun:
    """A program started by a server: its process id, then its exit code."""

    def __init__(self, connection: socket.socket, pid: int) -> None:
        self.connection = connection
        self.pid = pid

    def wait(self) -> int:
        with self.connection:
            try:
                reply = receive_message(self.connection)
            except (OSError, ValueError):
                return 1  # the supervisor died: nothing can say how the program ended
            return int(reply["exit"])

    def signal(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, number)


def start_program(
    python: str, venv: str, argv: Sequence[str], env: dict[str, str], cwd: str | None
) -> ProgramRun | None:
    """Runs `python argv...` through the virtualenv's server, or None (nothing started) when
    there is none or it failed: the caller then starts the program itself."""
    if not idle_seconds():
        return None
    socket_path = server_socket(venv)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.settimeout(READY_TIMEOUT_SECONDS)
        connection.connect(str(socket_path))
        receive_message(connection)  # ready
        connection.settimeout(None)
        request = {"python": python, "argv": list(argv), "env": env, "cwd": cwd or os.getcwd()}
        send_message(connection, request, STANDARD_FDS)
        reply = receive_message(connection)
        return ProgramRun(connection, int(reply["pid"]))
    except (OSError, ValueError, KeyError):
        connection.close()
        if not socket_path.exists() or stale(socket_path):
            start_server(python, venv, socket_path)
        return None


def stale(socket_path: Path) -> bool:
    """True (and the socket removed) when no server listens on it any more."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with probe:
        try:
            probe.connect(str(socket_path))
        except ConnectionRefusedError:
            with contextlib.suppress(FileNotFoundError):
                socket_path.unlink()
            return True
        except OSError:
            return False
    return False


# --- the wire: a length, then JSON; a request carries the three standard file descriptors -----


def send_message(connection: socket.socket, message: object, fds: Sequence[int] = ()) -> None:
    body = json.dumps(message).encode()
    data = HEADER.pack(len(body)) + body
    if fds:
        sent = socket.send_fds(connection, [data], list(fds))
        connection.sendall(data[sent:])
    else:
        connection.sendall(data)


def receive_exactly(connection: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = connection.recv(size - len(chunks))
        if not chunk:
            raise ValueError("connection closed mid-message")
        chunks += chunk
    return bytes(chunks)


def receive_message(connection: socket.socket) -> dict[str, Any]:
    (size,) = HEADER.unpack(receive_exactly(connection, HEADER.size))
    message: dict[str, Any] = json.loads(receive_exactly(connection, size))
    return message


def receive_request(connection: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _address = socket.recv_fds(connection, 64 * 1024, len(STANDARD_FDS))
    if len(data) < HEADER.size:
        data += receive_exactly(connection, HEADER.size - len(data))
    (size,) = HEADER.unpack(data[: HEADER.size])
    body = data[HEADER.size :]
    body += receive_exactly(connection, size - len(body))
    request: dict[str, Any] = json.loads(body)
    return request, fds


# --- the server ---------------------------------------------------------------------------------


def is_library(module: object, roots: Sequence[str]) -> bool:
    """A module of the virtualenv or the standard library (not of the program's folder)."""
    path = getattr(module, "__file__", None)
    return isinstance(path, str) and os.path.realpath(path).startswith(tuple(roots))


def library_roots() -> list[str]:
    paths = sysconfig.get_paths()
    return sorted({os.path.realpath(paths[name]) + os.sep for name in ("stdlib", "purelib",
                   "platstdlib", "platlib")})  # fmt: skip


def preload(socket_path: Path) -> None:
    """Imports what the last run recorded (else PRELOAD_FIRST); a module that fails is left to
    the program, which then imports it and meets the same error itself."""
    try:
        names = json.loads(modules_file(socket_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        names = PRELOAD_FIRST
    for name in names:
        if name in sys.modules:
            continue
        with contextlib.suppress(Exception):
            import_as_the_program_did(name)


def import_as_the_program_did(name: str) -> None:
    """Imports `name` leaving its package as the program's own imports left it. A lazily
    loaded package (pulumi_kubernetes' are) runs its __init__ at its first attribute access,
    and that __init__ may bind a class over the submodule of the same name
    (`apiextensions.CustomResource`): the package is made to run first, and the import of the
    submodule must not rebind that name to the module."""
    parent_name, _, child = name.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    if parent is not None:
        vars(parent)  # runs a lazily loaded package, as the program's attribute access did
        if name in sys.modules:
            return  # its __init__ imported it
    before = getattr(parent, child, None) if parent is not None else None
    module = importlib.import_module(name)
    if parent is not None and before is not None and before is not module:
        setattr(parent, child, before)


def record_modules(socket_path: Path, preloaded: frozenset[str]) -> None:
    """At a program's exit: the library modules it imported, for the next server to preload,
    written only when the program needed some that were not preloaded (the engine waits for
    this exit: the usual case, nothing new, looks only at the modules imported since the fork)."""
    roots = library_roots()
    modules = dict(sys.modules)
    if not any(is_library(modules[name], roots) for name in modules.keys() - preloaded):
        return
    names = [name for name, module in modules.items() if is_library(module, roots)]
    target = modules_file(socket_path)
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        temporary.write_text(json.dumps(names), encoding="utf-8")
        temporary.replace(target)


def become_program(request: dict[str, Any], fds: list[int], socket_path: Path) -> None:
    """In the forked program process: take the runner's streams, directory, environment and
    command line, then run it as `python <script> args` would. Never returns: the program's
    SystemExit ends this process, through the interpreter's normal exit."""
    for target, fd in zip(STANDARD_FDS, fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sys.executable = request["python"]
    preloaded = frozenset(sys.modules)
    # Registered first so that it runs last, after the program's own exit handlers (run_here).
    atexit.register(gc.freeze)
    atexit.register(record_modules, socket_path, preloaded)
    sys.argv = request["argv"]
    sys.path[0] = os.path.dirname(sys.argv[0])
    runpy.run_path(sys.argv[0], run_name="__main__")
    sys.exit(0)


def supervise(connection: socket.socket, socket_path: Path) -> None:
    """In the forked supervisor: fork the program, tell the host its pid, then its exit code."""
    try:
        send_message(connection, {"ready": True})
        request, fds = receive_request(connection)
    except (OSError, ValueError):
        os._exit(1)
    if len(fds) != len(STANDARD_FDS):
        os._exit(1)
    pid = os.fork()
    if pid == 0:
        connection.close()
        become_program(request, fds, socket_path)
    for fd in fds:
        os.close(fd)
    try:
        send_message(connection, {"pid": pid})
        _, status = os.waitpid(pid, 0)
        send_message(connection, {"exit": os.waitstatus_to_exitcode(status)})
    finally:
        os._exit(0)


def peer_is_this_user(connection: socket.socket) -> bool:
    credentials = connection.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
    )
    uid: int = struct.unpack("3i", credentials)[1]
    return uid == os.getuid()


def reap_children() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def listen(socket_path: Path) -> socket.socket | None:
    """The server's socket, or None when another live server already has it."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(socket_path))
    except OSError:
        if not stale(socket_path):
            listener.close()
            return None
        listener.bind(str(socket_path))
    listener.listen(16)
    listener.settimeout(ACCEPT_TIMEOUT_SECONDS)
    return listener


def modules_stamp(socket_path: Path) -> int:
    with contextlib.suppress(OSError):
        return modules_file(socket_path).stat().st_mtime_ns
    return 0


def connections(listener: socket.socket, idle: float, socket_path: Path) -> Iterator[socket.socket]:
    """This user's connections, until `idle` seconds pass without one. Between them, what a
    run recorded is preloaded (the first run of a new server records the program's modules)."""
    last = time.monotonic()
    preloaded_stamp = -1
    while time.monotonic() - last < idle:
        reap_children()
        if (stamp := modules_stamp(socket_path)) != preloaded_stamp:
            preload(socket_path)
            gc.freeze()  # the preloaded modules live until exit: out of every collection
            preloaded_stamp = stamp
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        connection.settimeout(None)
        if peer_is_this_user(connection):
            last = time.monotonic()
            yield connection
        connection.close()


def forget_old_records(directory: Path) -> None:
    """Removes the module records of virtualenvs unused for RECORD_DAYS (each `pip install`
    makes a new key, and a new record)."""
    oldest = time.time() - RECORD_DAYS * 86400
    for record in directory.glob("*.modules"):
        with contextlib.suppress(OSError):
            if record.stat().st_mtime < oldest:
                record.unlink()


def serve(socket_path: Path) -> None:
    if not private_directory(socket_path.parent):
        return
    listener = listen(socket_path)
    if listener is None:
        return
    own_socket = socket_path.stat().st_ino
    with contextlib.suppress(OSError):
        os.utime(modules_file(socket_path))  # in use: not old
    forget_old_records(socket_path.parent)
    for connection in connections(listener, idle_seconds(), socket_path):
        if os.fork() == 0:
            listener.close()
            supervise(connection, socket_path)
    listener.close()
    with contextlib.suppress(OSError):
        if socket_path.stat().st_ino == own_socket:
            socket_path.unlink()


# --- the runner -----------------------------------------------------------------------------


def run_here(argv: list[str]) -> None:
    """Runs the program's runner in this process, as `python <argv>` would (same argv,
    sys.path[0] and __main__), with the garbage collector frozen twice:

    - after `import pulumi`, which the runner does first anyway (a missing SDK is left to the
      runner's own message): the SDK's objects, alive until exit, then leave the collector's
      scans while the program imports pulumi_kubernetes;
    - at exit, by the last exit handler (registered first, so the program's own run before
      it): the interpreter then skips the collections of its shutdown, which with the SDK and
      pulumi_kubernetes loaded took 0.25-0.5 s between the program's end and the engine seeing
      it (bench/README).

    Frozen objects are never collected: only those that nothing but a reference cycle keeps
    alive stay in memory or miss their finalizer at exit (which Python never promises)."""
    atexit.register(gc.freeze)
    sys.argv = argv
    sys.path[0] = os.path.dirname(argv[0])
    try:
        import pulumi  # noqa: F401
    except ImportError:
        pass
    else:
        gc.freeze()
    runpy.run_path(argv[0], run_name="__main__")


def exit_as(code: int) -> None:
    """Ends this process as the program ended: its exit code, or the signal that killed it. At
    once: the runner has nothing to flush, and the engine waits for this exit."""
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


def run(argv: list[str]) -> None:
    """The runner: through the virtualenv's server when one takes the run, else here."""
    if sys.prefix != sys.base_prefix:  # a virtualenv: servers are keyed by it
        program = start_program(sys.executable, sys.prefix, argv, dict(os.environ), os.getcwd())
        if program is not None:
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signal_number, lambda number, frame: program.signal(number))
            exit_as(program.wait())
    run_here(argv)


if __name__ == "__main__":
    mode, *arguments = sys.argv[1:]
    if mode == "serve":
        serve(Path(arguments[0]))
    else:
        run(arguments)

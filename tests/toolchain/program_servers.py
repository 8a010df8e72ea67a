"""The tests' own warm program servers (toolchain/python_program_server.py): each test runs
them with its own runtime directory, and ends them with it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from pathlib import Path


def end_servers(runtime: Path) -> None:
    """Ends the servers whose sockets are under `runtime` (their command lines name them), then
    removes the directory."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in command and any(part.startswith(str(runtime).encode()) for part in command):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGTERM)
    shutil.rmtree(runtime, ignore_errors=True)

"""A stack's update history, read once: from the files of the local file backend when the stack
lives in one (`PULUMI_BACKEND_URL=file://DIR`, as toolchain/env.sh sets it; no CLI run), else
from one `pulumi stack history` run.

The file backend keeps one file per update, DIR/.pulumi/history/<project>/<stack>/
<stack>-<unix nanoseconds>.history.json (Pulumi's apitype.UpdateInfo), whose `config` is the
stack's configuration as its stack file held it: secrets as `{"secure": <ciphertext>}`, objects
as objects. Any other backend, or a layout this module does not know, goes through the CLI,
whose history has the secrets decrypted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import RefusedError, first_error
from .project import project_name

HISTORY_SUFFIX = ".history.json"
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+")
"""A stack named without its organization and project: the file backend's own file names."""
LAYOUT_VERSION = re.compile(r"^version:[ \t]*(\d+)[ \t]*$", re.MULTILINE)
PROJECT_LAYOUT = 1
"""meta.yaml's version of the file backend's layout by project (the legacy one is 0)."""


class HistoryError(RefusedError):
    """The history cannot be read (no such stack, the CLI failed): nothing was changed."""


@dataclass(frozen=True)
class StackRef:
    """A stack of a Pulumi project folder, with the environment of its Pulumi commands (where
    PULUMI_BACKEND_URL and the secrets' passphrase come from)."""

    name: str
    work_dir: Path
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    @property
    def stack_file(self) -> Path:
        return self.work_dir / f"Pulumi.{self.name.rsplit('/', 1)[-1]}.yaml"


@dataclass(frozen=True)
class Update:
    """One entry of a stack's history."""

    kind: str
    result: str
    message: str
    version: int
    config: dict[str, Any]
    """The configuration recorded for it, in the stack file's form (secrets encrypted as
    `{"secure": <ciphertext>}`, objects as mappings), its decrypted secrets aside."""
    secrets: dict[str, Any] = field(default_factory=dict)
    """Its secrets decrypted, when the CLI read the history (they are not in `config`)."""


def read_history(stack: StackRef, show_secrets: bool = True) -> list[Update]:
    """The stack's updates, newest first (`show_secrets`: decrypted, when the CLI reads them)."""
    files = history_files(stack)
    if files is not None:
        updates = [file_update(path) for path in files]
        if all(update is not None for update in updates):
            return [update for update in updates if update is not None]
    return cli_history(stack, show_secrets)


def file_backend(env: Mapping[str, str]) -> Path | None:
    """The folder of the local file backend that PULUMI_BACKEND_URL names, None for another
    backend (or a URL with options)."""
    url = env.get("PULUMI_BACKEND_URL", "")
    if not url.startswith("file://") or "?" in url:
        return None
    path = Path(url.removeprefix("file://")).expanduser()
    return path if path.is_absolute() else None


def backend_state(stack: StackRef) -> tuple[Path, str] | None:
    """The state folder of the stack's file backend and the project's name; None when the
    stack is not in a file backend, or not in the layout by project."""
    backend = file_backend(stack.env)
    project = project_name(stack.work_dir)
    if backend is None or project is None or not STACK_NAME.fullmatch(stack.name):
        return None
    state = backend / ".pulumi"
    try:
        layout = LAYOUT_VERSION.search((state / "meta.yaml").read_text(encoding="utf-8"))
    except OSError:
        return None
    if layout is None or int(layout[1]) != PROJECT_LAYOUT:
        return None
    return state, project


def history_files(stack: StackRef) -> list[Path] | None:
    """The stack's history files, newest first; None when they are not in a file backend of
    the known layout. HistoryError when the backend has no such stack."""
    found = backend_state(stack)
    if found is None:
        return None
    state, project = found
    require_stack(stack, state / "stacks" / project)
    folder = state / "history" / project / stack.name
    names = [path.name for path in folder.iterdir()] if folder.is_dir() else []
    stamped = []
    for name in names:
        if HISTORY_SUFFIX in name and not name.endswith(".attrs"):  # .attrs: the file's metadata
            stamp = update_stamp(stack.name, name)
            if stamp is None:
                return None  # compressed (PULUMI_DIY_BACKEND_GZIP), or named another way
            stamped.append((stamp, folder / name))
    return [path for _, path in sorted(stamped, reverse=True)]


def update_stamp(stack: str, name: str) -> int | None:
    """The unix nanoseconds of a history file named `<stack>-<nanoseconds>.history.json`."""
    stamp = name.removeprefix(f"{stack}-").removesuffix(HISTORY_SUFFIX)
    if not name.endswith(HISTORY_SUFFIX) or not stamp.isdigit():
        return None
    return int(stamp)


def require_stack(stack: StackRef, stacks: Path) -> None:
    """HistoryError, naming the stacks there are, when the backend has no stack of that name."""
    files = [path.name for path in stacks.glob("*.json*")]
    names = sorted(
        name.removesuffix(".gz").removesuffix(".json")
        for name in files
        if name.endswith((".json", ".json.gz"))
    )
    if stack.name not in names:
        raise HistoryError(
            f"no stack '{stack.name}' in {stack.work_dir} (stacks: {', '.join(names) or 'none'}); "
            f"create it with: pulumi stack init {stack.name}"
        )


def file_update(path: Path) -> Update | None:
    """The update of one history file; None when it is not an UpdateInfo as this module knows."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict):
        return None
    kind, result, config = info.get("kind"), info.get("result"), info.get("config") or {}
    version = info.get("version") or 0
    if not (isinstance(kind, str) and isinstance(result, str)):
        return None
    if not (isinstance(config, dict) and isinstance(version, int)):
        return None
    return Update(kind, result, str(info.get("message") or ""), version, config)


def pulumi_command(env: Mapping[str, str]) -> str:
    """The Pulumi CLI on the PATH of `env` (HistoryError with the fix when there is none)."""
    found = shutil.which("pulumi", path=env.get("PATH"))
    if found is None:
        raise HistoryError(
            "pulumi is not on PATH: run toolchain/ensure.sh, then source toolchain/env.sh"
        )
    return found


def cli_history(stack: StackRef, show_secrets: bool) -> list[Update]:
    """The history from one `pulumi stack history --json` run."""
    command = [pulumi_command(stack.env), "--non-interactive", "stack", "history", "--json",
               "--stack", stack.name, *(["--show-secrets"] if show_secrets else [])]  # fmt: skip
    completed = subprocess.run(command, cwd=stack.work_dir, env=dict(stack.env),
                               capture_output=True, text=True, check=False)  # fmt: skip
    if completed.returncode != 0:
        said = first_error(completed.stderr + "\n" + completed.stdout)
        raise HistoryError(f"cannot read the history of stack '{stack.name}': {said}")
    return [cli_update(entry) for entry in json.loads(completed.stdout or "[]")]


def cli_update(entry: dict[str, Any]) -> Update:
    """An entry of `pulumi stack history --json`: each config value as {value, secret} and,
    for an object, objectValue; the secrets' values go to `secrets`."""
    config: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    for key, recorded in (entry.get("config") or {}).items():
        value = recorded.get("objectValue", recorded.get("value", ""))
        (secrets if recorded.get("secret") else config)[key] = value
    return Update(entry["kind"], entry["result"], entry.get("message") or "",
                  int(entry.get("version") or 0), config, secrets)  # fmt: skip

"""A synthetic local file backend in Pulumi's layout by project (as `pulumi` writes it for
PULUMI_BACKEND_URL=file://DIR), and a stand-in `pulumi` that logs each run: what the rollback's
unit tests read and run, with no Pulumi CLI."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo_orq.stack_history import StackRef

PROJECT = "demo-orq"
STACK = "t"
FIRST_STAMP = 1796661452521619905
"""Unix nanoseconds of the first update: file names as the file backend gives them."""
SALT = "v1:X7gu6rUubwU=:v1:5VLMpIxUHVPXBcVn:2QvY0NMordcizu6zjWyTxUHc2P5UoQ=="
SECRET_MESSAGE = {"secure": "v1:WGbep6kJg0Yv64Ga:gBPvQ/RRUbKu8b5SEQhrG1smHuoXXrGB4A=="}
SECRET_TOKEN = {"secure": "v1:YbhxB4jXHfKbCsKg:+pi4SENnBjwLNWfNvYalAnyDwh2fiw=="}
STACK_FILE = f"""\
encryptionsalt: {SALT}
environment:
  - shared-env
config:
  demo-orq:context: demo-orq
  demo-orq:message: now   # what is deployed now
"""
FAKE_PULUMI = """\
import json, os, pathlib, sys

args = sys.argv[1:]
stack_file = pathlib.Path(f"Pulumi.{args[args.index('--stack') + 1]}.yaml")
seen = stack_file.read_text() if stack_file.exists() else None
with open(os.environ["FAKE_PULUMI_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "stack_file": seen}) + "\\n")
if "history" in args:
    print(pathlib.Path(os.environ["FAKE_PULUMI_HISTORY"]).read_text())
    sys.exit(int(os.environ.get("FAKE_PULUMI_HISTORY_EXIT", "0")))
if "up" in args:
    for line in os.environ.get("FAKE_PULUMI_OUTPUT", "").split("|"):
        print(line, flush=True)
    sys.exit(int(os.environ.get("FAKE_PULUMI_UP_EXIT", "0")))
"""


def update_info(
    message: str, /, kind: str = "update", result: str = "succeeded", **config: Any
) -> dict[str, Any]:
    """A history file's content (apitype.UpdateInfo) with `config` keyed without the prefix."""
    return {
        "kind": kind,
        "startTime": 1796661453,
        "message": message,
        "environment": {"exec.kind": "cli"},
        "config": {f"{PROJECT}:{key}": value for key, value in config.items()},
        "version": 0,
        "result": result,
        "endTime": 1796661464,
        "resourceChanges": {"same": 6},
    }


@dataclass
class Backend:
    """A project folder and its file backend, with the stand-in `pulumi` first on PATH."""

    root: Path
    stack: StackRef
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> Path:
        return self.root / "state" / ".pulumi"

    @property
    def history_dir(self) -> Path:
        return self.state / "history" / PROJECT / self.stack.name

    def add(self, info: dict[str, Any], stamp: int) -> Path:
        """A history file as the backend writes it, with its .attrs and its checkpoint."""
        self.history_dir.mkdir(parents=True, exist_ok=True)
        path = self.history_dir / f"{self.stack.name}-{stamp}.history.json"
        path.write_text(json.dumps(info), encoding="utf-8")
        path.with_name(path.name + ".attrs").write_text('{"md5":"x"}', encoding="utf-8")
        checkpoint = path.name.replace(".history.", ".checkpoint.")
        path.with_name(checkpoint).write_text("{}", encoding="utf-8")
        return path

    def runs(self) -> list[dict[str, Any]]:
        """What the stand-in `pulumi` was run with: its arguments and the stack file it saw."""
        log = Path(self.env["FAKE_PULUMI_LOG"])
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]

    def set(self, **env: str) -> None:
        """Sets variables of the stack's environment (FAKE_PULUMI_*, PULUMI_BACKEND_URL...)."""
        self.env.update(env)


def make_backend(tmp_path: Path, *updates: dict[str, Any], stack: str = STACK) -> Backend:
    """A stack `stack` whose history holds `updates`, oldest first, one second apart."""
    work_dir = tmp_path / "project"
    work_dir.mkdir()
    (work_dir / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n", encoding="utf-8")
    (work_dir / f"Pulumi.{stack}.yaml").write_text(STACK_FILE, encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(f"#!{sys.executable}\n{FAKE_PULUMI}", encoding="utf-8")
    pulumi.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "demo-orq",
        "FAKE_PULUMI_LOG": str(tmp_path / "pulumi.log"),
    }
    backend = Backend(tmp_path, StackRef(stack, work_dir, env), env)
    (backend.state / "stacks" / PROJECT).mkdir(parents=True)
    (backend.state / "meta.yaml").write_text("version: 1\n", encoding="utf-8")
    (backend.state / "stacks" / PROJECT / f"{stack}.json").write_text("{}", encoding="utf-8")
    for index, info in enumerate(updates):
        backend.add(info, FIRST_STAMP + index * 1_000_000_000)
    return backend

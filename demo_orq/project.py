"""The Pulumi project: its name, its folder, and the copy of it around a folder.

Every `demo-orq` command imports this module before it knows what it will do (its `--work-dir`
default), so it imports nothing of the program: no Pulumi SDK, no components, no YAML parser.
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT = "demo-orq"
"""The Pulumi project's name, also the namespace of its config keys (`demo-orq:message`)."""

PROJECT_DIR = Path(__file__).resolve().parent.parent

NAME_LINE = re.compile(r"""^name:[ \t]*(["']?)([^\s"'#]+)\1[ \t]*(?:#.*)?$""", re.MULTILINE)
"""The top-level `name:` line of a Pulumi.yaml (the only key at the start of a line so named)."""


def project_name(directory: Path) -> str | None:
    """The name of the Pulumi project in `directory`, None when it has no Pulumi.yaml.

    Read from the file's `name:` line: a YAML parser costs the command's start-up more than
    the rest of this module.
    """
    try:
        text = (directory / "Pulumi.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = NAME_LINE.search(text)
    return match[2] if match else None


def project_folder(start: Path) -> Path:
    """The project folder around `start` (the nearest one up that holds this project's
    Pulumi.yaml, as `pulumi` finds its project), else the one these commands come from."""
    here = start.resolve()
    for candidate in (here, *here.parents):
        if project_name(candidate) == PROJECT:
            return candidate
    return PROJECT_DIR

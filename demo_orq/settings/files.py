"""The two files made from the settings table: the `config:` block of Pulumi.yaml (the schema
that `pulumi config` and the engine read) and the reference table of docs/configuration.md.
The rest of each file is hand-written and kept as it is."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from components.strategies import STRATEGY_NAMES

from ..facts import PROJECT, PROJECT_DIR
from . import SETTINGS, Setting, spoken

WRITE_COMMAND = "python -m demo_orq.settings --write"


@dataclass(frozen=True)
class Generated(ABC):
    """A file with a part made from the table."""

    path: Path

    @abstractmethod
    def made(self, current: str) -> str:
        """The file as it must be: `current` with its generated part made again."""

    def read(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def is_current(self) -> bool:
        return self.made(self.read()) == self.read()

    def write(self) -> None:
        self.path.write_text(self.made(self.read()), encoding="utf-8")


class PulumiYaml(Generated):
    """Pulumi.yaml, whose `config:` block, and the comment just above it, run to the end."""

    def made(self, current: str) -> str:
        lines = current.splitlines(keepends=True)
        start = lines.index("config:\n")
        while start > 0 and lines[start - 1].startswith("#"):
            start -= 1
        return "".join(lines[:start]) + config_block()


class ConfigurationDoc(Generated):
    """docs/configuration.md, whose table sits between two marker comments."""

    BEGIN = f"<!-- Made by `{WRITE_COMMAND}` from demo_orq/settings: edit the table there. -->\n"
    END = "<!-- End of the table made from demo_orq/settings. -->\n"

    def made(self, current: str) -> str:
        before, rest = current.split(self.BEGIN, 1)
        after = rest.split(self.END, 1)[1]
        return before + self.BEGIN + reference_table() + self.END + after


FILES = (
    PulumiYaml(PROJECT_DIR / "Pulumi.yaml"),
    ConfigurationDoc(PROJECT_DIR / "docs" / "configuration.md"),
)


def config_block() -> str:
    lines = [
        f"# Made by `{WRITE_COMMAND}` from the settings table (demo_orq/settings):",
        "# edit the table, not this block. Every setting of the program (`pulumi config set",
        "# <key> <value>`, shown by `pulumi config`); the program checks each value before",
        "# anything is sent to the cluster, and reports every value it refuses.",
        "config:",
    ]
    for setting in SETTINGS:
        lines += [f"  {setting.key}:", f"    type: {setting.reader.pulumi_type}"]
        if setting.default_text is not None:
            lines.append(f"    default: {yaml_default(setting, setting.default_text)}")
        lines.append(f"    description: {yaml_string(yaml_description(setting))}")
    return "\n".join(lines) + "\n"


def yaml_description(setting: Setting) -> str:
    scope = "" if setting.strategies == STRATEGY_NAMES else f"{spoken(setting.strategies)} only. "
    return f"{scope}{setting.description}; accepted: {setting.accepted}"


def yaml_default(setting: Setting, text: str) -> str:
    return text if setting.reader.pulumi_type != "string" else yaml_string(text)


YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "null"}
"""Plain words that YAML reads as something else than a string."""


def yaml_string(text: str) -> str:
    """A YAML scalar that reads back as the string `text`: plain when nothing in it means
    something else to YAML, else double-quoted (a JSON string is one)."""
    plain = (
        text[:1].isalpha()
        and text == text.strip()
        and text.lower() not in YAML_WORDS
        and not text.endswith(":")
        and not any(part in text for part in (": ", " #", "\n", '"'))
    )
    return text if plain else json.dumps(text, ensure_ascii=False)


def reference_table() -> str:
    rows = [
        f"| Key (`{PROJECT}:`) | Type | Default | Accepted | Description | Strategies |",
        "|---|---|---|---|---|---|",
    ]
    for setting in SETTINGS:
        cells = (
            f"`{setting.key}`",
            setting.reader.pulumi_type,
            shown_default(setting.default_text),
            setting.accepted,
            setting.description,
            "all" if setting.strategies == STRATEGY_NAMES else spoken(setting.strategies),
        )
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"


def shown_default(text: str | None) -> str:
    if text is None:
        return "**required**"
    return f"`{text}`" if text else "empty"

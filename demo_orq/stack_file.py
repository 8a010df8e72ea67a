"""Pulumi.<stack>.yaml, the stack's settings file, with its `config` replaced as a whole.

Every other top-level key (encryptionsalt, secretsprovider, encryptedkey, environment...) is kept
as it is, in its place. Secrets are written as the file backend's history recorded them,
`secure: <ciphertext>`: the stack and its secrets provider are the same, so Pulumi decrypts them
as it did then. Objects are written as mappings, as `pulumi config set --path` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import RefusedError, one_line

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = yaml.SafeDumper
"""Not libyaml's: it escapes every character beyond U+FFFF (the demo's emoji) in quotes, where
Pulumi writes them as they are; this one takes 2 ms for a stack's config."""
NO_FOLDING = 1 << 20
"""Line width for the dumper: a long text stays on its line, as Pulumi writes it."""


class StackFileError(RefusedError):
    """The stack file cannot be read as a stack's settings: nothing was changed."""


@dataclass(frozen=True)
class StackFile:
    """A stack file as it was read: its bytes (None when there was none) and its content."""

    path: Path
    original: bytes | None
    document: dict[str, Any]

    def uses_passphrase(self) -> bool:
        """Whether its secrets are encrypted with a passphrase (Pulumi's default provider, whose
        salt the file holds): every `pulumi up` of the stack needs it."""
        provider = self.document.get("secretsprovider", "passphrase")
        return "encryptionsalt" in self.document and provider == "passphrase"


def read_stack_file(path: Path) -> StackFile:
    try:
        original = path.read_bytes()
    except FileNotFoundError:
        return StackFile(path, None, {})
    try:
        document = yaml.load(original, Loader=Loader) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name} is not YAML: {one_line(str(error))}") from None
    if not isinstance(document, dict):
        raise StackFileError(f"{path.name} is not a mapping of settings")
    return StackFile(path, original, document)


def with_config(document: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """`document` with `config` as its config, every other key kept in its place."""
    return {**document, "config": dict(config)}


def dump(document: Mapping[str, Any]) -> str:
    text: str = yaml.dump(dict(document), Dumper=Dumper, sort_keys=False, allow_unicode=True,
                          default_flow_style=False, width=NO_FOLDING)  # fmt: skip
    return text


def write_config(stack_file: StackFile, config: Mapping[str, Any]) -> None:
    """Writes the stack file with `config` as its config."""
    stack_file.path.write_text(dump(with_config(stack_file.document, config)), encoding="utf-8")


def put_back(stack_file: StackFile) -> None:
    """The stack file back byte for byte as it was read (removed if there was none)."""
    if stack_file.original is None:
        stack_file.path.unlink(missing_ok=True)
    else:
        stack_file.path.write_bytes(stack_file.original)

"""The demo's facts, named once: every script, test and benchmark reads them from here.

`demo-orq facts` prints them as shell assignments for the bash scripts:
    eval "$(demo-orq facts)"
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Sequence

# The demo's objects, names and ports: the component's defaults, named there once.
from components.defaults import (
    CONTAINER_PORT,
    DEPLOYMENT,
    IMAGE,
    JOBS_IMAGE,
    MESSAGE,
    NAMESPACE,
    NODE_PORT,
    REPLICAS,
    SERVICE,
    SERVICE_PORT,
)

# The project's name and folder: demo_orq.project, light enough for every command's start-up.
from .project import PROJECT, PROJECT_DIR

__all__ = [
    "CONTAINER_PORT",
    "DEPLOYMENT",
    "IMAGE",
    "NAMESPACE",
    "NODE_PORT",
    "PROJECT",
    "PROJECT_DIR",
    "REPLICAS",
    "SERVICE",
    "SERVICE_PORT",
]

DEMO_MANIFEST = PROJECT_DIR / "manifests" / "demo.yaml"
"""The demo in its kubectl form, exactly as the source document gives it."""

SCALED_REPLICAS = 5
V1_MESSAGE = MESSAGE
V2_MESSAGE = "Hola desde K8s v2 🚀"
PORT_FORWARD_PORT = 18180
"""The local port of the demo's `kubectl port-forward svc/hello-svc 18180:80`."""

EXIT_AFTER_SHOWING_ERROR = 32
"""Exit code of a Pulumi Python program that has already shown its error: the engine then
adds no "unhandled error" message of its own (Pulumi's pulumi-language-python-exec protocol)."""

SHELL_FACTS = {
    "DEMO_SERVICE_PORT": str(SERVICE_PORT),
    "DEMO_REPLICAS": str(REPLICAS),
    "DEMO_SCALED_REPLICAS": str(SCALED_REPLICAS),
    "DEMO_V1_MESSAGE": V1_MESSAGE,
    "DEMO_V2_MESSAGE": V2_MESSAGE,
    "DEMO_PORT_FORWARD_PORT": str(PORT_FORWARD_PORT),
    "DEMO_JOBS_IMAGE": JOBS_IMAGE,
}


def shell_assignments() -> str:
    return "\n".join(f"{name}={shlex.quote(value)}" for name, value in SHELL_FACTS.items())


def main(argv: Sequence[str]) -> int:
    """`demo-orq facts`. Its parser is argparse's own, not demo_orq.cli's: the Pulumi program
    imports this module, and the commands' imports have no place in it."""
    argparse.ArgumentParser(
        prog="demo-orq facts", description="The demo's facts as shell assignments."
    ).parse_args(argv)
    print(shell_assignments())
    return 0

"""A throwaway copy of the Pulumi project with its own local backend, for tests that run the
real Pulumi CLI: stacks, state and stack config files stay out of the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "demo_config.py", "components", "requirements.txt")
# The dev stack's config: where the project's local cluster is.
LOCAL_CLUSTER_CONFIG: dict[str, str] = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]


def require_pulumi_cli() -> str:
    """The pulumi executable on PATH; fails (never skips) with the fix when it is missing."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise AssertionError("pulumi is not on PATH: run toolchain/ensure.sh, then source toolchain/env.sh")
    return pulumi


@dataclass
class ProjectCopy:
    """The program copied into `directory`, with the Pulumi state in `directory/.state`."""

    directory: Path

    @property
    def pulumi_env(self) -> dict[str, str]:
        """The settings that keep the copy's stacks and state apart from the user's."""
        return {
            "PULUMI_BACKEND_URL": f"file://{self.directory / '.state'}",
            "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "demo-orq"),
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **self.pulumi_env}

    def pulumi(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        """Runs the real Pulumi CLI in the copy; output is captured as text."""
        completed = subprocess.run([require_pulumi_cli(), "--non-interactive", *args], cwd=self.directory,
                                   env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and completed.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({completed.returncode}):\n"
                                 f"{completed.stdout}\n{completed.stderr}")
        return completed

    def new_stack(self, name: str, config: dict[str, str]) -> None:
        self.pulumi("stack", "init", name)
        for key, value in config.items():
            self.pulumi("config", "set", "--stack", name, key, "--", value)


def copy_project(destination: Path) -> ProjectCopy:
    destination.mkdir(parents=True, exist_ok=True)
    for name in PROGRAM_FILES:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    (destination / "venv").symlink_to(PROJECT_DIR / "venv")
    (destination / ".state").mkdir()
    return ProjectCopy(destination)

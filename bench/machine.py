"""The machine and the versions a benchmark ran with."""

from __future__ import annotations

import json
import os
import platform
import subprocess


def command_output(*command: str) -> str | None:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def cpu_model() -> str:
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gib() -> float:
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def provider_version() -> str:
    plugins = json.loads(command_output("pulumi", "plugin", "ls", "--json") or "[]")
    versions = [
        p["version"]
        for p in plugins
        if p.get("name") == "kubernetes" and p.get("kind") == "resource"
    ]
    return ", ".join(versions) or "not installed"


def kubernetes_versions() -> tuple[str, str]:
    """(kubectl client, cluster server) git versions."""
    versions = json.loads(command_output("kubectl", "version", "-o", "json") or "{}")
    return (
        versions.get("clientVersion", {}).get("gitVersion", "unknown"),
        versions.get("serverVersion", {}).get("gitVersion", "unreachable"),
    )


def describe() -> dict[str, str]:
    client, server = kubernetes_versions()
    return {
        "cpus (nproc)": str(os.cpu_count()),
        "cpu model": cpu_model(),
        "memory": f"{memory_gib():.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "pulumi": command_output("pulumi", "version") or "not found",
        "pulumi-kubernetes provider": provider_version(),
        # The engine's limit on concurrent resource operations: 4 x CPUs unless PULUMI_PARALLEL.
        "pulumi parallel": os.environ.get("PULUMI_PARALLEL")
        or f"4 x CPUs = {4 * (os.cpu_count() or 1)}",
        "kubectl": client,
        "kubernetes server": server,
        "load average at start": " ".join(f"{load:.2f}" for load in os.getloadavg()),
    }


def format_machine(machine: dict[str, str]) -> str:
    width = max(len(key) for key in machine)
    return "\n".join(f"{key.ljust(width)}  {value}" for key, value in machine.items())

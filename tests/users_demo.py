"""What a user deployed with the demo, recorded so that the suite can show it left it alone:
the stack `dev` in the project's own backend, and the objects in the namespace `demo`.

scripts/test.sh runs the suites in several pytest processes: it records the demo once, first,
with `python -m tests.users_demo FILE`, and gives the file to every process in
$DEMO_ORQ_USERS_DEMO_BEFORE (tests/conftest.py reads it)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from demo_orq import facts
from demo_orq.kube import kubectl, namespace_exists
from tests.sandbox import require_pulumi_cli

STACK = "dev"


@dataclass(frozen=True)
class UsersDemo:
    stack_resources: tuple[str, ...] | None
    """URNs and ids of the dev stack's resources; None when the stack does not exist."""
    objects: tuple[tuple[str, str, str], ...] | None
    """(kind/name, uid, generation) of the Deployment, Service and Namespace in `demo`; None
    when there is no such namespace."""

    @property
    def deployed(self) -> bool:
        return bool(self.stack_resources)


def pulumi(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The Pulumi CLI on the project itself, with the user's backend (toolchain/env.sh)."""
    command = [require_pulumi_cli(), "--non-interactive", *args]
    completed = subprocess.run(
        command, cwd=facts.PROJECT_DIR, capture_output=True, text=True, timeout=600
    )
    if check and completed.returncode != 0:
        raise AssertionError(f"pulumi {' '.join(args)}: {completed.stdout}{completed.stderr}")
    return completed


def stack_resources() -> tuple[str, ...] | None:
    listed = json.loads(pulumi("stack", "ls", "--json").stdout)
    if STACK not in {entry["name"] for entry in listed}:
        return None
    exported: dict[str, Any] = json.loads(pulumi("stack", "export", "--stack", STACK).stdout)
    resources = exported["deployment"].get("resources") or []
    return tuple(sorted(f"{r['urn']} {r.get('id', '')}" for r in resources))


def demo_objects() -> tuple[tuple[str, str, str], ...] | None:
    if not namespace_exists(facts.NAMESPACE):
        return None
    listed = json.loads(kubectl("-n", facts.NAMESPACE, "get", "deployment,service", "-o",
                                "json").stdout)["items"]  # fmt: skip
    namespace = json.loads(kubectl("get", "namespace", facts.NAMESPACE, "-o", "json").stdout)
    return tuple(sorted(
        (f"{item['kind']}/{item['metadata']['name']}", item["metadata"]["uid"],
         str(item["metadata"].get("generation", "")))
        for item in [*listed, namespace]
    ))  # fmt: skip


def snapshot() -> UsersDemo:
    return UsersDemo(stack_resources=stack_resources(), objects=demo_objects())


def save(demo: UsersDemo, path: Path) -> None:
    path.write_text(json.dumps(asdict(demo)), encoding="utf-8")


def load(path: Path) -> UsersDemo:
    saved = json.loads(path.read_text(encoding="utf-8"))
    resources, objects = saved["stack_resources"], saved["objects"]
    return UsersDemo(
        stack_resources=None if resources is None else tuple(resources),
        objects=None if objects is None else tuple(tuple(each) for each in objects),
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.users_demo FILE (records the user's demo there)",
              file=sys.stderr)  # fmt: skip
        return 2
    save(snapshot(), Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Case 6: the many-apps program evaluated alone, under Pulumi mocks (no engine, no provider).

Run in a fresh interpreter, `python -m bench.evaluate N` prints one JSON line: the seconds spent
importing (pulumi, pulumi_kubernetes, the component) and evaluating the program.
"""

from __future__ import annotations

import json
import runpy
import sys
import time
from pathlib import Path

MANY_APPS = Path(__file__).resolve().parent / "many_apps"
PROJECT = "demo-orq-many-apps"


def evaluate(apps: int) -> dict[str, float]:
    started = time.monotonic()
    import pulumi
    import pulumi_kubernetes as k8s
    from pulumi.runtime import Mocks

    import components  # noqa: F401

    # pulumi_kubernetes loads its API groups on first use: count them as imports too.
    _ = (k8s.core.v1.Namespace, k8s.core.v1.Service, k8s.apps.v1.Deployment)

    imported = time.monotonic()

    class EchoMocks(Mocks):
        """Every resource gets its inputs as outputs; the program makes no calls."""

        registered = 0

        def new_resource(self, args):
            EchoMocks.registered += 1
            return (f"{args.name}-id" if args.custom else None, args.inputs)

        def call(self, args):
            raise AssertionError(f"unexpected call of {args.token}")

    pulumi.runtime.set_mocks(EchoMocks(), project=PROJECT, stack="bench", preview=False)
    pulumi.runtime.set_all_config({f"{PROJECT}:apps": str(apps), f"{PROJECT}:context": "none"})

    @pulumi.runtime.test
    def program() -> None:
        runpy.run_path(str(MANY_APPS), run_name="__main__")

    program()
    return {
        "import_seconds": imported - started,
        "evaluate_seconds": time.monotonic() - imported,
        "resources": EchoMocks.registered,
    }


if __name__ == "__main__":
    print(json.dumps(evaluate(int(sys.argv[1]))))

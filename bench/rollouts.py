"""Rollouts under load: N consecutive v1 <-> v2 rollouts with `pulumi up` while a steady load goes
through the NodePort, every request counted and none retried; prints the refused and failed
requests of each rollout and in total. Exits 1 when any request was refused or failed.

python -m bench.rollouts [--rollouts 20] [--rate 150] [--replicas 5]

It deploys the program on a throwaway stack into its own sandbox (namespace orq-bench-rollouts,
node port 30685) and destroys it at the end. On a shared machine, run it under the lock that
disruptive experiments take, so that none of them falls inside the measurement:
flock /tmp/demo-orq-disrupt.lock venv/bin/python -m bench.rollouts --rollouts 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from components.traffic import Answer, SteadyLoad
from demo_orq import facts
from demo_orq.kube import deployment_settled, kubectl, namespace_exists, pods, wait_until
from tests.sandbox import SANDBOXES, ProjectCopy, copy_project, sandbox_config

SANDBOX = SANDBOXES["bench-rollouts"]
STACK = "rollouts"
SELECTOR = f"app={facts.DEPLOYMENT}"
MESSAGES = (facts.V1_MESSAGE, facts.V2_MESSAGE)
SETTLE_TIMEOUT_SECONDS = 180


def is_refused(answer: Answer) -> bool:
    """Refused at connect: the TCP handshake was answered with a reset (or ICMP unreachable)."""
    return answer.error is not None and "ConnectionRefusedError" in answer.error


@dataclass
class Rollout:
    number: int
    to: str
    started: float  # time.monotonic()
    seconds: float = 0.0  # `pulumi up` until the old pods are gone
    answers: tuple[Answer, ...] = ()

    @property
    def refused(self) -> list[Answer]:
        return [a for a in self.answers if is_refused(a)]

    @property
    def failed(self) -> list[Answer]:
        """Every other request that got no answer, or one that is neither version."""
        expected = {message + "\n" for message in MESSAGES}
        return [a for a in self.answers if not is_refused(a) and a.body not in expected]


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.rollouts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rollouts", type=int, default=20, help="rollouts (default 20)")
    parser.add_argument("--rate", type=float, default=150, help="requests/s (default 150)")
    parser.add_argument("--replicas", type=int, default=facts.SCALED_REPLICAS)
    arguments = parser.parse_args(argv)
    if arguments.rollouts < 1:
        parser.error(f"--rollouts must be at least 1, not {arguments.rollouts}")
    if not 1 <= arguments.rate <= 1000:
        parser.error(f"--rate must be from 1 to 1000 requests/s, not {arguments.rate:g}")
    if not 1 <= arguments.replicas <= 10:
        parser.error(f"--replicas must be from 1 to 10, not {arguments.replicas}")
    return arguments


def set_message(project: ProjectCopy, message: str) -> None:
    project.pulumi("config", "set", "--stack", STACK, f"{facts.PROJECT}:message", "--", message)


def up(project: ProjectCopy, message: str) -> None:
    project.pulumi("up", "--yes", "--skip-preview", "--stack", STACK, "--message", message)


def settled(replicas: int) -> bool:
    """The rollout is done and no old pod is left terminating."""
    if not deployment_settled(SANDBOX.namespace, facts.DEPLOYMENT, replicas):
        return False
    return len(pods(SANDBOX.namespace, SELECTOR)) == replicas


def roll_out(project: ProjectCopy, number: int, replicas: int) -> Rollout:
    message = MESSAGES[number % 2]
    set_message(project, message)
    rollout = Rollout(number, "v2" if message == facts.V2_MESSAGE else "v1", time.monotonic())
    up(project, f"rollout {number}")
    wait_until(lambda: settled(replicas), SETTLE_TIMEOUT_SECONDS, "the rollout to settle")
    rollout.seconds = time.monotonic() - rollout.started
    return rollout


def assign_answers(rollouts: list[Rollout], answers: list[Answer]) -> None:
    """Each request goes to the rollout under way (or last done) when it was sent; the first
    rollout also takes the few requests sent before it."""
    for index, rollout in enumerate(rollouts):
        start = rollout.started if index > 0 else float("-inf")
        end = rollouts[index + 1].started if index + 1 < len(rollouts) else float("inf")
        rollout.answers = tuple(a for a in answers if start <= a.started < end)


def report(rollouts: list[Rollout], load: SteadyLoad) -> tuple[int, int]:
    print(f"{'rollout':>7} {'to':>3} {'seconds':>8} {'requests':>9} {'refused':>8} {'failed':>7}")
    for r in rollouts:
        print(
            f"{r.number:>7} {r.to:>3} {r.seconds:>8.1f} {len(r.answers):>9} "
            f"{len(r.refused):>8} {len(r.failed):>7}"
        )
    refused = sum(len(r.refused) for r in rollouts)
    failed = sum(len(r.failed) for r in rollouts)
    requests = sum(len(r.answers) for r in rollouts)
    p99 = load.report.latency_percentiles_ms()["p99"]
    print(
        f"{len(rollouts)} rollouts (v1 <-> v2, {len(pods(SANDBOX.namespace, SELECTOR))} pods), "
        f"{requests} requests at {load.report.requests_per_second():.0f} req/s, none retried: "
        f"{refused} refused, {failed} failed; p99 {p99:.1f} ms"
    )
    for answer in [a for r in rollouts for a in (*r.refused, *r.failed)][:10]:
        print(f"  t={answer.started - rollouts[0].started:.3f}s: {answer.error or answer.body}")
    return refused, failed


def tear_down(project: ProjectCopy) -> None:
    """Destroys the stack; its namespace goes in any case (the state goes with the folder)."""
    project.pulumi("destroy", "--yes", "--skip-preview", "--stack", STACK, check=False)
    kubectl("delete", "namespace", SANDBOX.namespace, "--ignore-not-found", "--wait=false",
            check=False)  # fmt: skip
    wait_until(lambda: not namespace_exists(SANDBOX.namespace), 300, "the namespace to be gone")


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    SANDBOX.claim()
    with tempfile.TemporaryDirectory(prefix="bench-rollouts-") as directory:
        project = copy_project(Path(directory) / "project")
        config = {**sandbox_config(SANDBOX), f"{facts.PROJECT}:replicas": str(arguments.replicas)}
        project.new_stack(STACK, config)
        try:
            set_message(project, facts.V1_MESSAGE)
            up(project, "v1")
            wait_until(lambda: settled(arguments.replicas), SETTLE_TIMEOUT_SECONDS, "v1 settled")
            rollouts: list[Rollout] = []
            with SteadyLoad(SANDBOX.url, rate=arguments.rate, max_seconds=7200) as load:
                time.sleep(2)
                for number in range(1, arguments.rollouts + 1):
                    rollout = roll_out(project, number, arguments.replicas)
                    rollouts.append(rollout)
                    assign_answers([rollout], list(load.report.answers))
                    print(
                        f"rollout {number}/{arguments.rollouts} to {rollout.to}: "
                        f"{rollout.seconds:.1f}s, {len(rollout.refused)} refused, "
                        f"{len(rollout.failed)} failed so far",
                        flush=True,
                    )
                time.sleep(2)
            assign_answers(rollouts, load.report.answers)
            refused, failed = report(rollouts, load)
        finally:
            tear_down(project)
    return 1 if refused or failed else 0


if __name__ == "__main__":
    sys.exit(main())

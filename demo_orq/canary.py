"""A stepped canary, the controller-free form of Argo Rollouts' steps:

    demo-orq canary --to-message "Hola desde K8s v2 🚀" --steps 25,50,100 --pause 30

At each step it sets the canary's version and weight in the stack config and runs `pulumi up`
(the analysis gate probes the canary pods once they are Ready), then shows how the answers
split. A failed step aborts by itself: weight back to 0, `pulumi up`, and a non-zero exit with
the figures. After the last step (100) it promotes: the stable pods take the new version and
the canary goes back to 0. Every step is an update in the stack history, so
`demo-orq rollback` keeps working. The stack must use the Canary strategy.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pulumi import automation as auto

from components.traffic import SteadyLoad, Target

from .cli import add_seconds_argument, command_parser
from .errors import RefusedError
from .facts import PROJECT
from .settings import DEFAULT_STRATEGY, STRATEGY_KEY
from .stacks import Reached, add_service_argument, reach, select_stack, set_config

Say = Callable[[str], None]


class CanaryRefusedError(RefusedError):
    """The canary was refused before anything changed."""


@dataclass(frozen=True)
class Plan:
    steps: tuple[int, ...]
    message: str | None
    image: str | None
    pause_seconds: float
    sample_seconds: float

    @property
    def target(self) -> str:
        return " ".join(part for part in (self.message, self.image) if part)

    def version(self, message_key: str, image_key: str) -> dict[str, str]:
        """The new version as config values under these keys: only what the plan changes."""
        values = {message_key: self.message, image_key: self.image}
        return {name: value for name, value in values.items() if value}


def key(name: str) -> str:
    return f"{PROJECT}:{name}"


def check_stack(stack: auto.Stack) -> None:
    config = stack.get_all_config()
    strategy = config.get(key(STRATEGY_KEY))
    if strategy is None or strategy.value != "Canary":
        shown = strategy.value if strategy else DEFAULT_STRATEGY
        raise CanaryRefusedError(
            f"stack '{stack.name}' uses the strategy {shown}: a stepped canary needs "
            f"`pulumi config set {key(STRATEGY_KEY)} Canary` (and a `pulumi up`) first"
        )
    weight = config.get(key("canaryWeight"))
    if weight is not None and weight.value not in ("", "0"):
        raise CanaryRefusedError(
            f"stack '{stack.name}' already has a canary at weight {weight.value}%: finish or "
            "abort it first (pulumi config set canaryWeight 0 and pulumi up)"
        )


def up(stack: auto.Stack, message: str, say: Say) -> auto.UpResult:
    say(f"$ pulumi up --message {message!r}")
    return stack.up(message=message, on_output=lambda line: None)


def answers_split(app: Target, seconds: float) -> str:
    """How the app's answers split between versions, over `seconds` of requests."""
    with SteadyLoad(app, rate=50, workers=4) as load:
        time.sleep(seconds)
    return load.report.split()


def run_steps(stack: auto.Stack, app: Target, plan: Plan, say: Say) -> None:
    version = plan.version("canaryMessage", "canaryImage")
    for weight in plan.steps:
        set_config(stack, **version, canaryWeight=str(weight))
        result = up(stack, f"canary {weight}%: {plan.target}", say)
        outputs = result.outputs
        split = outputs["canarySplit"].value  # by the route, or by the pods without a gateway
        gate = outputs["gateResult"].value if "gateResult" in outputs else "off"
        say(f"weight {weight}% -> {split}; gate: {gate}")
        say(f"answers: {answers_split(app, plan.sample_seconds)}")
        if weight < 100:
            time.sleep(plan.pause_seconds)


def promote(stack: auto.Stack, app: Target, plan: Plan, say: Say) -> None:
    set_config(stack, **plan.version("message", "image"), canaryWeight="0")
    up(stack, f"canary promoted: {plan.target}", say)
    say(f"promoted; answers: {answers_split(app, plan.sample_seconds)}")


def abort(stack: auto.Stack, app: Target, plan: Plan, reason: str, say: Say) -> None:
    say(f"canary failed: {reason}")
    say("aborting: canary weight back to 0")
    set_config(stack, canaryWeight="0")
    up(stack, f"canary aborted: {plan.target}", say)
    say(f"aborted; answers: {answers_split(app, plan.sample_seconds)}")


def failure_reason(error: auto.CommandError) -> str:
    """The lines of `pulumi up`'s error that say what failed (the gate's figures, or the pods')."""
    lines = [line.strip() for line in str(error).splitlines()]
    wanted = [line for line in lines if "analysis gate failed" in line or "unready" in line]
    return " | ".join(dict.fromkeys(wanted)) or (lines[-1] if lines else "pulumi up failed")


def run(
    stack: auto.Stack,
    plan: Plan,
    say: Say = print,
    service: Reached = "app",
    headers: Sequence[tuple[str, str]] = (),
) -> int:
    """The steps, the promotion or the abort; the answers sampled at `service` (with
    `headers`, through the gateway)."""
    check_stack(stack)
    app = reach(stack, service, headers)
    say(f"the answers are sampled {app.description}")
    try:
        run_steps(stack, app, plan, say)
    except auto.CommandError as error:
        abort(stack, app, plan, failure_reason(error), say)
        return 1
    promote(stack, app, plan, say)
    return 0


def steps(raw: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r}: a comma-separated list of integers") from None
    if (
        not values
        or values != tuple(sorted(set(values)))
        or not 1 <= values[0] <= values[-1] <= 100
    ):
        raise argparse.ArgumentTypeError(
            f"{raw!r}: increasing percentages from 1 to 100, e.g. 25,50,100"
        )
    return values


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = command_parser("canary")
    parser.add_argument("--to-message", help="the new version's message")
    parser.add_argument("--to-image", help="the new version's image")
    add_service_argument(parser, "where the answers are sampled")
    parser.add_argument(
        "--steps",
        type=steps,
        default=(25, 50, 100),
        help="canary weights in percent, in order (default: 25,50,100)",
    )
    add_seconds_argument(parser, "--pause", 10, 0, 3600, "pause between steps")
    add_seconds_argument(parser, "--sample", 4, 1, 60, "seconds of requests that show the split")
    arguments = parser.parse_args(argv)
    if not (arguments.to_message or arguments.to_image):
        parser.error("give the new version: --to-message TEXT and/or --to-image IMAGE")
    if arguments.to_message is not None and not arguments.to_message.strip():
        parser.error("argument --to-message: an empty message is not a version")
    return arguments


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    plan = Plan(arguments.steps, arguments.to_message, arguments.to_image, arguments.pause,
                arguments.sample)  # fmt: skip
    stack = select_stack(arguments.stack, arguments.work_dir)
    return run(stack, plan, print, arguments.service, arguments.header)

"""The rules of HelloAppArgs that bind two fields or more: each field may be fine on its own and
the pair still mean nothing (an idle color bigger than the live one, two Services on one node
port)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .quota import peak_pods, pods_said
from .rules import Problem
from .strategies import BlueGreen, Canary, Gated

if TYPE_CHECKING:
    from .args import HelloAppArgs


def cross_field_problems(args: HelloAppArgs) -> list[Problem]:
    """Every problem found, each named by the path of a field (`strategy.idle_replicas`)."""
    return [*idle_color_problems(args), *autoscale_problems(args), *node_port_problems(args),
            *gate_source_problems(args), *slo_alert_problems(args),
            *quota_problems(args)]  # fmt: skip


def idle_color_problems(args: HelloAppArgs) -> list[Problem]:
    strategy = args.strategy
    if isinstance(strategy, BlueGreen) and (strategy.idle_replicas or 0) > args.replicas:
        accepted = f"an integer from 0 to replicas ({args.replicas})"
        return [Problem("strategy.idle_replicas", strategy.idle_replicas, accepted)]
    return []


def autoscale_problems(args: HelloAppArgs) -> list[Problem]:
    scale = args.autoscale
    if not scale.enabled:
        return []
    problems = []
    if not scale.min_replicas <= args.replicas <= scale.max_replicas:
        accepted = (
            f"with autoscale on, a first replica count from min_replicas ({scale.min_replicas}) "
            f"to max_replicas ({scale.max_replicas}): the autoscaler owns it after the first "
            "deploy"
        )
        problems.append(Problem("replicas", args.replicas, accepted))
    strategy = args.strategy
    if isinstance(strategy, BlueGreen) and strategy.idle_replicas is not None:
        accepted = "none with autoscale on: the idle color rests at min_replicas"
        problems.append(Problem("strategy.idle_replicas", strategy.idle_replicas, accepted))
    return problems


def node_port_problems(args: HelloAppArgs) -> list[Problem]:
    """Two Services of one app cannot share a node port."""
    seen: dict[int, str] = {}
    problems = []
    for name, port in args.node_ports().items():
        if port in seen:
            problems.append(Problem(name, port, f"a node port other than {seen[port]}'s"))
        seen.setdefault(port, name)
    return problems


def gate_source_problems(args: HelloAppArgs) -> list[Problem]:
    """Prometheus sees the requests that the gateway sends a canary; nothing real reaches an idle
    color, and without a gateway there is nothing to count."""
    strategy = args.strategy
    if not isinstance(strategy, Gated) or strategy.gate.source != "prometheus":
        return []
    if isinstance(strategy, Canary) and args.gateway.enabled:
        return []
    accepted = "probe, or prometheus with the Canary strategy and the gateway on"
    return [Problem("strategy.gate.source", strategy.gate.source, accepted)]


def slo_alert_problems(args: HelloAppArgs) -> list[Problem]:
    """The alerts count the requests through the gateway."""
    if args.slo.alerts and not args.gateway.enabled:
        return [Problem("slo.alerts", True, "false, or true with the gateway on")]
    return []


def quota_problems(args: HelloAppArgs) -> list[Problem]:
    """A quota that the stack's own rollout would run out of: the update would hang on pods the
    API server refuses, so it is refused before it starts."""
    isolation = args.isolation
    if not isolation.quota or isolation.quota_pods is None:
        return []
    needed = peak_pods(args)
    if isolation.quota_pods >= needed:
        return []
    accepted = (
        f"at least {needed}: the most pods this stack runs at once "
        f"({pods_said(args)}); or none to size it from the stack"
    )
    return [Problem("isolation.quota_pods", isolation.quota_pods, accepted)]

"""Selecting a stack of the project for the commands, with a clear error when it cannot be."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, get_args

from pulumi import automation as auto

from components.kubeapi import ApiServer, KubeAccessError, ServiceProxy
from components.names import ServiceRole, role_service_name
from components.traffic import GatewayUrl, Target

from .config import DemoConfig, StackConfigError, load
from .errors import RefusedError
from .facts import PROJECT
from .settings import STRATEGY_KEY, keys_of_other_strategies


class StackError(RefusedError):
    """The stack cannot be used (no Pulumi CLI, no such stack, a refused config value, a cluster
    out of reach): nothing was changed."""


GATEWAY = "gateway"
Reached = ServiceRole | Literal["gateway"]
"""Where a command reaches the app: one of its Services (through the API server), or its gateway
URL."""


def add_service_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """`--service` (which of the stack's Services, or its gateway; `what` it is used for, in
    the help) and `--header` (sent through the gateway)."""
    parser.add_argument(
        "--service",
        choices=(*get_args(ServiceRole), GATEWAY),
        default="app",
        help=f"{what}: app (what users reach, the default), preview (BlueGreen's idle color), "
        "canary (the canary pods alone), stable, blue or green (with a gateway), or gateway "
        "(the gatewayUrl output, HTTPS with the stack's CA)",
    )
    parser.add_argument(
        "--header",
        action="append",
        type=header,
        default=[],
        metavar="NAME:VALUE",
        help="with --service gateway, a header to send, e.g. X-Canary:always (repeatable)",
    )


def header(value: str) -> tuple[str, str]:
    name, colon, text = value.partition(":")
    if not colon or not name.strip() or any(c.isspace() for c in name.strip()):
        raise argparse.ArgumentTypeError(f"{value!r}: NAME:VALUE, e.g. X-Canary:always")
    return name.strip(), text.strip()


def select_stack(name: str, work_dir: Path) -> auto.Stack:
    if shutil.which("pulumi") is None:
        raise StackError(
            "pulumi is not on PATH: run toolchain/ensure.sh, then source toolchain/env.sh"
        )
    workspace = auto.LocalWorkspace(work_dir=str(work_dir))
    known = sorted(summary.name for summary in workspace.list_stacks())
    if name not in known:
        raise StackError(
            f"no stack '{name}' in {work_dir} (stacks: {', '.join(known) or 'none'}); "
            f"create it with: pulumi stack init {name}"
        )
    # The same workspace: another would check the CLI's version again (`pulumi version`).
    return auto.Stack.select(name, workspace)


def set_config(stack: auto.Stack, **values: str) -> None:
    """Sets `demo-orq:<key>` to each value in the stack's config."""
    stack.set_all_config(
        {f"{PROJECT}:{key}": auto.ConfigValue(value) for key, value in values.items()}
    )


def switch_strategy(stack: auto.Stack, strategy: str, **values: str) -> None:
    """Sets the stack's strategy, and `values` (keys of that strategy's), after removing the keys
    of the other strategies: a stack refuses them."""
    stack.remove_all_config([f"{PROJECT}:{key}" for key in keys_of_other_strategies(strategy)])
    set_config(stack, **{STRATEGY_KEY: strategy}, **values)


def stack_config(stack: auto.Stack) -> DemoConfig:
    """The stack's checked config (StackError, one line per value refused)."""
    prefix = f"{PROJECT}:"
    config = {
        key.removeprefix(prefix): value
        for key, value in stack.get_all_config().items()
        if key.startswith(prefix)
    }
    values = {key: value.value for key, value in config.items()}
    try:
        return load(values, {key for key, value in config.items() if value.secret})
    except StackConfigError as error:
        raise StackError(str(error)) from None


def deployed_outputs(stack: auto.Stack, *names: str) -> dict[str, str]:
    """The stack outputs `names` (StackError when the stack is not deployed)."""
    outputs = stack.outputs()
    missing = [name for name in names if name not in outputs]
    if missing:
        raise StackError(
            f"stack {stack.name!r} has no output {', '.join(missing)}: it is not deployed "
            f"(run pulumi up --stack {stack.name})"
        )
    return {name: str(outputs[name].value) for name in names}


def reach(
    stack: auto.Stack, role: Reached = "app", headers: Sequence[tuple[str, str]] = ()
) -> Target:
    """The stack's Service of `role` through the API server, or its gateway URL with `headers`
    (StackError, one line, when it cannot be reached)."""
    if role == "gateway":
        return reach_gateway(stack, headers)
    if headers:
        raise StackError("--header is sent through the gateway only: add --service gateway")
    return reach_service(stack, role)


def reach_gateway(stack: auto.Stack, headers: Sequence[tuple[str, str]]) -> GatewayUrl:
    outputs = stack.outputs()
    if "gatewayUrl" not in outputs:
        raise StackError(
            f"stack {stack.name!r} has no gateway (gatewayUrl output): set "
            f"`pulumi config set gateway true --stack {stack.name}` and run pulumi up"
        )
    return GatewayUrl(
        str(outputs["gatewayUrl"].value),
        str(outputs["gatewayCaCertificate"].value),
        tuple(headers),
    )


def reach_service(stack: auto.Stack, role: ServiceRole) -> ServiceProxy:
    """The stack's Service of `role` through the API server of the stack's own kubeconfig and
    context: how every command talks to the app, on any cluster. StackError, one line, when it
    cannot be reached (the kubeconfig is read before anything else is asked)."""
    config = stack_config(stack)
    try:
        api = ApiServer(config.kubeconfig, config.context)
        outputs = deployed_outputs(stack, "namespace", "serviceName")
        service = role_service_name(outputs["serviceName"], role)
        api.check(outputs["namespace"], service)
    except KubeAccessError as error:
        raise StackError(str(error)) from None
    return ServiceProxy(api, outputs["namespace"], service)

"""Pulumi components of demo-orq."""

from .args import HelloAppArgs
from .hello_app import HelloApp
from .rules import InvalidArgsError
from .shared_args import (
    AutoscaleArgs,
    ClusterAccess,
    EtlArgs,
    FrontendArgs,
    GatewayArgs,
    IsolationArgs,
    SloArgs,
)
from .strategies import BlueGreen, Canary, GateArgs, Recreate, RollingUpdate, Strategy

__all__ = [
    "AutoscaleArgs",
    "BlueGreen",
    "Canary",
    "ClusterAccess",
    "EtlArgs",
    "FrontendArgs",
    "GateArgs",
    "GatewayArgs",
    "HelloApp",
    "HelloAppArgs",
    "InvalidArgsError",
    "IsolationArgs",
    "Recreate",
    "RollingUpdate",
    "SloArgs",
    "Strategy",
]

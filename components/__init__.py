"""Pulumi components of demo-orq."""

from .args import HelloAppArgs
from .hello_app import HelloApp
from .rules import InvalidArgsError
from .shared_args import AutoscaleArgs, ClusterAccess, GatewayArgs, SloArgs
from .strategies import BlueGreen, Canary, GateArgs, Recreate, RollingUpdate, Strategy

__all__ = [
    "AutoscaleArgs",
    "BlueGreen",
    "Canary",
    "ClusterAccess",
    "GateArgs",
    "GatewayArgs",
    "HelloApp",
    "HelloAppArgs",
    "InvalidArgsError",
    "Recreate",
    "RollingUpdate",
    "SloArgs",
    "Strategy",
]

"""Pulumi components of demo-orq."""

from .args import ClusterAccess, HelloAppArgs, InvalidArgsError
from .hello_app import HelloApp

__all__ = ["ClusterAccess", "HelloApp", "HelloAppArgs", "InvalidArgsError"]

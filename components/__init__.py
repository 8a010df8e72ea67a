"""Pulumi components of demo-orq."""

from .args import HelloAppArgs, InvalidArgsError
from .hello_app import HelloApp

__all__ = ["HelloApp", "HelloAppArgs", "InvalidArgsError"]

"""Pulumi components of demo-orq."""

from .hello_app import HelloApp, HelloAppArgs

__all__ = ["HelloApp", "HelloAppArgs"]

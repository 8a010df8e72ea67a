"""Benchmarks of demo-orq: Pulumi against kubectl on the same cluster (python -m bench)."""

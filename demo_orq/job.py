"""Runs one of a stack's CronJobs now (`kubectl create job --from=cronjob/...`), waits for it and
prints its log: the document's daily ETL on demand, with the stack's own kubeconfig and context.

    demo-orq job run etl [--stack dev] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from components.names import ETL_JOB, JOB_NAME_LENGTH, cron_job_name, fitted

from .cli import add_seconds_argument, command_parser
from .errors import RefusedError
from .kube import kubectl
from .stacks import deployed_outputs, select_stack, stack_config

JOBS = (ETL_JOB,)
"""The CronJobs a stack may have, by the name this command takes."""


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = command_parser("job")
    parser.add_argument("action", choices=["run"], help="run: start one now and wait for it")
    parser.add_argument("name", choices=JOBS, help="the CronJob, by its short name")
    add_seconds_argument(
        parser, "--timeout", 600, 1, 3600, "fail when the Job has not ended by then"
    )
    return parser.parse_args(argv)


class Cluster:
    """kubectl with a stack's kubeconfig and context, in the app's namespace."""

    def __init__(self, kubeconfig: str | None, context: str, namespace: str) -> None:
        self.options = [*(["--kubeconfig", kubeconfig] if kubeconfig else []),
                        "--context", context, "--namespace", namespace]  # fmt: skip
        self.namespace = namespace

    def run(self, *args: str, check: bool = True) -> str:
        return kubectl(*self.options, *args, check=check).stdout

    def job_status(self, name: str) -> dict[str, int]:
        return json.loads(self.run("get", "job", name, "-o", "json"))["status"]  # type: ignore[no-any-return]


def run_job(cluster: Cluster, cron_job: str, timeout: float) -> int:
    """Starts a Job from `cron_job`, waits for it, prints its log; 0 when it succeeded."""
    if not cluster.run("get", "cronjob", cron_job, "--ignore-not-found", "-o", "name"):
        raise RefusedError(
            f"no CronJob {cron_job} in namespace {cluster.namespace}: set "
            "`pulumi config set etl true` and run pulumi up"
        )
    name = fitted(cron_job, f"-run-{int(time.time())}", JOB_NAME_LENGTH)
    cluster.run("create", "job", name, f"--from=cronjob/{cron_job}")
    print(f"job {cluster.namespace}/{name} started from cronjob/{cron_job}", file=sys.stderr)
    started = time.monotonic()
    status = cluster.job_status(name)
    while not (status.get("succeeded") or status.get("failed")):
        if time.monotonic() - started > timeout:
            print(f"job failed: {name} has not ended after {timeout:g} s", file=sys.stderr)
            return 1
        time.sleep(1)
        status = cluster.job_status(name)
    print(cluster.run("logs", f"job/{name}", check=False), end="")
    seconds = time.monotonic() - started
    if status.get("succeeded"):
        print(f"job {name} succeeded in {seconds:.1f} s", file=sys.stderr)
        return 0
    print(f"job failed: {name} (kubectl logs -n {cluster.namespace} job/{name})", file=sys.stderr)
    return 1


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    stack = select_stack(arguments.stack, arguments.work_dir)
    config = stack_config(stack)
    outputs = deployed_outputs(stack, "namespace", "deploymentName")
    cluster = Cluster(config.kubeconfig, config.context, outputs["namespace"])
    cron_job = cron_job_name(outputs["deploymentName"], arguments.name)
    return run_job(cluster, cron_job, arguments.timeout)

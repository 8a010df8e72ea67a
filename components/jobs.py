"""The app's Jobs, with the image of cluster/images/jobs: the smoke test of each new version, and
the document's "daily ETL at 03:00" (a CronJob that writes the day's figures to a volume).

A smoke test is a Job named by what it tests (`<deployment>-smoke-<hash>`), with a Service of the
same name that selects that version's pods alone: a new version is a new Job, which `pulumi up`
waits for (the provider's Job await) and which the resources behind it (a Service's switch, the
route, the stable pods) depend on. When it fails, so does the update, and the error holds the
Job's last lines (its termination message falls back to its log) and the `kubectl logs` command
for the rest. Pulumi deletes the old Job and Service once the new ones have passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .args import HelloAppArgs
from .names import (
    DATA_SUFFIX,
    ETL_JOB,
    JOB_LABEL,
    JOB_NAME_LENGTH,
    SMOKE_SUFFIX,
    VERSION_LABEL,
    DeploymentRole,
    cron_job_name,
    fitted,
    role_deployment_name,
)
from .pod import CONTAINER_SECURITY_CONTEXT, POD_SECURITY_CONTEXT, RUN_AS_USER, PodVersion
from .service import app_service, in_cluster_url
from .workload import Home

SMOKE_REQUESTS = 20
"""Requests of a smoke test, one after the other: each must be a 200 with the expected text."""
SMOKE_DEADLINE_SECONDS = 120
JOB_RESOURCES: k8s.core.v1.ResourceRequirementsArgsDict = {
    "requests": {"cpu": "20m", "memory": "16Mi"},
    "limits": {"cpu": "200m", "memory": "64Mi"},
}
DATA_DIR = "/data"


def job_environment() -> list[k8s.core.v1.EnvVarArgsDict]:
    """Where the Job is, for the `kubectl logs` command it prints."""
    return [
        {
            "name": "JOB_NAME",
            "value_from": {
                "field_ref": {"field_path": "metadata.labels['batch.kubernetes.io/job-name']"}
            },
        },
        {
            "name": "POD_NAMESPACE",
            "value_from": {"field_ref": {"field_path": "metadata.namespace"}},
        },
    ]


def job_pod_spec(
    home: Home, container: dict[str, Any], volumes: Sequence[dict[str, Any]] = ()
) -> k8s.core.v1.PodSpecArgsDict:
    """A Job's pod: the app's identity (no API token), hardened as the app's pods, run once."""
    spec: dict[str, Any] = {
        "service_account_name": home.service_account,
        "automount_service_account_token": False,
        # The volume's files belong to the pods' group (a volume of the daily figures).
        "security_context": {**POD_SECURITY_CONTEXT, "fs_group": RUN_AS_USER},
        "restart_policy": "Never",
        "containers": [
            {
                "image_pull_policy": "IfNotPresent",
                "resources": JOB_RESOURCES,
                "security_context": CONTAINER_SECURITY_CONTEXT,
                # On a failure the log's last lines become the termination message, which
                # `pulumi up` prints with the Job's error.
                "termination_message_policy": "FallbackToLogsOnError",
                **container,
            }
        ],
    }
    if volumes:
        spec["volumes"] = list(volumes)
    return spec


def smoke_test(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    role: DeploymentRole,
    selector: dict[str, str],
    pod: PodVersion,
    after: Sequence[pulumi.Resource],
) -> k8s.batch.v1.Job:
    """The Job that requests `role`'s version `pod` once `after` is done: SMOKE_REQUESTS
    answers, each a 200 with the text the pods answer (the same environment expands it).

    It requests a Service of its own that selects `selector`'s pods of this version alone (their
    VERSION_LABEL), new with each version: a Service that changes its selector is reached through
    the old rules until kube-proxy catches up, so its old pods (still answering through their
    preStop sleep) would be tested instead. A new Service is either not there yet (the Job
    retries) or there with the new version's pods alone."""
    digest = pod.digest()
    tested = digest.apply(
        lambda value: fitted(
            role_deployment_name(args.deployment_name, role), SMOKE_SUFFIX + value, JOB_NAME_LENGTH
        )
    )
    logical_name = f"{role_deployment_name(name, role)}-smoke"
    service = app_service(
        parent,
        logical_name,
        tested,
        home.namespace,
        digest.apply(lambda value: {**selector, VERSION_LABEL: value}),
        node_port=None,
    )
    container = {
        "name": "smoke",
        "image": args.jobs_image,
        "args": [
            "smoke",
            tested.apply(
                lambda service_name: f"-url={in_cluster_url(args.namespace, service_name)}"
            ),
            f"-expect={pod.text}",
            f"-requests={SMOKE_REQUESTS}",
        ],
        "env": [*pod.env, *job_environment()],
        "env_from": pod.env_from,
    }
    return k8s.batch.v1.Job(
        logical_name,
        metadata={
            "name": tested,
            "namespace": home.namespace,
            "labels": {JOB_LABEL: "smoke", "demo-orq.io/role": role},
        },
        spec={
            "backoff_limit": 0,
            "active_deadline_seconds": SMOKE_DEADLINE_SECONDS,
            "template": {
                "metadata": {"labels": {JOB_LABEL: "smoke"}},
                "spec": job_pod_spec(home, container),
            },
        },
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=[*after, service],
            # A Job's template cannot change: another test is another Job.
            delete_before_replace=True,
            custom_timeouts=pulumi.CustomTimeouts(create=f"{SMOKE_DEADLINE_SECONDS + 30}s"),
        ),
    )


def etl_cron_job(
    parent: pulumi.Resource, name: str, home: Home, args: HelloAppArgs
) -> k8s.batch.v1.CronJob:
    """The daily figures of the app: a CronJob on `args.etl.schedule` that writes
    `figures-<date>.json` to its own volume (one run at a time, the last 3 kept)."""
    etl = args.etl
    cron_name = cron_job_name(args.deployment_name, ETL_JOB)
    claim = k8s.core.v1.PersistentVolumeClaim(
        f"{name}-{ETL_JOB}{DATA_SUFFIX}",
        metadata={"name": f"{cron_name}{DATA_SUFFIX}", "namespace": home.namespace},
        spec={
            "access_modes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": etl.storage}},
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )
    container = {
        "name": ETL_JOB,
        "image": args.jobs_image,
        "args": [
            ETL_JOB,
            f"-url={in_cluster_url(args.namespace, args.service_name)}",
            f"-out={DATA_DIR}",
        ],
        "env": job_environment(),
        "volume_mounts": [{"name": "data", "mount_path": DATA_DIR}],
    }
    volume = {"name": "data", "persistent_volume_claim": {"claim_name": claim.metadata.name}}
    return k8s.batch.v1.CronJob(
        f"{name}-{ETL_JOB}",
        metadata={"name": cron_name, "namespace": home.namespace},
        spec={
            "schedule": etl.schedule,
            "time_zone": etl.time_zone,
            "concurrency_policy": "Forbid",
            # A run missed by more than this (the cluster was down) is skipped, not run late.
            "starting_deadline_seconds": 3600,
            "successful_jobs_history_limit": 3,
            "failed_jobs_history_limit": 1,
            "job_template": {
                "metadata": {"labels": {JOB_LABEL: ETL_JOB}},
                "spec": {
                    "backoff_limit": 1,
                    "active_deadline_seconds": 600,
                    "template": {
                        "metadata": {"labels": {JOB_LABEL: ETL_JOB}},
                        "spec": job_pod_spec(home, container, [volume]),
                    },
                },
            },
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )

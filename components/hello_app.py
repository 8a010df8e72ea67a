"""HelloApp: the demo's Namespace, Deployment(s) and Service as one reusable Pulumi component."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .app_config import app_secret
from .args import HelloAppArgs
from .blue_green import deploy_blue_green
from .canary import deploy_canary
from .deployments import app_labels
from .frontend import deploy_frontend
from .gateway import Backend, Entry, Routing, deploy_entry, gateway_url
from .jobs import etl_cron_job, smoke_test
from .metrics import burn_rate_rules
from .names import ALERTS_SUFFIX, ROUTED_ROLES, role_service_name
from .network_policy import network_policies
from .quota import namespace_quota
from .rolling import deploy_rolling
from .service import app_service, service_url
from .strategies import BlueGreen, Canary
from .workload import Home, Workload

# The cluster itself refuses a pod of the app's namespace that breaks the "restricted" Pod Security
# profile (and audits and warns about it), as its version of Kubernetes defines it.
POD_SECURITY_VERSION = "v1.30"
POD_SECURITY_LABELS = {
    f"pod-security.kubernetes.io/{mode}{suffix}": value
    for mode in ("enforce", "audit", "warn")
    for suffix, value in (("", "restricted"), ("-version", POD_SECURITY_VERSION))
}

DEMO = HelloAppArgs()
"""The demo's app, exactly as its manifest has it."""


def namespace_guards(
    parent: pulumi.Resource, name: str, namespace: pulumi.Input[str], args: HelloAppArgs
) -> list[pulumi.Resource]:
    """What keeps the namespace apart: its NetworkPolicies and its quota, as the stack says."""
    guards: list[pulumi.Resource] = []
    if args.isolation.network_policy:
        guards += network_policies(parent, name, namespace, args)
    if args.isolation.quota:
        guards += namespace_quota(parent, name, namespace, args)
    return guards


def deploy_strategy(parent: pulumi.Resource, name: str, home: Home, args: HelloAppArgs) -> Workload:
    """What the strategy deploys behind the app's Service."""
    match args.strategy:
        case BlueGreen() as slots:
            return deploy_blue_green(parent, name, home, args, slots)
        case Canary() as canary:
            return deploy_canary(parent, name, home, args, canary)
        case _:  # RollingUpdate, Recreate: one Deployment
            return deploy_rolling(parent, name, home, args)


class HelloApp(pulumi.ComponentResource):
    """The demo's app: a Namespace (Pod Security "restricted" enforced), if asked with its quota
    and NetworkPolicies; a ServiceAccount with no API token, the Deployment(s) of http-echo that
    the strategy needs, a Service in front, and if asked a frontend before it.

    Pass the Kubernetes provider in `opts` (`providers=[provider]`): the children use it.
    Instances are independent: give each one its own name, namespace and node ports.
    """

    url: pulumi.Output[str]
    """Where the Service answers: the node port from outside, else its in-cluster DNS name."""
    namespace: pulumi.Output[str]
    deployment_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    strategy_outputs: dict[str, pulumi.Output[object]]
    """The strategy's own: `live_color`, `preview_url` (BlueGreen), `canary_url`,
    `canary_effective_weight`, `canary_split` (Canary), `gate_result` (both, when the gate is
    on)."""
    frontend_outputs: dict[str, pulumi.Output[object]]
    """With a frontend: `frontend_url`, where its Service answers."""
    gateway_outputs: dict[str, pulumi.Output[object]]
    """With a gateway: `gateway_url`, and `gateway_ca_certificate`, the CA that users trust
    (`curl --cacert`)."""

    def __init__(
        self,
        name: str,
        args: HelloAppArgs = DEMO,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("demo-orq:app:HelloApp", name, None, opts)
        namespace = k8s.core.v1.Namespace(
            name,
            metadata={"name": args.namespace, "labels": POD_SECURITY_LABELS},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Taking the namespace's name from the Namespace makes its children wait for it.
        namespace_name = namespace.metadata.name
        guards = namespace_guards(self, name, namespace_name, args)
        # Every pod runs as this account: none starts before the namespace's guards are there.
        service_account = k8s.core.v1.ServiceAccount(
            name,
            metadata={"name": args.deployment_name, "namespace": namespace_name},
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=guards),
        )
        entry: Entry | None = None
        self.gateway_outputs = {}
        if args.gateway.enabled:
            entry, certificate = deploy_entry(
                self, name, namespace_name, args.service_name, args.gateway
            )
            self.gateway_outputs = {
                "gateway_url": pulumi.Output.from_input(gateway_url(args.gateway)),
                "gateway_ca_certificate": certificate.ca_certificate,
            }
        home = Home(
            namespace_name,
            service_account.metadata.name,
            message_secret(self, name, namespace_name, args) if args.secret_message else None,
            app_secret(self, name, namespace_name, args.app_secrets) if args.app_secrets else None,
            entry,
        )
        workload = deploy_strategy(self, name, home, args)
        if args.pdb_min_available is not None:
            disruption_budget(self, name, home, args)
        service = app_service(
            self,
            name,
            args.service_name,
            namespace_name,
            workload.selector,
            args.node_port,
            depends_on=workload.serve_after,
        )
        if entry is not None and not workload.routed:
            routing = Routing([Backend(args.service_name)])
            entry.route(self, name, routing, depends_on=[service])
        if args.smoke_test and workload.app_pod is not None:
            smoke_test(self, name, home, args, "app", workload.selector, workload.app_pod,
                       after=workload.app_deployments)  # fmt: skip
        if args.etl.enabled:
            etl_cron_job(self, name, home, args)
        self.frontend_outputs = {}
        if args.frontend.enabled:
            frontend = deploy_frontend(self, name, home, args, after=[service])
            self.frontend_outputs["frontend_url"] = service_url(frontend, args.url_host)
        if args.slo.alerts:
            alert_rules(self, name, namespace_name, args)

        self.url = service_url(service, args.url_host)
        self.namespace = namespace_name
        self.deployment_name = pulumi.Output.from_input(args.deployment_name)
        self.service_name = service.metadata.name
        self.strategy_outputs = workload.outputs
        self.register_outputs(
            {
                "url": self.url,
                "namespace": self.namespace,
                "deployment_name": self.deployment_name,
                "service_name": self.service_name,
                **self.strategy_outputs,
                **self.gateway_outputs,
                **self.frontend_outputs,
            }
        )


ALERT_RULES_LABEL = {"demo-orq.io/prometheus-rules": "true"}
"""What the cluster's Prometheus loads rules from: ConfigMaps with this label, any namespace
(its rules loader, cluster/prometheus.sh; the PrometheusRule of an operator, as a ConfigMap)."""


def alert_rules(
    parent: pulumi.Resource, name: str, namespace: pulumi.Input[str], args: HelloAppArgs
) -> k8s.core.v1.ConfigMap:
    """The burn-rate alerts of the app's availability objective, over every Service a route of
    any strategy may send its requests to."""
    backends = [role_service_name(args.service_name, role) for role in ROUTED_ROLES]
    return k8s.core.v1.ConfigMap(
        f"{name}{ALERTS_SUFFIX}",
        metadata={
            "name": f"{args.service_name}{ALERTS_SUFFIX}",
            "namespace": namespace,
            "labels": ALERT_RULES_LABEL,
        },
        data={"slo.yaml": burn_rate_rules(args.namespace, backends, args.slo.availability_percent)},
        opts=pulumi.ResourceOptions(parent=parent),
    )


def message_secret(
    parent: pulumi.Resource, name: str, namespace: pulumi.Input[str], args: HelloAppArgs
) -> pulumi.Output[str]:
    """The Secret that holds a secret message; its name, which the pods refer to.

    Immutable and named by Pulumi (a random suffix): a new message is a new Secret, so the pods
    that refer to it roll out, and the old one goes only after they have."""
    secret = k8s.core.v1.Secret(
        f"{name}-message",
        metadata={"namespace": namespace},
        immutable=True,
        string_data={"message": pulumi.Output.secret(args.message)},
        opts=pulumi.ResourceOptions(parent=parent, replace_on_changes=["stringData"]),
    )
    return secret.metadata.name


def disruption_budget(
    parent: pulumi.Resource, name: str, home: Home, args: HelloAppArgs
) -> k8s.policy.v1.PodDisruptionBudget:
    """Keeps `pdb_min_available` of the app's pods (every strategy's) up while nodes drain: the
    API server refuses an eviction that would break it."""
    return k8s.policy.v1.PodDisruptionBudget(
        name,
        metadata={"name": args.deployment_name, "namespace": home.namespace},
        spec={
            "min_available": args.pdb_min_available,
            "selector": {"match_labels": app_labels(args)},
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )

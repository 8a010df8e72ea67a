"""demo-orq: the kind + kubectl demo (Namespace, Deployment, Service) as a Pulumi program.

Reads and checks the stack config, then deploys one HelloApp with a Kubernetes provider bound
to the stack's kubeconfig and context, and exports what a user needs next.
"""

import sys

import pulumi
import pulumi_kubernetes as k8s

from components import HelloApp
from demo_orq import config as stack_config
from demo_orq import facts


def project_config() -> dict[str, str]:
    """Every `demo-orq:*` config value of the stack, keyed without the `demo-orq:` prefix.

    pulumi.Config only answers for the keys it is asked about; unknown keys must be listed to
    be refused. The language host hands the whole stack config over in PULUMI_CONFIG, which
    the SDK also loads into its runtime config (where tests set it).
    """
    every_value = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    prefix = f"{facts.PROJECT}:"
    return {
        key.removeprefix(prefix): value
        for key, value in every_value.items()
        if key.startswith(prefix)
    }


def camel_case(python_name: str) -> str:
    first, *rest = python_name.split("_")
    return first + "".join(part.title() for part in rest)


def secret_keys() -> set[str]:
    """The `demo-orq:*` keys set as secrets, without the prefix."""
    prefix = f"{facts.PROJECT}:"
    keys = set(pulumi.runtime.get_config_secret_keys_env())
    keys |= {
        key
        for key in pulumi.runtime.config.CONFIG.get()
        if pulumi.runtime.config.is_config_secret(key)
    }
    return {key.removeprefix(prefix) for key in keys if key.startswith(prefix)}


try:
    config = stack_config.load(project_config(), secret_keys())
except stack_config.StackConfigError as refused:
    for error in refused.errors:
        pulumi.log.error(str(error))
    sys.exit(facts.EXIT_AFTER_SHOWING_ERROR)

provider = k8s.Provider("kubernetes", kubeconfig=config.kubeconfig, context=config.context)
app = HelloApp("hello", config.app, opts=pulumi.ResourceOptions(providers=[provider]))

pulumi.export("url", app.url)
pulumi.export("namespace", app.namespace)
pulumi.export("deploymentName", app.deployment_name)
pulumi.export("serviceName", app.service_name)
for output_name, value in {
    **app.gateway_outputs,
    **app.frontend_outputs,
    **app.strategy_outputs,
}.items():
    pulumi.export(camel_case(output_name), value)

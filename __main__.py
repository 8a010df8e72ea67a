"""demo-orq: the kind + kubectl demo (Namespace, Deployment, Service) as a Pulumi program.

Reads and checks the stack config, then deploys one HelloApp with a Kubernetes provider bound
to the stack's kubeconfig and context, and exports what a user needs next.
"""

import sys

import pulumi
import pulumi_kubernetes as k8s

import demo_config
from components import HelloApp

# The exit code by which pulumi-language-python-exec tells the engine that the program has
# already shown its error: the engine then stops without adding its own "an unhandled error
# occurred" (as it does after a pulumi.RunError) and without a traceback.
EXIT_AFTER_SHOWING_ERROR = 32


def project_config() -> dict[str, str]:
    """Every `demo-orq:*` config value of the stack, keyed without the `demo-orq:` prefix.

    pulumi.Config only answers for the keys it is asked about; unknown keys must be listed to
    be refused. The language host hands the whole stack config over in PULUMI_CONFIG, which
    the SDK also loads into its runtime config (where tests set it).
    """
    every_value = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    prefix = f"{demo_config.PROJECT}:"
    return {
        key.removeprefix(prefix): value
        for key, value in every_value.items()
        if key.startswith(prefix)
    }


try:
    config = demo_config.load(project_config())
except demo_config.ConfigError as error:
    pulumi.log.error(str(error))
    sys.exit(EXIT_AFTER_SHOWING_ERROR)

provider = k8s.Provider("kubernetes", kubeconfig=config.kubeconfig, context=config.context)
app = HelloApp("hello", config.app, opts=pulumi.ResourceOptions(providers=[provider]))

pulumi.export("url", app.url)
pulumi.export("namespace", app.namespace)
pulumi.export("deploymentName", app.deployment_name)
pulumi.export("serviceName", app.service_name)
pulumi.export("image", app.image)
pulumi.export("replicas", app.replicas)
pulumi.export("message", app.message)

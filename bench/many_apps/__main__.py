"""N HelloApp instances, one per namespace bench-0..bench-N-1, with ClusterIP services and one
replica each: how preview and update times grow with the size of a stack (benchmark case 5)."""

import pulumi
import pulumi_kubernetes as k8s

from components import HelloApp, HelloAppArgs

config = pulumi.Config()
provider = k8s.Provider(
    "kubernetes", kubeconfig=config.get("kubeconfig"), context=config.require("context")
)
for index in range(config.require_int("apps")):
    HelloApp(
        f"app-{index}",
        HelloAppArgs(namespace=f"bench-{index}", replicas=1, node_port=None),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )

"""The rules of demo-orq's policy pack, one small module per concern."""

from pulumi_policy import Policy

from . import advisory, images, isolation, namespaces, pod_security, probes, resources

POLICIES: list[Policy] = [
    *pod_security.POLICIES,
    *resources.POLICIES,
    *probes.POLICIES,
    *images.POLICIES,
    *namespaces.POLICIES,
    *isolation.POLICIES,
    *advisory.POLICIES,
]

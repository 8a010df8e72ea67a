"""The app's configuration outside its code (the document's "ConfigMap / Secret: APP_MODE=prod, a
token"): plain values in a ConfigMap per Deployment, secret ones in one Secret, both read by the
pods as environment variables, and both immutable.

A ConfigMap is named by its content (`<deployment>-config-<hash>`, kustomize's generator
convention): new values are a new ConfigMap, so the pod template changes and the pods roll through
the stack's strategy, and a rollback to old values names the old ConfigMap again, with exactly its
old content. The Secret is named by Pulumi (a random suffix) rather than by a hash of its values,
which would let anyone who lists Secrets test guesses of them; a change replaces it all the same.
Pulumi deletes the old object once the update that stopped using it is done.

The answer shows the plain values (`<message> (APP_MODE=prod)`), expanded by Kubernetes from the
pod's own environment: what users see is what the pods read. Secret values are never shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from .names import CONFIG_SUFFIX, DeploymentRole, content_hash, role_deployment_name
from .pod import MESSAGE_ENV, PodVersion, literal
from .strategies import Version
from .workload import Home


def config_map_name(deployment_name: str, role: DeploymentRole, values: Mapping[str, str]) -> str:
    """`<role's Deployment>-config-<hash of the values>`."""
    digest = content_hash(json.dumps(dict(values), sort_keys=True))
    return f"{role_deployment_name(deployment_name, role)}{CONFIG_SUFFIX}{digest}"


def config_map(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    deployment_name: str,
    role: DeploymentRole,
    values: Mapping[str, str],
) -> k8s.core.v1.ConfigMap:
    """The immutable ConfigMap of `role`'s plain values, named by its content."""
    return k8s.core.v1.ConfigMap(
        f"{role_deployment_name(name, role)}-config",
        metadata={
            "name": config_map_name(deployment_name, role, values),
            "namespace": home.namespace,
        },
        immutable=True,
        data=dict(values),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def app_secret(
    parent: pulumi.Resource, name: str, namespace: pulumi.Input[str], values: Mapping[str, str]
) -> pulumi.Output[str]:
    """The immutable Secret of the app's secret values (kept encrypted in Pulumi's state); its
    name, which the pods refer to."""
    secret = k8s.core.v1.Secret(
        f"{name}-secrets",
        metadata={"namespace": namespace},
        immutable=True,
        string_data={key: pulumi.Output.secret(value) for key, value in values.items()},
        opts=pulumi.ResourceOptions(parent=parent, replace_on_changes=["stringData"]),
    )
    return secret.metadata.name


def pod_version(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    deployment_name: str,
    role: DeploymentRole,
    version: Version,
    config: Mapping[str, str],
    secret_message: bool,
) -> PodVersion:
    """What `role`'s pods run: `version` (message, image), `config` in a ConfigMap of their own,
    the app's Secret; `secret_message`: the message is read from its Secret."""
    message, image = version
    text = literal(message)
    env: list[k8s.core.v1.EnvVarArgsDict] = []
    env_from: list[k8s.core.v1.EnvFromSourceArgsDict] = []
    if secret_message and home.message_secret is not None:
        secret_ref = {"name": home.message_secret, "key": "message"}
        env.append({"name": MESSAGE_ENV, "value_from": {"secret_key_ref": secret_ref}})
        text = f"$({MESSAGE_ENV})"
    if config:
        values = config_map(parent, name, home, deployment_name, role, config)
        env_from.append({"config_map_ref": {"name": values.metadata.name}})
        text += " (" + ", ".join(f"{key}=$({key})" for key in sorted(config)) + ")"
    if home.app_secret is not None:
        env_from.append({"secret_ref": {"name": home.app_secret}})
    return PodVersion(image, text, env, env_from)

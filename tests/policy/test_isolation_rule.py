"""The stack-wide rule `namespace-isolated`: each namespace of the stack has a default-deny
NetworkPolicy and a ResourceQuota, or the preview says which is missing and how to add it."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policy.rules.isolation import POLICIES
from tests.policy.objects import ADVISORY, UNKNOWN

DENY_ALL = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def resource(resource_type: str, props: dict[str, Any]) -> PolicyResource:
    name = props.get("metadata", {}).get("name", "x")
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    urn = f"urn:pulumi:dev::demo-orq::{resource_type}::{name}"
    return PolicyResource(
        resource_type, unknown_checking_proxy(props), urn, name, options, None, None, [], {}
    )


def namespace(name: str) -> PolicyResource:
    return resource("kubernetes:core/v1:Namespace", {"metadata": {"name": name}})


def network_policy(namespace: str, spec: dict[str, Any]) -> PolicyResource:
    props = {"metadata": {"name": "p", "namespace": namespace}, "spec": spec}
    return resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", props)


def quota(namespace: str) -> PolicyResource:
    props = {"metadata": {"name": "quota", "namespace": namespace}, "spec": {"hard": {"pods": "4"}}}
    return resource("kubernetes:core/v1:ResourceQuota", props)


def messages(*resources: PolicyResource) -> list[str]:
    (policy,) = POLICIES
    found: list[str] = []
    policy.validate(
        StackValidationArgs(list(resources)), lambda message, urn: found.append(message)
    )
    return found


def test_the_rule_is_advisory_and_in_the_pack():
    assert "namespace-isolated" in ADVISORY


def test_a_namespace_with_a_default_deny_policy_and_a_quota_passes():
    assert messages(namespace("demo"), network_policy("demo", DENY_ALL), quota("demo")) == []


def test_a_bare_namespace_gets_one_line_for_each_missing_guard():
    found = messages(namespace("demo"))

    assert len(found) == 2
    assert "Namespace 'demo': no NetworkPolicy" in found[0] and "networkPolicy true" in found[0]
    assert "Namespace 'demo': no ResourceQuota" in found[1] and "quota true" in found[1]


def test_a_policy_that_selects_some_pods_or_lets_traffic_in_is_no_default_deny():
    some_pods = {**DENY_ALL, "podSelector": {"matchLabels": {"app": "hello-api"}}}
    lets_in = {**DENY_ALL, "ingress": [{"from": [{"podSelector": {}}]}]}
    egress_only = {"podSelector": {}, "policyTypes": ["Egress"]}
    for spec in (some_pods, lets_in, egress_only):
        found = messages(namespace("demo"), network_policy("demo", spec), quota("demo"))
        assert len(found) == 1 and "no NetworkPolicy" in found[0], spec


def test_the_guards_of_another_namespace_do_not_count():
    found = messages(namespace("demo"), network_policy("other", DENY_ALL), quota("other"))

    assert len(found) == 2


def test_a_policy_whose_namespace_is_not_known_yet_does_not_count_nor_fail():
    found = messages(namespace("demo"), network_policy(UNKNOWN, DENY_ALL), quota("demo"))

    assert len(found) == 1 and "no NetworkPolicy" in found[0]

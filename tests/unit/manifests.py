"""Field-by-field comparison of Kubernetes objects (nested dicts and lists)."""

from typing import Any, NamedTuple

MISSING = "<missing>"


class Difference(NamedTuple):
    path: str
    expected: Any
    actual: Any


def differences(expected: Any, actual: Any, path: str = "") -> list[Difference]:
    """Where `actual` lacks a field of `expected` or holds another value.

    Objects are compared key by key (extra keys in `actual` are allowed); lists must have the
    same length and are compared item by item; anything else must be equal.
    """
    if isinstance(expected, dict) and isinstance(actual, dict):
        return [
            difference
            for key, value in expected.items()
            for difference in differences(value, actual.get(key, MISSING), f"{path}.{key}")
        ]
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            difference
            for index, (item, actual_item) in enumerate(zip(expected, actual, strict=True))
            for difference in differences(item, actual_item, f"{path}[{index}]")
        ]
    return [] if expected == actual else [Difference(path, expected, actual)]


def changed_paths(before: Any, after: Any) -> set[str]:
    """The paths of the fields that differ between two objects, in either direction."""
    return {d.path for d in differences(before, after) + differences(after, before)}


def dependencies(mocks: Any, kind: str, logical_name: str) -> set[str]:
    """What the object (of a type ending in `kind`) waits for, as `Kind/logical-name`."""
    (request,) = [
        r
        for (typ, name), r in mocks.requests.items()
        if name == logical_name and typ.endswith(f":{kind}")
    ]
    return {kind_and_name(urn) for urn in request.dependencies}


def kind_and_name(urn: str) -> str:
    """`Deployment/hello` for `urn:pulumi:...$kubernetes:apps/v1:Deployment::hello`."""
    qualified_type, name = urn.rsplit("::", 1)
    return f"{qualified_type.rsplit(':', 1)[1]}/{name}"

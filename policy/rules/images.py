"""Images are pinned: a deployment must run the same bits tomorrow as today. `:latest` and an
untagged name (which means `:latest`) change under the same name; a version tag or a digest
does not (a digest pins the content itself)."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import EnforcementLevel

from .objects import Workload, field
from .policies import workload_policy


def unpinned_reason(image: object) -> str | None:
    """Why an image reference is not pinned, or None when it has a digest or a version tag."""
    if not isinstance(image, str) or not image:
        return "has no image"
    if "@" in image:
        return None
    # A registry's port (`registry:5000/app`) also has a colon: only the last path part counts.
    last_part = image.rsplit("/", 1)[-1]
    _, colon, tag = last_part.partition(":")
    if not colon or not tag:
        return f"uses image '{image}' without a tag, which means :latest"
    if tag == "latest":
        return f"uses image '{image}', whose tag :latest moves"
    return None


def pinned_images(workload: Workload) -> Iterator[str]:
    for container in workload.containers():
        reason = unpinned_reason(field(container.spec, "image"))
        if reason:
            yield (
                f"{workload.label}: {container.label} {reason}. Fix: set "
                f"{container.path}.image to a version tag (name:1.2.3) or a digest "
                f"(name@sha256:...)."
            )


POLICIES = [
    workload_policy(
        "image-pinned-by-tag-or-digest",
        "Every container image is pinned by a version tag or a digest "
        "(no :latest, no untagged image).",
        EnforcementLevel.MANDATORY,
        pinned_images,
    ),
]

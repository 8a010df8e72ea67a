"""After every other test: the user's demo is exactly as it was before the suite. CI deploys it
first (`.ci/run` runs scripts/demo.sh), so there the check is a real `pulumi preview --refresh`
of a deployed stack."""

from __future__ import annotations

import os

import pytest

from tests.users_demo import STACK, UsersDemo, pulumi, snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.after_all]


def test_the_users_demo_is_exactly_as_before_the_suite(users_demo_before: UsersDemo) -> None:
    after = snapshot()
    if os.environ.get("CI"):
        assert after.deployed, "CI deploys the demo (scripts/demo.sh) before the suite"

    assert after == users_demo_before
    if after.deployed:
        preview = pulumi("preview", "--stack", STACK, "--refresh", "--expect-no-changes",
                         check=False)  # fmt: skip
        assert preview.returncode == 0, preview.stdout + preview.stderr

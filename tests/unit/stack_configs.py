"""Stack configs for the tests of demo_orq.config, and what `load` refuses of them."""

from collections.abc import Mapping

import pytest

from demo_orq.config import ConfigError, StackConfigError, load

CONTEXT = {"context": "kind-demo-orq"}


def refusals(values: Mapping[str, str]) -> list[ConfigError]:
    """Every value that `load` refuses, in its order."""
    with pytest.raises(StackConfigError) as raised:
        load(values)
    return list(raised.value.errors)


def refusal(values: Mapping[str, str]) -> ConfigError:
    """The one value that `load` refuses."""
    (error,) = refusals(values)
    return error

"""The stack config (`demo-orq:*` keys), read and checked before any resource is registered.

Plain Python: `load` takes the raw config strings, so it is tested without Pulumi's runtime.
What each key is (its type, default, what it accepts, its strategies) is the settings table's
(demo_orq/settings), made of HelloAppArgs' own rules and defaults. Every value refused is
reported at once, one line each, naming the key.

A key of another strategy than the stack's is refused unless it is at its default (Pulumi hands
every declared key to the program, at its default when it is not set): kept and ignored, a stale
`canaryWeight` would come back unseen the day the stack switches to Canary.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components import HelloAppArgs, InvalidArgsError
from components.field_paths import build

from . import facts
from .settings import DEFAULT_STRATEGY, KEY_OF_FIELD, KEYS, SETTINGS, STRATEGY_KEY, Setting, spoken
from .settings.readers import config_text


class ConfigError(ValueError):
    """A stack config value the program refuses: the key, the value and what is accepted, or
    `reason` when that says more."""

    def __init__(self, key: str, value: str | None, accepted: str, reason: str = "") -> None:
        self.key = key
        self.value = value
        self.accepted = accepted
        shown = "not set" if value is None else repr(value)
        said = reason or f"(accepted: {accepted})"
        super().__init__(f"invalid stack config {facts.PROJECT}:{key}: {shown} {said}")


class StackConfigError(ValueError):
    """Every value of a stack's config that the program refuses, one line each."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class DemoConfig:
    """The checked stack config."""

    context: str
    """Context of the kubeconfig to deploy to: always explicit, never the current one."""

    kubeconfig: str | None
    """Path of the kubeconfig file; None lets the provider use $KUBECONFIG or ~/.kube/config."""

    app: HelloAppArgs
    """What to deploy, and its objectives (`app.slo`)."""


SECRET_KEYS = ("message", "appSecrets")
"""The keys that may be set with `pulumi config set --secret`: the program keeps them secret."""
HIDDEN = "[secret]"


def load(values: Mapping[str, str], secret_keys: Collection[str] = ()) -> DemoConfig:
    """The config from the stack's `demo-orq:*` values, keyed without the `demo-orq:` prefix;
    `secret_keys` are those set as secrets.

    Raises StackConfigError with every key that is unknown, missing, not accepted, or of another
    strategy than the stack's; no error ever shows a secret's value.
    """
    shown = {key: HIDDEN if key in secret_keys else value for key, value in values.items()}
    errors = [*unknown_keys(shown), *secret_keys_refused(secret_keys), *missing_keys(values),
              *plain_secrets(values, secret_keys)]  # fmt: skip
    parsed: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.key in values:
            try:
                parsed[setting.key] = read(setting, values[setting.key], shown[setting.key])
            except ConfigError as error:
                errors.append(error)
    strategy = parsed.get(STRATEGY_KEY, DEFAULT_STRATEGY)
    if STRATEGY_KEY in parsed or STRATEGY_KEY not in values:
        errors += other_strategies_keys(parsed, shown, strategy)
    if errors:
        raise StackConfigError(errors)
    return DemoConfig(
        context=parsed["context"],
        kubeconfig=parsed.get("kubeconfig"),
        app=app_args(parsed, shown, strategy, secret_message="message" in secret_keys),
    )


def unknown_keys(shown: Mapping[str, str]) -> list[ConfigError]:
    accepted = f"only the keys {', '.join(KEYS)}"
    return [ConfigError(key, value, accepted) for key, value in shown.items() if key not in KEYS]


def secret_keys_refused(secret_keys: Collection[str]) -> list[ConfigError]:
    accepted = f"a plain value: only {spoken(SECRET_KEYS)} may be secrets"
    return [
        ConfigError(key, HIDDEN, accepted)
        for key in secret_keys
        if key in KEYS and key not in SECRET_KEYS
    ]


MUST_BE_SECRET = ("appSecrets",)
"""The keys whose values must be set as secrets (or be empty)."""


def plain_secrets(values: Mapping[str, str], secret_keys: Collection[str]) -> list[ConfigError]:
    """A value meant to be secret but stored in plain text in the stack's file: refused, without
    showing it."""
    accepted = "values set as secrets: pulumi config set --secret --path appSecrets.<NAME> <value>"
    return [
        ConfigError(key, HIDDEN, accepted)
        for key in MUST_BE_SECRET
        if key in values and key not in secret_keys and values[key].strip() not in ("", "{}")
    ]


def missing_keys(values: Mapping[str, str]) -> list[ConfigError]:
    return [
        ConfigError(setting.key, None, setting.accepted)
        for setting in SETTINGS
        if setting.required and setting.key not in values
    ]


def read(setting: Setting, raw: str, shown: str) -> Any:
    """The typed value of a key, or ConfigError when it cannot be read or is not accepted."""
    try:
        value = setting.reader.parse(raw)
    except ValueError:
        raise ConfigError(setting.key, shown, setting.accepted) from None
    if not setting.rule.accepts(value):
        raise ConfigError(setting.key, shown, setting.accepted)
    return value


def other_strategies_keys(
    parsed: Mapping[str, Any], shown: Mapping[str, str], strategy: str
) -> list[ConfigError]:
    """The keys set away from their default that `strategy` does not use."""
    return [
        other_strategy_error(setting, shown[setting.key], strategy)
        for setting in SETTINGS
        if setting.key in parsed
        and not setting.applies_to(strategy)
        and parsed[setting.key] != setting.default
    ]


def other_strategy_error(setting: Setting, shown: str, strategy: str) -> ConfigError:
    return ConfigError(
        setting.key,
        shown,
        f"its default ({setting.default_text!r}) with the strategy {strategy}",
        reason=f"is a {spoken(setting.strategies)} setting; strategy is {strategy} "
        f"(remove it: pulumi config rm {setting.key})",
    )


def app_args(
    parsed: Mapping[str, Any], shown: Mapping[str, str], strategy: str, secret_message: bool
) -> HelloAppArgs:
    """HelloAppArgs from the keys read; StackConfigError with each problem that binds several
    values (an idle color bigger than the live one, two Services on one node port)."""
    fields: dict[str, object] = {
        setting.field: parsed[setting.key]
        for setting in SETTINGS
        if setting.field and setting.key in parsed and setting.applies_to(strategy)
    }
    fields["secret_message"] = secret_message
    try:
        return build(strategy, fields)
    except InvalidArgsError as refused:
        errors = []
        for problem in refused.problems:
            key = KEY_OF_FIELD.get(problem.field, problem.field)
            value = shown.get(key, config_text(problem.value))
            errors.append(ConfigError(key, value, problem.accepted))
        raise StackConfigError(errors) from None

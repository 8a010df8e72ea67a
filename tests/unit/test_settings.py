"""The settings table: every key's default, accepted values and strategies are the component's
own, and the files made from it (Pulumi.yaml's config block, docs/configuration.md's table) are
exactly as the table makes them."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from components.field_paths import default_of, rule_of, strategies_with
from demo_orq.facts import PROJECT_DIR
from demo_orq.settings import KEY_OF_FIELD, SETTINGS, keys_of_other_strategies
from demo_orq.settings.files import FILES, WRITE_COMMAND, ConfigurationDoc, PulumiYaml, yaml_string
from demo_orq.settings.readers import config_text


@pytest.mark.parametrize("generated", FILES, ids=lambda generated: generated.path.name)
def test_the_files_made_from_the_table_were_not_edited_by_hand(generated):
    current = generated.read()

    assert generated.made(current) == current, f"run {WRITE_COMMAND}"


def test_a_hand_edit_of_a_made_part_is_caught():
    pulumi_yaml = next(each for each in FILES if isinstance(each, PulumiYaml))
    reference = next(each for each in FILES if isinstance(each, ConfigurationDoc))
    edited_yaml = pulumi_yaml.read().replace("default: 3\n", "default: 4\n")
    edited_reference = reference.read().replace("| `replicas` | integer | `3` |", "| `x` |")

    assert pulumi_yaml.made(edited_yaml) != edited_yaml
    assert reference.made(edited_reference) != edited_reference


def test_what_is_not_made_from_the_table_is_kept():
    reference = next(each for each in FILES if isinstance(each, ConfigurationDoc))
    edited = reference.read().replace("# Configuration\n", "# Settings\n")

    assert reference.made(edited) == edited


def test_the_settings_take_their_defaults_rules_and_strategies_from_the_component():
    for setting in SETTINGS:
        if setting.field is None:
            continue
        assert setting.strategies == strategies_with(setting.field), setting.key
        if setting.own_rule is None:
            assert setting.rule is rule_of(setting.field), setting.key
        if not setting.required:
            assert setting.default == default_of(setting.field), setting.key


def test_each_field_is_set_by_one_key_at_most():
    fields = [setting.field for setting in SETTINGS if setting.field]

    assert len(fields) == len(set(fields)) == len(KEY_OF_FIELD)


def test_a_default_reads_back_into_itself():
    for setting in SETTINGS:
        if setting.default_text is not None:
            assert setting.reader.parse(setting.default_text) == setting.default, setting.key


def test_pulumi_yaml_declares_each_default_as_pulumi_hands_it_to_the_program():
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text(encoding="utf-8"))

    for setting in SETTINGS:
        declared = document["config"][setting.key]
        assert declared["type"] == setting.reader.pulumi_type, setting.key
        if setting.required:
            assert "default" not in declared, setting.key
        else:
            assert config_text(declared["default"]) == setting.default_text, setting.key


@pytest.mark.parametrize(
    "text", ["", "1", "99.9", "true", "no", "null", "a: b", "a #b", "x:", '"q"', "Hola 👋", "-x"]
)
def test_a_yaml_string_reads_back_as_the_same_string(text):
    assert yaml.safe_load(f"key: {yaml_string(text)}") == {"key": text}


def test_the_keys_of_other_strategies_are_those_it_does_not_use():
    assert keys_of_other_strategies("RollingUpdate") == [
        "liveColor", "previewNodePort", "blueMessage", "blueImage", "greenMessage", "greenImage",
        "blueConfig", "greenConfig", "idleReplicas", "canaryMessage", "canaryImage",
        "canaryConfig", "canaryWeight", "canaryNodePort",
        "gateSeconds", "gateMinSuccessPercent", "gateMaxP99Ms", "gateSource", "gateMinRequests",
    ]  # fmt: skip
    assert keys_of_other_strategies("Recreate") == [
        "maxSurge", "maxUnavailable", *keys_of_other_strategies("RollingUpdate"),
    ]  # fmt: skip
    assert "gateSeconds" not in keys_of_other_strategies("Canary")
    assert "liveColor" in keys_of_other_strategies("Canary")
    assert "canaryWeight" in keys_of_other_strategies("BlueGreen")


def test_the_command_prints_the_keys_of_other_strategies_one_a_line():
    printed = subprocess.run(
        [sys.executable, "-m", "demo_orq.settings", "--keys-of-other-strategies", "Canary"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert printed.splitlines() == keys_of_other_strategies("Canary")


def test_the_command_checks_the_files_and_refuses_an_unknown_strategy():
    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "demo_orq.settings", *arguments]
        return subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)

    assert run("--check").returncode == 0
    refused = run("--keys-of-other-strategies", "Rainbow")
    assert refused.returncode == 2
    assert "Rainbow" in refused.stderr

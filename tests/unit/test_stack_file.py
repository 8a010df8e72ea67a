"""Pulumi.<stack>.yaml with its config replaced as a whole, and put back byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from demo_orq.stack_file import (
    StackFileError,
    dump,
    put_back,
    read_stack_file,
    with_config,
    write_config,
)
from tests.unit.file_backend import SALT, SECRET_MESSAGE, SECRET_TOKEN, STACK_FILE

RECORDED = {
    "demo-orq:context": "demo-orq",
    "demo-orq:message": SECRET_MESSAGE,
    "demo-orq:replicas": "3",
    "demo-orq:smokeTest": "true",
    "demo-orq:pdbMinAvailable": "",
    "demo-orq:appConfig": {"APP_MODE": "prod", "N": 5},
    "demo-orq:appSecrets": {"API_TOKEN": SECRET_TOKEN},
    "demo-orq:blueConfig": {},
    "demo-orq:canaryMessage": "Hola desde K8s v2 🚀 " + "con un texto largo, " * 8,
}


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(STACK_FILE, encoding="utf-8")
    return path


def test_the_config_is_written_as_recorded_and_every_other_key_kept(stack_file: Path) -> None:
    write_config(read_stack_file(stack_file), RECORDED)

    written = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    assert list(written) == ["encryptionsalt", "environment", "config"]
    assert written["encryptionsalt"] == SALT
    assert written["environment"] == ["shared-env"]
    assert written["config"] == RECORDED
    assert list(written["config"]) == list(RECORDED)


def test_secrets_are_written_as_pulumi_writes_them(stack_file: Path) -> None:
    write_config(read_stack_file(stack_file), RECORDED)

    text = stack_file.read_text(encoding="utf-8")
    assert f"  demo-orq:message:\n    secure: {SECRET_MESSAGE['secure']}\n" in text
    assert (
        f"  demo-orq:appSecrets:\n    API_TOKEN:\n      secure: {SECRET_TOKEN['secure']}\n" in text
    )
    assert "Hola desde K8s v2 🚀 con" in text, "not escaped"
    assert len([line for line in text.splitlines() if "con un texto largo" in line]) == 1


def test_texts_that_look_like_numbers_or_booleans_stay_texts() -> None:
    config = {"demo-orq:replicas": "3", "demo-orq:smokeTest": "true", "demo-orq:x": "",
              "demo-orq:n": 5, "demo-orq:on": True}  # fmt: skip
    assert yaml.safe_load(dump({"config": config}))["config"] == config


def test_a_file_without_config_gets_one_after_its_other_keys(tmp_path: Path) -> None:
    document = {"secretsprovider": "awskms://alias/x", "encryptedkey": "abc"}
    assert list(with_config(document, RECORDED)) == ["secretsprovider", "encryptedkey", "config"]


def test_put_back_restores_the_exact_bytes(stack_file: Path) -> None:
    before = stack_file.read_bytes()
    read = read_stack_file(stack_file)
    write_config(read, RECORDED)
    assert stack_file.read_bytes() != before

    put_back(read)

    assert stack_file.read_bytes() == before  # comments and quoting too


def test_a_stack_file_that_was_not_there_is_removed_again(tmp_path: Path) -> None:
    read = read_stack_file(tmp_path / "Pulumi.new.yaml")
    write_config(read, {"demo-orq:replicas": "3"})

    put_back(read)

    assert not (tmp_path / "Pulumi.new.yaml").exists()


@pytest.mark.parametrize(
    "document, passphrase",
    [
        ({"encryptionsalt": SALT}, True),
        ({"encryptionsalt": SALT, "secretsprovider": "passphrase"}, True),
        ({"secretsprovider": "awskms://alias/x", "encryptedkey": "abc"}, False),
        ({}, False),
    ],
)
def test_a_passphrase_is_needed_when_the_file_holds_its_salt(
    tmp_path: Path, document: dict[str, str], passphrase: bool
) -> None:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert read_stack_file(path).uses_passphrase() is passphrase


@pytest.mark.parametrize("text", ["- a list\n", "config: [\n"])
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StackFileError, match=r"^Pulumi\.t\.yaml is not"):
        read_stack_file(path)

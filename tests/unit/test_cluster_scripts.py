"""The local cluster's scripts without a cluster: `up` runs the steps of cluster/steps/ in the
order of the folder's listing and every step file is one of them; every script parses and
shellcheck finds nothing; Python reads cluster/settings.env as bash does.

cluster.sh is only sourced here (that defines its functions and runs nothing), with every step
and everything that could touch the machine replaced by a line that names it, and the state,
cache and kubeconfig in a temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from components import GatewayArgs, gateway, prometheus
from components.defaults import FRONTEND_IMAGE, IMAGE, JOBS_IMAGE
from components.hello_app import ALERT_RULES_LABEL
from demo_orq.cluster_settings import (
    PROMETHEUS_PROXY,
    SETTINGS,
    SETTINGS_FILE,
    SettingsError,
    promtool_path,
    read_settings,
)
from demo_orq.facts import PROJECT_DIR
from tests.cluster.helpers import COMPONENTS

CLUSTER_DIR = PROJECT_DIR / "cluster"
STEP_FILES = sorted(path.name for path in (CLUSTER_DIR / "steps").iterdir())
STEP_FILE = re.compile(r"(?P<number>\d\d)-(?P<name>[a-z0-9]+(-[a-z0-9]+)*)\.sh")
SCRIPTS = sorted(CLUSTER_DIR.rglob("*.sh"))
STUBS = r"""
for fn in $(compgen -A function step_); do eval "$fn() { echo $fn; }"; done
for fn in start_component stop_components stop_all clean_host kill_leftovers import_images \
          update_kube_apiserver write_kubeconfig; do
  eval "$fn() { echo \"$fn \$*\"; }"
done
"""


def step_function(file_name: str) -> str:
    match = STEP_FILE.fullmatch(file_name)
    assert match, f"cluster/steps/{file_name} is not named NN-name.sh"
    return "step_" + match["name"].replace("-", "_")


def without_demo_orq_settings(**extra: str) -> dict[str, str]:
    """This environment without the DEMO_ORQ_* overrides of lib.sh, plus `extra`."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("DEMO_ORQ_")}
    return {**kept, **extra}


def sourced_cluster_sh(
    tmp_path: Path, script: str, cluster_dir: Path = CLUSTER_DIR
) -> subprocess.CompletedProcess[str]:
    """`script` run by bash after sourcing cluster.sh, with the stubs."""
    env = without_demo_orq_settings(
        HOME=str(tmp_path),
        DEMO_ORQ_STATE=str(tmp_path / "state"),
        DEMO_ORQ_CACHE=str(tmp_path / "cache"),
        DEMO_ORQ_KUBECONFIG=str(tmp_path / "kubeconfig"),
    )
    prelude = f'source "{cluster_dir}/cluster.sh"\n{STUBS}\n'
    return subprocess.run(
        ["bash", "-c", prelude + script], env=env, capture_output=True, text=True, timeout=60
    )


def test_every_file_of_the_steps_folder_is_a_numbered_step_with_a_number_of_its_own():
    assert [name for name in STEP_FILES if not STEP_FILE.fullmatch(name)] == []
    assert len({name[:2] for name in STEP_FILES}) == len(STEP_FILES)


@pytest.mark.parametrize("file_name", STEP_FILES)
def test_each_step_file_defines_its_step_function_and_no_other_step(file_name: str):
    text = (CLUSTER_DIR / "steps" / file_name).read_text(encoding="utf-8")
    assert re.findall(r"^(step_\w+)\(\)", text, flags=re.MULTILINE) == [step_function(file_name)]


def test_up_runs_every_step_in_the_order_of_the_folder_listing(tmp_path: Path):
    up = sourced_cluster_sh(tmp_path, "is_up() { return 1; }\ncmd_up")

    assert up.returncode == 0, up.stderr
    assert up.stdout.splitlines() == [step_function(name) for name in STEP_FILES]
    assert re.search(
        rf"\] cluster up in 0s; kubeconfig {tmp_path}/kubeconfig "
        rf"\(context {SETTINGS['KUBE_CONTEXT']}\)\n",
        up.stderr,
    ), up.stderr


def test_up_on_a_healthy_cluster_runs_no_step_and_imports_the_images_a_newer_checkout_added(
    tmp_path: Path,
):
    """It also brings the API server to this checkout's flags (update_kube_apiserver: a
    restart only when they differ, the Secrets rewritten once per encryption key)."""
    kube_bin = tmp_path / "cache" / "kubernetes" / SETTINGS["KUBE_VERSION"] / "bin"
    kube_bin.mkdir(parents=True)
    (kube_bin / "kubectl").write_text("#!/bin/sh\n")
    (kube_bin / "kubectl").chmod(0o755)
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "build-images.sh").write_text("#!/bin/sh\necho build-images.sh\n")
    (scripts / "build-images.sh").chmod(0o755)

    up = sourced_cluster_sh(tmp_path, f'is_up() {{ return 0; }}\nCLUSTER_DIR="{scripts}"\ncmd_up')

    assert up.returncode == 0, up.stderr
    assert up.stdout.splitlines() == [
        "build-images.sh",
        "import_images ",
        "update_kube_apiserver ",
        f"write_kubeconfig {tmp_path}/kubeconfig admin",
    ]
    node = SETTINGS["NODE_NAME"]
    assert f"] cluster already up (node {node} Ready, DNS and metrics API answer)" in up.stderr


def test_the_components_are_the_steps_that_start_a_process_in_their_order(tmp_path: Path):
    listed = sourced_cluster_sh(tmp_path, 'printf "%s\\n" "${COMPONENTS[@]}"')

    assert listed.stdout.splitlines() == list(COMPONENTS), listed.stderr
    for component in COMPONENTS:
        assert f"-{component}.sh" in " ".join(STEP_FILES)


def test_a_step_file_without_its_step_function_is_refused(tmp_path: Path):
    copy = tmp_path / "cluster"
    shutil.copytree(CLUSTER_DIR, copy)
    (copy / "steps" / "99-forgotten.sh").write_text("step_other() { :; }\n")

    sourced = sourced_cluster_sh(tmp_path, "echo sourced", cluster_dir=copy)

    assert sourced.returncode == 1
    assert sourced.stdout == ""
    assert sourced.stderr == (
        "ERROR: cluster/steps/99-forgotten.sh defines no function step_forgotten\n"
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(CLUSTER_DIR)))
def test_every_cluster_script_parses(script: Path):
    parsed = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert (parsed.returncode, parsed.stderr) == (0, "")


def test_shellcheck_finds_nothing_in_the_cluster_scripts():
    executable = shutil.which("shellcheck")
    assert executable, "shellcheck is not on PATH: run toolchain/ensure.sh"
    names = [str(path.relative_to(PROJECT_DIR)) for path in [*SCRIPTS, SETTINGS_FILE]]
    checked = subprocess.run(
        [executable, "-x", *names], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120
    )
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_python_reads_every_setting_as_bash_does():
    script = f'source "{CLUSTER_DIR}/lib.sh"; for n; do printf "%s=%s\\n" "$n" "${{!n}}"; done'
    printed = subprocess.run(
        ["bash", "-c", script, "bash", *SETTINGS],
        env=without_demo_orq_settings(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert dict(line.split("=", 1) for line in printed.stdout.splitlines()) == SETTINGS
    assert {"POD_CIDR", "SERVICE_CIDR", "NODE_IP", "ECHO_IMAGE", "APISERVER_PORT"} <= set(SETTINGS)


def test_lib_sh_writes_no_value_of_the_settings_file_again():
    """Only an override of a setting by a DEMO_ORQ_* variable: NAME="${DEMO_ORQ_X:-$NAME}"."""
    lib = (CLUSTER_DIR / "lib.sh").read_text(encoding="utf-8")
    assigned = re.findall(r"^\s*([A-Z][A-Z0-9_]*)=(.*)$", lib, flags=re.MULTILINE)
    again = [
        f"{name}={value}"
        for name, value in assigned
        if name in SETTINGS and not re.fullmatch(rf'"\$\{{DEMO_ORQ_[A-Z_]+:-\${name}\}}"', value)
    ]
    assert again == []


def test_the_overrides_of_lib_sh_still_apply():
    script = f'source "{CLUSTER_DIR}/lib.sh"; echo "$KUBE_VERSION $GO_TOOLCHAIN_FOR_KUBE"'
    env = without_demo_orq_settings(DEMO_ORQ_KUBE_VERSION="v9.9.9", DEMO_ORQ_GO_TOOLCHAIN="go9")
    printed = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    assert printed.stdout == "v9.9.9 go9\n"


def test_the_cluster_imports_the_echo_image_the_demo_deploys():
    # The component's default has no registry, which means Docker Hub to the kubelet.
    assert SETTINGS["ECHO_IMAGE"] == f"docker.io/{IMAGE}", (
        "cluster/settings.env ECHO_IMAGE and components/defaults.py IMAGE must name one image"
    )


@pytest.mark.parametrize(("key", "image"), [("JOBS_IMAGE", JOBS_IMAGE),
                                             ("FRONTEND_IMAGE", FRONTEND_IMAGE)])  # fmt: skip
def test_the_cluster_imports_the_images_the_component_runs(key, image):
    assert SETTINGS[key] == image, (
        f"cluster/settings.env {key} and components/defaults.py {key} must name one image"
    )


def test_the_components_gateway_defaults_are_the_local_gateway_add_ons():
    listener_ports = (gateway.HTTP_LISTENER_PORT, gateway.HTTPS_LISTENER_PORT)
    assert listener_ports == (int(SETTINGS["GATEWAY_HTTP_PORT"]),
                              int(SETTINGS["GATEWAY_HTTPS_PORT"]))  # fmt: skip
    defaults = GatewayArgs()
    assert defaults.class_name == SETTINGS["GATEWAY_CLASS"]
    assert defaults.port == int(SETTINGS["GATEWAY_HTTPS_NODE_PORT"])


def test_the_components_prometheus_is_the_local_prometheus_add_on():
    """The component reads and feeds the add-on without depending on the cluster's settings."""
    template = CLUSTER_DIR / "addons" / "prometheus" / "config" / "prometheus.yml"
    found = re.search(r"^  scrape_interval: (\S+)$", template.read_text(), re.MULTILINE)
    scrape_interval = found.group(1) if found else None
    ours = (prometheus.NAMESPACE, f"{prometheus.SCRAPE_SECONDS}s", ALERT_RULES_LABEL)
    assert ours == (
        SETTINGS["PROMETHEUS_NAMESPACE"],
        scrape_interval,
        {SETTINGS["PROMETHEUS_RULES_LABEL"]: "true"},
    )


def test_no_python_file_writes_the_clusters_addresses_or_names_again():
    values = [
        SETTINGS[name]
        for name in ("POD_CIDR", "SERVICE_CIDR", "NODE_IP", "SERVICE_API_IP", "DNS_SERVICE_IP",
                     "NODE_NAME", "BRIDGE", "ECHO_IMAGE", "NETCHECK_IMAGE", "SLOW_ECHO_IMAGE")
    ]  # fmt: skip
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    copies = [
        f"{name}: {value}"
        for name in tracked
        if (PROJECT_DIR / name).is_file()
        for value in values
        if value in (PROJECT_DIR / name).read_text(encoding="utf-8")
    ]
    assert copies == []


@pytest.mark.parametrize(
    "line",
    ['IMAGE="a b"', "IMAGE=a b", "URL=https://$NODE_IP", "X=`id`", "lower=1", "A=b # note", " A=b"],
)
def test_the_reader_refuses_a_line_that_bash_could_read_otherwise(tmp_path: Path, line: str):
    settings = tmp_path / "settings.env"
    settings.write_text(f"# a comment\n\nA=1\n{line}\n")
    with pytest.raises(SettingsError, match=f"{settings}:4: .*accepted: NAME=value"):
        read_settings(settings)


def test_the_reader_refuses_a_setting_written_twice(tmp_path: Path):
    settings = tmp_path / "settings.env"
    settings.write_text("A=1\nA=2\n")
    with pytest.raises(SettingsError, match=r":2: A is set twice"):
        read_settings(settings)


@pytest.mark.parametrize("cache", [None, "/tmp/elsewhere"])
def test_python_finds_promtool_and_prometheus_api_where_bash_puts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: str | None
):
    extra = {"HOME": str(tmp_path)} | ({"DEMO_ORQ_CACHE": cache} if cache else {})
    script = (
        f'source "{CLUSTER_DIR}/lib.sh"; source "{CLUSTER_DIR}/lib/prometheus.sh"; '
        'echo "$PROMTOOL"; echo "$PROMETHEUS_PROXY"'
    )
    printed = subprocess.run(["bash", "-c", script], env=without_demo_orq_settings(**extra),
                             capture_output=True, text=True, check=True)  # fmt: skip
    monkeypatch.setenv("HOME", str(tmp_path))
    if cache:
        monkeypatch.setenv("DEMO_ORQ_CACHE", cache)
    else:
        monkeypatch.delenv("DEMO_ORQ_CACHE", raising=False)
    assert printed.stdout.splitlines() == [str(promtool_path()), PROMETHEUS_PROXY]
    assert promtool_path().parts[-3:] == ("prometheus", SETTINGS["PROMETHEUS_VERSION"], "promtool")

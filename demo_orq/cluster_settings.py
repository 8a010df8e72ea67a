"""The local cluster's settings (addresses, names, images, ports), read from cluster/settings.env,
the one file where they are written; cluster/lib.sh sources the same file.

What lib.sh computes from them (APISERVER_URL, the add-ons' images from their go.mod) and what a
DEMO_ORQ_* variable overrides (the state dir, the cache) are bash's alone, but for the two that
Python needs, computed here as lib.sh does (a unit test compares them): promtool's path in the
cache and Prometheus' API through the API server.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

from .facts import PROJECT_DIR

SETTINGS_FILE: Final = PROJECT_DIR / "cluster" / "settings.env"

_ASSIGNMENT = re.compile(r"(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>[^\s\"'`$\\#;&|<>(){}]*)")
"""NAME=value with a value bash reads as it is written: no spaces, quotes, $ or shell syntax."""


class SettingsError(ValueError):
    """A line of the settings file that both languages would not read alike."""


def read_settings(path: Path = SETTINGS_FILE) -> dict[str, str]:
    """Every NAME=value of `path`, in order; blank and `#` lines are skipped."""
    settings: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        assignment = _ASSIGNMENT.fullmatch(line)
        if assignment is None:
            raise SettingsError(
                f"{path}:{number}: {line!r} (accepted: NAME=value, the value without spaces, "
                "quotes, $ or other shell syntax; or a # comment line)"
            )
        name, value = assignment["name"], assignment["value"]
        if name in settings:
            raise SettingsError(f"{path}:{number}: {name} is set twice")
        settings[name] = value
    return settings


SETTINGS: Final = read_settings()

KUBE_VERSION: Final = SETTINGS["KUBE_VERSION"]
NODE_NAME: Final = SETTINGS["NODE_NAME"]
NODE_IP: Final = SETTINGS["NODE_IP"]
POD_CIDR: Final = SETTINGS["POD_CIDR"]
SERVICE_CIDR: Final = SETTINGS["SERVICE_CIDR"]
SERVICE_API_IP: Final = SETTINGS["SERVICE_API_IP"]
"""The `kubernetes` Service's address."""
PAUSE_IMAGE: Final = SETTINGS["PAUSE_IMAGE"]
"""On the node, never pulled: a container of it never answers HTTP."""
ECHO_IMAGE: Final = SETTINGS["ECHO_IMAGE"]
SLOW_ECHO_IMAGE: Final = SETTINGS["SLOW_ECHO_IMAGE"]
"""http-echo that takes SLOW_ECHO_DELAY to answer `/`."""
FAULTY_ECHO_IMAGE: Final = SETTINGS["FAULTY_ECHO_IMAGE"]
"""http-echo whose every FAULTY_ECHO_FAILURE_EVERY-th answer of `/` is a 500."""
BROKEN_ECHO_IMAGE: Final = SETTINGS["BROKEN_ECHO_IMAGE"]
"""http-echo whose every answer of `/` is a 500, while the kubelet's probes pass."""
JOBS_IMAGE: Final = SETTINGS["JOBS_IMAGE"]
"""The app's Jobs (smoke test, daily figures): components/defaults.py JOBS_IMAGE."""
FRONTEND_IMAGE: Final = SETTINGS["FRONTEND_IMAGE"]
"""The app's frontend: components/defaults.py FRONTEND_IMAGE."""
NETCHECK_IMAGE: Final = SETTINGS["NETCHECK_IMAGE"]
"""DNS + HTTP from inside a pod, printed as JSON."""
GATEWAY_HTTP_NODE_PORT: Final = int(SETTINGS["GATEWAY_HTTP_NODE_PORT"])
GATEWAY_HTTPS_NODE_PORT: Final = int(SETTINGS["GATEWAY_HTTPS_NODE_PORT"])
"""The gateway add-on's node ports (cluster/gateway.sh), for HTTP and HTTPS."""
VPA_NAMESPACE: Final = SETTINGS["VPA_NAMESPACE"]
"""Where the VPA add-on's recommender runs (cluster/vpa.sh)."""
VPA_RECOMMENDER_INTERVAL_SECONDS: Final = float(
    SETTINGS["VPA_RECOMMENDER_INTERVAL"].removesuffix("s")
)
"""How often the recommender updates the VerticalPodAutoscalers' recommendations."""
PROMETHEUS_NAMESPACE: Final = SETTINGS["PROMETHEUS_NAMESPACE"]
"""Where the Prometheus add-on runs (cluster/prometheus.sh)."""
PROMETHEUS_PROXY: Final = (
    f"/api/v1/namespaces/{PROMETHEUS_NAMESPACE}/services/prometheus:http/proxy"
)
"""Prometheus' HTTP API through the API server's service proxy (cluster/lib/prometheus.sh):
`kubectl get --raw PROMETHEUS_PROXY + "/api/v1/query?query=up"`."""
PROMETHEUS_RULES_LABEL: Final = SETTINGS["PROMETHEUS_RULES_LABEL"]
"""A ConfigMap labelled PROMETHEUS_RULES_LABEL=true, in any namespace, gives Prometheus its keys
that end in .yaml or .yml as rule files (the add-on's rules loader, within about 5 s)."""


def cache_dir() -> Path:
    """Where the cluster's binaries and images are built: $DEMO_ORQ_CACHE, by default
    ~/.cache/demo-orq (lib.sh CACHE_DIR)."""
    return Path(os.environ.get("DEMO_ORQ_CACHE") or Path.home() / ".cache" / "demo-orq")


def promtool_path() -> Path:
    """promtool of the Prometheus add-on's version, built beside its image by
    `cluster/build-images.sh prometheus` (lib.sh PROMTOOL); absent until then."""
    return cache_dir() / "prometheus" / SETTINGS["PROMETHEUS_VERSION"] / "promtool"

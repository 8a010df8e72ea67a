"""The Prometheus add-on's configuration without a cluster (cluster/addons/prometheus/config/):
the jobs, the interval and the retention of prometheus.yml as cluster/settings.env says, and
recording rules named level:metric:operations whose windows are those docs/prometheus.md lists,
each reading only what its group recorded before it. promtool itself checks both files in
tests/cluster/test_prometheus_addon.py (it is built with the add-on's image).
"""

from __future__ import annotations

import re
import string
from typing import Any

import yaml

from demo_orq.cluster_settings import SETTINGS
from demo_orq.facts import PROJECT_DIR

CONFIG_DIR = PROJECT_DIR / "cluster" / "addons" / "prometheus" / "config"
RECORD = re.compile(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+")
RATE_WINDOWS = ["30s", "5m", "30m", "1h", "6h"]
LATENCY_WINDOWS = ["30s", "5m"]


def prometheus_config() -> Any:
    """prometheus.yml rendered with the settings (as cluster/lib.sh render does)."""
    template = string.Template((CONFIG_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    return yaml.safe_load(template.substitute(SETTINGS))


def rules() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(
        (CONFIG_DIR / "rules.yaml").read_text(encoding="utf-8")
    )["groups"]
    return groups


def test_prometheus_scrapes_every_5_s_the_five_jobs_and_keeps_what_the_settings_say():
    config = prometheus_config()
    assert config["global"]["scrape_interval"] == config["global"]["evaluation_interval"] == "5s"
    jobs = [job["job_name"] for job in config["scrape_configs"]]
    assert jobs == ["prometheus", "apiserver", "kubelet", "cadvisor", "traefik"]
    retention = config["storage"]["tsdb"]["retention"]
    assert retention == {
        "time": SETTINGS["PROMETHEUS_RETENTION_TIME"],
        "size": SETTINGS["PROMETHEUS_RETENTION_SIZE"],
    }
    assert "/etc/prometheus/app-rules/*.yaml" in config["rule_files"]
    assert "/etc/prometheus/config/rules.yaml" in config["rule_files"]


def test_the_recording_rules_are_named_level_metric_operations_for_the_documented_windows():
    records = [rule["record"] for group in rules() for rule in group["rules"]]
    assert [r for r in records if not RECORD.fullmatch(r)] == []
    assert len(records) == len(set(records))
    expected = {f"service:traefik_requests:rate{w}" for w in RATE_WINDOWS}
    expected |= {f"service:traefik_requests_errors:ratio_rate{w}" for w in RATE_WINDOWS}
    for w in LATENCY_WINDOWS:
        expected.add(f"service_le:traefik_request_duration_seconds_bucket:rate{w}")
        expected |= {
            f"service:traefik_request_duration_seconds:{q}_rate{w}" for q in ("p50", "p95", "p99")
        }
    assert set(records) == expected
    docs = (PROJECT_DIR / "docs" / "prometheus.md").read_text(encoding="utf-8")
    for name in ("service:traefik_requests:rateW", "service:traefik_requests_errors:ratio_rateW"):
        assert name in docs


def test_a_rule_reads_only_series_its_group_recorded_before_it():
    """Rules of a group run in order at one timestamp: a recorded series is read after it is
    written, never from another group (evaluated at other times)."""
    for group in rules():
        assert group["interval"] in ("5s", "30s"), group["name"]
        recorded: set[str] = set()
        for rule in group["rules"]:
            used = set(re.findall(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", rule["expr"]))
            assert used <= recorded, (rule["record"], used - recorded)
            recorded.add(rule["record"])

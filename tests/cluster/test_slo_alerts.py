"""The stack's SLO burn-rate alerts (components/metrics.py burn_rate_rules), checked and
evaluated by Prometheus' own rule engine: `promtool check rules`, then `promtool test rules`
over two hours of the gateway's counters. 10% of the requests failing against a 99.9% objective
(100x the budget) pages and opens a ticket; 0.5% (5x, below both burn rates) and 0% stay silent;
so does a budget burnt by another app's Service. promtool is built beside the Prometheus add-on's
image (cluster/build-images.sh prometheus, run here when it is missing)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.metrics import burn_rate_rules, traefik_service
from demo_orq.cluster_settings import promtool_path
from demo_orq.facts import PROJECT_DIR

pytestmark = pytest.mark.cluster

NAMESPACE = "demo"
BACKENDS = ("hello-svc", "hello-svc-canary")
MINUTES = 130


@pytest.fixture(scope="module")
def promtool() -> Path:
    if not promtool_path().is_file():
        built = subprocess.run([str(PROJECT_DIR / "cluster" / "build-images.sh"), "prometheus"],
                               capture_output=True, text=True)  # fmt: skip
        assert built.returncode == 0, built.stderr[-2000:]
    assert promtool_path().is_file(), f"{promtool_path()} missing after the build"
    return promtool_path()


@pytest.fixture
def rules(tmp_path: Path) -> dict[str, Any]:
    text = burn_rate_rules(NAMESPACE, BACKENDS, 99.9)
    (tmp_path / "slo.yaml").write_text(text)
    rules: dict[str, Any] = json.loads(text)
    return rules


def per_minute(ok: int, failed: int, service: str = BACKENDS[0]) -> list[dict[str, str]]:
    label = traefik_service(NAMESPACE, service)
    return [
        {"series": f'traefik_service_requests_total{{service="{label}",code="{code}"}}',
         "values": f"0+{count}x{MINUTES}"}
        for code, count in (("200", ok), ("500", failed))
    ]  # fmt: skip


def expected(rules: dict[str, Any], *severities: str) -> list[dict[str, Any]]:
    alerts = {rule["labels"]["severity"]: rule for rule in rules["groups"][0]["rules"]
              if "alert" in rule}  # fmt: skip
    return [
        {"exp_labels": alerts[s]["labels"], "exp_annotations": alerts[s]["annotations"]}
        for s in severities
    ]


def run_promtool_test(
    promtool: Path, folder: Path, series: list[dict[str, str]], alerts: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    test = {
        "rule_files": ["slo.yaml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": series,
            "alert_rule_test": [{"eval_time": "2h", "alertname": "ErrorBudgetBurn",
                                 "exp_alerts": alerts}],
        }],
    }  # fmt: skip
    (folder / "test.yaml").write_text(yaml.safe_dump(test, allow_unicode=True))
    done = subprocess.run([str(promtool), "test", "rules", "test.yaml"], cwd=folder,
                          capture_output=True, text=True)  # fmt: skip
    print(done.stdout, done.stderr)
    return done


def test_promtool_accepts_the_rules(promtool: Path, rules: dict[str, Any], tmp_path: Path):
    checked = subprocess.run([str(promtool), "check", "rules", "slo.yaml"], cwd=tmp_path,
                             capture_output=True, text=True)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout


def test_ten_percent_of_errors_pages_and_opens_a_ticket(promtool, rules, tmp_path):
    done = run_promtool_test(promtool, tmp_path, per_minute(900, 100),
                             expected(rules, "page", "ticket"))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("ok", "failed"), [(1000, 0), (995, 5)])
def test_no_error_or_a_slow_burn_stays_silent(promtool, rules, tmp_path, ok, failed):
    done = run_promtool_test(promtool, tmp_path, per_minute(ok, failed), [])
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_test_itself_fails_when_the_alert_does_not_fire_as_expected(promtool, rules, tmp_path):
    """The evaluation is real: expecting a page where there is none fails."""
    done = run_promtool_test(promtool, tmp_path, per_minute(1000, 0), expected(rules, "page"))
    assert done.returncode != 0


def test_another_apps_errors_burn_nothing_of_this_ones(promtool, rules, tmp_path):
    done = run_promtool_test(promtool, tmp_path, per_minute(900, 100, "other-svc"), [])
    assert done.returncode == 0, done.stdout + done.stderr

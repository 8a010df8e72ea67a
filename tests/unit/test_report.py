"""The report command (demo_orq.report): its arguments and the files it writes."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import pytest

from demo_orq.report import main, parse_arguments, write
from tests.unit.reports import a_report, synthetic_timeline


def test_the_report_writes_its_figures_and_picture(tmp_path: Path):
    json_path, picture = write(a_report(tmp_path), synthetic_timeline(), tmp_path / "out")
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["probe"]["availability_within_slo"] is True
    assert document["pods"][0]["cpu_millicores"] == 1.0
    assert len(document["timeline"]["seconds"]) == 30
    assert document["timeline"]["marks"][0] == {"t": 10.5, "label": "pulumi started"}
    assert document["picture"] == str(picture)
    assert matplotlib.image.imread(picture).size > 0


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--probe-seconds", "1"], "argument --probe-seconds: '1' (accepted: a number of seconds "
                                   "from 5 to 600)"),
        (["--probe-seconds", "soon"], "argument --probe-seconds: 'soon'"),
        (["--rate", "500"], "argument --rate: '500' (accepted: a number of requests per second "
                            "from 1 to 200)"),
        (["--work-dir", "/nonexistent"], "argument --work-dir: '/nonexistent' is not a folder"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_with_one_line(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert expected in capsys.readouterr().err


def test_defaults_and_a_measured_command(tmp_path: Path):
    options = parse_arguments(["--work-dir", str(tmp_path), "--", "pulumi", "up", "--yes"])
    assert (options.stack, options.probe_seconds, options.rate) == ("dev", 30.0, 20.0)
    assert options.out == tmp_path / ".demo-orq" / "reports" / "dev"
    assert options.command == ["pulumi", "up", "--yes"]

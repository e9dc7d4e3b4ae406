"""``vetcore demo`` on the embedded real data: both cases, every format, the terminal summary."""

from __future__ import annotations

import json

import jsonschema
import pytest

from vetcore.cli import main
from vetcore.demo import CASES
from vetcore.report import json_schema


def test_demo_list(capsys):
    assert main(["demo", "--list"]) == 0
    out = capsys.readouterr().out
    assert "toi5807" in out and "koi608" in out


@pytest.mark.slow
def test_demo_toi5807_writes_every_format(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert main(["demo", "--out", str(out_dir), "--quiet", "--format", "json,html,png,csv,ecsv"]) == 0
    out = capsys.readouterr().out
    assert "V08" in out and "V09" in out
    last = out.strip().splitlines()[-1]  # the disposition comes last; never off target here
    assert last.startswith("disposition: ") and not last.startswith("disposition: off_target")
    report = json.loads((out_dir / "report.json").read_text())
    jsonschema.validate(report, json_schema())
    assert report["target"]["id"] == "TIC 188646744"
    (sector,) = report["sectors"]
    assert sector["label"] == "S83"
    # the shallow candidate is never called off target
    assert all(r["status"] != "fail" for r in sector["results"].values())
    assert report["aggregates"]["V25"]["status"] != "fail"
    assert report["disposition"]["verdict"] != "off_target"
    assert (out_dir / "report.html").stat().st_size > 50_000  # figures embedded
    assert (out_dir / "TIC_188646744_S83.png").exists()


@pytest.mark.slow
def test_demo_koi608_is_off_target(tmp_path, capsys):
    assert main(["demo", "--case", "koi608", "--out", str(tmp_path), "--quiet", "--format", "json"]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["aggregates"]["V25"]["metrics"]["verdict"] == "off_target"
    assert report["sectors"][0]["results"]["V08"]["status"] == "fail"


def test_unknown_case_is_a_usage_error(capsys):
    assert main(["demo", "--case", "nope"]) == 2
    assert "unknown demo case 'nope'" in capsys.readouterr().err


def test_embedded_data_is_small():
    from importlib.resources import files

    total = sum(files("vetcore.demo").joinpath("data", c.filename).stat().st_size for c in CASES.values())
    assert total < 5.5e6

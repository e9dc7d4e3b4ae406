"""The Session behind every entry point: hooks once per process / per target, config checked before data."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from vetcore.batch import run_batch
from vetcore.cli import main
from vetcore.config import Config
from vetcore.errors import ConfigError
from vetcore.plugins import AUTOLOAD_ENV
from vetcore.session import Session
from vetcore.testing import SyntheticStar, make_sectors, save_npz

# A plugin that writes one JSON line per hook call into its own file per process, in the folder named
# by its [plugins.vc_recorder] settings, which it only knows once vetcore_configure has run.
RECORDER = """
import json, os
from pathlib import Path
from vetcore import hookimpl

VETCORE_API = 1
_settings = {}

def _write(record):
    path = Path(_settings["log"]) / f"{os.getpid()}.jsonl"
    with open(path, "a") as stream:
        stream.write(json.dumps(record) + "\\n")

@hookimpl
def vetcore_configure(config):
    _settings.update(config["plugins"]["vc_recorder"])
    _write({"event": "configure", "pid": os.getpid(), "selected": config["selected"]})

@hookimpl
def vetcore_report_finished(report):
    _write({"event": "finished", "pid": os.getpid(), "target": report.target.id, "report": report.to_dict()})
"""

# A check with a bounded parameter, to show range errors at start-up.
BOUNDED = """
from vetcore import Check, CheckResult, Param, hookimpl

@hookimpl
def vetcore_register_checks(register):
    register(Check(id="Z77", title="bounded", run=lambda ctx: CheckResult(status="pass"), params=[
        Param("fraction", 0.5, "a fraction", minimum=0.0, maximum=1.0)]))
"""

STARS = (SyntheticStar(flux=3.0e4), SyntheticStar(east_arcsec=30.0, flux=1.5e4))


@pytest.fixture
def recorder(plugin_dist, monkeypatch, tmp_path):
    """The recording plugin installed (also for spawned workers) and its log folder."""
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    site = plugin_dist("vc_recorder", RECORDER)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    log = tmp_path / "log"
    log.mkdir()
    return log


def records(log: Path) -> list[dict]:
    return [
        json.loads(line) for path in sorted(log.glob("*.jsonl")) for line in path.read_text().splitlines()
    ]


def assert_once_per_process_and_target(log: Path, reports: dict[str, Path]) -> None:
    """One configure in every process that ran anything, one finished per target with the written report."""
    seen = records(log)
    configures = Counter(r["pid"] for r in seen if r["event"] == "configure")
    finished = [r for r in seen if r["event"] == "finished"]
    assert set(configures.values()) == {1}
    assert {r["pid"] for r in finished} <= set(configures)
    assert Counter(r["target"] for r in finished) == dict.fromkeys(reports, 1)
    for record in finished:
        written = json.loads(reports[record["target"]].read_text())
        assert record["report"] == written  # complete when the hook fired, unchanged afterwards
        assert len(written["sectors"]) == 2 and "V25" in written["aggregates"]
        assert set(written["timings"]) >= {"total_s", "sectors_s", "checks_s"}


def make_table(folder: Path, n: int = 3) -> Path:
    rows = ["target,source,period,t0,duration"]
    for i in range(n):
        cases = make_sectors(
            2, stars=STARS, transit_star=i % 2, snr=30, seed=i, target_id=f"T{i}", shape=(9, 9)
        )
        files = [save_npz(c.stamp, folder / f"t{i}_s{c.stamp.sector}.npz").name for c in cases]
        e = cases[0].ephemeris
        rows.append(f"T{i},{';'.join(files)},{e.period},{e.t0},{e.duration_hours}")
    (folder / "candidates.csv").write_text("\n".join(rows) + "\n")
    return folder / "candidates.csv"


def test_vetcore_run_configures_once_and_finishes_once_with_the_full_report(recorder, tmp_path):
    cases = make_sectors(2, stars=STARS, transit_star=0, snr=30, seed=3, target_id="T9", shape=(9, 9))
    files = [str(save_npz(c.stamp, tmp_path / f"s{c.stamp.sector}.npz")) for c in cases]
    config = tmp_path / "vetcore.toml"
    config.write_text(f'[plugins.vc_recorder]\nlog = "{recorder}"\n')
    e = cases[0].ephemeris
    argv = ["run", *files, "--period", str(e.period), "--t0", str(e.t0), "--duration", str(e.duration_hours)]
    out = tmp_path / "out"
    assert (
        main([*argv, "--checks", "V08,V09,V25", "--config", str(config), "--out", str(out), "--quiet"]) == 0
    )
    assert_once_per_process_and_target(recorder, {"T9": out / "report.json"})
    (record,) = [r for r in records(recorder) if r["event"] == "finished"]
    assert "load_s" in record["report"]["timings"]
    assert [r["pid"] for r in records(recorder)] == [os.getpid()] * 2


@pytest.mark.parametrize("executor", ["serial", "processes", "dask"])
def test_batch_configures_each_process_once_and_finishes_each_target_once(recorder, tmp_path, executor):
    if executor == "dask":
        pytest.importorskip("dask.distributed", reason="Dask is the optional extra vetcore[dask]")
    table = make_table(tmp_path)
    config = Config.from_dict({"plugins": {"vc_recorder": {"log": str(recorder)}}})
    out = tmp_path / "out"
    result = run_batch(table, out, executor=executor, workers=2, config=config, checks=["V08", "V09", "V25"])
    assert (result.done, result.failed) == (3, 0)
    assert_once_per_process_and_target(recorder, {f"T{i}": out / f"T{i}" / "report.json" for i in range(3)})
    pids = {r["pid"] for r in records(recorder)}
    assert (pids == {os.getpid()}) is (executor == "serial")


def test_worker_sessions_are_rebuilt_once_per_process(toy_pm):
    session = Session({"checks": {"T01": {"n_iter": 5}}}, checks="T01,T90", plugin_manager=toy_pm)
    assert Session.from_spec(session.spec) is session  # the driver's own, e.g. the serial executor
    assert session.params["T01"]["n_iter"] == 5
    assert [c.id for c in session.checks] == ["T01", "T90"]


def test_out_of_range_parameter_stops_before_any_data_is_read(plugin_dist, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    plugin_dist("vc_bounded", BOUNDED)
    config = tmp_path / "bad.toml"
    config.write_text("[checks.Z77]\nfraction = 1.5\n")
    missing = tmp_path / "never_opened.fits"
    code = main(
        ["run", str(missing), "--period", "3", "--t0", "1", "--duration", "2", "--config", str(config)]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [f"vetcore: error: {config}: checks.Z77.fraction: must be in [0, 1], got 1.5"]

    table = tmp_path / "t.csv"
    table.write_text(f"target,source,period,t0,duration\nA,{missing.name},3,1,2\n")
    assert main(["batch", str(table), "--config", str(config), "--out", str(tmp_path / "b")]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"vetcore: error: {config}: checks.Z77.fraction: must be in [0, 1], got 1.5"
    )
    with pytest.raises(ConfigError, match=r"checks\.Z77\.fraction: must be in \[0, 1\], got -0\.1"):
        Session({"checks": {"Z77": {"fraction": -0.1}}})

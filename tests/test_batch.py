"""``vetcore batch``: tables, executors (processes, Dask), failures, resuming, output safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vetcore.batch import read_table, run_batch
from vetcore.cli import main
from vetcore.errors import ConfigError
from vetcore.testing import SyntheticStar, make_sectors, save_npz, shared_data

STARS = (SyntheticStar(flux=3.0e4), SyntheticStar(east_arcsec=30.0, flux=1.5e4))


def make_batch(folder: Path, n: int = 4, *, extras: bool = True) -> Path:
    """``n`` synthetic targets (alternately on and off target), plus a corrupt file and a no-transit row."""
    rows = ["target,source,period,t0,duration"]
    for i in range(n):
        cases = make_sectors(
            2, stars=STARS, transit_star=i % 2, snr=30, seed=i, target_id=f"T{i}", shape=(9, 9)
        )
        files = [save_npz(c.stamp, folder / f"t{i}_s{c.stamp.sector}.npz").name for c in cases]
        e = cases[0].ephemeris
        rows.append(f"T{i},{';'.join(files)},{e.period},{e.t0},{e.duration_hours}")
    if extras:
        (folder / "corrupt_s1.npz").write_bytes(b"PK\x03\x04 not really a zip")
        rows.append(f"corrupt,corrupt_s1.npz,{e.period},{e.t0},{e.duration_hours}")
        rows.append(f"no transit,t0_s1.npz,1000.0,{e.t0 + 500.0},{e.duration_hours}")
    table = folder / "candidates.csv"
    table.write_text("\n".join(rows) + "\n")
    return table


def strip_volatile(report: dict) -> dict:
    """A report without timings and creation time (which differ between runs)."""
    report = json.loads(json.dumps(report))
    report.pop("timings", None)
    report.pop("created", None)
    for sector in report["sectors"]:
        for result in sector["results"].values():
            result.pop("elapsed_s", None)
    for result in report["aggregates"].values():
        result.pop("elapsed_s", None)
    return report


@pytest.fixture(scope="module")
def batch_table(tmp_path_factory):
    return make_batch(tmp_path_factory.mktemp("batch"))


def test_plain_and_toi_layouts():
    toi = read_table(shared_data("tpf/reference/TOI_list_2020-10-26.csv.gz"))
    assert len(toi) == 2375
    first = toi[0]
    assert (first.name, first.sources) == ("TOI-1457.01", ("TIC 176860064",))
    assert first.period == pytest.approx(6.375556) and first.t0 == pytest.approx(1766.359365)
    assert first.duration == pytest.approx(2.784942) and first.depth == pytest.approx(2638.408383)
    assert first.ra == pytest.approx(354.83668) and first.problem is None


def test_missing_column_is_a_clear_error(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("target,source,period,t0\nA,a.npz,1,2\n")
    with pytest.raises(ConfigError, match=r"t.csv: missing column\(s\) duration"):
        read_table(table)


@pytest.mark.slow
def test_processes_and_dask_give_identical_reports(batch_table, tmp_path):
    pytest.importorskip("dask.distributed", reason="Dask is the optional extra vetcore[dask]")
    by_executor = {}
    for executor in ("processes", "dask"):
        out = tmp_path / executor
        result = run_batch(batch_table, out, executor=executor, workers=2)
        assert (result.done, result.failed, result.skipped) == (4, 2, 0)
        by_executor[executor] = {
            p.parent.name: strip_volatile(json.loads(p.read_text()))
            for p in sorted(out.glob("*/report.json"))
        }
        rows = {r["target"]: r for r in result.rows}
        assert "cannot" in rows["corrupt"]["errors"] or "not a readable" in rows["corrupt"]["errors"]
        assert "no transit" in rows["no transit"]["errors"]
        assert rows["T0"]["verdict"] == "on_target" and rows["T1"]["verdict"] == "off_target"
        assert (out / "summary.ecsv").exists() and (out / "summary.csv").exists()
    assert set(by_executor["processes"]) == {"T0", "T1", "T2", "T3"}
    assert by_executor["processes"] == by_executor["dask"]


def test_serial_batch_and_resume(batch_table, tmp_path, capsys):
    out = tmp_path / "serial"
    # rows failed: the documented exit code 4, after the summary is written
    assert main(["batch", str(batch_table), "--out", str(out), "--executor", "serial"]) == 4
    first = capsys.readouterr()
    assert "4 done, 2 failed, 0 skipped" in first.out
    assert "[6/6]" in first.err and "remaining 0" in first.err
    assert "vetcore: warning: 2 of 6 rows failed" in first.err
    mtimes = {p: p.stat().st_mtime_ns for p in out.glob("*/report.json")}
    assert main(["batch", str(batch_table), "--out", str(out), "--executor", "serial", "--quiet"]) == 4
    assert "0 done, 2 failed, 4 skipped" in capsys.readouterr().out  # failed targets are retried
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/report.json")} == mtimes


def test_changed_config_recomputes(batch_table, tmp_path):
    out = tmp_path / "cfg"
    run_batch(batch_table, out, executor="serial", checks=["V08"])
    again = run_batch(batch_table, out, executor="serial", checks=["V08", "V09"])
    assert again.skipped == 0 and again.done == 4


@pytest.mark.slow
def test_killed_batch_resumes_without_recomputing(tmp_path):
    table = make_batch(tmp_path, n=8, extras=False)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "vetcore.cli",
        "batch",
        str(table),
        "--out",
        str(out),
        "--executor",
        "serial",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("*/report.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p: p.stat().st_mtime_ns for p in out.glob("*/report.json")}
    assert 2 <= len(finished) < 8
    for path in finished:
        json.loads(path.read_text())  # complete JSON: written atomically
    result = run_batch(table, out, executor="serial")
    assert result.skipped == len(finished) and result.done == 8 - len(finished)
    assert all(p.stat().st_mtime_ns == t for p, t in finished.items())
    assert len(result.rows) == 8


def test_target_names_never_escape_the_output_folder(tmp_path):
    cases = make_sectors(1, snr=30, seed=1, target_id="x", shape=(9, 9))
    save_npz(cases[0].stamp, tmp_path / "x_s1.npz")
    e = cases[0].ephemeris
    names = ["../../escape", "/etc/passwd", "a/b\\c", "..", "<odd> name?"]
    rows = ["target,source,period,t0,duration"] + [
        f'"{n}",x_s1.npz,{e.period},{e.t0},{e.duration_hours}' for n in names
    ]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    result = run_batch(tmp_path / "t.csv", out, executor="serial", checks=["V08"])
    assert result.done == len(names)
    written = [p.resolve() for p in out.rglob("report.json")]
    assert len(written) == len(names)
    assert all(out.resolve() in p.parents for p in written)
    assert not (tmp_path.parent / "escape").exists()

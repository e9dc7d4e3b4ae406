"""Batch faults: no work lost, no stale result kept, no worker left behind.

The kill tests run ``vetcore batch`` as a real subprocess and send it (or let a
worker receive) real signals; a throwaway plugin makes targets slow or makes
one worker die the way the OOM killer would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from vetcore.batch import run_batch
from vetcore.cli import main
from vetcore.renderers.summary import read_summary
from vetcore.testing import make_stamp, save_npz

# A plugin with three quick-to-run checks driven by the target name:
#   K01 passes at once, except that it SIGKILLs its own process for targets named "doomed*"
#   (as the OOM killer would) and, for targets named "slow*", records its pid then sleeps.
FAULTY = """
import os, signal, time
from pathlib import Path
from vetcore import Check, CheckResult, hookimpl

def run(ctx):
    name = ctx.stamp.target.id
    if name.startswith("doomed"):
        os.kill(os.getpid(), signal.SIGKILL)
    if name.startswith("slow"):
        Path(os.environ["VETCORE_TEST_MARKS"], f"{name}.{os.getpid()}").write_text("started")
        time.sleep(120)
    return CheckResult(status="pass", metrics={"pid": os.getpid()})

@hookimpl
def vetcore_register_checks(register):
    register(Check(id="K01", title="faulty on purpose", run=run))
"""


def _stamp_file(folder: Path, name: str, seed: int = 0) -> tuple[Path, object]:
    case = make_stamp(seed=seed, shape=(7, 7), snr=20.0, span_days=6.0, cadence_seconds=1200.0)
    return save_npz(case.stamp, folder / f"{name}_s1.npz"), case.ephemeris


def _table(folder: Path, names: list[str], extra_rows: list[str] = ()) -> Path:
    rows = ["target,source,period,t0,duration"]
    for i, name in enumerate(names):
        path, eph = _stamp_file(folder, name, seed=i)
        rows.append(f"{name},{path.name},{eph.period},{eph.t0},{eph.duration_hours}")
    rows.extend(extra_rows)
    table = folder / "candidates.csv"
    table.write_text("\n".join(rows) + "\n")
    return table


@pytest.fixture
def faulty_env(plugin_dist, tmp_path):
    """Environment for subprocesses that see the FAULTY plugin (and a folder for its marks)."""
    site = plugin_dist("vet_faulty", FAULTY)
    marks = tmp_path / "marks"
    marks.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    env["VETCORE_TEST_MARKS"] = str(marks)
    return env, marks


def _vetcore(*args: str, env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "vetcore.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_for(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# ------------------------------------------------------------------ bad rows


def test_impossible_ephemeris_rows_fail_with_their_row_number_and_the_batch_goes_on(tmp_path, capsys):
    good, eph = _stamp_file(tmp_path, "good")
    rows = [
        "target,source,period,t0,duration",
        f"good,{good.name},{eph.period},{eph.t0},{eph.duration_hours}",
        f"negative,{good.name},-3,{eph.t0},{eph.duration_hours}",
        f"infinite,{good.name},inf,{eph.t0},{eph.duration_hours}",
        f"too long,{good.name},0.1,{eph.t0},3.0",
        f"t0 inf,{good.name},{eph.period},inf,{eph.duration_hours}",
    ]
    table = tmp_path / "candidates.csv"
    table.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    code = main(
        ["batch", str(table), "--out", str(out), "--executor", "serial", "--checks", "V08", "--quiet"]
    )
    assert code == 4  # the batch finished, and says some rows failed
    assert "5 targets: 1 done, 4 failed" in capsys.readouterr().out
    errors = {r["target"]: r["errors"] for r in read_summary(out / "summary.ecsv", "ascii.ecsv")}
    assert errors["good"] == ""
    assert f"{table} row 2: period must be a positive number, got -3.0" in errors["negative"]
    assert "row 3: period must be a positive number, got inf" in errors["infinite"]
    assert "row 4: duration must be shorter than the period" in errors["too long"]
    assert "row 5: t0 must be a finite time" in errors["t0 inf"]


# ------------------------------------------------------------------ resume


def test_resume_recomputes_a_source_replaced_by_other_content_of_the_same_size_and_time(tmp_path):
    table = _table(tmp_path, ["A", "B"])
    out = tmp_path / "out"
    first = run_batch(table, out, executor="serial", checks=["V08"])
    assert (first.done, first.skipped) == (2, 0)
    hash_before = json.loads((out / "A" / "report.json").read_text())["inputs_hash"]

    source = tmp_path / "A_s1.npz"
    info = source.stat()
    other = make_stamp(seed=99, shape=(7, 7), snr=20.0, span_days=6.0, cadence_seconds=1200.0).stamp
    save_npz(other, tmp_path / "other_s1.npz")
    replacement = (tmp_path / "other_s1.npz").read_bytes()
    assert len(replacement) == info.st_size and replacement != source.read_bytes()
    with open(source, "r+b") as fh:  # same inode, same size ...
        fh.write(replacement)
    os.utime(source, ns=(info.st_atime_ns, info.st_mtime_ns))  # ... and the same modification time
    assert (source.stat().st_ino, source.stat().st_size, source.stat().st_mtime_ns) == (
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
    )

    again = run_batch(table, out, executor="serial", checks=["V08"])
    assert (again.done, again.skipped) == (1, 1)  # A recomputed, B untouched
    assert json.loads((out / "A" / "report.json").read_text())["inputs_hash"] != hash_before


def test_resumed_batch_renders_newly_requested_formats(tmp_path):
    table = _table(tmp_path, ["A"])
    out = tmp_path / "out"
    run_batch(table, out, executor="serial", checks=["V08"], formats=["json"])
    assert not (out / "A" / "summary.csv").exists()
    more = run_batch(table, out, executor="serial", checks=["V08"], formats=["json", "csv"])
    assert (more.done, more.skipped) == (1, 0) and (out / "A" / "summary.csv").exists()
    same = run_batch(table, out, executor="serial", checks=["V08"], formats=["csv"])
    assert (same.done, same.skipped) == (0, 1)


# ------------------------------------------------------------------ signals


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killing_the_driver_leaves_no_worker_running_or_writing(tmp_path, faulty_env, sig):
    env, marks = faulty_env
    table = _table(tmp_path, ["slow1", "slow2", "slow3"])
    out = tmp_path / "out"
    args = ["batch", str(table), "--out", str(out), "--workers", "2", "--checks", "K01", "--quiet"]
    driver = _vetcore(*args, env=env)
    try:

        def started() -> bool:
            assert driver.poll() is None, driver.communicate()[1]
            return len(list(marks.iterdir())) == 2

        _wait_for(started, 120, "two workers to start their slow targets")
        workers = {int(p.suffix[1:]) for p in marks.iterdir()}
        assert all(psutil.Process(pid).ppid() == driver.pid for pid in workers)
        driver.send_signal(sig)
        driver.wait(30)
        _wait_for(lambda: not any(_alive(pid) for pid in workers), 10, "the workers to die with the driver")
    finally:
        driver.kill()
        driver.wait()
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*")) if out.exists() else []
    time.sleep(1.0)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == written if out.exists() else True
    assert not any((out / name / "report.json").exists() for name in ("slow1", "slow2", "slow3"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("executor", "expected"),
    [
        ("processes", "the worker process running this target died"),
        ("dask", "the Dask worker running this target failed (KilledWorker"),
    ],
)
def test_a_worker_killed_like_the_oom_killer_fails_its_target_and_the_batch_goes_on(
    tmp_path, faulty_env, executor, expected
):
    if executor == "dask":
        pytest.importorskip("dask.distributed")
    env, _ = faulty_env
    env = dict(env, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1")  # give up after two dead workers
    table = _table(tmp_path, ["ok1", "doomed", "ok2", "ok3"])
    out = tmp_path / "out"
    args = [
        "batch",
        str(table),
        "--out",
        str(out),
        "--workers",
        "2",
        "--checks",
        "K01",
        "--executor",
        executor,
    ]
    done = _vetcore(*args, "--quiet", env=env)
    stdout, stderr = done.communicate(timeout=300)
    assert done.returncode == 4, stderr  # finished, with failed rows
    rows = {r["target"]: r for r in read_summary(out / "summary.csv", "ascii.csv")}
    assert set(rows) == {"ok1", "doomed", "ok2", "ok3"}
    assert expected in rows["doomed"]["errors"]
    assert not (out / "doomed" / "report.json").exists()
    others = [rows[name] for name in ("ok1", "ok2", "ok3")]
    if executor == "processes":  # the culprit is found: nobody else fails
        assert "1 of 4 rows failed" in stderr and "4 targets: 3 done, 1 failed" in stdout
        assert all(r["K01_S1"] == "pass" and r["errors"] == "" for r in others)
    else:  # Dask may also give up on a task that sat on the dying workers; none is lost silently
        assert all(r["K01_S1"] == "pass" or expected in r["errors"] for r in others)


# ------------------------------------------------------------------ one --out, several writers


@pytest.mark.slow
def test_concurrent_runs_into_one_out_keep_every_summary_row(tmp_path, faulty_env):
    env, _ = faulty_env
    path, eph = _stamp_file(tmp_path, "shared")
    out = tmp_path / "out"
    ephemeris = ["--period", str(eph.period), "--t0", str(eph.t0), "--duration", str(eph.duration_hours)]
    runs = [
        _vetcore(
            "run",
            str(path),
            *ephemeris,
            "--target",
            f"T{i}",
            "--checks",
            "K01",
            "--format",
            "csv,ecsv",
            "--out",
            str(out),
            "--quiet",
            env=env,
        )
        for i in range(4)
    ]
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
    for name, fmt in (("summary.csv", "ascii.csv"), ("summary.ecsv", "ascii.ecsv")):
        assert sorted(r["target"] for r in read_summary(out / name, fmt)) == ["T0", "T1", "T2", "T3"]


def test_run_and_batch_into_an_existing_out_add_to_the_summary(tmp_path):
    table = _table(tmp_path, ["A", "B"])
    out = tmp_path / "out"
    path, eph = _stamp_file(tmp_path, "solo", seed=5)
    ephemeris = ["--period", str(eph.period), "--t0", str(eph.t0), "--duration", str(eph.duration_hours)]
    argv = ["run", str(path), *ephemeris, "--target", "solo", "--checks", "V08", "--format", "json,csv"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    assert (
        main(["batch", str(table), "--out", str(out), "--executor", "serial", "--checks", "V08", "--quiet"])
        == 0
    )
    assert [r["target"] for r in read_summary(out / "summary.csv", "ascii.csv")] == ["solo", "A", "B"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0  # the same target again: replaced, not doubled
    assert [r["target"] for r in read_summary(out / "summary.csv", "ascii.csv")] == ["solo", "A", "B"]
    assert [r["target"] for r in read_summary(out / "summary.ecsv", "ascii.ecsv")] == ["A", "B"]


# ------------------------------------------------------------------ plugins, tables, schedulers


def test_disable_plugin_works_for_batch(tmp_path):
    table = _table(tmp_path, ["A"])
    out = tmp_path / "out"
    argv = [
        "--disable-plugin",
        "vet_diffimg",
        "batch",
        str(table),
        "--out",
        str(out),
        "--executor",
        "processes",
    ]
    assert main([*argv, "--workers", "1", "--checks", "V0*", "--quiet"]) == 0
    report = json.loads((out / "A" / "report.json").read_text())
    assert list(report["sectors"][0]["results"]) == ["V08"]
    assert "vet_diffimg" not in {p["name"] for p in report["plugins"]}


@pytest.mark.parametrize("where", ["config", "option"])
def test_unknown_disabled_plugin_is_an_error_with_a_suggestion(tmp_path, capsys, where):
    table = _table(tmp_path, ["A"])
    config = tmp_path / "vetcore.toml"
    config.write_text('[plugins]\ndisable = ["vet_difimg"]\n' if where == "config" else "")
    argv = ["batch", str(table), "--out", str(tmp_path / "out"), "--config", str(config)]
    if where == "option":
        argv = ["--disable-plugin", "vet_difimg", *argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    key = f"{config}: plugins.disable" if where == "config" else "--disable-plugin"
    assert f"vetcore: error: {key}: no plugin named 'vet_difimg'; did you mean 'vet_diffimg'?" in err
    assert not (tmp_path / "out" / "A").exists()


def test_missing_table_exits_2(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "out")]) == 2
    assert f"{tmp_path / 'nope.csv'}: no such file" in capsys.readouterr().err


def test_unreachable_dask_scheduler_exits_2(tmp_path, capsys, monkeypatch):
    pytest.importorskip("dask.distributed")
    import vetcore.batch.executors as executors

    monkeypatch.setattr(executors, "SCHEDULER_TIMEOUT_S", 1)
    table = _table(tmp_path, ["A"])
    argv = ["batch", str(table), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9"]
    assert main([*argv, "--quiet"]) == 2
    assert "--scheduler: cannot reach a Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err


def test_output_of_every_remaining_row_is_written_when_one_row_crashes_its_sector_task(tmp_path):
    good, eph = _stamp_file(tmp_path, "good")
    (tmp_path / "broken_s1.npz").write_bytes(np.arange(10, dtype=np.uint8).tobytes())
    rows = [
        "target,source,period,t0,duration",
        f"broken,broken_s1.npz,{eph.period},{eph.t0},{eph.duration_hours}",
        f"good,{good.name},{eph.period},{eph.t0},{eph.duration_hours}",
    ]
    table = tmp_path / "candidates.csv"
    table.write_text("\n".join(rows) + "\n")
    result = run_batch(table, tmp_path / "out", executor="serial", checks=["V08"])
    assert (result.done, result.failed) == (1, 1)
    assert "not a readable .npz archive" in result.rows[0]["errors"]


def test_outputs_are_replaced_atomically_or_not_at_all(tmp_path, monkeypatch):
    from vetcore.io import atomic_write

    target = atomic_write(tmp_path / "report.json", '{"old": true}')

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, '{"new": true, "padding": "' + "x" * 100_000 + '"}')
    assert target.read_text() == '{"old": true}'  # the previous complete file, never a torn one
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left behind

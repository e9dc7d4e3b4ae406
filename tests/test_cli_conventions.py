"""The API and command line as an astronomer meets them: astropy types, misleading inputs refused or
warned about, one target per output folder, batch tables and exit codes, logging, help text."""

from __future__ import annotations

import json
import logging
import warnings
from importlib.resources import as_file, files

import pytest

import vetcore
from vetcore.batch.table import read_table
from vetcore.cli import EXIT_CODES, build_parser, main
from vetcore.demo import CASES
from vetcore.testing import make_sectors, save_npz

u = pytest.importorskip("astropy.units")


@pytest.fixture(scope="module")
def toi_npz():
    with as_file(files("vetcore.demo").joinpath("data", CASES["toi5807"].filename)) as path:
        yield path


@pytest.fixture()
def synthetic_npz(tmp_path):
    (case,) = make_sectors(1, seed=5, snr=20.0)
    return save_npz(case.stamp, tmp_path / "syn_s1.npz"), case


def test_vet_accepts_quantities_and_times(toi_npz):
    from astropy.time import Time

    case = CASES["toi5807"]
    common = {"target": case.target, "ra": case.ra, "dec": case.dec, "checks": ["V08"]}
    plain = vetcore.vet(toi_npz, period=case.period, t0=case.t0, duration=case.duration, **common)
    typed = vetcore.vet(
        toi_npz,
        period=case.period * u.day,
        t0=Time(case.t0 + 2457000.0, format="jd", scale="tdb"),
        duration=case.duration * 60 * u.min,
        **common,
    )
    assert typed.ephemeris.time_system == "BJD" and typed.warnings == []
    a, b = plain.result("V08", "S83"), typed.result("V08", "S83")
    assert b.metrics["n_in_transit_cadences"] == a.metrics["n_in_transit_cadences"]
    assert b.metrics["centroid_shift_pixels"] == pytest.approx(a.metrics["centroid_shift_pixels"], rel=1e-6)


def test_vet_accepts_a_tpf_collection_and_a_list_of_tpfs():
    lk = pytest.importorskip("lightkurve", reason="lightkurve is an optional dependency")
    from astropy.time import Time

    case = CASES["koi608"]
    with as_file(files("vetcore.demo").joinpath("data", case.filename)) as path:
        tpf = lk.read(path)
    options = {"period": case.period * u.day, "duration": case.duration * u.hour, "checks": ["V08"]}
    report = vetcore.vet(lk.TargetPixelFileCollection([tpf]), t0=Time(case.t0, format="bkjd"), **options)
    assert [s.label for s in report.sectors] == ["Q10"]
    assert report.sectors[0].stamp.n_cadences == len(tpf)  # lightkurve's own cadences
    assert report.result("V08", "Q10").status.value == "fail"  # the known off-target source
    again = vetcore.vet([tpf], t0=case.t0, **options)
    assert again.result("V08", "Q10").metrics == pytest.approx(report.result("V08", "Q10").metrics)


@pytest.mark.parametrize("period", [0.7, 80.0])
def test_mjd_like_t0_exits_2_for_short_and_long_periods(synthetic_npz, period, capsys):
    path, _ = synthetic_npz
    args = ["run", str(path), "--period", str(period), "--t0", "58540.26", "--duration", "1.5", "--quiet"]
    assert main([*args, "--out", str(path.parent / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(
        "vetcore: error: t0 58540.26 is not a plausible BTJD for TESS data (S1 covers BTJD"
    )
    assert "looks like an MJD" in err[0] and "accepted: BTJD (BJD − 2457000) for TESS data, BKJD" in err[0]
    assert not (path.parent / "out").exists()


def test_a_duration_in_days_is_warned_about_in_report_and_terminal(synthetic_npz, capsys):
    path, case = synthetic_npz
    out = path.parent / "out"
    args = ["run", str(path), "--period", str(case.ephemeris.period), "--t0", str(case.ephemeris.t0)]
    options = ["--duration", "0.1", "--checks", "V08", "--out", str(out), "--format", "json,html", "--quiet"]
    assert main([*args, *options]) == 0
    err = capsys.readouterr().err
    assert "vetcore: warning: duration 0.1 h looks too short" in err and "given in days" in err
    (warning,) = json.loads((out / "report.json").read_text())["warnings"]
    assert warning.startswith("duration 0.1 h looks too short")
    assert err.count("looks too short") == 1
    assert "duration 0.1 h looks too short" in (out / "report.html").read_text()


def test_two_targets_in_one_out_never_mix(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--quiet", "--format", "json,png"]) == 0
    before = sorted(p.name for p in out.iterdir())
    assert main(["demo", "--case", "koi608", "--out", str(out), "--quiet", "--format", "json,png"]) == 2
    err = capsys.readouterr().err
    assert "already holds the report of 'TIC 188646744', not 'KIC 5562784'" in err and "--force" in err
    assert sorted(p.name for p in out.iterdir()) == before  # nothing written
    assert json.loads((out / "report.json").read_text())["target"]["id"] == "TIC 188646744"
    code = main(["demo", "--case", "koi608", "--out", str(out), "--quiet", "--format", "json,png", "--force"])
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["KIC_5562784_Q10.png", "KIC_5562784_summary.png", "report.json"]
    # the same target again replaces its own report without --force
    assert main(["demo", "--case", "koi608", "--out", str(out), "--quiet", "--format", "json"]) == 0


def test_empty_source_cell_falls_back_to_the_catalogue_identifier(tmp_path):
    toi = tmp_path / "toi.csv"
    toi.write_text(
        "Full TOI ID,TIC,source,Orbital Period Value,Epoch Value,Transit Duration Value\n"
        "5807.01,188646744,,14.2423724,3540.26317,4.046\n"
        "5807.02,188646744,local.npz,14.2,3540.2,4.0\n"
    )
    first, second = read_table(toi)
    assert first.sources == ("TIC 188646744",) and first.problem is None
    assert second.sources == ("local.npz",)
    plain = tmp_path / "plain.csv"
    plain.write_text("target,source,period,t0,duration\nTIC 25155310,,3,1500,2\nmy star,,3,1500,2\n")
    named, unnamed = read_table(plain)
    assert named.sources == ("TIC 25155310",)
    assert unnamed.problem.endswith("row 2: source is empty")


def test_batch_exit_code_with_a_failed_row(synthetic_npz, tmp_path, capsys):
    path, case = synthetic_npz
    eph = case.ephemeris
    table = tmp_path / "t.csv"
    table.write_text(
        "target,source,period,t0,duration\n"
        f"good,{path.name},{eph.period},{eph.t0},{eph.duration_hours}\n"
        f"bad,missing.npz,{eph.period},{eph.t0},{eph.duration_hours}\n"
    )
    args = ["batch", str(table), "--out", str(tmp_path / "b"), "--executor", "serial", "--checks", "V08"]
    assert main([*args, "--quiet"]) == 4
    captured = capsys.readouterr()
    assert "1 done, 1 failed" in captured.out
    assert "vetcore: warning: 1 of 2 rows failed" in captured.err
    table.write_text(table.read_text().splitlines()[0] + "\n" + table.read_text().splitlines()[1] + "\n")
    assert main([*args, "--quiet"]) == 0


def test_help_lists_exit_codes_and_metavars_agree(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "exit codes:" in text
    for code in EXIT_CODES:
        assert f"  {code} " in text
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    metavars: dict[str, set] = {}
    for command in sub.choices.values():
        for action in command._actions:
            for option in action.option_strings:
                if action.nargs != 0 and option.startswith("--"):
                    metavars.setdefault(option, set()).add(action.metavar)
    for option in ("--out", "--config", "--checks", "--format", "--cache-dir", "--log-level"):
        assert len(metavars[option]) == 1 and None not in metavars[option], (option, metavars[option])


def test_logging_levels():
    from vetcore.cli.log import level_for

    assert level_for(None, 0, False) == logging.INFO and level_for(None, 1, False) == logging.DEBUG
    assert level_for(None, 0, True) == logging.WARNING and level_for("error", 2, False) == logging.ERROR


def test_library_warnings_go_through_logging(capsys):
    from vetcore.cli.log import cli_logging

    log = logging.getLogger("vetcore")
    with cli_logging(logging.INFO):
        warnings.warn("FITS keyword fixed", UserWarning, stacklevel=1)
        log.info("config: x.toml")
        log.debug("hidden")
    err = capsys.readouterr().err
    assert err == "vetcore: config: x.toml\n"  # the library warning is not printed before our lines
    with cli_logging(logging.DEBUG):
        warnings.warn("FITS keyword fixed again", UserWarning, stacklevel=1)
        log.debug("shown")
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("vetcore: debug: python warning:") and "FITS keyword fixed again" in err[0]
    assert err[1] == "vetcore: debug: shown"


def test_the_config_file_in_use_is_announced(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vetcore.toml").write_text('[select]\ninclude = ["V08"]\n')
    assert main(["demo", "--out", "o", "--format", "json"]) == 0
    assert f"vetcore: config: {tmp_path / 'vetcore.toml'}\n" in capsys.readouterr().err
    assert main(["--log-level", "warning", "demo", "--out", "o", "--format", "json"]) == 0
    assert "config:" not in capsys.readouterr().err

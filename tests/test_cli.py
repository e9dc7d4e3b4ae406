"""The vetcore command: exit codes, error lines, commands, plugins in a fresh process, start-up cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema
import pytest

from vetcore import plugins as plugins_module
from vetcore.cli import main
from vetcore.plugins import AUTOLOAD_ENV
from vetcore.report import json_schema

TOY_PLUGIN = """
import numpy as np
from vetcore import Check, CheckResult, Loader, Param, Stamp, Status, Target, hookimpl

VETCORE_API = 1


def _accepts(source):
    return str(source).endswith(".toy")


def _load(source, options):
    from astropy.wcs import WCS

    sector = int(open(source).read())
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [120.0, -30.0]
    wcs.wcs.crpix = [3.0, 3.0]
    wcs.wcs.cdelt = [-21.0 / 3600, 21.0 / 3600]
    time = 1000.0 + np.arange(200) * 0.05
    flux = np.ones((200, 5, 5))
    return [Stamp(mission="TESS", sector=sector, time=time, flux=flux, wcs=wcs,
                  target=Target("TIC 99", 120.0, -30.0), aperture_mask=np.ones((5, 5), bool),
                  source=str(source))]


def _run(ctx):
    return CheckResult(status=Status.PASS, message=f"{ctx.stamp.n_cadences} cadences",
                       metrics={"scale": ctx.params.scale})


@hookimpl
def vetcore_register_loaders(register):
    register(Loader("toy", accepts=_accepts, load=_load, priority=1000))


@hookimpl
def vetcore_register_checks(register):
    register(Check(id="Z77", title="Toy cadence count", run=_run, version="0.3",
                   summary="Counts cadences. Nothing else.",
                   params=(Param("scale", 2.0, "a scale factor", unit="arcsec"),),
                   flags={"ODD": "Something odd happened."}))
"""

BROKEN_PLUGIN = "raise RuntimeError('this plugin is broken on purpose')\n"


@pytest.fixture
def toy_site(plugin_dist):
    plugin_dist("vc_cli_toy", TOY_PLUGIN, dist="vc-cli-toy", version="1.4")
    return plugin_dist("vc_cli_broken", BROKEN_PLUGIN)


@pytest.fixture
def only_throwaway_plugins(toy_site, monkeypatch):
    """In-process runs see the builtins and the throwaway plugins only, whatever else is installed."""
    everything = plugins_module._entry_points
    monkeypatch.setattr(
        plugins_module, "_entry_points", lambda: [ep for ep in everything() if ep.value.startswith("vc_cli_")]
    )
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)


def run_cli(*args, site=None, cwd=None, extra_code=""):
    """Run ``vetcore ARGS`` in a fresh interpreter (optionally with a plugin folder on PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if k != AUTOLOAD_ENV}
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    code = (
        f"import sys\nfrom vetcore.cli import main\ncode = main(sys.argv[1:])\n{extra_code}\nsys.exit(code)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


# -- in-process -------------------------------------------------------------------------------


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == "vetcore 0.1.0"
    for command in ([], ["run"], ["checks"], ["plugins"]):
        assert main([*command, "--help"]) == 0
        assert "usage: vetcore" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["run", "x.toy", "--t0", "1", "--duration", "2"], "the following arguments are required: --period"),
        (["run", "x.toy", "--period", "abc", "--t0", "1", "--duration", "2"], "expected days, got 'abc'"),
        (
            ["run", "x.toy", "--period", "-3", "--t0", "1", "--duration", "2"],
            "expected a positive days, got '-3'",
        ),
        (
            ["run", "x.toy", "--period", "3", "--t0", "1", "--duration", "2", "--sectors", "a,b"],
            "expected comma-separated sector numbers",
        ),
    ],
)
def test_usage_errors_exit_2(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_user_error_is_one_line_exit_2(only_throwaway_plugins, capsys):
    assert main(["checks", "--params", "Z7"]) == 2
    err = capsys.readouterr().err
    assert err == "vetcore: error: unknown check 'Z7'; did you mean 'Z77'? (installed: Z77)\n"


def test_bad_config_file_exit_2(only_throwaway_plugins, tmp_path, capsys):
    (tmp_path / "bad.toml").write_text("[checks.Z77]\nscale = 'big'\n")
    assert main(["checks", "--config", str(tmp_path / "bad.toml")]) == 0  # checks only reads [plugins]
    assert (
        main(
            [
                "run",
                "a.toy",
                "--period",
                "3",
                "--t0",
                "1001",
                "--duration",
                "2",
                "--config",
                str(tmp_path / "bad.toml"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("vetcore: warning:")]
    assert err == [
        f"vetcore: error: {tmp_path / 'bad.toml'}: checks.Z77.scale: expected a number, got str 'big'"
    ]


def test_internal_error_exit_1(monkeypatch, capsys):
    def crash(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("vetcore.cli.plugins.run", crash)
    assert main(["plugins"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "vetcore: error: internal error: ZeroDivisionError: division by zero "
        "(run with --debug for the traceback)\n"
    )
    assert main(["plugins", "--debug"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "Traceback (most recent call last):" and "ZeroDivisionError: division by zero" in err
    assert err[-1] == "vetcore: error: internal error: ZeroDivisionError: division by zero"


def test_checks_and_params_listing(only_throwaway_plugins, capsys):
    assert main(["checks"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["id", "scope", "plugin", "version", "summary"]
    assert out[2].split() == ["Z77", "sector", "vc_cli_toy", "0.3", "Counts", "cadences"]
    assert main(["checks", "--params", "Z77"]) == 0
    out = capsys.readouterr().out
    assert "Z77: Toy cadence count" in out
    assert "scale  float  2.0      arcsec  a scale factor" in out
    assert "ODD   Something odd happened." in out


def test_plugins_listing_and_disable(only_throwaway_plugins, capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert (
        "vc_cli_toy 1.4  (vc-cli-toy 1.4)\n  hooks: register_checks, register_loaders\n  checks: Z77\n"
        "  loaders: toy\n" in out
    )
    assert (
        "vc_cli_broken 0.1  (vc-cli-broken 0.1)\n  ERROR: RuntimeError: this plugin is broken on purpose\n"
        in out
    )
    assert (
        "vetcore.builtin.renderers 0.1.0  (builtin)\n  hooks: register_renderers\n"
        "  renderers: json, html, png, csv, ecsv\n" in out
    )
    assert main(["--disable-plugin", "vc_cli_toy", "plugins", "--disable-plugin", "vc_cli_broken"]) == 0
    out = capsys.readouterr().out
    assert "vc_cli_toy 1.4  (vc-cli-toy 1.4)\n  disabled\n" in out
    assert "vc_cli_broken 0.1  (vc-cli-broken 0.1)\n  disabled\n" in out


# -- fresh processes --------------------------------------------------------------------------


def test_throwaway_plugin_package_runs_end_to_end(toy_site, tmp_path):
    (tmp_path / "s2.toy").write_text("2")
    (tmp_path / "s1.toy").write_text("1")
    (tmp_path / "vetcore.toml").write_text("[checks.Z77]\nscale = 5\n")
    out_dir = tmp_path / "out"
    proc = run_cli(
        "run",
        "s2.toy",
        "s1.toy",
        "--period",
        "3",
        "--t0",
        "1001.0",
        "--duration",
        "2",
        "--checks",
        "Z77",
        "--out",
        str(out_dir),
        site=toy_site,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:5] == [
        "TIC 99: 2 sector(s), 1 check(s)",
        "check  sector  status  message",
        "-----  ------  ------  ------------",
        "Z77    S1      pass    200 cadences",
        "Z77    S2      pass    200 cadences",
    ]
    assert f"wrote {out_dir.resolve() / 'report.json'}" in proc.stdout
    assert "[TIC 99] S1 Z77: pass" in proc.stderr
    assert (
        "vetcore: warning: plugin vc_cli_broken not loaded: RuntimeError: this plugin is broken"
        in proc.stderr
    )
    report = json.loads((out_dir / "report.json").read_text())
    jsonschema.validate(report, json_schema())
    assert report["sectors"][0]["results"]["Z77"]["params"] == {"scale": 5.0}
    assert report["config"]["source"] == str(tmp_path / "vetcore.toml")
    assert {p["name"]: p["error"] for p in report["plugins"]}["vc_cli_broken"].startswith("RuntimeError")

    quiet = run_cli(
        "run",
        "s1.toy",
        "--period",
        "3",
        "--t0",
        "1001.0",
        "--duration",
        "2",
        "--checks",
        "Z77",
        "--out",
        str(out_dir),
        "--quiet",
        site=toy_site,
        cwd=tmp_path,
    )
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_fresh_process_plugins_and_data_errors(toy_site, tmp_path):
    proc = run_cli("plugins", site=toy_site)
    assert proc.returncode == 0
    assert (
        "vc_cli_broken 0.1  (vc-cli-broken 0.1)\n  ERROR: RuntimeError: this plugin is broken on purpose"
        in proc.stdout
    )
    (tmp_path / "s1.toy").write_text("1")
    proc = run_cli(
        "run",
        "s1.toy",
        "--period",
        "100",
        "--t0",
        "1550",
        "--duration",
        "2",
        "--checks",
        "Z77",
        "--quiet",
        site=toy_site,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("vetcore: error: no transit of the ephemeris (period 100.0 d, t0 1550.0)")
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr


HEAVY = ("lightkurve", "matplotlib", "dask", "astropy")


def test_startup_does_not_import_heavy_libraries():
    report = f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    proc = run_cli("--help", extra_code=report)
    assert proc.returncode == 0
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    proc = run_cli("checks", extra_code=report)
    assert proc.returncode == 0, proc.stderr
    loaded = set(eval(proc.stdout.strip().splitlines()[-1]))
    assert not loaded & {"lightkurve", "matplotlib", "dask"}


def test_run_imports_scipy_and_matplotlib_only_where_used(tmp_path):
    from importlib.resources import files

    stamp = str(files("vetcore.demo").joinpath("data", "toi5807_tic188646744_s83.npz"))
    candidate = ["--period", "14.2423724", "--t0", "3540.26317", "--duration", "4.046"]
    target = ["--ra", "308.5672083", "--dec", "43.3606889"]
    # nor the renderers of formats it does not write, nor a TOML parser without a config file
    watched = {"scipy.optimize", "scipy.stats", "matplotlib", "tomllib"}
    watched |= {f"vetcore.renderers.{name}" for name in ("html_report", "png", "summary")}
    report = f"print(sorted({watched!r} & set(sys.modules)))"
    for checks, imported in (("V08", "[]"), ("V08,V09", "['scipy.optimize']")):
        out = tmp_path / checks.replace(",", "_")
        argv = ["run", stamp, *candidate, *target, "--checks", checks, "--quiet", "--out", str(out)]
        proc = run_cli(*argv, extra_code=report)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip().splitlines()[-1] == imported


def test_only_the_console_command_freezes_the_collector(monkeypatch):
    """``vetcore`` (``command``) moves start-up objects out of the cyclic collector's sight; ``main``,
    called in a process that goes on (a notebook, a test), leaves the collector alone."""
    import gc

    from vetcore import cli

    frozen: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    assert cli.main(["checks"]) == 0
    assert frozen == []
    monkeypatch.setattr("sys.argv", ["vetcore", "checks"])
    assert cli.command() == 0
    assert frozen == [1]

"""Runner, Session and API: bookkeeping, error isolation, requirements, sector × check loops, vet()."""

from __future__ import annotations

import numpy as np
import pytest

import vetcore
from vetcore import Check, CheckResult, LightCurve, Params, SectorContext, Status, TargetContext, hookimpl
from vetcore.config import Config
from vetcore.errors import ConfigError, DataError
from vetcore.plugins import PluginManager
from vetcore.runner import execute_check
from vetcore.session import Session

# 3 transits of 3 h in 10 days at 10-min cadence, t0 half a cadence off the grid: 18 cadences each.
N_IN = 54


def sector_ctx(stamp, ephemeris, check, **params):
    values = {**check.default_params(), **params}
    return SectorContext(stamp=stamp, ephemeris=ephemeris, params=Params(values))


def test_execute_check_fills_bookkeeping(toy_pm, stamp_factory, ephemeris):
    check = toy_pm.checks["T01"]
    result = execute_check(check, sector_ctx(stamp_factory(sector=7), ephemeris, check))
    assert result.status is Status.PASS
    assert (result.check, result.version, result.sector) == ("T01", "1.2", 7)
    assert result.params == {"min_depth": 0.005, "mode": "fast", "n_iter": 3}
    assert result.metrics["n_in"] == N_IN
    assert result.metrics["depth"] == pytest.approx(0.01, abs=3e-4)  # diluted by the 20 e/s background
    assert result.elapsed_s > 0 and result.error is None


def test_exception_becomes_error_result(toy_pm, stamp_factory, ephemeris):
    check = toy_pm.checks["T02"]
    result = execute_check(check, sector_ctx(stamp_factory(), ephemeris, check))
    assert result.status is Status.ERROR
    assert result.message == "RuntimeError: boom second line"
    assert result.error.startswith("Traceback") and "RuntimeError: boom" in result.error
    assert result.check == "T02" and result.sector == 1


def test_wrong_return_type_is_an_error(stamp_factory, ephemeris):
    check = Check(id="W1", title="w", run=lambda ctx: {"status": "pass"})
    result = execute_check(check, sector_ctx(stamp_factory(), ephemeris, check))
    assert result.status is Status.ERROR
    assert result.message == "check W1 returned dict, expected a CheckResult"


def test_unmet_requirements_skip_with_flags(toy_pm, stamp_factory, ephemeris):
    check = toy_pm.checks["T01"]
    result = execute_check(check, sector_ctx(stamp_factory(aperture=False), ephemeris, check))
    assert result.status is Status.SKIPPED
    assert result.flags == ("NO_APERTURE",)
    assert "aperture mask is empty" in result.message

    needs_lc = Check(
        id="L1",
        title="lc",
        requires=("lightcurve",),
        run=lambda ctx: CheckResult(status="pass", metrics={"n": len(ctx.lightcurve.time)}),
    )
    stamp = stamp_factory()
    assert execute_check(needs_lc, sector_ctx(stamp, ephemeris, needs_lc)).flags == ("NO_LIGHTCURVE",)
    lc = LightCurve(time=stamp.time, flux=np.ones(stamp.n_cadences))
    ctx = SectorContext(stamp=stamp, ephemeris=ephemeris, params=Params({}), lightcurve=lc)
    assert execute_check(needs_lc, ctx).metrics == {"n": stamp.n_cadences}

    combine = Check(id="C1", title="c", scope="target", requires=("localizations",), run=lambda ctx: None)
    tctx = TargetContext(
        target=stamp.target,
        ephemeris=ephemeris,
        params=Params({}),
        stamps=(stamp,),
        results={"S1": {"T01": CheckResult(status="pass")}},
    )
    assert execute_check(combine, tctx).flags == ("NO_LOCALIZATIONS",)

    empty = stamp.replace(flux=np.full(stamp.flux.shape, np.nan))
    assert execute_check(check, sector_ctx(empty, ephemeris, check)).flags == ("NO_GOOD_CADENCES",)


class Recorder:
    def __init__(self):
        self.reports = []

    @hookimpl
    def vetcore_report_finished(self, report):
        self.reports.append(report)


def test_run_target_sectors_then_target_checks(toy_plugin, stamp_factory, ephemeris):
    recorder = Recorder()
    pm = PluginManager(autoload=False, plugins=[("toy", toy_plugin), ("rec", recorder)])
    stamps = [stamp_factory(sector=s, seed=s) for s in (1, 2)]
    config = Config.from_dict({"checks": {"T01": {"n_iter": 5}}})
    events = []
    report = Session(config, plugin_manager=pm).run_target(
        stamps,
        ephemeris,
        progress=lambda kind, **info: events.append((kind, info.get("sector"), info.get("check"))),
    )
    assert [s.label for s in report.sectors] == ["S1", "S2"]
    for section in report.sectors:
        assert section.results["T01"].status is Status.PASS
        assert section.results["T01"].params["n_iter"] == 5
        assert section.results["T02"].status is Status.ERROR  # and the run went on
    agg = report.aggregates["T90"]
    assert agg.metrics == {"n_passed": 2, "labels": "S1,S2"}
    assert agg.sector is None and agg.status is Status.PASS
    assert events == [
        ("target_start", None, None),
        ("check_done", "S1", "T01"),
        ("check_done", "S1", "T02"),
        ("check_done", "S2", "T01"),
        ("check_done", "S2", "T02"),
        ("check_done", None, "T90"),
        ("target_done", None, None),
    ]
    assert recorder.reports == [report]
    assert set(report.timings) == {"total_s", "sectors_s", "target_checks_s", "checks_s"}
    assert set(report.timings["sectors_s"]) == {"S1", "S2"}
    assert report.config["checks"]["T01"] == {"min_depth": 0.005, "mode": "fast", "n_iter": 5}
    assert [p["name"] for p in report.plugins if p["name"] in ("toy", "rec")] == ["toy", "rec"]
    assert len(report.inputs_hash) == 64
    assert report.result("T01", "S2") is report.sectors[1].results["T01"]
    assert report.result("T90") is agg
    with pytest.raises(KeyError, match="T01 ran on S1, S2; pass sector_label"):
        report.result("T01")


# -- vet() ------------------------------------------------------------------------------------


def test_vet_with_stamps_overrides_and_bjd_epoch(toy_pm, stamp_factory):
    stamps = [stamp_factory(sector=s, seed=s) for s in (3, 1, 2)]
    t0_bjd = 1001.5035 + 2457000.0
    report = vetcore.vet(
        stamps,
        period=3.0,
        t0=t0_bjd,
        duration=3.0,
        depth=10000,
        checks="T01,T90",
        target="TOI-0001.01",
        ra=308.568,
        dec=43.361,
        sectors=[1, 3],
        plugin_manager=toy_pm,
    )
    assert [s.label for s in report.sectors] == ["S1", "S3"]
    assert report.ephemeris.time_system == "BJD"
    assert report.result("T01", "S1").metrics["n_in"] == N_IN  # full BJD converted to BTJD per stamp
    assert (report.target.id, report.target.ra, report.target.dec) == ("TOI-0001.01", 308.568, 43.361)
    assert all(s.stamp.target.id == "TOI-0001.01" for s in report.sectors)
    assert report.target.magnitude == 9.5  # other target fields kept
    assert list(report.checks) == ["T01", "T90"]
    assert "load_s" in report.timings


def test_vet_hash_depends_on_inputs(toy_pm, stamp_factory):
    stamps = [stamp_factory(sector=1)]
    kwargs = dict(period=3.0, t0=1001.5035, duration=3.0, checks=["T01"], plugin_manager=toy_pm)
    first = vetcore.vet(stamps, **kwargs).inputs_hash
    assert vetcore.vet(stamps, **kwargs).inputs_hash == first
    assert vetcore.vet(stamps, **{**kwargs, "duration": 2.0}).inputs_hash != first
    assert vetcore.vet(stamps, config={"checks": {"T01": {"n_iter": 4}}}, **kwargs).inputs_hash != first


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"ra": 10.0}, ConfigError, "ra and dec must be given together"),
        ({"ra": 400.0, "dec": 0.0}, ConfigError, "target: target RA must be in [0, 360) deg, got 400.0"),
        ({"duration": -1.0}, ConfigError, "ephemeris: duration_hours must be a positive number, got -1.0"),
        (
            {"t0": 1500.0, "period": 1000.0},
            ConfigError,
            "no transit of the ephemeris (period 1000.0 d, t0 1500.0)",
        ),
        ({"sectors": [9]}, DataError, "no data for sectors 9 (have: S1, S2)"),
        ({"checks": ["T1"]}, ConfigError, "--checks: unknown check 'T1'; did you mean 'T01'?"),
    ],
)
def test_vet_user_errors(toy_pm, stamp_factory, change, error, message):
    stamps = [stamp_factory(sector=1), stamp_factory(sector=2)]
    kwargs = dict(period=3.0, t0=1001.5035, duration=3.0, plugin_manager=toy_pm) | change
    with pytest.raises(error) as info:
        vetcore.vet(stamps, **kwargs)
    assert message in str(info.value)


def test_vet_rejects_ambiguous_stamps(toy_pm, stamp_factory):
    kwargs = dict(period=3.0, t0=1001.5035, duration=3.0, plugin_manager=toy_pm)
    twice = [stamp_factory(sector=1, source="a.fits"), stamp_factory(sector=1, source="b.fits")]
    with pytest.raises(DataError, match=r"^b.fits: S1 given twice \(also a.fits\)"):
        vetcore.vet(twice, **kwargs)
    mixed = [
        stamp_factory(sector=1, source="a.fits"),
        stamp_factory(sector=2, source="c.fits", target_id="TIC 2"),
    ]
    with pytest.raises(DataError, match=r"^c.fits: target 'TIC 2' differs from 'TIC 1' \(a.fits\)"):
        vetcore.vet(mixed, **kwargs)
    assert len(vetcore.vet(mixed, target="TIC 1", **kwargs).sectors) == 2
    nowhere = stamp_factory(sector=1)
    nowhere = nowhere.replace(target=vetcore.Target("TIC 1"))
    with pytest.raises(DataError, match="no target RA/Dec in the data; pass ra= and dec="):
        vetcore.vet(nowhere, **kwargs)


def test_configure_hook_receives_effective_config(toy_plugin, stamp_factory):
    seen = []

    class Configurable:
        @hookimpl
        def vetcore_configure(self, config):
            seen.append(config)

    pm = PluginManager(autoload=False, plugins=[("toy", toy_plugin), ("conf", Configurable())])
    report = vetcore.vet(
        stamp_factory(),
        period=3.0,
        t0=1001.5035,
        duration=3.0,
        checks=["T01"],
        plugin_manager=pm,
        config={"plugins": {"conf": {"level": 2}}},
    )
    assert seen == [report.config]
    assert seen[0]["plugins"]["conf"] == {"level": 2}

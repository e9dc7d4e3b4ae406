"""V25 on the real V08 and V09 results: synthetic sectors and real TESS/Kepler pixels.

These run the per-sector checks through the core runner (``run_check`` /
``vetcore.vet``), so they need the vet_centroid and vet_diffimg plugins installed.
"""

import json
import math

import numpy as np
import pytest

from vetcore import CheckResult, Localization, Status
from vetcore.sky import offset_to_sky
from vetcore.testing import SyntheticStar, make_sectors, make_stamp, run_check, shared_data

STARS = (SyntheticStar(flux=3.0e4), SyntheticStar(east_arcsec=30.0, north_arcsec=0.0, flux=1.5e4))
SECTOR_CHECKS = ("V08", "V09")


def sector_results(cases, checks=SECTOR_CHECKS):
    """``{stamp label: {check id: result}}`` for every case, as the runner builds it."""
    return {c.stamp.label: {cid: run_check(cid, c) for cid in checks} for c in cases}


def v25(cases, results, **params) -> CheckResult:
    return run_check("V25", cases, results=results, **params)


@pytest.fixture(scope="module")
def on_target_sectors():
    return make_sectors(3, stars=STARS, transit_star=0, snr=40.0, seed=101)


@pytest.fixture(scope="module")
def neighbour_sectors():
    return make_sectors(3, stars=STARS, transit_star=1, snr=40.0, seed=202)


def test_three_rolls_on_target(on_target_sectors):
    results = sector_results(on_target_sectors)
    rolls = [c.stamp.meta["roll_deg"] for c in on_target_sectors]
    assert len(set(rolls)) == 3
    res = v25(on_target_sectors, results)
    assert res.status is Status.PASS, res.message
    assert res.metrics["verdict"] == "on_target"
    assert res.metrics["consistency_basis"] == "sectors" and res.metrics["n_localizations"] == 3
    assert res.metrics["distance_arcsec"] < 5.0


def test_three_rolls_neighbour_is_off_target(neighbour_sectors):
    results = sector_results(neighbour_sectors)
    res = v25(neighbour_sectors, results)
    assert res.status is Status.FAIL, res.message
    assert res.metrics["verdict"] == "off_target"
    truth = np.array(neighbour_sectors[0].truth.source_offset_arcsec)
    combined = np.array([res.metrics["east_arcsec"], res.metrics["north_arcsec"]])
    assert np.hypot(*(combined - truth)) < 5.0
    # the truth is within 3σ of the combined position
    assert res.metrics["n_localizations"] == 3


def test_spurious_sector_is_inconsistent(on_target_sectors):
    """On target in two sectors; in the third a localization 40″ away with a small error."""
    results = sector_results(on_target_sectors)
    third = on_target_sectors[2].stamp
    ra, dec = offset_to_sky(40.0, 0.0, third.target.ra, third.target.dec)
    spurious = Localization(
        method="V09",
        ra=float(ra),
        dec=float(dec),
        offset_arcsec=(40.0, 0.0),
        covariance_arcsec2=np.eye(2) * 1.0,
    )
    injected = CheckResult(status=Status.FAIL, localization=spurious, sector=third.sector)
    results[third.label] = {**results[third.label], "V09": injected}
    res = v25(on_target_sectors, results, primary_method="V09")
    assert res.metrics["verdict"] == "inconsistent" and res.status is Status.INCONCLUSIVE
    assert "SECTORS_INCONSISTENT" in res.flags
    assert max(res.plot_data["methods"]["V09"]["pulls"].items(), key=lambda kv: kv[1])[0] == third.label


def test_blend_that_moves_between_sectors_is_inconsistent():
    """The signal sits on the target in two sectors and on the neighbour in the third."""
    on = make_sectors(3, stars=STARS, transit_star=0, snr=40.0, seed=303)
    off = make_sectors(3, stars=STARS, transit_star=1, snr=40.0, seed=303)
    cases = [on[0], on[1], off[2]]
    res = v25(cases, sector_results(cases))
    assert res.metrics["verdict"] == "inconsistent", res.message


def test_single_sector_uses_transits():
    case = make_stamp(stars=STARS, transit_star=0, snr=40.0, period=3.1, span_days=27.0, seed=404)
    results = sector_results([case])
    assert any(r.localization is not None and len(r.localization.epochs) >= 2 for r in results["S1"].values())
    res = v25([case], results)
    assert res.metrics["consistency_basis"] == "epochs" and "EPOCH_BASIS" in res.flags
    assert res.metrics["verdict"] == "on_target", res.message


def test_single_transit_follows_its_one_localization():
    """One transit: V25 cannot test consistency; its verdict is that of the one localization, said so."""
    case = make_stamp(stars=STARS, transit_star=0, snr=40.0, period=40.0, t0=2010.0, span_days=27.0, seed=505)
    results = sector_results([case])
    res = v25([case], results)
    assert res.metrics["consistency_basis"] == "none" and "SINGLE_LOCALIZATION" in res.flags
    assert "one sector (S1): cross-sector consistency untested" in res.message
    primary = results["S1"][res.metrics["primary_method"]]
    assert res.status is primary.status  # no certainty added, none taken away


def test_nothing_localizable_runs_and_is_inconclusive():
    """A transit too shallow to localize: V25 runs (not skipped) and says there was nothing to combine."""
    import vetcore

    case = make_stamp(stars=STARS, transit_star=0, depth=1e-6, period=3.1, span_days=27.0, seed=606)
    eph = case.ephemeris
    report = vetcore.vet(
        case.stamp, period=eph.period, t0=eph.t0, duration=eph.duration_hours, checks=["V09", "V25"]
    )
    assert report.result("V09").localization is None
    res = report.result("V25")
    assert res.status is Status.INCONCLUSIVE and "NO_LOCALIZATIONS" in res.flags
    assert report.disposition.verdict == "inconclusive" and report.disposition.checks == ("V25",)
    assert "nothing localizable" in report.disposition.reason


def test_full_run_report_holds_the_aggregate(on_target_sectors):
    import vetcore

    eph = on_target_sectors[0].ephemeris
    report = vetcore.vet(
        [c.stamp for c in on_target_sectors],
        period=eph.period,
        t0=eph.t0,
        duration=eph.duration_hours,
        checks=["V08", "V09", "V25"],
    )
    doc = json.loads(report.to_json())
    agg = doc["aggregates"]["V25"]
    assert agg["metrics"]["verdict"] == "on_target"
    assert agg["localization"]["method"].startswith("V25 combined")
    assert {row["stamp"] for row in agg["plot_data"]["sectors"]} == {c.stamp.label for c in on_target_sectors}
    assert all(isinstance(v, (int, float, str, bool)) or v is None for v in agg["metrics"].values())


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
@pytest.mark.slow
def test_toi813_sector5_is_on_target_one_sector():
    """TOI-813 (confirmed planet, one 13-h transit in S5): a usable on-target answer from one sector."""
    import vetcore

    path = shared_data("tpf/tess2018319095959-s0005-0000000055525572-0125-s_tp.fits.gz")
    report = vetcore.vet(
        path, period=83.899464, t0=1454.659802, duration=13.280961, checks=["V08", "V09", "V25"]
    )
    d = report.disposition
    assert d.verdict == "on_target", d.reason
    assert d.checks == ("V25",) and d.likely_host == "target"
    assert "one sector (S5): cross-sector consistency untested" in d.reason
    # the confusion radius is resolved: within one TESS pixel (≈ 20.5″ here, from the WCS)
    res = report.result("V25")
    assert d.confusion_radius_arcsec <= res.metrics["max_confusion_radius_arcsec"] < 22.0
    assert res.metrics["consistency_basis"] == "none" and "SINGLE_LOCALIZATION" in res.flags


@pytest.mark.realdata
@pytest.mark.slow
def test_toi5807_sector83_is_not_off_target():
    import vetcore

    path = shared_data("tpf/toi5807_tic188646744/sector83_tpf.npz")
    report = vetcore.vet(
        path,
        period=14.2423724,
        t0=3540.26317,
        duration=4.046,
        ra=308.5672083,
        dec=43.3606889,
        checks=["V08", "V09", "V25"],
    )
    res = report.result("V25")
    assert res.metrics["verdict"] != "off_target", res.message
    assert report.disposition.verdict != "off_target"
    assert res.metrics["consistency_basis"] in ("epochs", "none")


@pytest.mark.realdata
@pytest.mark.slow
def test_koi608_is_off_target():
    import vetcore

    path = shared_data("tpf/kepler/kplr005562784-2011271113734_lpd-targ.fits.gz")
    report = vetcore.vet(
        path, period=25.3368592, t0=192.91552, duration=8.85, depth=1500.0, checks=["V08", "V09", "V25"]
    )
    res = report.result("V25")
    assert res.metrics["verdict"] == "off_target", res.message
    assert res.metrics["consistency_basis"] == "epochs" and res.metrics["n_localizations"] == 3
    assert math.isfinite(res.metrics["offset_sigma"])
    d = report.disposition
    assert d.verdict == "off_target" and d.checks == ("V25",)
    # the source lies at least 3″ (¾ of a Kepler pixel) from the target, well outside its confusion
    # radius (measured 2.45″ for 4.83″, with V09's bootstrap over the 3 transits corrected by K/(K − 1))
    assert res.metrics["distance_arcsec"] >= 3.0
    assert d.confusion_radius_arcsec < 0.6 * res.metrics["distance_arcsec"]
    assert d.likely_host is None and "no neighbour list" in d.reason

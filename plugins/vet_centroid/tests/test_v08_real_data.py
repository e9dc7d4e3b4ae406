"""V08 on real pixels: the on-target planets pass, KOI-608 (off-target false positive) fails."""

from __future__ import annotations

import pytest

import vetcore
from vetcore.testing import run_check, shared_data

TOI5807 = vetcore.Target("TIC 188646744", ra=308.5672083, dec=43.3606889)
TOI5807_EPH = vetcore.Ephemeris(period=14.2423724, t0=3540.26317, duration_hours=4.046)


@pytest.fixture(scope="module")
def toi5807():
    return vetcore.load(shared_data("tpf/toi5807_tic188646744/sector83_tpf.npz"), target=TOI5807)[0]


def test_toi5807_s83_not_fail(toi5807):
    """250 ppm on a Tmag 7.5 star: consistent with the target, but far too imprecise (3σ confusion
    radius ≈ 55″, beyond one 20″ pixel) to exclude its neighbours, so inconclusive, never off target."""
    result = run_check("V08", toi5807, TOI5807_EPH)
    assert result.status.value == "inconclusive", result.message
    assert "POOR_LOCALIZATION" in result.flags
    assert result.metrics["n_transits"] == 2
    assert result.metrics["significance_sigma"] < 3
    assert result.localization is not None
    assert result.localization.offset_sigma < 3
    radius = result.metrics["confusion_radius_arcsec"]
    assert radius == pytest.approx(result.localization.confusion_radius_arcsec(), rel=1e-9)
    assert radius > toi5807.pixel_scale_arcsec
    assert "cannot" in result.message or "too imprecise" in result.message


def test_toi5807_s83_global_baseline_matches_published_numbers(toi5807):
    """The quick-look numbers users have for S83: 244 / 16841 cadences, shift 0.01700 px."""
    result = run_check("V08", toi5807, TOI5807_EPH, baseline="global")
    m = result.metrics
    assert (m["n_in_transit_cadences"], m["n_out_of_transit_cadences"]) == (244, 16841)
    assert m["centroid_shift_pixels"] == pytest.approx(0.01700, abs=0.0005)
    assert m["centroid_shift_arcsec"] == pytest.approx(0.01700 * 19.8, abs=0.02)


def test_toi813_s5_not_fail():
    stamp = vetcore.load(shared_data("tpf/tess2018319095959-s0005-0000000055525572-0125-s_tp.fits.gz"))[0]
    eph = vetcore.Ephemeris(period=83.899464, t0=1454.659802, duration_hours=13.280961)
    result = run_check("V08", stamp, eph)
    assert result.status.value != "fail", result.message
    assert "POINTING_STEP_MODELLED" in result.flags  # a momentum dump falls inside this transit
    assert result.metrics["depth_ppm"] == pytest.approx(1500, rel=0.25)
    # the sector-wide baseline, without detrending, reports a spurious many-sigma shift here
    quick_look = run_check("V08", stamp, eph, baseline="global")
    assert quick_look.metrics["significance_sigma"] > 5


def test_koi608_q10_fails():
    stamp = vetcore.load(shared_data("tpf/kepler/kplr005562784-2011271113734_lpd-targ.fits.gz"))[0]
    eph = vetcore.Ephemeris(period=25.3368592, t0=192.91552, duration_hours=8.85)
    result = run_check("V08", stamp, eph)
    assert result.status.value == "fail", result.message
    assert result.metrics["n_transits"] == 3
    assert result.localization.offset_sigma > 5
    assert stamp.pixel_scale_arcsec == pytest.approx(3.98, rel=0.01)

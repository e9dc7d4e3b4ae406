"""User inputs: astropy quantities and times, and values that would silently mislead."""

from __future__ import annotations

import pytest

from vetcore.errors import ConfigError
from vetcore.inputs import check_epoch, ephemeris_warnings, flatten_sources, make_ephemeris
from vetcore.testing import make_sectors

u = pytest.importorskip("astropy.units")


def test_quantities_are_converted_to_vetcore_units():
    eph, notes = make_ephemeris(14.2423724 * u.day, 3540.26317, 4.046 * u.hour, 0.00025 * u.one)
    assert eph.period == 14.2423724 and eph.duration_hours == pytest.approx(4.046, rel=1e-12)
    assert eph.depth_ppm == pytest.approx(250.0, rel=1e-12) and notes == []
    eph, _ = make_ephemeris(20.5 * u.hour, 100.0, 30 * u.min)
    assert eph.period == pytest.approx(20.5 / 24, rel=1e-12) and eph.duration_hours == pytest.approx(0.5)
    with pytest.raises(ConfigError, match=r"period: expected a quantity convertible to d .*got 14\.0 m"):
        make_ephemeris(14 * u.m, 100.0, 2.0)
    with pytest.raises(ConfigError, match="t0: a Quantity"):
        make_ephemeris(14.0, 3540.0 * u.day, 2.0)


def test_times_keep_their_time_system():
    from astropy.time import Time

    eph, notes = make_ephemeris(14.24, Time(2460540.26317, format="jd", scale="tdb"), 4.0)
    assert (eph.time_system, notes) == ("BJD", [])
    assert eph.t0_in("BTJD") == pytest.approx(3540.26317, abs=1e-8)
    eph, notes = make_ephemeris(14.24, Time(60539.76317, format="mjd", scale="utc"), 4.0)
    assert eph.time_system == "BJD" and "UTC scale" in notes[0]
    assert eph.t0_in("BTJD") == pytest.approx(3540.26317 + 69.184 / 86400, abs=1e-7)  # UTC → TDB
    pytest.importorskip("lightkurve", reason="the btjd Time format is registered by lightkurve")
    eph, _ = make_ephemeris(14.24, Time(3540.26317, format="btjd"), 4.0)
    assert (eph.time_system, eph.t0) == ("BTJD", pytest.approx(3540.26317, abs=1e-9))


@pytest.mark.parametrize("period", [0.7, 14.24, 80.0])
@pytest.mark.parametrize("t0", [58540.26, 60540.26])  # reduced JD, MJD-like
def test_mjd_like_t0_is_refused_for_any_period(period, t0):
    stamps = [c.stamp for c in make_sectors(1, seed=3)]
    eph, _ = make_ephemeris(period, t0, 1.5)
    with pytest.raises(ConfigError) as info:
        check_epoch(eph, stamps)
    message = str(info.value)
    assert f"t0 {t0!r} is not a plausible BTJD for TESS data" in message
    assert "looks like an MJD" in message and "accepted: BTJD" in message and "full BJD" in message


def test_btjd_for_kepler_data_and_bkjd_for_tess_are_refused():
    kepler = [c.stamp for c in make_sectors(1, seed=3, mission="Kepler", t_start=900.0)]
    check_epoch(make_ephemeris(3.0, 131.7, 2.0)[0], kepler)  # a KOI-catalogue epoch, years before Q10
    check_epoch(make_ephemeris(3.0, 905.0, 2.0)[0], kepler)
    with pytest.raises(ConfigError, match=r"not a plausible BKJD for Kepler data.*looks like a BTJD"):
        check_epoch(make_ephemeris(3.0, 3540.26, 2.0)[0], kepler)
    tess = [c.stamp for c in make_sectors(1, seed=3)]
    with pytest.raises(ConfigError, match="looks like a BKJD"):
        check_epoch(make_ephemeris(3.0, 131.5, 2.0)[0], tess)
    check_epoch(make_ephemeris(3.0, 131.5 + 2454833.0, 2.0)[0], tess)  # a full BJD is always accepted


def test_durations_that_cannot_be_right():
    with pytest.raises(
        ConfigError, match=r"duration 400 h is not shorter than the period 14.24 d \(341.76 h\)"
    ):
        make_ephemeris(14.24, 3540.0, 400.0)
    assert ephemeris_warnings(make_ephemeris(14.24, 3540.0, 4.046)[0]) == []
    assert ephemeris_warnings(make_ephemeris(0.7, 3540.0, 0.9)[0]) == []  # short but real
    (days,) = ephemeris_warnings(make_ephemeris(14.24, 3540.0, 0.1686)[0])
    assert "duration 0.1686 h looks too short" in days and "given in days" in days and "4.0464 h" in days
    (long_period,) = ephemeris_warnings(make_ephemeris(80.0, 3540.0, 0.33)[0])
    assert "P = 80 d lasts about 7.8 h" in long_period


def test_flatten_sources():
    assert flatten_sources("a.fits") == ["a.fits"]
    assert flatten_sources(["a", ("b", "c")]) == ["a", "b", "c"]

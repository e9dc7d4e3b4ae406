"""Data model validation: targets, ephemerides, stamps, parameters, checks, results."""

from __future__ import annotations

import numpy as np
import pytest

from vetcore import Check, CheckResult, Ephemeris, Localization, Param, Params, Status, Target


def test_target_position_validation():
    assert Target("TIC 1", 359.9, -90.0).has_position
    assert not Target(12345).has_position and Target(12345).id == "12345"
    with pytest.raises(ValueError, match=r"RA must be in \[0, 360\) deg, got 360.0"):
        Target("x", 360.0, 0.0)
    with pytest.raises(ValueError, match=r"Dec must be in \[-90, 90\] deg, got 91.0"):
        Target("x", 10.0, 91.0)
    with pytest.raises(ValueError, match="RA must be"):
        Target("x", float("nan"), 0.0)


def test_ephemeris_time_systems():
    eph = Ephemeris(period=14.2423724, t0=3540.26317, duration_hours=4.046)
    assert eph.time_system == "data" and eph.t0_in("BTJD") == 3540.26317
    bjd = Ephemeris(period=25.3368592, t0=2455025.91552, duration_hours=8.85)
    assert bjd.time_system == "BJD"
    assert bjd.t0_in("BKJD", 2454833.0) == pytest.approx(192.91552, abs=1e-9)
    assert bjd.t0_in("BTJD") == pytest.approx(2455025.91552 - 2457000.0, abs=1e-9)
    assert bjd.duration_days == pytest.approx(8.85 / 24)
    mids = eph.mid_transits(3530.0, 3560.0)
    np.testing.assert_allclose(mids, [3540.26317, 3554.5055424], atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period": 0.0}, "period must be a positive number"),
        ({"duration_hours": float("inf")}, "duration_hours must be a positive number"),
        ({"duration_hours": 48.0, "period": 1.5}, "duration must be shorter than the period"),
        ({"time_system": "MJD"}, "time_system must be data, BJD, BTJD or BKJD"),
    ],
)
def test_ephemeris_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Ephemeris(**({"period": 3.0, "t0": 1.0, "duration_hours": 2.0} | kwargs))


def test_stamp_shape_validation(stamp_factory):
    stamp = stamp_factory()
    assert (stamp.label, stamp.shape, stamp.n_cadences) == ("S1", (11, 11), 1440)
    with pytest.raises(ValueError, match=r"flux must be \(cadence, row, col\), got shape \(1440, 121\)"):
        stamp.replace(flux=stamp.flux.reshape(1440, 121), flux_err=None)
    with pytest.raises(ValueError, match=r"time has shape \(10,\), flux has 1440 cadences"):
        stamp.replace(time=stamp.time[:10])
    with pytest.raises(ValueError, match=r"aperture mask shape \(3, 3\) differs from image \(11, 11\)"):
        stamp.replace(aperture_mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"quality shape \(5,\) differs from time \(1440,\)"):
        stamp.replace(quality=np.zeros(5))
    with pytest.raises(ValueError, match="unknown time system 'MJD'"):
        stamp.replace(time_system="MJD")
    assert stamp_factory(mission="Kepler", sector=10).label == "Q10"


def test_good_cadences_and_valid_pixels(stamp_factory):
    stamp = stamp_factory()
    flux = stamp.flux.copy()
    flux[3] = np.nan  # a cadence with no data at all
    flux[:, 0, 0] = np.nan  # a pixel that is never collected (Kepler corner)
    quality = np.zeros(stamp.n_cadences, int)
    quality[[5, 6]] = 32
    quality[7] = 1024  # a bit outside the mask
    stamp = stamp.replace(flux=flux, quality=quality, quality_bitmask=32 | 128)
    bad = np.flatnonzero(~stamp.good)
    np.testing.assert_array_equal(bad, [3, 5, 6])
    valid = stamp.valid_pixels
    assert not valid[0, 0] and valid.sum() == 120
    # each call returns its own array: changing one leaves the stamp's answer alone
    stamp.good[:] = False
    np.testing.assert_array_equal(np.flatnonzero(~stamp.good), [3, 5, 6])
    # a replaced stamp answers for its own arrays
    np.testing.assert_array_equal(np.flatnonzero(~stamp.replace(quality_bitmask=0).good), [3])


def test_param_coercion():
    number = Param("x", 1.0, "a number")
    assert number.coerce(2) == 2.0 and isinstance(number.coerce(2), float)
    with pytest.raises(TypeError, match="expected a number, got bool True"):
        number.coerce(True)
    integer = Param("n", 1, "count", type="int")
    with pytest.raises(TypeError, match=r"expected an integer, got float 1\.0"):
        integer.coerce(1.0)
    choice = Param("m", "a", "mode", type="str", choices=("a", "b"))
    assert choice.coerce("b") == "b"
    with pytest.raises(ValueError, match=r"must be one of \['a', 'b'\], got 'c'"):
        choice.coerce("c")
    with pytest.raises(TypeError, match="expected bool, got int 1"):
        Param("f", False, "flag", type="bool").coerce(1)
    with pytest.raises(ValueError, match="type must be one of"):
        Param("z", 1, "bad", type="complex")


def test_params_are_read_only_mappings():
    params = Params({"a": 1, "b": "x"})
    assert params.a == 1 and params["b"] == "x" and dict(params) == {"a": 1, "b": "x"} and len(params) == 2
    with pytest.raises(AttributeError):
        params.c  # noqa: B018
    with pytest.raises(AttributeError, match="read-only"):
        params.a = 2


def test_check_definition_validation():
    run = lambda ctx: CheckResult(status="pass")  # noqa: E731
    check = Check(id="V08", title="t", run=run, params=(Param("a", 1.0, "d"),))
    assert check.scope.value == "sector" and check.requires == ("pixels",)
    assert check.default_params() == {"a": 1.0} and check.param("a").doc == "d"
    with pytest.raises(KeyError):
        check.param("b")
    with pytest.raises(ValueError, match="check id must be alphanumeric"):
        Check(id="V 08", title="t", run=run)
    with pytest.raises(ValueError, match="duplicate parameter names"):
        Check(id="V08", title="t", run=run, params=(Param("a", 1.0, "d"), Param("a", 2.0, "e")))
    with pytest.raises(ValueError):
        Check(id="V08", title="t", run=run, scope="galaxy")


def test_check_result_and_localization():
    result = CheckResult(status="fail", flags=["A"], metrics={"m": 1})
    assert result.status is Status.FAIL and result.flags == ("A",) and str(result.status) == "fail"
    assert result.replace(message="x").message == "x" and result.message == ""
    with pytest.raises(ValueError):
        CheckResult(status="maybe")
    loc = Localization(
        method="m", ra=1.0, dec=2.0, offset_arcsec=(3.0, 4.0), covariance_arcsec2=np.diag([1.0, 4.0])
    )
    assert loc.distance_arcsec == 5.0
    assert loc.offset_sigma == pytest.approx(np.sqrt(9.0 + 4.0))
    assert loc.sigma_arcsec == pytest.approx(np.sqrt(2.5))
    with pytest.raises(ValueError, match=r"covariance must be 2x2, got shape \(3,\)"):
        Localization(method="m", ra=1.0, dec=2.0, offset_arcsec=(0, 0), covariance_arcsec2=[1, 2, 3])

"""Pixel ↔ sky geometry (round trips, offsets, Jacobians) and transit windows."""

from __future__ import annotations

import numpy as np
import pytest

from vetcore import Ephemeris, Localization
from vetcore.sky import (
    mahalanobis,
    offset_to_sky,
    pixel_frame,
    pixel_scale_arcsec,
    pixel_to_offset,
    pixel_to_sky,
    sky_offset,
    sky_to_pixel,
)
from vetcore.transits import in_transit_mask, time_from_mid_transit, transit_windows

ROLL = 37.0


@pytest.fixture
def rotated(stamp_factory):
    """A stamp whose WCS is rolled by 37° (north is not along a pixel axis)."""
    return stamp_factory(roll_deg=ROLL)


def test_pixel_sky_round_trip_on_rotated_wcs(rotated):
    rows, cols = np.meshgrid(np.linspace(-2, 12, 15), np.linspace(-1.5, 10.5, 13), indexing="ij")
    ra, dec = pixel_to_sky(rotated.wcs, rows, cols)
    back_row, back_col = sky_to_pixel(rotated.wcs, ra, dec)
    np.testing.assert_allclose(back_row, rows, atol=1e-8)
    np.testing.assert_allclose(back_col, cols, atol=1e-8)
    assert rotated.target_pixel == pytest.approx((5.0, 5.0), abs=1e-9)
    assert pixel_scale_arcsec(rotated.wcs) == pytest.approx(21.0, rel=1e-12)


def test_sky_functions_read_the_celestial_part_of_any_wcs():
    """As ``WCS.celestial`` (longitude first, other axes dropped), also where it is not a copy."""
    from astropy.wcs import WCS

    def wcs(ctypes, crval, cdelt):
        w = WCS(naxis=len(ctypes))
        w.wcs.ctype, w.wcs.crval, w.wcs.cdelt = ctypes, crval, cdelt
        w.wcs.crpix, w.wcs.pc = [5.0] * len(ctypes), np.eye(len(ctypes))
        w.wcs.pc[:2, :2] = [[0.8, -0.6], [0.6, 0.8]]
        return w

    rows, cols = np.array([0.0, 3.5, 9.0]), np.array([1.0, -2.0, 7.25])
    for w in (
        wcs(["RA---TAN", "DEC--TAN"], [308.5, 43.3], [-21 / 3600, 21 / 3600]),
        wcs(["DEC--TAN", "RA---TAN"], [43.3, 308.5], [21 / 3600, -21 / 3600]),
        wcs(["RA---TAN", "DEC--TAN", "WAVE"], [308.5, 43.3, 6e-7], [-21 / 3600, 21 / 3600, 1e-9]),
    ):
        ra, dec = w.celestial.all_pix2world(cols, rows, 0)
        np.testing.assert_allclose(pixel_to_sky(w, rows, cols), (ra, dec), rtol=1e-14)
        np.testing.assert_allclose(sky_to_pixel(w, ra, dec), (rows, cols), atol=1e-9)
        assert pixel_scale_arcsec(w) == pytest.approx(21.0, rel=1e-12)


@pytest.mark.parametrize("dec0", [0.0, 43.36, 80.0, -65.0])
def test_sky_offset_round_trip_and_small_angle_limit(dec0):
    east, north = np.array([30.0, -120.0, 0.0, 5.0]), np.array([0.0, 45.0, -60.0, 5.0])
    ra, dec = offset_to_sky(east, north, 10.0, dec0)
    e2, n2 = sky_offset(ra, dec, 10.0, dec0)
    np.testing.assert_allclose(e2, east, atol=1e-7)
    np.testing.assert_allclose(n2, north, atol=1e-7)
    # for small offsets (≤ 6", second-order terms r²·tan(Dec)/206265 < 1e-3") they are (ΔRA·cos Dec, ΔDec)
    small_e, small_n = east / 20.0, north / 20.0
    ra, dec = offset_to_sky(small_e, small_n, 10.0, dec0)
    dra = (ra - 10.0 + 180.0) % 360.0 - 180.0
    np.testing.assert_allclose(dra * np.cos(np.radians(dec)) * 3600.0, small_e, atol=1e-3)
    np.testing.assert_allclose((dec - dec0) * 3600.0, small_n, atol=1e-3)


def test_offset_of_a_pixel_and_jacobian_on_rotated_wcs(rotated):
    # +1 row at roll θ: intermediate (x, y) = CDELT·PC·(0, 1), CDELT1 < 0 → (east, north) = 21"·(sin θ, cos θ)
    (east, north), jac = pixel_to_offset(rotated, 6.0, 5.0, with_jacobian=True)
    theta = np.radians(ROLL)
    assert (east, north) == pytest.approx((21.0 * np.sin(theta), 21.0 * np.cos(theta)), rel=1e-6)
    # J = ∂(east, north)/∂(row, col) is the pixel scale times a rotation by the roll (an east-left image
    # seen in (row, col) order has the same handedness as (east, north))
    np.testing.assert_allclose(jac.T @ jac, 21.0**2 * np.eye(2), rtol=1e-6, atol=1e-4)
    assert np.linalg.det(jac) == pytest.approx(21.0**2, rel=1e-6)
    expected = 21.0 * np.array([[np.sin(theta), -np.cos(theta)], [np.cos(theta), np.sin(theta)]])
    np.testing.assert_allclose(jac, expected, atol=1e-5)


def test_localization_from_pixel_propagates_covariance(rotated):
    cov_pix = np.array([[0.04, 0.0], [0.0, 0.01]])
    loc = Localization.from_pixel(rotated, 5.0, 7.0, cov_pix, method="test")
    theta = np.radians(ROLL)
    # +col at roll θ: (east, north) = 21"·(−cos θ, sin θ)
    np.testing.assert_allclose(loc.offset_arcsec, [-42.0 * np.cos(theta), 42.0 * np.sin(theta)], rtol=1e-6)
    assert np.trace(loc.covariance_arcsec2) == pytest.approx(0.05 * 21.0**2, rel=1e-6)
    assert np.linalg.det(loc.covariance_arcsec2) == pytest.approx(0.04 * 0.01 * 21.0**4, rel=1e-6)
    assert loc.offset_sigma == pytest.approx(2.0 / 0.1, rel=1e-6)  # 2 px along the 0.1-px axis
    ra, dec = rotated.pixel_to_sky(5.0, 7.0)
    assert (loc.ra, loc.dec) == (pytest.approx(float(ra)), pytest.approx(float(dec)))


def test_pixel_frame_compass(stamp_factory):
    frame = pixel_frame(stamp_factory(roll_deg=0.0))
    np.testing.assert_allclose(frame["north"], [1.0, 0.0], atol=1e-6)  # +row is north
    np.testing.assert_allclose(frame["east"], [0.0, -1.0], atol=1e-6)  # east is towards −col
    assert frame["shape"] == [11, 11] and frame["label"] == "S1"
    assert np.array(frame["aperture"]).sum() == 13


def test_mahalanobis():
    assert mahalanobis([3.0, 4.0], np.eye(2)) == pytest.approx(5.0)
    assert mahalanobis([2.0, 0.0], [[4.0, 0.0], [0.0, 1.0]]) == pytest.approx(1.0)
    assert np.isnan(mahalanobis([1.0, 0.0], np.zeros((2, 2))))
    assert np.isnan(mahalanobis([np.nan, 0.0], np.eye(2)))


# -- transits ---------------------------------------------------------------------------------


def test_time_from_mid_transit_and_mask(stamp_factory, ephemeris):
    stamp = stamp_factory()
    dt, epoch = time_from_mid_transit(stamp, ephemeris)
    assert np.all(np.abs(dt) <= ephemeris.period / 2 + 1e-9)
    assert set(np.unique(epoch)) == {-1, 0, 1, 2, 3}
    # 10-min cadences, t0 half a cadence off the grid: 18 cadences within ±1.5 h per transit, 3 transits
    assert in_transit_mask(stamp, ephemeris).sum() == 54
    bjd = Ephemeris(period=3.0, t0=ephemeris.t0 + 2457000.0, duration_hours=3.0)
    np.testing.assert_allclose(time_from_mid_transit(stamp, bjd)[0], dt, atol=1e-6)


def test_transit_windows_layout(stamp_factory, ephemeris):
    stamp = stamp_factory()
    windows = transit_windows(stamp, ephemeris)
    assert [w.epoch for w in windows] == [0, 1, 2]
    np.testing.assert_allclose([w.t_mid for w in windows], ephemeris.t0 + 3.0 * np.arange(3))
    for w in windows:
        # in transit: |dt| ≤ 0.8·D/2 = 0.05 d → 14 cadences; expected 0.8·D/cadence = 14.4
        assert w.in_transit.size == 14 and w.coverage == pytest.approx(14 / 14.4)
        # baseline: D/2 + 0.25 D ≤ |dt| ≤ D/2 + 1.75 D, i.e. 0.09375–0.28125 d → 27 cadences a side
        assert (w.before.size, w.after.size) == (27, 27) and w.two_sided
        dt = stamp.time[w.baseline] - w.t_mid
        assert np.all((np.abs(dt) >= 0.09375) & (np.abs(dt) <= 0.28125))
        assert np.all(np.diff(w.indices) > 0)


def test_transit_windows_drop_poorly_covered_transits(stamp_factory, ephemeris):
    stamp = stamp_factory()
    first = transit_windows(stamp, ephemeris)[0]
    quality = np.zeros(stamp.n_cadences, int)
    quality[first.in_transit[:8]] = 32  # flag 8 of the 14 in-transit cadences of the first transit
    flagged = stamp.replace(quality=quality, quality_bitmask=32)
    windows = transit_windows(flagged, ephemeris)
    assert windows[0].in_transit.size == 6 and windows[0].coverage == pytest.approx(6 / 14.4)
    assert [w.epoch for w in transit_windows(flagged, ephemeris, min_coverage=0.5)] == [1, 2]

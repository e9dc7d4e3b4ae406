"""X01 odd/even depth on synthetic stamps with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from vet_oddeven import plugin
from vet_oddeven.check import FLAGS, PARAMS
from vetcore import Ephemeris, Status
from vetcore.testing import SyntheticCase, make_stamp

PERIOD, T0, DURATION_H = 2.0, 2000.7, 3.0
GRID = {"t_start": 2000.0, "span_days": 27.0, "cadence_seconds": 1800.0, "duration_hours": DURATION_H}


def binary(depth_odd: float, depth_even: float, seed: int, **grid: float) -> tuple[SyntheticCase, Ephemeris]:
    """A target whose odd and even transits have different depths (an eclipsing binary at 2·PERIOD).

    Built from noiseless stamps on one grid (odd eclipses + even eclipses − no eclipse), plus white noise
    of the stamp's own ``flux_err``.
    """
    kw = {**GRID, **grid, "noise": False, "seed": seed}
    odd = make_stamp(period=2 * PERIOD, t0=T0 + PERIOD, depth=depth_odd, **kw)
    even = make_stamp(period=2 * PERIOD, t0=T0, depth=depth_even, **kw)
    flat = make_stamp(transit_star=None, period=2 * PERIOD, t0=T0, **kw)
    rng = np.random.default_rng(seed)
    flux = odd.stamp.flux + even.stamp.flux - flat.stamp.flux
    flux = flux + rng.standard_normal(flux.shape) * flat.stamp.flux_err
    case = SyntheticCase(stamp=flat.stamp.replace(flux=flux), ephemeris=even.ephemeris, truth=odd.truth)
    return case, Ephemeris(period=PERIOD, t0=T0, duration_hours=DURATION_H)


@pytest.fixture
def pm(vetcore_plugin_manager):
    return vetcore_plugin_manager(("vet_oddeven", plugin))


def test_plugin_registers_documented_check(pm):
    check = pm.checks["X01"]
    assert check.plugin == "vet_oddeven" and check.plot is plugin.plot
    assert check.requires == ("pixels", "aperture")
    assert all(p.doc for p in PARAMS)
    assert all(code.isupper() for code in FLAGS)


def test_planet_passes_with_equal_depths(pm, run_check):
    case, eph = binary(0.003, 0.003, seed=1)
    result = run_check("X01", case, eph)
    assert result.status == Status.PASS, result.message
    assert result.localization is None
    m = result.metrics
    assert (m["n_odd"], m["n_even"]) == (7, 7)  # 14 transits in 27 d
    for parity in ("odd", "even"):
        assert abs(m[f"depth_{parity}_ppm"] - 3000.0) < 4 * m[f"depth_{parity}_err_ppm"]
    assert m["diff_sigma"] < 3.0
    assert m["depth_snr"] > 20


def test_binary_with_unequal_depths_fails(pm, run_check):
    case, eph = binary(0.004, 0.002, seed=2)
    result = run_check("X01", case, eph)
    assert result.status == Status.FAIL
    assert "ODD_EVEN_DIFFERENT" in result.flags
    m = result.metrics
    assert abs(m["depth_odd_ppm"] - 4000.0) < 4 * m["depth_odd_err_ppm"]
    assert abs(m["depth_even_ppm"] - 2000.0) < 4 * m["depth_even_err_ppm"]
    assert m["depth_diff_ppm"] == pytest.approx(2000.0, abs=4 * m["depth_diff_err_ppm"])
    assert m["diff_sigma"] > 10
    per_transit = result.plot_data["transits"]
    assert {t["parity"] for t in per_transit if t["depth_ppm"] > 3000} == {"odd"}


def test_difference_errors_are_calibrated():
    """Over noise realisations of equal depths, (d_odd − d_even)/σ has unit spread (σ honest, ±30 %)."""
    from vetcore.testing import run_check

    z = []
    for seed in range(30):
        case, eph = binary(0.002, 0.002, seed=100 + seed)
        m = run_check(plugin.CHECK, case, eph).metrics
        z.append(m["depth_diff_ppm"] / m["depth_diff_err_ppm"])
    assert 0.7 < np.std(z) < 1.3
    assert abs(np.mean(z)) < 0.6


def test_few_transits_inconclusive_unless_allowed(pm, run_check):
    case, eph = binary(0.004, 0.002, seed=3, span_days=4.5, gap_days=0.5)  # one even, one odd transit
    result = run_check("X01", case, eph)
    assert result.status == Status.INCONCLUSIVE
    assert "TOO_FEW_TRANSITS" in result.flags
    assert (result.metrics["n_odd"], result.metrics["n_even"]) == (1, 1)
    relaxed = run_check("X01", case, eph, min_per_parity=1)
    assert relaxed.status == Status.FAIL


def test_no_transit_is_inconclusive(pm, run_check):
    case, eph = binary(0.0, 0.0, seed=4)
    result = run_check("X01", case, eph)
    assert result.status == Status.INCONCLUSIVE
    assert "DEPTH_NOT_DETECTED" in result.flags
    assert abs(result.metrics["depth_snr"]) < 4


def test_missing_pixels_and_transit_free_sector(pm, run_check):
    case, eph = binary(0.003, 0.003, seed=5, nan_fraction=0.002)
    result = run_check("X01", case, eph)
    assert result.status == Status.PASS
    assert result.metrics["n_transits"] == 14
    no_transit = Ephemeris(period=100.0, t0=1950.0, duration_hours=DURATION_H)  # next transit at 2050
    off = run_check("X01", case, no_transit)
    assert (off.status, off.flags) == (Status.INCONCLUSIVE, ("NO_TRANSIT_DATA",))


def test_plot_draws_one_point_per_transit(pm, run_check):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    case, eph = binary(0.004, 0.002, seed=6)
    result = run_check("X01", case, eph)
    fig, ax = plt.subplots()
    try:
        plugin.plot(result, [ax])
        points = sum(len(line.get_xdata()) for line in ax.lines if line.get_marker() == "o")
        assert points == result.metrics["n_transits"]
        assert "difference" in ax.get_title()
    finally:
        plt.close(fig)

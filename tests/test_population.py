"""The simulated population (vetcore.testing.population) and a fixed-seed injection–recovery run."""

from __future__ import annotations

import math
import os
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from scipy.optimize import least_squares

from vetcore.sky import pixel_scale_arcsec, sky_offset
from vetcore.testing.population import (
    KEPLER_LC,
    OFF_TARGET,
    ON_TARGET,
    TESS_2MIN,
    TESS_FFI,
    PopulationCase,
    draw_case,
    render_psf,
)
from vetcore.testing.recovery import COVERAGE_EXPECTED, summarise, vet_case
from vetcore.testing.synthetic import DESAT_FLAG


def _host_image(case: PopulationCase, k: int = 0) -> np.ndarray:
    """depth × host image: regression of the (noiseless) pixels on the true transit shape."""
    stamp, truth = case.stamps[k], case.truth.sectors[k]
    good = stamp.good
    s = truth.transit_shape[good] - truth.transit_shape[good].mean()
    flux = stamp.flux[good]
    return -np.tensordot(s, flux - flux.mean(axis=0), axes=(0, 0)) / np.sum(s**2)


# --------------------------------------------------------------------------- the generator


def test_same_seed_and_index_give_the_same_case_and_others_differ():
    a, b, c = draw_case(5, seed=3), draw_case(5, seed=3), draw_case(6, seed=3)
    assert len(a.stamps) == len(b.stamps)
    for sa, sb in zip(a.stamps, b.stamps, strict=True):
        np.testing.assert_array_equal(sa.flux, sb.flux)
        np.testing.assert_array_equal(sa.quality, sb.quality)
    assert a.truth.expected_snr == b.truth.expected_snr
    assert c.stamps[0].flux.shape != a.stamps[0].flux.shape or not np.allclose(
        c.stamps[0].flux, a.stamps[0].flux, equal_nan=True
    )


@pytest.mark.parametrize("kind", [TESS_2MIN, TESS_FFI, KEPLER_LC])
def test_host_position_and_depth_are_where_the_truth_says(kind):
    case = draw_case(2, seed=11, scenario=OFF_TARGET, kind=kind, n_sectors=1, noise=False, systematics=False)
    stamp, st, tr = case.stamps[0], case.truth.sectors[0], case.truth
    row, col = stamp.sky_to_pixel(tr.host_ra, tr.host_dec)
    assert (float(row), float(col)) == pytest.approx(st.host_pixel, abs=1e-9)
    assert stamp.target_pixel == pytest.approx(st.target_pixel, abs=1e-9)
    east, north = sky_offset(tr.host_ra, tr.host_dec, case.target.ra, case.target.dec)
    assert (float(east), float(north)) == pytest.approx(tr.host_offset_arcsec, abs=1e-6)
    scale = pixel_scale_arcsec(stamp.wcs)
    assert tr.host_separation_arcsec / scale == pytest.approx(tr.host_separation_pix, rel=1e-3)
    assert 0.3 <= tr.host_separation_pix <= 3.0
    # the dimming sits in the host's pixels with the host's PSF and the injected depth
    img = _host_image(case)
    valid = np.isfinite(img)
    host_mag = tr.host_mag
    zero = (10.0, 15_000.0) if case.mission == "TESS" else (12.0, 1.74e5)
    host_flux = zero[1] * 10 ** (-0.4 * (host_mag - zero[0]))

    def resid(p):
        model = render_psf(st.psf, np.array([[p[0]]]), np.array([[p[1]]]), np.array([p[2]]), stamp.shape)[0]
        return (model - img)[valid]

    fit = least_squares(resid, [st.host_pixel[0] + 0.3, st.host_pixel[1] - 0.3, float(np.nansum(img))])
    assert fit.x[:2] == pytest.approx(st.host_pixel, abs=1e-4)
    assert fit.x[2] / host_flux == pytest.approx(tr.depth, rel=1e-4)
    # and nowhere else: the target's own pixel far from the host holds no dip beyond the host's wings
    assert np.nanmax(np.abs(fit.fun)) < 1e-6 * np.nanmax(img)


def test_psf_is_normalised_non_gaussian_and_differs_per_sector():
    case = draw_case(0, seed=4, n_sectors=3, kind=TESS_FFI)
    psfs = [s.psf for s in case.truth.sectors]
    assert len({(p.core_fwhm_pix, p.ellipticity, p.coma_fraction) for p in psfs}) == 3
    shape = (41, 41)
    moments = []
    for psf in psfs:
        img = render_psf(psf, np.array([[20.0]]), np.array([[20.0]]), np.array([1.0]), shape)[0]
        assert img.sum() == pytest.approx(1.0, abs=0.01)  # the halo's far wings fall off the 41×41 grid
        r, c = np.indices(shape)
        cr, cc = (img * r).sum() / img.sum(), (img * c).sum() / img.sum()
        assert (cr - 20.0, cc - 20.0) == pytest.approx(psf.centroid_offset_pix, abs=0.01)
        # heavier wings than a Gaussian of the same FWHM: light beyond 2 FWHM
        rr = np.hypot(r - 20.0, c - 20.0)
        sigma_g = psf.core_fwhm_pix / 2.3548
        assert img[rr > 2 * psf.core_fwhm_pix].sum() > 10 * math.exp(
            -0.5 * (2 * psf.core_fwhm_pix / sigma_g) ** 2
        )
        mrr = (img * (r - cr) ** 2).sum()
        mcc = (img * (c - cc) ** 2).sum()
        mrc = (img * (r - cr) * (c - cc)).sum()
        moments.append((mrr, mcc, mrc))
    assert np.ptp(np.array(moments), axis=0).max() > 0.05  # the shape changes from sector to sector


@pytest.mark.parametrize(
    ("kind", "cadences", "system", "scale"),
    [
        (TESS_2MIN, {120.0}, "BTJD", 21.0),
        (TESS_FFI, {600.0, 1800.0}, "BTJD", 21.0),
        (KEPLER_LC, {1765.5}, "BKJD", 3.98),
    ],
)
def test_cadence_time_system_pixel_scale_and_pointing_columns_per_mission(kind, cadences, system, scale):
    for index in range(3):
        case = draw_case(index, seed=2, kind=kind)
        for stamp in case.stamps:
            assert stamp.cadence_seconds in cadences
            assert np.median(np.diff(stamp.time)) * 86400 == pytest.approx(stamp.cadence_seconds, rel=1e-6)
            assert stamp.time_system == system
            assert stamp.pixel_scale_arcsec == pytest.approx(scale, rel=1e-6)
            if kind == TESS_FFI:
                assert stamp.cadence_seconds == (1800.0 if stamp.sector <= 26 else 600.0)
                assert stamp.pos_corr is None and stamp.aperture_source == "derived"
            else:
                assert stamp.pos_corr is not None and stamp.aperture_source == "pipeline"
            if kind == KEPLER_LC:
                assert stamp.label.startswith("Q")
            assert stamp.aperture_mask.any()
            assert (
                len(case.ephemeris.mid_transits(stamp.time[0], stamp.time[-1])) >= 1
                or stamp is not case.stamps[0]
            )


def test_pointing_is_red_jitter_with_momentum_dump_steps():
    case = draw_case(1, seed=5, kind=TESS_2MIN, n_sectors=1)
    stamp, st = case.stamps[0], case.truth.sectors[0]
    steady = stamp.quality == 0
    p = st.pointing
    # jitter: a few tens of millipixels, red (strongly correlated from one 2-min cadence to the next)
    d = np.diff(p, axis=0)[steady[1:] & steady[:-1]]
    assert 0.005 < st.jitter_rms_pix < 0.06
    lag1 = np.mean([np.corrcoef(p[steady][:-1, a], p[steady][1:, a])[0, 1] for a in (0, 1)])
    assert lag1 > 0.5
    assert d.std() < st.jitter_rms_pix  # differences are smaller than the level: not white
    # momentum dumps: quality bit 32, a step in the pointing across each
    dumps = np.flatnonzero(stamp.quality & DESAT_FLAG)
    assert dumps.size >= 2
    # POS_CORR follows the pointing to ~2 millipixels
    assert np.std(stamp.pos_corr - p) == pytest.approx(0.002, rel=0.2)


def test_noise_matches_flux_err_and_snr_bookkeeping():
    quiet = draw_case(8, seed=6, kind=TESS_FFI, n_sectors=2, noise=False)
    noisy = draw_case(8, seed=6, kind=TESS_FFI, n_sectors=2)
    for q, n in zip(quiet.stamps, noisy.stamps, strict=True):
        z = (n.flux - q.flux) / n.flux_err
        assert np.nanstd(z) == pytest.approx(1.0, abs=0.02)
    tr = noisy.truth
    assert tr.expected_snr == pytest.approx(math.sqrt(sum(s.pixel_snr**2 for s in tr.sectors)), rel=1e-9)
    assert all(s.pixel_snr >= s.aperture_snr for s in tr.sectors)  # the matched filter over all pixels wins


def test_population_mixes_scenarios_missions_and_has_hosts_outside_the_aperture():
    cases = [draw_case(i, seed=9, noise=False, max_sectors=1) for i in range(40)]
    on = sum(c.truth.on_target for c in cases)
    assert 12 <= on <= 28  # ~50/50
    assert {c.kind for c in cases} == {TESS_2MIN, TESS_FFI, KEPLER_LC}
    assert sum(c.truth.host_outside_aperture for c in cases if not c.truth.on_target) >= 3
    assert all(c.truth.scenario == ON_TARGET for c in cases if c.truth.on_target)
    for c in cases:
        assert 8.0 <= c.truth.host_mag - c.truth.delta_mag <= 15.5
        assert 0.0 <= c.truth.delta_mag <= 5.0
        assert 1 <= len(c.stars) <= 6
        rows = c.neighbours()
        assert rows[0]["id"] == c.target.id and all({"id", "ra", "dec", "mag"} <= set(r) for r in rows)
        assert c.truth.host_id in {r["id"] for r in rows}


def test_neighbour_list_round_trips_as_csv_and_ecsv(tmp_path):
    from astropy.table import Table

    case = draw_case(3, seed=1, scenario=OFF_TARGET, noise=False, max_sectors=1)
    for name in ("n.csv", "n.ecsv"):
        table = Table.read(case.write_neighbours(tmp_path / name))
        assert list(table.colnames) == ["id", "ra", "dec", "mag"]
        host = table[table["id"] == case.truth.host_id][0]
        assert (host["ra"], host["dec"]) == pytest.approx((case.truth.host_ra, case.truth.host_dec), abs=1e-9)


# --------------------------------------------------------------------------- recovery

N_RECOVERY, SEED_RECOVERY = 48, 2026


def _vet(index: int) -> dict:
    warnings.simplefilter("ignore")
    return vet_case(draw_case(index, SEED_RECOVERY, max_sectors=2))


@pytest.fixture(scope="module")
def recovery_summary():
    workers = min(2, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        records = list(pool.map(_vet, range(N_RECOVERY)))
    return summarise(records)


def test_recovery_population_runs_without_errors(recovery_summary):
    assert recovery_summary["n_targets"] == N_RECOVERY
    assert recovery_summary["n_errors"] == 0
    assert 12 <= recovery_summary["n_off_target"] <= 36


# Bounds: what V08/V09 (issue-14 methods) and V25 achieve on these 48 targets, without star lists
# (measured at 43e06f1: false alarms V08 0/36, V09 0/36 stamps, V25 1/22 targets; dangerous misses
# V08 0/42, V09 0/42, V25 1/26; off target detected V09 21/42 stamps, V25 19/26 targets; coverage
# 1σ/2σ/3σ V08 28/75/94 % (n = 36), V09 39/89/98 % (n = 61), V25 40/90/98 % (n = 40)), with room
# for a case or two.


def test_recovery_false_alarms_are_rare(recovery_summary):
    for method, bound in (("V08", 0.05), ("V09", 0.05), ("V25", 0.10)):
        fa = recovery_summary["methods"][method]["false_alarm"]
        assert fa["n"] >= 10
        assert fa["rate"] <= bound, (method, fa)


def test_recovery_dangerous_misses_are_rare(recovery_summary):
    for method, bound in (("V08", 0.05), ("V09", 0.05), ("V25", 0.10)):
        miss = recovery_summary["methods"][method]["dangerous_miss"]
        assert miss["n"] >= 10
        assert miss["rate"] <= bound, (method, miss)


def test_recovery_catches_some_off_target_hosts(recovery_summary):
    caught = recovery_summary["methods"]["V25"]["off_target_detected"]
    assert caught["rate"] >= 0.60, caught
    assert recovery_summary["methods"]["V09"]["off_target_detected"]["k"] >= 17


def test_recovery_error_ellipses_cover_the_truth(recovery_summary):
    for method in ("V08", "V09", "V25"):
        cov = recovery_summary["methods"][method]["coverage"]
        assert cov["n"] >= 15, (method, cov)
        assert cov["3sigma"] >= 0.88, (method, cov)
        assert cov["2sigma"] >= 0.68, (method, cov)
        assert 0.15 <= cov["1sigma"] <= COVERAGE_EXPECTED[1] + 0.15, (method, cov)


def test_vet_case_copies_the_requested_metrics():
    warnings.simplefilter("ignore")
    case = draw_case(0, SEED_RECOVERY, max_sectors=1)
    record = vet_case(case, checks=("V09",), metrics=("matched_filter_snr", "nope"))
    (row,) = record["stamps"].values()
    assert set(row["V09"]["metrics"]) == {"matched_filter_snr"}
    assert isinstance(row["V09"]["metrics"]["matched_filter_snr"], float)
    (plain,) = vet_case(case, checks=("V09",))["stamps"].values()
    assert "metrics" not in plain["V09"]


def _record(on_target, verdict, distance, sep=1.0, snr=20.0, outside=False, error=None):
    unit = {"verdict": verdict, "status": "", "distance_sigma": distance, "sigma_arcsec": 1.0}
    return {
        "on_target": on_target,
        "separation_pix": 0.0 if on_target else sep,
        "host_outside_aperture": outside,
        "expected_snr": snr,
        "stamps": {"S1": {"pixel_snr": snr, "host_in_aperture": not outside, "V09": unit}},
        "target": {"V25": {**unit, "V09_verdict": verdict}},
        "disposition": verdict,
        "host_right": {"disposition": not on_target},
        "error": error,
    }


def test_summarise_counts_rates_efficiency_and_coverage():
    records = [
        _record(True, "on_target", 0.5),
        _record(True, "off_target", 3.5),
        _record(True, "inconclusive", 1.5),
        _record(True, "inconsistent", None),
        _record(False, "on_target", 2.5, sep=0.5, snr=10.0),
        _record(False, "off_target", 0.2, sep=2.0, snr=40.0, outside=True),
        _record(False, "off_target", 1.2, sep=1.0, snr=20.0),
        _record(False, "inconclusive", None, error="boom"),
    ]
    s = summarise(records)
    assert s["n_targets"] == 8 and s["n_errors"] == 1
    for method in ("V09", "V25", "V25/V09", "disposition"):
        m = s["methods"][method]
        assert m["false_alarm"]["k"] == 2 and m["false_alarm"]["n"] == 4
        assert m["dangerous_miss"]["k"] == 1 and m["dangerous_miss"]["n"] == 3
        assert m["off_target_detected_sep_ge_0p7_snr_ge_15"]["rate"] == 1.0
        assert m["off_target_outside_aperture_detected"]["k"] == 1
        by_sep = {r["low"]: r["k"] / r["n"] for r in m["efficiency_by_separation_pix"] if r["n"]}
        assert by_sep == {0.3: 0.0, 0.7: 1.0, 1.5: 1.0}
    cov = s["methods"]["V09"]["coverage"]  # distances 0.5, 3.5, 1.5, 2.5, 0.2, 1.2
    assert cov["n"] == 6
    assert (cov["1sigma"], cov["2sigma"], cov["3sigma"]) == pytest.approx((2 / 6, 4 / 6, 5 / 6))
    assert s["methods"]["disposition"]["host_attribution"]["all"]["k"] == 3

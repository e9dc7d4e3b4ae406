"""The synthetic-stamp factory, run_check, shared_data and the pytest fixtures of vetcore.testing."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from vetcore import Check, CheckResult, Param, Status, hookimpl
from vetcore.errors import ConfigError
from vetcore.sky import pixel_frame, pixel_scale_arcsec, pixel_to_sky, sky_offset, sky_to_pixel
from vetcore.testing import SyntheticStar, make_sectors, make_stamp, make_wcs, run_check, shared_data
from vetcore.testing.synthetic import DESAT_FLAG, SECTOR_DAYS, _pixel_fractions, default_rolls

QUIET = {"noise": False, "gap_days": 0.0}


def centroid(cube: np.ndarray) -> np.ndarray:
    """Flux-weighted (row, col) per cadence of a (n, rows, cols) cube."""
    rows, cols = np.indices(cube.shape[1:])
    total = cube.sum(axis=(1, 2))
    return np.column_stack([(cube * rows).sum(axis=(1, 2)) / total, (cube * cols).sum(axis=(1, 2)) / total])


def fitted_depth(case) -> float:
    """Least-squares depth of the aperture light curve against the true transit shape."""
    stamp, truth = case.stamp, case.truth
    good = stamp.good & np.isfinite(stamp.flux[:, stamp.aperture_mask]).all(axis=1)
    lc = stamp.flux[good][:, stamp.aperture_mask].sum(axis=1)
    shape = truth.transit_shape[good]
    base = np.median(lc[shape == 0])
    return float(np.sum(shape * (1 - lc / base)) / np.sum(shape**2))


# --------------------------------------------------------------------------- WCS and geometry


def test_make_wcs_places_target_scale_and_orientation():
    wcs = make_wcs(150.0, -35.0, shape=(13, 11), pixel_scale_arcsec=21.0)
    row, col = sky_to_pixel(wcs, 150.0, -35.0)
    assert (float(row), float(col)) == pytest.approx((5.7, 5.4), abs=1e-9)  # off the centre (6, 5)
    assert pixel_scale_arcsec(wcs) == pytest.approx(21.0, rel=1e-9)
    assert wcs.wcs.cdelt[0] < 0 < wcs.wcs.cdelt[1]
    # one pixel towards −col is 21″ east; one towards +row is 21″ north
    east, north = sky_offset(*pixel_to_sky(wcs, [row, row + 1], [col - 1, col]), 150.0, -35.0)
    assert east == pytest.approx([21.0, 0.0], abs=1e-3)
    assert north == pytest.approx([0.0, 21.0], abs=1e-3)


@pytest.mark.parametrize("roll", [0.0, 30.0, 97.0, 213.0])
def test_roll_rotates_the_compass(roll):
    case = make_stamp(roll_deg=roll, **QUIET)
    frame = pixel_frame(case.stamp)
    theta = math.radians(roll)
    # north at roll 0 is +row; a positive roll turns the sky counter-clockwise on the (col, row) image
    assert frame["north"] == pytest.approx([math.cos(theta), -math.sin(theta)], abs=1e-6)
    assert frame["east"] == pytest.approx([-math.sin(theta), -math.cos(theta)], abs=1e-6)


def test_star_at_sky_offset_lands_on_its_wcs_pixel():
    stars = [SyntheticStar(flux=1.0), SyntheticStar(east_arcsec=42.0, north_arcsec=-21.0, flux=1e5)]
    case = make_stamp(stars=stars, transit_star=None, shape=(21, 21), target_pixel=(10.2, 12.6), **QUIET)
    expected = (10.2 - 1.0, 12.6 - 2.0)  # 21″ pixels, roll 0: east = −col, north = +row
    assert tuple(case.truth.star_pixels[1]) == pytest.approx(expected, abs=1e-4)
    measured = centroid(case.stamp.flux)
    assert measured[0] == pytest.approx(expected, abs=2e-3)  # the faint target pulls by ~1e-5 px
    assert np.ptp(measured, axis=0) == pytest.approx([0.0, 0.0], abs=1e-12)  # no pointing motion
    assert case.truth.target_pixel == pytest.approx((10.2, 12.6), abs=1e-9)


def test_roll_moves_pixels_but_not_the_sky_position():
    stars = [SyntheticStar(), SyntheticStar(east_arcsec=35.0, north_arcsec=20.0, flux=6e3)]
    cases = make_sectors(3, stars=stars, transit_star=1, **QUIET)
    assert [c.stamp.meta["roll_deg"] for c in cases] == [0.0, 97.0, 213.0]
    rel = [np.subtract(c.truth.source_pixel, c.truth.target_pixel) for c in cases]
    for a in range(3):
        for b in range(a + 1, 3):
            assert np.hypot(*(rel[a] - rel[b])) > 1.0
    for case in cases:
        ra, dec = case.stamp.pixel_to_sky(*case.truth.source_pixel)
        east, north = sky_offset(ra, dec, case.stamp.target.ra, case.stamp.target.dec)
        assert (float(east), float(north)) == pytest.approx((35.0, 20.0), abs=1e-6)
        assert case.truth.source_offset_arcsec == (35.0, 20.0)
        assert np.hypot(*rel[0]) == pytest.approx(np.hypot(35.0, 20.0) / 21.0, rel=1e-5)


# --------------------------------------------------------------------------- image model


def test_pixel_integrated_psf_conserves_flux():
    fractions = _pixel_fractions(np.array([10.3, 10.0]), 21, 0.9)
    assert fractions.sum(axis=-1) == pytest.approx([1.0, 1.0], abs=1e-12)
    case = make_stamp(stars=[SyntheticStar(flux=5e4)], transit_star=None, shape=(21, 21), **QUIET)
    assert case.stamp.flux.sum(axis=(1, 2)) == pytest.approx(5e4, rel=1e-9)
    # a star half a pixel from the left edge loses exactly the Gaussian tail beyond the edge
    edge = make_stamp(
        stars=[SyntheticStar(flux=5e4)],
        transit_star=None,
        shape=(21, 21),
        target_pixel=(10.0, 0.0),
        psf_sigma_pix=0.9,
        **QUIET,
    )
    inside = 0.5 * (1 + math.erf(0.5 / (math.sqrt(2) * 0.9)))
    assert edge.stamp.flux[0].sum() == pytest.approx(5e4 * inside, rel=1e-9)


def test_aperture_is_a_pipeline_like_mask_around_the_target():
    case = make_stamp()
    mask = case.stamp.aperture_mask
    assert 5 <= mask.sum() <= 25
    assert case.stamp.aperture_source == "pipeline"
    row, col = case.truth.target_pixel
    assert mask[round(row), round(col)]
    assert not mask[0].any() and not mask[:, 0].any()


def test_flux_is_background_subtracted_and_background_adds_noise():
    plain = make_stamp(background=0.0, seed=4)
    sky = make_stamp(background=300.0, seed=4)
    np.testing.assert_array_equal(sky.stamp.background, 300.0)
    corner = (slice(None), 0, 0)
    assert abs(np.nanmean(sky.stamp.flux[corner])) < 3 * np.nanstd(sky.stamp.flux[corner]) / math.sqrt(1200)
    expected = math.sqrt(300.0 / 1800.0 + 10.0**2 * 900 / 1800.0**2)
    assert np.nanstd(sky.stamp.flux[corner]) == pytest.approx(expected, rel=0.06)
    assert sky.truth.sigma_aperture > plain.truth.sigma_aperture
    assert np.all(sky.stamp.flux_err > plain.stamp.flux_err)


# --------------------------------------------------------------------------- transit depth and SNR


def test_noiseless_aperture_depth_is_exact():
    stars = [SyntheticStar(flux=2e4), SyntheticStar(east_arcsec=25.0, flux=8e3)]
    case = make_stamp(stars=stars, transit_star=1, depth=0.02, **QUIET)
    truth = case.truth
    ap_flux = truth.star_flux_in_aperture
    assert truth.depth_in_aperture == pytest.approx(0.02 * ap_flux[1] / ap_flux.sum(), rel=1e-12)
    assert 0 < truth.depth_in_aperture < 0.02
    assert fitted_depth(case) == pytest.approx(truth.depth_in_aperture, rel=1e-9)
    assert case.ephemeris.depth_ppm == pytest.approx(truth.depth_in_aperture * 1e6)


def test_measured_depth_matches_truth_within_noise():
    stars = [SyntheticStar(flux=3e4), SyntheticStar(east_arcsec=-30.0, north_arcsec=15.0, flux=1e4)]
    case = make_stamp(stars=stars, transit_star=1, depth=0.03, seed=11)
    truth = case.truth
    sigma = truth.depth_in_aperture / truth.expected_snr
    assert truth.expected_snr > 50
    assert abs(fitted_depth(case) - truth.depth_in_aperture) < 4 * sigma


def test_snr_argument_sets_the_depth_and_empirical_snr_agrees():
    stars = [SyntheticStar(flux=2e4), SyntheticStar(east_arcsec=30.0, flux=6e3)]
    cases = [
        make_stamp(stars=stars, transit_star=1, snr=15.0, seed=s, shape=(9, 9), span_days=14.0)
        for s in range(60)
    ]
    truth = cases[0].truth
    assert truth.expected_snr == pytest.approx(15.0, rel=1e-12)
    assert {c.truth.depth for c in cases} == {truth.depth}
    depths = np.array([fitted_depth(c) for c in cases])
    assert depths.mean() == pytest.approx(truth.depth_in_aperture, rel=0.05)
    empirical_snr = truth.depth_in_aperture / depths.std(ddof=1)
    assert empirical_snr == pytest.approx(15.0, rel=0.2)
    # the per-cadence aperture noise itself matches the model
    stamp = cases[0].stamp
    lc = np.nansum(stamp.flux[:, stamp.aperture_mask], axis=1)
    model = cases[0].truth.aperture_flux
    out = stamp.good & (np.abs((stamp.time - cases[0].ephemeris.t0 + 1.55) % 3.1 - 1.55) > 0.2)
    assert np.std(lc[out] - model) == pytest.approx(truth.sigma_aperture, rel=0.06)


def test_no_transit_and_transit_times():
    flat = make_stamp(transit_star=None, **QUIET)
    assert flat.truth.source_pixel is None and flat.truth.expected_snr == 0.0
    assert flat.ephemeris.depth_ppm is None
    assert np.ptp(flat.stamp.flux.sum(axis=(1, 2))) == pytest.approx(0.0, abs=1e-6)
    case = make_stamp(period=3.1, t0=2001.0, gap_days=1.0)
    times = case.truth.transit_times
    cycles = np.diff(times) / 3.1
    np.testing.assert_allclose(cycles, np.round(cycles), atol=1e-9)
    assert np.all((times > case.stamp.time[0] - 0.1) & (times < case.stamp.time[-1] + 0.1))
    assert 7 <= times.size <= 9
    # trapezoid: flat bottom at full depth, area (1 − ingress fraction)·D per transit
    full = make_stamp(period=3.1, t0=2001.0, gap_days=0.0, cadence_seconds=600.0, **{"noise": False})
    shape = full.truth.transit_shape
    assert shape.max() == 1.0 and shape.min() == 0.0
    area = shape.sum() * 600.0 / 86400.0
    assert area == pytest.approx(full.truth.transit_times.size * 0.9 * 3.0 / 24.0, rel=1e-3)


def test_invalid_arguments_are_reported():
    with pytest.raises(ValueError, match="either depth or snr"):
        make_stamp(depth=0.01, snr=10.0)
    with pytest.raises(ValueError, match="transit_star 3"):
        make_stamp(transit_star=3)
    with pytest.raises(ValueError, match=r"depth of .* \(≥ 1\)"):
        make_stamp(stars=[SyntheticStar(flux=10.0)], snr=1e4)
    with pytest.raises(ValueError, match="mission"):
        make_stamp(mission="Gaia")


# --------------------------------------------------------------------------- pointing, flags, NaN


def test_drift_and_jitter_move_the_centroid_as_specified():
    base = {"stars": [SyntheticStar()], "transit_star": None, "shape": (21, 21), **QUIET}
    drift = make_stamp(drift_pix=(0.4, -0.3), **base)
    c = centroid(drift.stamp.flux)
    t = drift.stamp.time
    span_fraction = (t[-1] - t[0]) / 27.0
    assert c[-1] - c[0] == pytest.approx([0.4 * span_fraction, -0.3 * span_fraction], abs=1e-4)
    np.testing.assert_allclose(c - np.array(drift.truth.target_pixel), drift.truth.pointing, atol=1e-4)
    jitter = make_stamp(jitter_pix=0.1, seed=3, **base)
    offsets = centroid(jitter.stamp.flux) - np.array(jitter.truth.target_pixel)
    assert offsets.std(axis=0) == pytest.approx([0.1, 0.1], rel=0.1)
    np.testing.assert_allclose(offsets, jitter.truth.pointing, atol=1e-4)


def test_momentum_dumps_step_the_pointing_and_are_flagged():
    case = make_stamp(
        stars=[SyntheticStar()],
        transit_star=None,
        shape=(21, 21),
        momentum_dumps=3,
        dump_step_pix=0.2,
        **QUIET,
    )
    flagged = np.flatnonzero(case.stamp.quality & DESAT_FLAG)
    assert flagged.size == 3
    assert case.stamp.quality_bitmask & DESAT_FLAG
    assert not case.stamp.good[flagged].any()
    c = centroid(case.stamp.flux)
    steps = np.hypot(*np.diff(c, axis=0).T)
    quiet = np.ones(steps.size, bool)
    for k in flagged:  # the dump cadence is disturbed, the pointing after it has moved for good
        quiet[max(k - 1, 0) : k + 1] = False
    assert steps[quiet].max() < 1e-9
    before, after = c[flagged - 1], c[flagged + 1]
    assert np.hypot(*(after - before).T).min() > 1e-3


def test_nan_and_flag_fractions():
    case = make_stamp(nan_fraction=0.05, nan_cadence_fraction=0.02, flagged_fraction=0.1, seed=9)
    stamp = case.stamp
    n = stamp.n_cadences
    whole = np.isnan(stamp.flux).all(axis=(1, 2))
    assert whole.sum() == round(0.02 * n)
    partial = np.isnan(stamp.flux[~whole])
    assert partial.mean() == pytest.approx(0.05, abs=0.005)
    assert np.array_equal(np.isnan(stamp.flux), np.isnan(stamp.flux_err))
    flagged = stamp.quality != 0
    assert flagged.sum() == round(0.1 * n)
    assert not stamp.good[flagged].any() and not stamp.good[whole].any()
    assert stamp.good.sum() >= n - flagged.sum() - whole.sum()


def test_gap_and_time_grid():
    case = make_stamp(t_start=1500.0, span_days=27.0, cadence_seconds=600.0, gap_days=1.2)
    t = case.stamp.time
    assert case.stamp.time_system == "BTJD" and case.stamp.bjd_ref == 2457000.0
    assert not np.any(np.abs(t - 1513.5) < 0.6)
    steps = np.diff(t)
    assert np.sum(steps > 0.5) == 1
    assert np.median(steps) == pytest.approx(600.0 / 86400.0)


def test_kepler_defaults():
    case = make_stamp(mission="Kepler", sector=10)
    stamp = case.stamp
    assert stamp.label == "Q10"
    assert (stamp.time_system, stamp.bjd_ref) == ("BKJD", 2454833.0)
    assert stamp.pixel_scale_arcsec == pytest.approx(3.98, rel=1e-6)
    assert stamp.quality_bitmask & DESAT_FLAG


# --------------------------------------------------------------------------- reproducibility


def test_same_seed_same_stamp_and_effects_are_independent():
    kwargs = {"jitter_pix": 0.05, "momentum_dumps": 2, "flagged_fraction": 0.05, "nan_fraction": 0.01}
    a, b = make_stamp(seed=5, **kwargs), make_stamp(seed=5, **kwargs)
    np.testing.assert_array_equal(a.stamp.flux, b.stamp.flux)
    np.testing.assert_array_equal(a.stamp.quality, b.stamp.quality)
    c = make_stamp(seed=6, **kwargs)
    assert not np.allclose(np.nan_to_num(a.stamp.flux), np.nan_to_num(c.stamp.flux))
    g1 = make_stamp(seed=np.random.default_rng(42), **kwargs)
    g2 = make_stamp(seed=np.random.default_rng(42), **kwargs)
    np.testing.assert_array_equal(g1.stamp.flux, g2.stamp.flux)
    # adding NaNs leaves the noise of the other values unchanged
    clean, holes = make_stamp(seed=5), make_stamp(seed=5, nan_fraction=0.1)
    ok = np.isfinite(holes.stamp.flux)
    np.testing.assert_array_equal(clean.stamp.flux[ok], holes.stamp.flux[ok])


def test_make_sectors_share_the_target_and_ephemeris():
    stars = [SyntheticStar(), SyntheticStar(east_arcsec=-40.0, flux=5e3)]
    cases = make_sectors(3, stars=stars, transit_star=1, snr=20.0, sectors=(14, 15, 17), seed=2)
    assert [c.stamp.sector for c in cases] == [14, 15, 17]
    starts = np.array([c.stamp.time[0] for c in cases])
    assert np.diff(starts) == pytest.approx([SECTOR_DAYS, 2 * SECTOR_DAYS])
    assert len({(c.ephemeris.period, c.ephemeris.t0) for c in cases}) == 1
    assert len({c.truth.depth for c in cases}) == 1
    assert cases[0].truth.expected_snr == pytest.approx(20.0)
    assert len({tuple(np.round(c.truth.target_pixel, 6)) for c in cases}) == 3
    assert not np.array_equal(cases[0].stamp.flux, cases[1].stamp.flux)
    again = make_sectors(3, stars=stars, transit_star=1, snr=20.0, sectors=(14, 15, 17), seed=2)
    np.testing.assert_array_equal(again[2].stamp.flux, cases[2].stamp.flux)
    assert default_rolls(5) == (0.0, 97.0, 213.0, 310.0, 66.0)
    with pytest.raises(ValueError, match="roll angles"):
        make_sectors(2, rolls_deg=(0.0,))


# --------------------------------------------------------------------------- run_check


def _echo_check(scope: str = "sector") -> Check:
    def run(ctx):
        if ctx.params.explode:
            raise RuntimeError("boom")
        n = ctx.stamp.n_cadences if scope == "sector" else len(ctx.stamps)
        return CheckResult(
            status=Status.PASS,
            metrics={"n": n, "threshold": ctx.params.threshold, "results": len(getattr(ctx, "results", {}))},
        )

    return Check(
        id="T01" if scope == "sector" else "T02",
        title="echo",
        run=run,
        scope=scope,
        params=(
            Param("threshold", 3.0, "a number", unit="sigma"),
            Param("explode", False, "raise", type="bool"),
        ),
        requires=("pixels",) if scope == "sector" else (),
    )


def test_run_check_validates_params_and_fills_bookkeeping():
    case = make_stamp(span_days=5.0)
    result = run_check(_echo_check(), case, threshold=2)
    assert result.status is Status.PASS
    assert result.metrics["threshold"] == 2.0 and isinstance(result.metrics["threshold"], float)
    assert (
        result.check == "T01" and result.sector == 1 and result.params == {"threshold": 2.0, "explode": False}
    )
    assert run_check(_echo_check(), case.stamp, case.ephemeris).metrics["n"] == case.stamp.n_cadences
    with pytest.raises(ConfigError, match="did you mean 'threshold'"):
        run_check(_echo_check(), case, treshold=2.0)
    with pytest.raises(ConfigError, match="expected a number"):
        run_check(_echo_check(), case, threshold="high")
    with pytest.raises(ValueError, match="no ephemeris"):
        run_check(_echo_check(), case.stamp)
    crashed = run_check(_echo_check(), case, explode=True)
    assert crashed.status is Status.ERROR and "boom" in crashed.message


def test_run_check_target_scope_gets_stamps_and_results():
    cases = make_sectors(2, span_days=5.0)
    sector_results = {c.stamp.label: {"T01": run_check(_echo_check(), c)} for c in cases}
    result = run_check(_echo_check("target"), cases, results=sector_results)
    assert result.status is Status.PASS
    assert (result.metrics["n"], result.metrics["results"]) == (2, 2)
    assert result.sector is None
    with pytest.raises(ValueError, match="one stamp at a time"):
        run_check(_echo_check(), cases)


# --------------------------------------------------------------------------- pytest fixtures


class _TestPlugin:
    @hookimpl
    def vetcore_register_checks(self, register):
        register(_echo_check())


def test_fixtures_isolated_manager_and_run_check(request, synthetic_case, vetcore_plugin_manager, run_check):
    pm = vetcore_plugin_manager(("test-plugin", _TestPlugin()))
    assert list(pm.checks) == ["T01"]
    assert not any(r.origin not in ("builtin", "programmatic") for r in pm.records)
    case = synthetic_case(span_days=5.0)
    result = run_check("T01", case, threshold=1.5)
    assert result.status is Status.PASS and result.metrics["threshold"] == 1.5
    # seeded from the node id and the call number: reproducible, different per call
    expected = make_stamp(
        span_days=5.0, seed=np.random.default_rng([zlib.crc32(request.node.nodeid.encode()), 0])
    )
    np.testing.assert_array_equal(case.stamp.flux, expected.stamp.flux)
    assert not np.array_equal(synthetic_case(span_days=5.0).stamp.flux, case.stamp.flux)


def test_synthetic_sectors_fixture(synthetic_sectors):
    cases = synthetic_sectors(2, span_days=4.0)
    assert [c.stamp.sector for c in cases] == [1, 2]
    assert cases[1].stamp.meta["roll_deg"] == 97.0


# --------------------------------------------------------------------------- shared data


def test_shared_data_env_override_skip_and_ci_failure(tmp_path, monkeypatch):
    (tmp_path / "tpf").mkdir()
    monkeypatch.setenv("VETCORE_SHARED_DATA", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    assert shared_data("tpf") == tmp_path / "tpf"
    with pytest.raises(pytest.skip.Exception, match="shared data file not found"):
        shared_data("tpf/missing.fits")
    monkeypatch.setenv("VETCORE_SHARED_DATA", str(tmp_path / "absent"))
    with pytest.raises(pytest.skip.Exception, match=r"shared data folder \.\./shared/data not found"):
        shared_data("tpf")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        shared_data("tpf")


@pytest.mark.realdata
def test_shared_data_finds_the_project_data(monkeypatch):
    monkeypatch.delenv("VETCORE_SHARED_DATA", raising=False)
    path = shared_data("tpf/PROVENANCE.md")
    assert path.is_file() and path.parent.parent.name == "data"

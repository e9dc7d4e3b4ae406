"""V09 end to end on synthetic stamps with a known answer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vet_diffimg.plugin import CHECK
from vetcore import Ephemeris, Scope, Status
from vetcore.testing import SyntheticStar, make_stamp, run_check, with_neighbours

# small stamps and short series keep 100 realisations to a couple of seconds
SMALL = {"shape": (9, 9), "span_days": 12.0, "cadence_seconds": 1800.0, "period": 2.3}
NEIGHBOUR_15 = [SyntheticStar(), SyntheticStar(east_arcsec=1.5 * 21.0, flux=6e3)]  # 1.5 px east
NEIGHBOUR_06 = [SyntheticStar(), SyntheticStar(north_arcsec=0.6 * 21.0, flux=6e3)]  # 0.6 px north


def _runs(n, **kwargs):
    cases = [make_stamp(seed=seed, **{**SMALL, **kwargs}) for seed in range(n)]
    return cases, [run_check(CHECK, case) for case in cases]


def _source_error(case, result):
    row, col = case.truth.source_pixel
    return float(np.hypot(result.metrics["source_row"] - row, result.metrics["source_col"] - col))


def _assert_flags_declared(results):
    for r in results:
        assert set(r.flags) <= set(CHECK.flags), r.flags


def test_registered_through_the_entry_point():
    from vetcore.plugins import PluginManager

    check = PluginManager().get_check("V09")
    assert check.scope is Scope.SECTOR and check.plot_panels == 3
    assert check.plugin  # registered by an installed plugin, not by hand
    assert all(code.isupper() and text for code, text in check.flags.items())
    assert {p.name for p in check.params} >= {"min_snr", "sigma_threshold", "min_offset_arcsec"}


def test_on_target_passes():
    cases, results = _runs(100, snr=25.0)
    statuses = [r.status for r in results]
    assert statuses.count(Status.PASS) >= 95
    # a 2-D offset beyond 3σ (Mahalanobis) happens by chance with probability exp(−9/2) ≈ 1.1 %
    assert statuses.count(Status.FAIL) <= 3
    _assert_flags_declared(results)
    depths = np.array([r.metrics["target_pixel_depth_ppm"] for r in results])
    assert np.all(np.isfinite(depths)) and np.median(depths) > 0
    # the localization sits on the target within its quoted error most of the time
    sigmas = np.array([r.localization.offset_sigma for r in results])
    assert np.mean(sigmas < 3.0) >= 0.95
    # and the quoted aperture depth agrees with the truth
    ap = np.array([r.metrics["aperture_sum_ppm"] for r in results]) / 1e6
    truth = np.array([c.truth.depth_in_aperture for c in cases])
    assert np.median(ap / truth) == pytest.approx(1.0, abs=0.1)


def test_a_listed_star_that_could_host_the_signal_blocks_the_pass():
    """An on-target signal passes without a neighbour list.  With a listed star 1″ from the fitted
    source, inside its 3σ confusion radius, it stays localized but is inconclusive when that star is
    bright enough to produce the depth, and passes when the star would need an eclipse deeper than
    100 %."""
    case = make_stamp(seed=3, snr=25.0, **SMALL)
    alone = run_check(CHECK, case)
    assert alone.status is Status.PASS and alone.metrics["confusion_radius_arcsec"] > 1.0
    east = alone.metrics["source_offset_east_arcsec"] + 1.0
    north = alone.metrics["source_offset_north_arcsec"]

    def listing(mag):
        return with_neighbours(case.stamp, ("T", 0.0, 0.0, 10.0), ("C", east, north, mag))

    near = run_check(CHECK, listing(11.0), case.ephemeris)
    assert near.status is Status.INCONCLUSIVE and "NEIGHBOUR_NOT_EXCLUDED" in near.flags
    assert "(C)" in near.message and near.localization is not None
    # 12 mag fainter the star holds ~1.6e-5 of the aperture flux: the dip would need > 100 %
    assert case.ephemeris.depth_ppm > 100.0
    assert run_check(CHECK, listing(22.0), case.ephemeris).status is Status.PASS


def test_neighbour_at_one_and_a_half_pixels_fails_and_is_located():
    cases, results = _runs(100, stars=NEIGHBOUR_15, transit_star=1, snr=20.0)
    # the PSF shape is fitted on the out-of-transit blend of both stars, 1.5 px apart: it comes out
    # elongated towards the neighbour, which pulls the source ≈ 0.15 px towards the target (a
    # documented limitation, measured: 88 % of the truths within 3σ, east offset 28.5″ for 31.5″)
    good = [
        r.status is Status.FAIL and _source_error(c, r) < 0.25 for c, r in zip(cases, results, strict=True)
    ]
    within_3_sigma = [
        np.sqrt(
            np.subtract(r.localization.pixel, c.truth.source_pixel)
            @ np.linalg.solve(
                r.localization.pixel_covariance, np.subtract(r.localization.pixel, c.truth.source_pixel)
            )
        )
        < 3.0
        for c, r in zip(cases, results, strict=True)
        if r.localization is not None
    ]
    assert sum(within_3_sigma) >= 0.85 * len(within_3_sigma)
    assert sum(good) >= 90
    _assert_flags_declared(results)
    assert all("OFF_TARGET" in r.flags for r in results if r.status is Status.FAIL)
    # offsets reported on the sky: the neighbour is 31.5″ east of the target
    east = np.median([r.localization.offset_arcsec[0] for r in results])
    north = np.median([r.localization.offset_arcsec[1] for r in results])
    assert east == pytest.approx(31.5, abs=4.0) and north == pytest.approx(0.0, abs=2.0)


def test_neighbour_at_six_tenths_of_a_pixel_fails_at_high_snr():
    cases, results = _runs(20, stars=NEIGHBOUR_06, transit_star=1, snr=60.0)
    assert all(r.status is Status.FAIL for r in results), [r.message for r in results if r.status != "fail"]
    assert max(_source_error(c, r) for c, r in zip(cases, results, strict=True)) < 0.15


@pytest.mark.parametrize("stars,transit_star", [((SyntheticStar(),), 0), (NEIGHBOUR_15, 1)])
def test_too_shallow_is_inconclusive_never_fail(stars, transit_star):
    """Aperture SNR 3.  On the target nothing is localized; the neighbour, half outside the aperture,
    has more S/N in its own pixels than the aperture shows, so it is sometimes found — then it must
    be found where it is."""
    cases, results = _runs(40, stars=stars, transit_star=transit_star, snr=3.0)
    weak = [r for r in results if r.status is Status.INCONCLUSIVE]
    assert all("DEPTH_NOT_DETECTED" in r.flags for r in weak)
    # a noise peak is not a localization: nothing for V25 to combine
    assert all(r.localization is None for r in weak)
    found = [(c, r) for c, r in zip(cases, results, strict=True) if r.status is not Status.INCONCLUSIVE]
    if transit_star == 0:
        assert not found
    else:
        assert len(weak) >= 30
        assert all(r.status is Status.FAIL and _source_error(c, r) < 0.5 for c, r in found)
    _assert_flags_declared(results)


def test_pointing_jitter_never_fails_an_on_target_signal():
    # strong per-cadence jitter: pixel noise dominated by the moving star, which formal errors ignore
    _, results = _runs(30, snr=40.0, jitter_pix=0.03)
    assert not any(r.status is Status.FAIL for r in results)


def test_null_images_correct_formal_errors_under_jitter():
    _, results = _runs(30, snr=200.0, jitter_pix=0.02)
    located = [r for r in results if r.localization is not None]
    assert len(located) >= 27
    # the correlated noise model (vet_diffimg.noise) carries most of the jitter: the formal errors are
    # too small by less than the diagonal model's factor of > 2, and the null images measure the rest ...
    assert 1.1 < np.median([r.metrics["fit_error_scale_null"] for r in located]) < 2.0
    # ... and with the corrected covariance the true (on-target) position is covered
    assert np.mean([r.localization.offset_sigma < 3.0 for r in located]) >= 0.95
    assert not any(r.status is Status.FAIL for r in results)


def test_momentum_dumps_and_bad_cadences_are_handled():
    # a dump every 3 days, 0.1 d before each mid-transit, with a persistent pointing step
    _, results = _runs(
        20,
        snr=25.0,
        momentum_dumps=8,
        dump_step_pix=0.05,
        flagged_fraction=0.03,
        nan_fraction=0.0005,
        span_days=27.0,
        period=3.0,
        t0=2003.1,
    )
    assert sum(r.status is Status.PASS for r in results) >= 18
    assert not any(r.status is Status.FAIL for r in results)
    assert sum(r.metrics["n_pointing_steps_modelled"] for r in results) > 0
    assert all(r.metrics["n_cadences_excluded"] > 0 for r in results)


def test_kepler_stamp_with_masked_corners_finds_an_off_target_source():
    case = make_stamp(
        stars=[SyntheticStar(), SyntheticStar(east_arcsec=8.0, flux=6e3)],
        transit_star=1,
        snr=30.0,
        mission="Kepler",
        shape=(6, 7),
        psf_sigma_pix=1.2,
        span_days=20.0,
        period=4.1,
        seed=4,
    )
    flux = case.stamp.flux.copy()
    flux[:, 0, 0] = flux[:, -1, -1] = np.nan  # outside the collected mask, in every cadence
    result = run_check(CHECK, case.stamp.replace(flux=flux), case.ephemeris)
    assert result.status is Status.FAIL
    assert result.localization.distance_arcsec == pytest.approx(8.0, abs=1.0)
    assert abs(case.stamp.pixel_scale_arcsec - 3.98) < 0.01


def test_result_contents_and_epochs():
    case = make_stamp(snr=30.0, seed=11, **SMALL)
    result = run_check(CHECK, case)
    m = result.metrics
    assert result.status is Status.PASS
    for key in (
        "max_depth_pixel_offset_row",
        "max_depth_pixel_offset_col",
        "max_depth_pixel_distance",
        "aperture_sum_ppm",
        "target_pixel_depth_ppm",
        "diffimage_snr",
        "psf_sigma_pixels",
        "fit_reduced_chi2",
        "source_offset_arcsec",
        "source_offset_sigma",
        "offset_from_oot_arcsec",
        "offset_from_oot_sigma",
        "n_transits_used",
        "n_in_transit_cadences",
        "n_out_of_transit_cadences",
        "n_cadences_excluded",
        "noise_ratio_empirical_to_propagated",
    ):
        assert m[key] is not None and np.isfinite(m[key]), key
    assert m["psf_sigma_pixels"] == pytest.approx(0.9, abs=0.05)
    assert m["max_depth_pixel_distance"] < 1.0
    loc = result.localization
    assert loc.method == "V09 difference-image PSF fit" and loc.label == case.stamp.label
    # a transit's own localization only where its fitted amplitude reaches EPOCH_SNR_FACTOR × min_snr
    assert 2 <= len(loc.epochs) == m["n_epoch_localizations"] <= m["n_transits_used"]
    assert all(e.label.startswith(f"{case.stamp.label} E") for e in loc.epochs)
    assert np.all(np.linalg.eigvalsh(loc.covariance_arcsec2) > 0)
    # the reported covariance is never smaller than the formal one
    assert m["covariance_source"] in {"formal", "chi2", "null", "bootstrap"}
    # plot data are JSON-ready once NaNs are mapped, and the figure draws from them alone
    from vetcore.serialize import jsonable

    data = json.loads(json.dumps(jsonable(result.plot_data)))
    assert np.array(data["diff_image"], dtype=float).shape == case.stamp.shape
    assert data["frame"]["shape"] == list(case.stamp.shape)


def test_plot_draws_three_panels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vetcore.serialize import jsonable

    case = make_stamp(stars=NEIGHBOUR_15, transit_star=1, snr=25.0, seed=2, **SMALL)
    result = run_check(CHECK, case)
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    CHECK.plot(result.replace(plot_data=json.loads(json.dumps(jsonable(result.plot_data)))), axes)
    titles = [ax.get_title() for ax in axes]
    assert titles[0].endswith("out of transit") and "difference" in titles[1] and "SNR" in titles[2]
    assert all(ax.patches for ax in axes)  # error ellipses
    assert all(any(t.get_text() == "N" for t in ax.texts) for ax in axes)
    plt.close(fig)


def test_no_transit_in_the_data_is_inconclusive():
    case = make_stamp(snr=20.0, seed=1, **SMALL)
    away = Ephemeris(period=500.0, t0=case.stamp.time[-1] + 100.0, duration_hours=3.0)
    result = run_check(CHECK, case.stamp, away)
    assert result.status is Status.INCONCLUSIVE and result.flags == ("NO_TRANSIT_DATA",)


def test_too_few_cadences_is_inconclusive():
    case = make_stamp(snr=20.0, seed=1, **SMALL)
    result = run_check(CHECK, case, min_baseline_cadences=10_000)
    assert result.status is Status.INCONCLUSIVE and "PARTIAL_COVERAGE" in result.flags
    assert result.metrics["n_transits_observed"] > 0 and result.metrics["n_transits_used"] == 0


def test_invalid_parameter_values_are_reported():
    from vetcore.errors import ConfigError

    case = make_stamp(snr=20.0, seed=1, **SMALL)
    with pytest.raises(ConfigError, match=r"V09\.in_fraction: must be in \(0, 1\]"):
        run_check(CHECK, case, in_fraction=1.5)


def test_results_are_reproducible():
    case = make_stamp(snr=20.0, seed=5, **{**SMALL, "period": 1.7})
    first, second = run_check(CHECK, case), run_check(CHECK, case)
    assert first.metrics == second.metrics


@pytest.mark.parametrize(
    "stars,transit_star,status", [((SyntheticStar(),), 0, Status.PASS), (NEIGHBOUR_15, 1, Status.FAIL)]
)
def test_noiseless_stamps_are_handled(stars, transit_star, status):
    case = make_stamp(stars=stars, transit_star=transit_star, depth=0.001, noise=False, **SMALL)
    result = run_check(CHECK, case)
    assert result.status is status, result.message
    # the blended out-of-transit shape pulls an off-target source ≈ 0.25 px towards the target
    assert _source_error(case, result) < (0.1 if transit_star == 0 else 0.3)

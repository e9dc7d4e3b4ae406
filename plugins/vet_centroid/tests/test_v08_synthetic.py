"""V08 on synthetic stamps: false-alarm and detection rates with stated tolerances."""

from __future__ import annotations

import numpy as np
import pytest

from vet_centroid.centroids import flux_weighted_centroids
from vet_centroid.local import local_differences
from vetcore.testing import SyntheticStar, make_stamp, run_check, with_neighbours
from vetcore.transits import WindowGeometry

NEIGHBOUR = (SyntheticStar(), SyntheticStar(east_arcsec=1.5 * 21.0))  # 1.5 TESS pixels east


def test_centroid_of_a_symmetric_image_is_its_centre():
    flux = np.zeros((2, 5, 5), np.float32)
    flux[:, 1:4, 2:5] = 1.0
    row, col, total = flux_weighted_centroids(flux, np.ones((5, 5), bool))
    np.testing.assert_allclose(row, 2.0)
    np.testing.assert_allclose(col, 3.0)
    np.testing.assert_allclose(total, 9.0)


def test_local_baseline_removes_a_linear_drift():
    t = np.linspace(0, 10, 5001)
    y = np.column_stack([0.3 + 0.01 * t, np.where(np.abs(t - 5) < 0.1, -1.0, 0.0)])
    out = local_differences(t, y, np.array([5.0]), WindowGeometry(0.08, 0.15, 0.6))
    assert out.delta[0, 0] == pytest.approx(0.0, abs=1e-9)  # drift gone
    assert out.delta[0, 1] == pytest.approx(-1.0, abs=1e-9)  # dip recovered
    assert out.n_before[0] > 0 and out.n_after[0] > 0


@pytest.mark.slow
def test_on_target_passes_in_95_of_100_realisations():
    statuses = [run_check("V08", make_stamp(snr=20, seed=seed)).status.value for seed in range(100)]
    assert statuses.count("pass") >= 95, statuses


@pytest.mark.slow
def test_neighbour_transit_fails_and_is_located():
    """Neighbour 1.5 px away, SNR 20: fail in >= 90 %, source within 0.3 px of the truth."""
    fails, close = 0, 0
    for seed in range(100):
        case = make_stamp(stars=NEIGHBOUR, transit_star=1, snr=20, seed=seed)
        result = run_check("V08", case)
        fails += result.status.value == "fail"
        if "source_pixel" in result.plot_data:
            error = np.hypot(*np.subtract(result.plot_data["source_pixel"], case.truth.source_pixel))
            close += error <= 0.3
    assert fails >= 90 and close >= 90, (fails, close)


def test_aperture_only_localization_is_pulled_towards_the_aperture():
    """Why the source position uses every pixel: over the aperture alone it is biased."""
    case = make_stamp(stars=NEIGHBOUR, transit_star=1, snr=40, seed=4)
    errors = {}
    for pixels in ("stamp", "aperture"):
        result = run_check("V08", case, localize_with=pixels)
        errors[pixels] = np.hypot(*np.subtract(result.plot_data["source_pixel"], case.truth.source_pixel))
    assert errors["stamp"] < 0.3 < errors["aperture"], errors


def test_pointing_drift_without_transit_gives_no_significant_shift():
    sig = []
    for seed in range(20):
        case = make_stamp(transit_star=None, drift_pix=(0.3, -0.2), jitter_pix=0.02, seed=seed)
        case_eph = make_stamp(seed=seed).ephemeris
        result = run_check("V08", case.stamp, case_eph)
        assert result.status.value != "fail"
        sig.append(result.metrics["significance_sigma"])
    # a 3σ threshold on a Mahalanobis distance with 2 dof: ~1 % false alarms
    assert np.mean(np.array(sig) > 3.0) <= 0.1, sig


def test_momentum_dumps_are_modelled_or_cut():
    case = make_stamp(snr=25, momentum_dumps=8, dump_step_pix=0.1, seed=5)
    result = run_check("V08", case)
    assert result.status.value == "pass"
    assert result.metrics["n_transits"] >= 1


def test_no_transit_in_data_is_inconclusive():
    case = make_stamp(snr=20, seed=1)
    eph = case.ephemeris
    far = type(eph)(period=1000.0, t0=eph.t0 + 500.0, duration_hours=eph.duration_hours)
    result = run_check("V08", case.stamp, far)
    assert result.status.value == "inconclusive" and "NO_TRANSIT_DATA" in result.flags


def test_shallow_transit_is_inconclusive_not_fail():
    result = run_check("V08", make_stamp(snr=1.5, seed=2))
    assert result.status.value == "inconclusive" and "DEPTH_NOT_DETECTED" in result.flags


def _population_sector(index, label):
    from vetcore.testing import population

    case = population.draw_case(index, 5, scenario="on_target")
    (stamp,) = [s for s in case.stamps if s.label == label]
    return stamp, case.ephemeris


def test_a_sky_estimate_that_follows_scattered_light_badly_is_regressed_away():
    """Population seed 5, on-target case 20, 2-min sector 54: the background estimate is 2 % off, so
    the residual sky follows the scattered-light ramps and moves the whole-stamp centroid. Regressed
    on the background level (with the pointing), V08 passes with the source within 2σ of the target;
    without decorrelation the same data place it 500″ away, off the stamp, at 3.4σ (REFERENCE_OFFSET)."""
    stamp, ephemeris = _population_sector(20, "S54")
    good = run_check("V08", stamp, ephemeris)
    assert good.status.value == "pass" and "POINTING_DECORRELATED" in good.flags
    assert good.localization.offset_sigma < 2.0
    raw = run_check("V08", stamp, ephemeris, decorrelate=False)
    assert raw.status.value == "inconclusive" and "REFERENCE_OFFSET" in raw.flags
    assert raw.localization.offset_sigma > 3.0 and np.hypot(*raw.localization.offset_arcsec) > 300.0


def test_an_over_subtracted_sky_falls_back_to_the_aperture_centroid():
    """Population seed 5, on-target case 11, FFI sector 8: the stamp's pixels outside the aperture sum
    to a negative flux, so the whole-stamp centroid lies off the stamp and its lever arm is
    meaningless (it had placed the source 1100″ away, 17.7σ). V08 then localizes with the aperture's
    centroid: pass, within 3σ of the target."""
    from vet_centroid.check import PARAMS, _masks
    from vet_centroid.measure import measure
    from vetcore import Params

    stamp, ephemeris = _population_sector(11, "S8")
    p = Params({q.name: q.default for q in PARAMS})
    m = measure(stamp, ephemeris, p, *_masks(stamp, p)[:2])
    assert m.localizer.flux < m.centroid.flux and m.localizer.c_out[0] > stamp.shape[0]  # off the stamp
    result = run_check("V08", stamp, ephemeris)
    assert result.status.value == "pass" and result.localization.offset_sigma < 3.0


def test_a_listed_star_that_could_host_the_signal_blocks_the_pass():
    """As in V09: an on-target pass becomes inconclusive (NEIGHBOUR_NOT_EXCLUDED) when a listed star
    bright enough to produce the depth sits 1″ from the source, inside its confusion radius; a star
    that would need an eclipse deeper than 100 % does not block it."""
    case = make_stamp(snr=30, seed=2)
    alone = run_check("V08", case)
    assert alone.status.value == "pass"
    east = alone.metrics["source_ra_offset_arcsec"] + 1.0
    north = alone.metrics["source_dec_offset_arcsec"]

    def listing(mag):
        return with_neighbours(case.stamp, ("T", 0.0, 0.0, 10.0), ("C", east, north, mag))

    near = run_check("V08", listing(11.0), case.ephemeris)
    assert near.status.value == "inconclusive" and "NEIGHBOUR_NOT_EXCLUDED" in near.flags
    assert "(C)" in near.message and near.localization is not None
    assert run_check("V08", listing(22.0), case.ephemeris).status.value == "pass"

"""V25 at the contract level: hand-made per-sector results with known localizations."""

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np
import pytest

from vet_consistency.combine import combine
from vet_consistency.plugin import CHECK
from vetcore import CheckResult, Ephemeris, Localization, Status, Target, TargetContext
from vetcore.neighbours import Neighbours, Star
from vetcore.sky import offset_to_sky, sky_offset
from vetcore.testing import build_params, make_stamp

TARGET = Target("TIC 1", ra=308.5672083, dec=43.3606889, magnitude=9.0)
EPHEMERIS = Ephemeris(period=14.2423724, t0=3540.26317, duration_hours=4.046, depth_ppm=1000.0)
#: A TESS-like stamp (21″ pixels, target at its centre) giving the pixel scale and the aperture.
STAMP = make_stamp(span_days=2.0, period=1.5, seed=1, ra=TARGET.ra, dec=TARGET.dec, noise=False).stamp


def make_loc(
    east: float,
    north: float,
    sigma: float | tuple[float, float, float] = 2.0,
    *,
    method: str = "V09",
    epochs: tuple[Localization, ...] = (),
    label: str = "",
) -> Localization:
    """A localization at (east, north) arcsec from TARGET.

    ``sigma``: a 1σ radius, or ``(σ_east, σ_north, correlation)``.
    """
    if isinstance(sigma, tuple):
        se, sn, rho = sigma
        cov = np.array([[se**2, rho * se * sn], [rho * se * sn, sn**2]])
    else:
        cov = np.eye(2) * sigma**2
    ra, dec = offset_to_sky(east, north, TARGET.ra, TARGET.dec)
    return Localization(
        method=method,
        ra=float(ra),
        dec=float(dec),
        offset_arcsec=(east, north),
        covariance_arcsec2=cov,
        label=label,
        epochs=epochs,
    )


def result(loc: Localization | None, sector: int, status: str = "pass") -> CheckResult:
    return CheckResult(status=Status(status), localization=loc, sector=sector)


@pytest.fixture
def run_v25() -> Callable[..., CheckResult]:
    """Run V25 on ``{stamp_label: {check_id: CheckResult}}`` with parameter overrides.

    The hand-made localizations carry exact errors, so the systematic floor
    ``sector_systematic_pixels`` is 0 unless a test sets it (its own tests below).
    """

    def run(
        results: Mapping[str, Mapping[str, CheckResult]],
        stamps: tuple[Any, ...] = (STAMP,),
        target: Target = TARGET,
        **params: Any,
    ) -> CheckResult:
        params.setdefault("sector_systematic_pixels", 0.0)
        ctx = TargetContext(
            target=target,
            ephemeris=EPHEMERIS,
            params=build_params(CHECK, params),
            stamps=stamps,
            results=results,
        )
        return CHECK.run(ctx)

    return run


def sectors(*offsets, method="V09", sigma=2.0):
    return {
        f"S{k}": {method: result(make_loc(e, n, sigma, method=method), k)}
        for k, (e, n) in enumerate(offsets, start=1)
    }


def test_on_target_three_sectors(run_v25):
    res = run_v25(sectors((1.0, -0.5), (-1.5, 0.8), (0.4, 1.1)))
    m = res.metrics
    assert m["verdict"] == "on_target" and res.status is Status.PASS
    assert m["consistency_basis"] == "sectors" and m["n_localizations"] == 3
    assert m["dof"] == 4 and m["primary_method"] == "V09"
    # equal covariances: plain mean, C̄ = 4/3 I
    assert m["east_arcsec"] == pytest.approx(-0.1 / 3, abs=1e-9)
    assert m["north_arcsec"] == pytest.approx(1.4 / 3, abs=1e-9)
    assert m["cov_ee"] == pytest.approx(4.0 / 3.0) and m["cov_en"] == pytest.approx(0.0, abs=1e-12)
    assert m["offset_sigma"] < 3.0 and m["chi2_p_value"] > 0.0027
    assert "OFF_TARGET" not in res.flags and "SECTORS_INCONSISTENT" not in res.flags
    loc = res.localization
    assert loc.method == "V25 combined (V09)" and loc.label == "combined"
    # the combined RA/Dec lies at the combined offset from the target
    east, north = sky_offset(loc.ra, loc.dec, TARGET.ra, TARGET.dec)
    assert (float(east), float(north)) == pytest.approx((m["east_arcsec"], m["north_arcsec"]), abs=1e-6)


def test_off_target_three_sectors(run_v25):
    res = run_v25(sectors((28.0, 9.0), (31.0, 11.0), (30.0, 10.5)))
    assert res.metrics["verdict"] == "off_target" and res.status is Status.FAIL
    assert "OFF_TARGET" in res.flags
    assert res.metrics["distance_arcsec"] == pytest.approx(math.hypot(29.667, 10.167), abs=0.01)
    assert res.metrics["offset_sigma"] > 20
    assert "off target" in res.message


def test_outlier_sector_is_inconsistent(run_v25):
    res = run_v25({**sectors((0.5, 0.3), (-0.4, -0.2)), "S3": {"V09": result(make_loc(40.0, 0.0, 1.0), 3)}})
    m = res.metrics
    assert m["verdict"] == "inconsistent" and res.status is Status.INCONCLUSIVE
    assert "SECTORS_INCONSISTENT" in res.flags
    assert m["chi2_p_value"] < 1e-10
    # the outlier has the largest pull
    pulls = {k: v for k, v in m.items() if k.startswith("pull_V09_")}
    assert max(pulls, key=pulls.get) == "pull_V09_S3"
    assert m["max_pull"] == pytest.approx(pulls["pull_V09_S3"])


def test_significant_offset_below_floor_is_on_target(run_v25):
    res = run_v25(sectors((1.5, 0.0), (1.5, 0.1), (1.4, -0.1), sigma=0.1))
    assert res.metrics["offset_sigma"] > 10 and res.metrics["distance_arcsec"] < 2.0
    assert res.metrics["verdict"] == "on_target" and "OFFSET_BELOW_FLOOR" in res.flags
    lowered = run_v25(sectors((1.5, 0.0), (1.5, 0.1), (1.4, -0.1), sigma=0.1), offset_floor_arcsec=1.0)
    assert lowered.metrics["verdict"] == "off_target"


def test_marginal_offset_is_inconclusive(run_v25):
    """Between on_target_sigma (3σ) and sigma_threshold (3.5σ) the source is neither on nor off target."""
    data = sectors((3.6, 0.0), (3.8, 0.2), (3.7, -0.2))  # mean 3.7″ at σ̄ = 2/√3″: 3.2σ
    res = run_v25(data, sigma_threshold=3.5, on_target_sigma=3.0)
    assert 3.0 < res.metrics["offset_sigma"] < 3.5
    assert res.metrics["verdict"] == "inconclusive" and "OFFSET_MARGINAL" in res.flags
    assert "neither consistent" in res.message
    assert run_v25(data, sigma_threshold=3.0).metrics["verdict"] == "off_target"


def test_thresholds_are_parameters(run_v25):
    data = sectors((6.0, 0.0), (7.0, 0.0), (6.5, 0.5))  # ≈ 5.7σ at σ̄ = 1.15″
    assert run_v25(data).metrics["verdict"] == "off_target"
    assert run_v25(data, sigma_threshold=8.0, on_target_sigma=8.0).metrics["verdict"] == "on_target"
    # raising only the off-target threshold leaves the 5.7σ offset between the two: inconclusive
    marginal = run_v25(data, sigma_threshold=8.0)
    assert marginal.metrics["verdict"] == "inconclusive" and "OFFSET_MARGINAL" in marginal.flags
    spread = sectors((0.0, 0.0), (10.0, 0.0), (0.0, 10.0))  # χ² = 100/3 with 4 dof: p = 1.0e-6
    assert run_v25(spread).metrics["chi2"] == pytest.approx(100.0 / 3.0)
    assert run_v25(spread).metrics["verdict"] == "inconsistent"
    # accepted as consistent, the mean (10/3, 10/3)″ would be 4.1σ from the target on the formal
    # errors, but the Birge ratio (χ²/dof = 8.3) widens it to 1.4σ: not off target
    assert run_v25(spread, consistency_p_threshold=1e-8).metrics["verdict"] == "on_target"


def test_systematic_floor_is_added_per_sector_before_combining(run_v25):
    """σ_sys = 0.1 px × 21″ (the stamp's WCS scale) in quadrature with each sector's covariance."""
    scale = STAMP.pixel_scale_arcsec
    sys2 = (0.1 * scale) ** 2
    data = sectors((1.0, -0.5), (-1.5, 0.8), (0.4, 1.1))
    res = run_v25(data, sector_systematic_pixels=0.1)
    m = res.metrics
    # equal inflated covariances: the same plain mean, C̄ = (4 + σ_sys²)/3 I
    assert m["east_arcsec"] == pytest.approx(-0.1 / 3, abs=1e-9)
    assert m["cov_ee"] == pytest.approx((4.0 + sys2) / 3.0) == m["cov_nn"]
    assert m["chi2"] == pytest.approx(run_v25(data).metrics["chi2"] * 4.0 / (4.0 + sys2))
    # S1–S3 are not among the stamps given: each takes the stamps' median scale
    expected = {f"S{k}": 0.1 * scale for k in (1, 2, 3)}
    assert res.plot_data["methods"]["V09"]["systematic_arcsec"] == pytest.approx(expected)
    # a lone sector keeps its own position, with the floor in its covariance
    one = run_v25({"S5": {"V09": result(make_loc(0.5, 0.5, 2.0), 5)}}, sector_systematic_pixels=0.1)
    assert one.metrics["cov_ee"] == pytest.approx(4.0 + sys2)
    assert one.metrics["confusion_radius_arcsec"] == pytest.approx(3 * math.sqrt(4.0 + sys2))


def test_systematic_floor_stops_a_precise_offset_being_called_off_target(run_v25):
    """Two sectors each 3.5″ ± 0.5″ east: 10σ on formal errors, 1.6σ with a 0.1 px (2.1″) floor."""
    data = sectors((3.5, 0.0), (3.6, 0.2), sigma=0.5)
    assert run_v25(data).metrics["verdict"] == "off_target"
    res = run_v25(data, sector_systematic_pixels=0.1)
    assert res.metrics["offset_sigma"] == pytest.approx(3.55 / math.sqrt((0.25 + 2.1**2) / 2), rel=0.02)
    assert res.metrics["verdict"] == "on_target"


def test_birge_ratio_scales_the_combined_covariance(run_v25):
    """Sectors scattering beyond their errors: C̄ × χ²/dof (PDG scale factor), flag ERRORS_SCALED."""
    spread = sectors((0.0, 0.0), (10.0, 0.0), (0.0, 10.0))  # χ² = 100/3 with 4 dof
    res = run_v25(spread, consistency_p_threshold=1e-8)
    m = res.metrics
    assert m["scale_factor"] == pytest.approx(math.sqrt(100.0 / 3.0 / 4.0))
    assert m["cov_ee"] == pytest.approx(4.0 / 3.0 * 100.0 / 12.0)
    assert "ERRORS_SCALED" in res.flags
    # the scaled mean (10/3, 10/3)″ is 1.4σ from the target, no longer 4.1σ: not off target
    assert m["offset_sigma"] == pytest.approx(math.hypot(10 / 3, 10 / 3) / math.sqrt(100 / 9), rel=1e-6)
    assert m["verdict"] != "off_target"
    # sectors that agree better than their errors are not shrunk
    calm = run_v25(sectors((0.1, 0.0), (0.0, 0.1), (0.0, 0.0)))
    assert calm.metrics["scale_factor"] == 1.0 and "ERRORS_SCALED" not in calm.flags
    assert calm.metrics["cov_ee"] == pytest.approx(4.0 / 3.0)


def test_rotated_sky_gives_the_same_verdict(run_v25):
    """Rotating every offset and covariance about the target leaves all statistics unchanged."""
    offsets = [(8.0, 3.0), (6.0, 5.0), (9.0, 2.0)]
    sig = (2.0, 1.0, 0.6)
    base = run_v25({f"S{k}": {"V09": result(make_loc(e, n, sig), k)} for k, (e, n) in enumerate(offsets, 1)})
    t = math.radians(70.0)
    r = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    rotated = {}
    for k, (e, n) in enumerate(offsets, 1):
        loc = make_loc(e, n, sig)
        de, dn = r @ [e, n]
        rl = make_loc(de, dn)
        rloc = Localization(
            method="V09",
            ra=rl.ra,
            dec=rl.dec,
            offset_arcsec=(de, dn),
            covariance_arcsec2=r @ loc.covariance_arcsec2 @ r.T,
        )
        rotated[f"S{k}"] = {"V09": result(rloc, k)}
    rot = run_v25(rotated)
    for key in ("chi2", "chi2_p_value", "offset_sigma", "max_pull", "distance_arcsec"):
        assert rot.metrics[key] == pytest.approx(base.metrics[key], rel=1e-9), key
    assert rot.metrics["verdict"] == base.metrics["verdict"]


def test_single_sector_uses_epochs(run_v25):
    epochs = (make_loc(0.8, 0.2, 3.0, label="orbit 1"), make_loc(-0.6, 0.5, 3.0, label="orbit 2"))
    res = run_v25({"S83": {"V09": result(make_loc(0.1, 0.3, 2.0, epochs=epochs), 83)}})
    m = res.metrics
    assert m["consistency_basis"] == "epochs" and "EPOCH_BASIS" in res.flags
    assert m["verdict"] == "on_target" and m["n_localizations"] == 2 and m["dof"] == 2
    # combined position is the sector's own localization; χ² is that of the epochs about their mean
    assert (m["east_arcsec"], m["north_arcsec"]) == pytest.approx((0.1, 0.3))
    ref = combine([[0.8, 0.2], [-0.6, 0.5]], [9 * np.eye(2)] * 2)
    assert m["chi2"] == pytest.approx(ref.chi2)
    labels = [row["label"] for row in res.plot_data["epochs"]]
    assert labels == ["orbit 1", "orbit 2"]
    assert all(row["used"] and row["pull"] is not None for row in res.plot_data["epochs"])


def test_single_sector_epochs_disagree(run_v25):
    epochs = (make_loc(0.0, 0.0, 1.0, label="transit 1"), make_loc(30.0, 0.0, 1.0, label="transit 2"))
    res = run_v25({"S83": {"V09": result(make_loc(15.0, 0.0, 0.7, epochs=epochs), 83)}})
    assert res.metrics["verdict"] == "inconsistent" and res.metrics["consistency_basis"] == "epochs"


def test_single_transit_gives_a_usable_answer(run_v25):
    """One sector, one transit, a precise localization on the target: on target, consistency untested."""
    res = run_v25({"S5": {"V09": result(make_loc(0.5, 0.5, 2.0), 5)}})
    m = res.metrics
    assert m["verdict"] == "on_target" and res.status is Status.PASS
    assert "SINGLE_LOCALIZATION" in res.flags and m["consistency_basis"] == "none"
    assert m["n_localizations"] == 1 and m["chi2"] is None and m["dof"] == 0
    assert "one sector (S5): cross-sector consistency untested" in res.message
    assert m["confusion_radius_arcsec"] == pytest.approx(6.0)
    assert m["max_confusion_radius_arcsec"] == pytest.approx(21.0, rel=1e-6)
    assert res.disposition.verdict == "on_target" and res.disposition.likely_host == "target"
    assert "NO_NEIGHBOUR_LIST" in res.flags and "no neighbour list" in res.disposition.reason


def test_poor_localization_is_never_on_target(run_v25):
    """Consistent with the target but a 3σ confusion radius of 30″ > 1 TESS pixel: inconclusive."""
    res = run_v25({"S5": {"V09": result(make_loc(2.0, -1.0, 10.0), 5)}})
    assert res.metrics["verdict"] == "inconclusive" and res.status is Status.INCONCLUSIVE
    assert "POOR_LOCALIZATION" in res.flags
    assert res.message.startswith("source within 30″ of the target (limit 21.0″)")
    assert "cannot exclude stars within that radius (no neighbour list)" in res.message
    # a looser limit (2 pixels) accepts it
    loose = run_v25({"S5": {"V09": result(make_loc(2.0, -1.0, 10.0), 5)}}, max_confusion_radius_pixels=2.0)
    assert loose.metrics["verdict"] == "on_target"


def test_no_pixel_scale_is_not_on_target(run_v25):
    res = run_v25({"S5": {"V09": result(make_loc(0.5, 0.5, 2.0), 5)}}, stamps=())
    assert res.metrics["verdict"] == "inconclusive" and "PIXEL_SCALE_UNKNOWN" in res.flags


def test_unusable_localizations_are_counted(run_v25):
    bad_cov = make_loc(0.0, 0.0)
    singular = Localization(
        method="V09",
        ra=bad_cov.ra,
        dec=bad_cov.dec,
        offset_arcsec=(0.0, 0.0),
        covariance_arcsec2=[[1.0, 1.0], [1.0, 1.0]],
    )
    nan = Localization(
        method="V09",
        ra=bad_cov.ra,
        dec=bad_cov.dec,
        offset_arcsec=(np.nan, 0.0),
        covariance_arcsec2=np.eye(2),
    )
    results = {
        **sectors((0.5, 0.0), (-0.5, 0.0)),
        "S3": {"V09": result(singular, 3)},
        "S4": {"V09": result(nan, 4)},
        "S5": {"V09": result(make_loc(0.0, 0.0), 5, status="error")},
        "S6": {"V09": result(None, 6, status="error"), "V99": result(None, 6, status="skipped")},
    }
    res = run_v25(results)
    m = res.metrics
    assert m["n_localizations"] == 2 and m["n_rejected"] == 3 and m["n_failed"] == 1
    assert {"LOCALIZATION_REJECTED", "CHECK_ERRORED"} <= set(res.flags)
    problems = {row["stamp"]: row["problem"] for row in res.plot_data["sectors"]}
    assert problems == {
        "S1": None,
        "S2": None,
        "S3": "covariance not positive definite",
        "S4": "non-finite offset",
        "S5": "check status error",
    }
    assert res.plot_data["failed"] == [{"stamp": "S6", "method": "V09", "status": "error"}]


def test_no_localizations(run_v25):
    res = run_v25({"S1": {"V09": result(None, 1, status="error")}})
    assert res.status is Status.INCONCLUSIVE and res.metrics["verdict"] == "inconclusive"
    assert "NO_LOCALIZATIONS" in res.flags and res.localization is None


def two_methods(v08, v09, v08_sigma=8.0, v09_sigma=1.5):
    out = {}
    for k, ((e8, n8), (e9, n9)) in enumerate(zip(v08, v09, strict=True), start=1):
        out[f"S{k}"] = {
            "V08": result(make_loc(e8, n8, v08_sigma, method="V08"), k),
            "V09": result(make_loc(e9, n9, v09_sigma, method="V09"), k),
        }
    return out


def test_methods_are_not_combined_and_most_precise_leads(run_v25):
    res = run_v25(two_methods([(3.0, 2.0), (-4.0, 1.0), (1.0, -3.0)], [(0.3, 0.1), (-0.2, 0.4), (0.1, -0.3)]))
    m = res.metrics
    assert m["primary_method"] == "V09" and m["n_methods"] == 2
    # combined = V09's own weighted mean, not a mix with V08
    assert m["east_arcsec"] == pytest.approx(m["V09_east_arcsec"]) == pytest.approx(0.2 / 3)
    assert m["V08_east_arcsec"] == pytest.approx(0.0)
    assert m["n_localizations"] == 3 and m["n_localizations_total"] == 6
    # per-sector agreement of V08 and V09 with summed covariances
    agree = {row["stamp"]: row for row in res.plot_data["agreement"]}
    d = np.array([3.0 - 0.3, 2.0 - 0.1])
    assert agree["S1"]["sigma"] == pytest.approx(math.sqrt(d @ d / (64 + 2.25)))
    assert m["agreement_sigma_V08_V09_S1"] == pytest.approx(agree["S1"]["sigma"])
    assert "METHODS_DISAGREE" not in res.flags


def test_methods_disagree_and_explicit_primary(run_v25):
    data = two_methods([(40.0, 0.0)] * 3, [(0.0, 0.0)] * 3, v08_sigma=2.0, v09_sigma=1.0)
    res = run_v25(data)
    # V09 alone says on target, V08 alone off target: not a usable on-target answer
    assert res.metrics["primary_method"] == "V09" and res.metrics["verdict"] == "inconclusive"
    assert {"METHODS_DISAGREE", "METHOD_VERDICTS_DIFFER"} <= set(res.flags)
    assert "V08 on its own places it off target" in res.message
    forced = run_v25(data, primary_method="V08")
    assert forced.metrics["primary_method"] == "V08" and forced.metrics["verdict"] == "off_target"
    missing = run_v25(data, primary_method="V42")
    assert missing.metrics["primary_method"] == "V09" and "PRIMARY_METHOD_MISSING" in missing.flags


def test_a_tested_method_leads_only_when_precise_enough_to_decide(run_v25):
    """Two V08 sectors that disagree, one precise V09 sector: with 20″ errors V08 (3σ radius 42″ for the
    21″ TESS limit) cannot decide on its own, so its failed consistency test does not make the target
    inconsistent; with 3″ errors it can, and it leads."""

    def data(v08_sigma):
        return {
            "S1": {"V08": result(make_loc(-60.0, 0.0, v08_sigma, method="V08"), 1),
                   "V09": result(make_loc(0.5, 0.0, 1.0), 1)},
            "S2": {"V08": result(make_loc(60.0, 0.0, v08_sigma, method="V08"), 2)},
        }  # fmt: skip

    wide = run_v25(data(20.0))
    assert wide.metrics["primary_method"] == "V09" and wide.metrics["verdict"] == "on_target"
    assert wide.metrics["V08_verdict"] == "inconsistent" and "METHOD_VERDICTS_DIFFER" in wide.flags
    narrow = run_v25(data(3.0))
    assert narrow.metrics["primary_method"] == "V08" and narrow.metrics["verdict"] == "inconsistent"


def test_methods_parameter_restricts(run_v25):
    data = two_methods([(40.0, 0.0)] * 3, [(0.0, 0.0)] * 3, v08_sigma=2.0, v09_sigma=1.0)
    res = run_v25(data, methods="V08")
    assert res.metrics["n_methods"] == 1 and res.metrics["verdict"] == "off_target"


def test_poor_precision_across_sectors_is_inconclusive(run_v25):
    res = run_v25(sectors((5.0, 0.0), (-5.0, 0.0), (0.0, 5.0), sigma=25.0))
    assert res.metrics["verdict"] == "inconclusive" and "POOR_LOCALIZATION" in res.flags
    assert res.metrics["sigma_arcsec"] == pytest.approx(25.0 / math.sqrt(3))
    assert res.metrics["confusion_radius_arcsec"] == pytest.approx(3 * 25.0 / math.sqrt(3))


def test_results_are_json_ready(run_v25):
    res = run_v25(two_methods([(3.0, 2.0), (-4.0, 1.0)], [(0.3, 0.1), (-0.2, 0.4)]))
    json.dumps(dict(res.metrics), allow_nan=False)
    json.dumps(dict(res.plot_data), allow_nan=False)
    assert all(v is None or isinstance(v, (int, float, str, bool)) for v in res.metrics.values())
    single = run_v25({"S5": {"V09": result(make_loc(0.5, 0.5), 5)}})
    json.dumps(dict(single.metrics), allow_nan=False)
    json.dumps(dict(single.plot_data), allow_nan=False)


def listed(*rows: tuple[str, float, float, float]) -> Neighbours:
    """A neighbour list from (id, east″, north″, mag) rows around TARGET."""
    stars = []
    for sid, e, n, mag in rows:
        ra, dec = offset_to_sky(e, n, TARGET.ra, TARGET.dec)
        stars.append(Star(sid, float(ra), float(dec), mag))
    return Neighbours(stars, source="test list")


def test_neighbour_list_names_the_host(run_v25):
    near = listed(("T", 0.0, 0.2, 9.0), ("A", 30.0, 0.0, 11.0), ("B", -40.0, 20.0, 12.0))
    with_list = attrs.evolve(TARGET, neighbours=near)
    res = run_v25(sectors((29.0, 0.5), (31.0, -0.5), (30.5, 0.3)), target=with_list)
    m = res.metrics
    assert m["verdict"] == "off_target" and m["likely_host"] == "A"
    assert m["most_probable_host_probability"] > 0.99 and m["most_probable_host_sigma"] < 1.0
    assert "LIKELY_HOST_NOT_TARGET" in res.flags and "most likely host A" in res.message
    hosts = res.disposition.hosts
    assert [h.id for h in hosts][:2] == ["A", "target"] and hosts[1].name == "T"
    assert sum(h.probability for h in hosts) == pytest.approx(1.0)
    assert res.disposition.neighbours == "test list (3 stars)"
    # an imprecise on-target localization cannot tell T and A apart: inconclusive, naming A
    vague = run_v25(sectors((5.0, 0.0), (-3.0, 2.0), (8.0, -1.0), sigma=20.0), target=with_list)
    assert vague.metrics["verdict"] == "inconclusive"
    # a precise on-target localization with A 30″ away: on target, A excluded
    sharp = run_v25(sectors((0.5, 0.0), (-0.3, 0.2), (0.1, -0.1)), target=with_list)
    assert sharp.metrics["verdict"] == "on_target" and sharp.disposition.likely_host == "target"
    assert "no listed star that could produce the depth lies within" in sharp.message


def test_bright_neighbour_in_confusion_radius_is_inconclusive(run_v25):
    """Source consistent with the target, radius 15″ ≤ 21″, but a bright star 8″ away could host it."""
    near = attrs.evolve(TARGET, neighbours=listed(("T", 0.0, 0.0, 9.0), ("C", 8.0, 0.0, 10.0)))
    res = run_v25({"S5": {"V09": result(make_loc(1.0, 0.0, 5.0), 5)}}, target=near)
    assert res.metrics["verdict"] == "inconclusive" and "NEIGHBOUR_IN_CONFUSION_RADIUS" in res.flags
    assert res.message.startswith("source within 15″ of the target: cannot distinguish it from 1 star")
    # the same star too faint to produce a 1000 ppm dip (needs > 100 %): on target
    faint = attrs.evolve(TARGET, neighbours=listed(("T", 0.0, 0.0, 9.0), ("C", 8.0, 0.0, 17.0)))
    ok = run_v25({"S5": {"V09": result(make_loc(1.0, 0.0, 5.0), 5)}}, target=faint)
    assert ok.metrics["verdict"] == "on_target", ok.message
    (c,) = [h for h in ok.disposition.hosts if h.id == "C"]
    assert not c.feasible and c.required_depth > 1.0 and c.probability == 0.0


def test_a_star_that_could_be_named_the_host_is_a_rival_outside_the_radius(run_v25):
    """Source 1″ ± 5″ east (radius 15″); star E 17″ from it, outside that radius, at 3.3σ with the
    1″ host systematic: below sigma_threshold (3.5σ), where it would be named the host, so the
    target cannot be singled out, though E's host probability is under 10 %."""
    near = attrs.evolve(TARGET, neighbours=listed(("T", 0.0, 0.0, 9.0), ("E", 18.0, 0.0, 10.0)))
    data = {"S5": {"V09": result(make_loc(1.0, 0.0, 5.0), 5)}}
    res = run_v25(data, target=near)
    (e,) = [h for h in res.disposition.hosts if h.id == "E"]
    assert e.feasible and e.separation_arcsec > 15.0 and 3.0 < e.offset_sigma < 3.5 and e.probability < 0.1
    assert res.metrics["verdict"] == "inconclusive" and "NEIGHBOUR_NOT_EXCLUDED" in res.flags
    assert "NEIGHBOUR_IN_CONFUSION_RADIUS" not in res.flags and "within 3.5σ of the source" in res.message
    assert "E (3.3σ)" in res.message
    assert run_v25(data, target=near, sigma_threshold=3.2).metrics["verdict"] == "on_target"


def test_likely_neighbour_host_outside_the_confusion_radius_is_inconclusive(run_v25):
    """Source 3″ ± 1.5″ east (on target at 2σ, radius 4.5″); star D 4.6″ from it, outside that radius,
    still holds a ≥ 10 % host probability: not on target."""
    near = attrs.evolve(TARGET, neighbours=listed(("T", 0.0, 0.0, 9.0), ("D", -1.6, 0.0, 10.0)))
    data = {"S5": {"V09": result(make_loc(3.0, 0.0, 1.5), 5)}}
    res = run_v25(data, target=near)
    (d,) = [h for h in res.disposition.hosts if h.id == "D"]
    assert d.feasible and 0.1 <= d.probability < 0.5 and d.separation_arcsec > 4.5
    assert res.metrics["verdict"] == "inconclusive" and "NEIGHBOUR_LIKELY_HOST" in res.flags
    assert "NEIGHBOUR_IN_CONFUSION_RADIUS" not in res.flags and "D (" in res.message
    # below the rival probability, D (2.5σ from the source) is still not excluded at sigma_threshold
    looser = run_v25(data, target=near, rival_host_probability=0.5)
    assert looser.metrics["verdict"] == "inconclusive" and "NEIGHBOUR_NOT_EXCLUDED" in looser.flags


def test_host_not_listed(run_v25):
    near = attrs.evolve(TARGET, neighbours=listed(("T", 0.0, 0.0, 9.0), ("A", -60.0, 0.0, 11.0)))
    res = run_v25(sectors((29.0, 0.5), (31.0, -0.5), (30.5, 0.3)), target=near)
    assert res.metrics["verdict"] == "off_target" and res.disposition.likely_host is None
    assert "HOST_NOT_LISTED" in res.flags


def test_plot_draws_every_localization(run_v25):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, Ellipse

    from vet_consistency.plot import plot
    from vetcore.testing import make_stamp

    stamp = make_stamp(span_days=2.0, period=1.5, seed=1).stamp
    epochs = (make_loc(0.8, 0.2, 3.0, label="orbit 1"), make_loc(-0.6, 0.5, 3.0, label="orbit 2"))
    res = run_v25(
        {
            "S1": {
                "V08": result(make_loc(2.0, 1.0, 6.0, method="V08", epochs=epochs), 1),
                "V09": result(make_loc(0.1, 0.3, 2.0, epochs=epochs), 1),
            }
        },
        stamps=(stamp,),
    )
    assert res.plot_data["pixel_scale_arcsec"] == pytest.approx(21.0, rel=1e-6)
    fig, ax = plt.subplots()
    try:
        plot(res, [ax])
        ellipses = [p for p in ax.patches if type(p) is Ellipse]  # Circle subclasses Ellipse
        circles = [p for p in ax.patches if isinstance(p, Circle)]
        # 2 sector ellipses + 2×2 epoch ellipses + the combined 1σ and 3σ
        assert len(ellipses) == 8 and len(circles) == 2
        # one detector pixel around the target, the 3σ confusion radius around the source
        assert circles[0].radius == pytest.approx(21.0, rel=1e-6)
        assert circles[1].radius == pytest.approx(6.0) and circles[1].center == pytest.approx((0.1, 0.3))
        x0, x1 = ax.get_xlim()
        assert x0 > x1  # east to the left
        combined = ellipses[-2]
        assert combined.center == pytest.approx((0.1, 0.3)) and combined.width == pytest.approx(4.0)
    finally:
        plt.close(fig)


def test_registered_through_the_entry_point():
    from vetcore.plugins import PluginManager

    check = PluginManager().get_check("V25")
    assert check.scope.value == "target" and check.requires == ()
    assert check.plugin == "vet_consistency" and check.plot is not None
    assert set(check.flags) >= {"OFF_TARGET", "SECTORS_INCONSISTENT", "EPOCH_BASIS", "SINGLE_LOCALIZATION"}
    assert all(p.doc for p in check.params)


def test_sectors_that_disagree_but_each_exclude_the_target_are_off_target(run_v25):
    """Sectors 40″ and 52″ east with 2″ errors disagree (χ² ≈ 14, p ≈ 0.001), as high-S/N sectors whose PSF
    model errors exceed their statistical ones do, yet each excludes the target at ≥ 20σ and so does
    their Birge-scaled mean: off target, flagged SECTORS_INCONSISTENT. Sectors on opposite sides
    (−60″, +60″) stay inconsistent: their scaled mean does not exclude the target."""
    same_side = {f"S{k}": {"V09": result(make_loc(x, 0.0, 2.0), k)} for k, x in ((1, 40.0), (2, 52.0))}
    res = run_v25(same_side)
    assert res.metrics["V09_chi2_p_value"] < 0.0027  # consistency_p_threshold
    assert res.metrics["verdict"] == "off_target" and res.status is Status.FAIL
    assert {"OFF_TARGET", "SECTORS_INCONSISTENT"} <= set(res.flags)
    assert "excludes the target on its own" in res.message
    opposite = {f"S{k}": {"V09": result(make_loc(x, 0.0, 2.0), k)} for k, x in ((1, -60.0), (2, 60.0))}
    assert run_v25(opposite).metrics["verdict"] == "inconsistent"

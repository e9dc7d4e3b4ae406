"""Host attribution: aperture flux shares, depth feasibility, per-star probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vetcore import Target
from vetcore.hosts import TARGET, aperture_fractions, attribute_hosts
from vetcore.neighbours import Neighbours, Star
from vetcore.sky import offset_to_sky
from vetcore.testing import make_stamp

RA, DEC = 120.0, -50.0
T = Target("TIC 7", ra=RA, dec=DEC, magnitude=10.0)


def star(sid: str, east: float, north: float, mag: float) -> Star:
    ra, dec = offset_to_sky(east, north, RA, DEC)
    return Star(sid, float(ra), float(dec), mag)


@pytest.fixture(scope="module")
def stamp():
    """A 13×11 TESS-like stamp (21″ pixels), target at the centre, aperture from the image."""
    return make_stamp(
        span_days=2.0, period=1.5, noise=False, ra=RA, dec=DEC, target_pixel=(6.0, 5.0), seed=3
    ).stamp


def test_aperture_fraction_of_a_gaussian_psf(stamp):
    inside = stamp.aperture_mask
    # a star at the target pixel: the fraction is the PSF mass over the aperture pixels
    f_target = aperture_fractions(stamp, [RA], [DEC], psf_sigma_pixels=0.7)[0]
    assert 0.5 < f_target <= 1.0
    # an aperture covering everything holds (almost) all the light of a central star
    full = stamp.replace(aperture_mask=np.ones_like(inside))
    assert aperture_fractions(full, [RA], [DEC], 0.7)[0] == pytest.approx(1.0, abs=1e-6)
    # a star 8 pixels (168″) away leaves nothing in the aperture
    far = star("far", 168.0, 0.0, 10.0)
    assert aperture_fractions(stamp, [far.ra], [far.dec], 0.7)[0] < 1e-6


def test_depth_no_neighbour_can_produce_leaves_the_target(stamp):
    """A 2 % dip: every neighbour would need more than 100 %, so the target is the only feasible host,
    even with a localization too poor (σ = 25″) to tell the stars apart."""
    listed = Neighbours(
        [star("A", 20.0, 5.0, 16.0), star("B", -30.0, 20.0, 15.5), star("C", 5.0, -40.0, 17.0)]
    )
    table = attribute_hosts(
        target=T,
        neighbours=listed,
        offset_arcsec=(8.0, 2.0),
        covariance_arcsec2=np.eye(2) * 25.0**2,
        stamps=[stamp],
        depth_ppm=20000.0,
        search_radius_arcsec=63.0,
        psf_sigma_pixels=0.7,
        systematic_arcsec=1.0,
    )
    by_id = {c.id: c for c in table.candidates}
    assert set(by_id) == {TARGET, "A", "B", "C"}
    assert by_id[TARGET].feasible and by_id[TARGET].probability == pytest.approx(1.0)
    for sid in "ABC":
        assert not by_id[sid].feasible and by_id[sid].required_depth > 1.0 and by_id[sid].probability == 0.0
    assert table.most_likely.id == TARGET
    shares = [c.flux_share for c in table.candidates]
    assert sum(shares) == pytest.approx(1.0, abs=1e-9)  # every listed star is in the normalisation
    # required depth = depth / share
    assert by_id["A"].required_depth == pytest.approx(0.02 / by_id["A"].flux_share)
    # the same neighbours and a 0.2 % dip: they become feasible and the localization decides
    shallow = attribute_hosts(
        target=T,
        neighbours=listed,
        offset_arcsec=(20.0, 5.0),
        covariance_arcsec2=np.eye(2) * 3.0**2,
        stamps=[stamp],
        depth_ppm=200.0,
        search_radius_arcsec=63.0,
        psf_sigma_pixels=0.7,
        systematic_arcsec=1.0,
    )
    assert shallow.most_likely.id == "A" and shallow.most_likely.feasible


def test_likelihood_ratio_follows_the_offset_in_sigma(stamp):
    """Two feasible stars at 1σ and 2σ (with C + σ_sys²) from the source: P ratio exp(−(1 − 4)/2)."""
    listed = Neighbours([star("A", 4.0, 0.0, 10.5), star("B", -6.0, 0.0, 10.5)])
    table = attribute_hosts(
        target=T,
        neighbours=listed,
        offset_arcsec=(0.0, 0.0),
        covariance_arcsec2=np.eye(2) * 3.0,  # + 1″² systematic = 4″²: σ = 2″
        stamps=[stamp],
        depth_ppm=None,
        search_radius_arcsec=63.0,
        psf_sigma_pixels=0.7,
        systematic_arcsec=1.0,
    )
    by_id = {c.id: c for c in table.candidates}
    assert by_id["A"].offset_sigma == pytest.approx(2.0, rel=1e-6)
    assert by_id["B"].offset_sigma == pytest.approx(3.0, rel=1e-6)
    assert by_id[TARGET].offset_sigma == pytest.approx(0.0, abs=1e-9)
    assert by_id["A"].probability / by_id["B"].probability == pytest.approx(math.exp(-0.5 * (4 - 9)))
    assert "no transit depth: depth feasibility untested" in table.notes
    assert all(c.required_depth is None and c.feasible for c in table.candidates)


def test_target_in_the_list_is_matched_and_unknown_magnitude_is_said(stamp):
    listed = Neighbours([star("TIC 7", 0.3, -0.2, 9.8), star("A", 30.0, 0.0, 12.0)])
    table = attribute_hosts(
        target=T,
        neighbours=listed,
        offset_arcsec=(0.0, 0.0),
        covariance_arcsec2=np.eye(2),
        stamps=[stamp],
        depth_ppm=1000.0,
        search_radius_arcsec=63.0,
        psf_sigma_pixels=0.7,
        systematic_arcsec=1.0,
    )
    assert [c.id for c in table.candidates] == [TARGET, "A"] and table.candidates[0].name == "TIC 7"
    assert table.candidates[0].mag == 9.8
    nameless = Target("TIC 8", ra=RA, dec=DEC)  # no magnitude, not in the list
    untested = attribute_hosts(
        target=nameless,
        neighbours=Neighbours([star("A", 30.0, 0.0, 12.0)]),
        offset_arcsec=(0.0, 0.0),
        covariance_arcsec2=np.eye(2),
        stamps=[stamp],
        depth_ppm=1000.0,
        search_radius_arcsec=63.0,
        psf_sigma_pixels=0.7,
        systematic_arcsec=1.0,
    )
    assert any("magnitude is unknown" in n for n in untested.notes)
    assert all(c.flux_share is None for c in untested.candidates)

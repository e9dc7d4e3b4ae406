"""Host attribution end to end on simulated pixels: V08 and V09 localize, V25 weighs the listed stars.

Two generators: the Gaussian-PSF stamps of :mod:`vetcore.testing.synthetic`, and the realistic
population of :mod:`vetcore.testing.population` (other PSFs, jitter, field stars), which the
localization methods did not generate themselves.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import pytest

from vetcore.neighbours import Neighbours, Star
from vetcore.sky import offset_to_sky
from vetcore.testing import SyntheticStar, make_sectors, run_check

PIXEL = 21.0  # arcsec, the generator's TESS pixel


def _neighbour_case(seed: int):
    """Target, a host 1.5 px away (random position angle), a decoy 1.5 px from the target on the other
    side and a second decoy 1 px from the host; fluxes 30–100 % of the target's; one sector, SNR 20."""
    rng = np.random.default_rng(seed)
    pa, pa2 = rng.uniform(0.0, 2.0 * np.pi, 2)
    fluxes = rng.uniform(0.3, 1.0, 3) * 3.0e4

    def at(east: float, north: float, flux: float) -> SyntheticStar:
        return SyntheticStar(east_arcsec=east, north_arcsec=north, flux=flux)

    host = at(1.5 * PIXEL * math.sin(pa), 1.5 * PIXEL * math.cos(pa), fluxes[0])
    decoy = at(1.5 * PIXEL * math.sin(pa + 2.1), 1.5 * PIXEL * math.cos(pa + 2.1), fluxes[1])
    near_host = at(
        host.east_arcsec + PIXEL * math.sin(pa2), host.north_arcsec + PIXEL * math.cos(pa2), fluxes[2]
    )
    stars = (SyntheticStar(flux=3.0e4), host, decoy, near_host)
    (case,) = make_sectors(1, stars=stars, transit_star=1, snr=20.0, seed=seed, ra=120.0, dec=-50.0)
    target = case.stamp.target
    listed = []
    for name, s in zip(("T", "HOST", "D1", "D2"), stars, strict=True):
        ra, dec = offset_to_sky(s.east_arcsec, s.north_arcsec, target.ra, target.dec)
        listed.append(Star(name, float(ra), float(dec), 20.0 - 2.5 * math.log10(s.flux)))
    neighbours = Neighbours(listed, source="truth")
    stamp = case.stamp.replace(target=attrs.evolve(target, neighbours=neighbours))
    return attrs.evolve(case, stamp=stamp)


@pytest.mark.slow
def test_host_one_and_a_half_pixels_away_is_the_most_probable():
    """≥ 90 % of 20 realisations name the true host (measured: 20/20 with this generator)."""
    hits, verdicts = 0, []
    for seed in range(20):
        case = _neighbour_case(7000 + seed)
        results = {case.stamp.label: {cid: run_check(cid, case) for cid in ("V08", "V09")}}
        res = run_check("V25", case, results=results)
        verdicts.append(res.disposition.verdict)
        hosts = res.disposition.hosts
        hits += bool(hosts) and hosts[0].id == "HOST"
    assert hits >= 18, (hits, verdicts)
    assert verdicts.count("on_target") == 0  # never called on target


#: Off-target cases of the realistic population (``seed=11``, TESS 2-min, one sector, all-pixel SNR 40)
#: whose host lies 1.2–1.8 px from the target: Moffat+halo+coma PSFs, red pointing jitter, momentum
#: dumps, field stars, imperfect background — pixels the methods did not generate themselves.
POPULATION_HOST_CASES = (7, 10, 13, 27, 29, 31, 37, 38, 39, 40, 48, 53, 58)


@pytest.mark.slow
def test_population_host_one_and_a_half_pixels_away_is_the_most_probable():
    """≥ 90 % name the true host with the population's catalogue as the neighbour list
    (measured: 12 of 13; the miss is a host 4 mag fainter, left inconclusive, not on target)."""
    import vetcore
    from vetcore.testing import population

    hits, verdicts = 0, []
    for index in POPULATION_HOST_CASES:
        case = population.draw_case(
            index, seed=11, scenario=population.OFF_TARGET, kind="tess_2min", snr=40.0, n_sectors=1
        )
        assert 1.2 <= case.truth.host_separation_pix <= 1.8
        listed = Neighbours([Star(*row) for row in case.stars], source="population catalogue")
        report = vetcore.vet(
            list(case.stamps), checks=["V08", "V09", "V25"], neighbours=listed, **case.vet_kwargs()
        )
        d = report.disposition
        verdicts.append(d.verdict)
        hits += bool(d.hosts) and d.hosts[0].name == case.truth.host_id
    assert hits >= math.ceil(0.9 * len(POPULATION_HOST_CASES)), (hits, verdicts)
    assert "on_target" not in verdicts

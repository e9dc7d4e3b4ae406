"""Nearby catalogue sources: reading tables and ranking candidate hosts."""

import math

import numpy as np
import pytest
from astropy.table import Table

from vet_consistency.catalog import rank_sources, read_catalog
from vetcore.errors import DataError
from vetcore.sky import offset_to_sky

RA0, DEC0 = 308.5672083, 43.3606889


def star(east, north):
    ra, dec = offset_to_sky(east, north, RA0, DEC0)
    return float(ra), float(dec)


def write_table(path, rows, names=("ID", "RA", "Dec", "Tmag")):
    Table(rows=rows, names=names).write(path, overwrite=True)
    return path


@pytest.fixture
def field(tmp_path):
    rows = [
        ("T", *star(0.0, 0.3), 9.0),
        ("A", *star(30.0, 0.0), 11.0),
        ("B", *star(-40.0, 20.0), 12.0),
        ("C", *star(29.6, 0.4), 20.0),
        ("FAR", *star(300.0, 0.0), 8.0),
    ]
    return write_table(tmp_path / "field.csv", rows)


def test_read_csv_and_ecsv(field, tmp_path):
    rows = read_catalog(field)
    assert [r[0] for r in rows] == ["T", "A", "B", "C", "FAR"]
    assert rows[1][1:3] == pytest.approx(star(30.0, 0.0), abs=1e-9) and rows[1][3] == 11.0
    ecsv = write_table(
        tmp_path / "field.ecsv", [(1, *star(5.0, 5.0))], names=("source_id", "ra_deg", "dec_deg")
    )
    ((sid, ra, dec, mag),) = read_catalog(ecsv)
    assert sid == "1" and mag is None and (ra, dec) == pytest.approx(star(5.0, 5.0), abs=1e-9)


def test_read_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_catalog(tmp_path / "missing.csv")
    bad = write_table(tmp_path / "bad.csv", [(1.0, 2.0)], names=("x", "y"))
    with pytest.raises(DataError, match=r"bad\.csv: catalogue needs RA and Dec"):
        read_catalog(bad)


def rank(rows, offset, sigma, depth_ppm=1000.0, target_mag=None):
    return rank_sources(
        rows,
        target_id="TIC 1",
        target_ra=RA0,
        target_dec=DEC0,
        target_mag=target_mag,
        offset=offset,
        covariance=np.eye(2) * sigma**2,
        radius_arcsec=120.0,
        match_arcsec=2.0,
        depth_ppm=depth_ppm,
    )


def test_ranking_and_host_plausibility(field):
    ranked = rank(read_catalog(field), (29.5, 0.5), 1.0)
    ids = [s.id for s in ranked]
    assert "FAR" not in ids  # beyond the search radius
    assert ids[0] == "C" and ids[1] == "A"  # C is nearest in σ …
    c, a = ranked[0], ranked[1]
    # … but a Tmag 20 star would need 1000 ppm × 10^(0.4·11) ≈ 25 (2500 %) eclipses: cannot host
    assert c.implied_depth == pytest.approx(1e-3 * 10 ** (0.4 * 11.0)) and not c.can_host
    assert a.can_host and a.implied_depth == pytest.approx(1e-3 * 10**0.8)
    assert a.sigma == pytest.approx(math.hypot(0.5, 0.5))
    assert a.separation_arcsec == pytest.approx(math.hypot(0.5, 0.5))
    target = next(s for s in ranked if s.is_target)
    assert target.id == "T" and target.implied_depth == pytest.approx(1e-3)


def test_target_added_when_not_in_catalogue(tmp_path):
    path = write_table(tmp_path / "nbr.csv", [("A", *star(30.0, 0.0), 11.0)])
    ranked = rank(read_catalog(path), (0.5, 0.0), 2.0, target_mag=9.0)
    assert [s.id for s in ranked] == ["TIC 1", "A"]
    assert ranked[0].is_target and ranked[0].east == 0.0 and ranked[0].mag == 9.0
    assert ranked[0].sigma == pytest.approx(0.25)
    # without a depth or magnitudes the plausibility cut is not applied
    assert all(s.implied_depth is None for s in rank(read_catalog(path), (0.5, 0.0), 2.0, depth_ppm=None))

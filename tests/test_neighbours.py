"""Neighbour lists: table files, the TIC through a cache (with a fake query), attaching to stamps."""

from __future__ import annotations

import sys

import pytest

from vetcore.errors import DataError
from vetcore.neighbours import (
    Neighbours,
    Star,
    attach_neighbours,
    load_neighbours,
    neighbours_identity,
    query_tic,
    read_neighbours,
)
from vetcore.sky import offset_to_sky
from vetcore.testing import make_stamp

RA, DEC = 120.0, -50.0


def _row(sid: str, east: float, north: float, mag: float) -> str:
    ra, dec = offset_to_sky(east, north, RA, DEC)
    return f"{sid},{float(ra):.9f},{float(dec):.9f},{mag}"


def test_csv_and_ecsv(tmp_path):
    csv = tmp_path / "near.csv"
    csv.write_text(
        "ID,RA,Dec,Mag,notes\n" + _row("TIC 1", 0, 0, 9.5) + ",target\n" + _row("A", 30, 5, 12) + ",\n"
    )
    listed = read_neighbours(csv)
    assert [s.id for s in listed.stars] == ["TIC 1", "A"] and listed.stars[1].mag == 12.0
    assert listed.describe() == "near.csv (2 stars)"
    ecsv = tmp_path / "near.ecsv"
    from astropy.table import Table

    Table({"id": ["B"], "ra": [RA], "dec": [DEC], "mag": [11.0]}).write(ecsv, format="ascii.ecsv")
    assert read_neighbours(ecsv).stars == (Star("B", RA, DEC, 11.0),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,ra,dec\nA,1,2\n", "column 'mag' missing (need id, ra, dec, mag; found id, ra, dec)"),
        ("id,ra,dec,mag\nA,north,2,11\n", "column 'ra', row 1: 'north' is not a number"),
        (
            "id,ra,dec,mag\nA,1,2,11\nB,1,95,11\n",
            "column 'dec', row 2: 95.0 is not a number in [-90, 90] (degrees)",
        ),
        ("id,ra,dec,mag\nA,1,2,11\nA,1,3,11\n", "column 'id', row 2: 'A' repeats row 1"),
        ("id,ra,dec,mag\nA,1,2,\n", "column 'mag', row 1: nan is not a number in [-2, 30]"),
    ],
)
def test_bad_tables_name_file_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        read_neighbours(path)
    assert str(err.value) == f"{path}: {message}"


def test_missing_file_and_wrong_format(tmp_path):
    with pytest.raises(DataError, match="neighbour list not found"):
        read_neighbours(tmp_path / "none.csv")
    fits = tmp_path / "stars.fits"
    fits.write_bytes(b"SIMPLE")
    with pytest.raises(DataError, match=r"stars.fits: neighbour list must be a \.csv or \.ecsv table"):
        read_neighbours(fits)


class FakeTic:
    """Stands in for astroquery's MAST Catalogs: returns TIC rows and counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, ra: float, dec: float, radius: float) -> list[dict]:
        self.calls += 1
        return [
            {"ID": "11", "ra": ra, "dec": dec, "Tmag": 9.0},
            {"ID": "12", "ra": ra + 0.005, "dec": dec, "Tmag": 12.5},
            {"ID": "13", "ra": ra, "dec": dec + 0.004, "Tmag": None},  # no Tmag: dropped
        ]


def test_tic_query_is_cached_and_offline_uses_the_cache(tmp_path):
    fake = FakeTic()
    first = query_tic(RA, DEC, 300.0, cache_dir=tmp_path, query=fake)
    assert [s.id for s in first.stars] == ["TIC 11", "TIC 12"] and first.band == "T"
    assert fake.calls == 1 and first.source == "TIC (MAST)"
    again = query_tic(RA, DEC, 300.0, cache_dir=tmp_path, offline=True, query=fake)
    assert fake.calls == 1 and again.stars == first.stars and again.source.startswith("TIC (cached ")
    with pytest.raises(DataError, match="offline and no cached neighbour list"):
        query_tic(RA + 1.0, DEC, 300.0, cache_dir=tmp_path, offline=True, query=fake)


def test_tic_query_failures_are_one_line(tmp_path, monkeypatch):
    def broken(ra, dec, radius):
        raise ConnectionError("no route to host")

    with pytest.raises(DataError, match=r"TIC query failed \(ConnectionError: no route to host\)"):
        query_tic(RA, DEC, 300.0, cache_dir=tmp_path, query=broken)
    monkeypatch.setitem(sys.modules, "astroquery.mast", None)  # astroquery absent
    with pytest.raises(DataError, match="astroquery is not installed"):
        query_tic(RA, DEC, 300.0, cache_dir=tmp_path)


def test_attach_keeps_the_stars_around_the_target(tmp_path):
    stamp = make_stamp(span_days=2.0, period=1.5, noise=False, ra=RA, dec=DEC, shape=(11, 11), seed=0).stamp
    path = tmp_path / "field.csv"
    path.write_text(
        "id,ra,dec,mag\n"
        + "\n".join([_row("T", 0, 0, 10), _row("A", 60, 0, 12), _row("FAR", 3600, 0, 8)])
        + "\n"
    )
    (with_list,) = attach_neighbours([stamp], path)
    listed = with_list.target.neighbours
    assert [s.id for s in listed.stars] == ["T", "A"] and listed.source == "field.csv"
    assert attach_neighbours([stamp], None)[0].target.neighbours is None
    fake = FakeTic()
    (from_tic,) = attach_neighbours([stamp], "tic", cache_dir=tmp_path, query=fake)
    assert [s.id for s in from_tic.target.neighbours.stars] == ["TIC 11", "TIC 12"]
    # identities for the inputs hash: a file by path and size, a list by its stars
    assert neighbours_identity(path).startswith("file:") and neighbours_identity("TIC") == "tic"
    assert neighbours_identity(Neighbours([Star("A", 1, 2, 3)])) != neighbours_identity(Neighbours([]))
    assert load_neighbours(None, ra=RA, dec=DEC) is None

"""Stars around the target: the candidate hosts of a transit signal.

A neighbour list is a :class:`Neighbours` object (stars with ``id``, ``ra``,
``dec`` in degrees ICRS and ``mag``, one band for the whole list) attached to
the :class:`~vetcore.model.Target` as ``Target.neighbours``, so every check
sees it.  It comes from one of:

* a table file (:func:`read_neighbours`): CSV or ECSV with the columns ``id``,
  ``ra``, ``dec`` (degrees) and ``mag`` (Gaia G or TESS magnitude; one band for
  every row).  The target may be in the list or not;
* the TESS Input Catalog at MAST through astroquery (:func:`query_tic`), which
  carries the Gaia DR2 stars with their TESS magnitudes.  Results are cached as
  ECSV, so a second run — and any ``offline`` run — uses the cache; offline with
  nothing cached is a clear error.  The network side is one callable that tests
  replace with a fake;
* nothing (``Target.neighbours is None``): verdicts then rest on the confusion
  radius alone, and reports say so.

``source`` records where the list came from, for reports.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from vetcore.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.model import Stamp

__all__ = [
    "NEIGHBOUR_COLUMNS",
    "NeighbourSpec",
    "Neighbours",
    "Star",
    "TicQuery",
    "attach_neighbours",
    "load_neighbours",
    "neighbours_identity",
    "query_tic",
    "read_neighbours",
    "write_neighbours",
]

#: The columns a neighbour table must have (case-insensitive).
NEIGHBOUR_COLUMNS = ("id", "ra", "dec", "mag")


def _as_tuple(items: Iterable[Any]) -> tuple[Any, ...]:
    """Typed ``tuple`` converter (mypy's attrs plugin cannot use the generic builtin)."""
    return tuple(items)


@attrs.frozen
class Star:
    """One catalogued star: identifier, ICRS position (deg) and magnitude."""

    id: str = attrs.field(converter=str)
    ra: float = attrs.field(converter=float)
    dec: float = attrs.field(converter=float)
    mag: float = attrs.field(converter=float)


@attrs.frozen
class Neighbours:
    """The stars around a target and where the list came from (``source``, for reports).

    ``band`` names the magnitude system (``"G"``, ``"T"``, or ``""`` unknown); the
    host attribution compares magnitudes within the list only, so it needs one
    band for all rows.
    """

    stars: tuple[Star, ...] = attrs.field(converter=_as_tuple)
    source: str = ""
    band: str = ""

    def __len__(self) -> int:
        return len(self.stars)

    def within(self, ra: float, dec: float, radius_arcsec: float) -> tuple[Star, ...]:
        """The stars within ``radius_arcsec`` of (``ra``, ``dec``) (deg)."""
        if not self.stars:
            return ()
        from vetcore.sky import sky_offset

        east, north = sky_offset(
            np.array([s.ra for s in self.stars]), np.array([s.dec for s in self.stars]), ra, dec
        )
        near = np.hypot(np.atleast_1d(east), np.atleast_1d(north)) <= radius_arcsec
        return tuple(s for s, keep in zip(self.stars, near, strict=True) if keep)

    def describe(self) -> str:
        """``"neighbours.csv (12 stars)"``."""
        return f"{self.source or 'neighbour list'} ({len(self.stars)} star{'s' * (len(self.stars) != 1)})"


def _stars_from_columns(
    where: str, ids: Sequence[Any], ra: Any, dec: Any, mag: Any, first_row: int = 1
) -> tuple[Star, ...]:
    """Validated stars; a bad value raises DataError naming ``where``, the column and the row."""
    ra = np.ma.filled(np.ma.asarray(ra, dtype=float), np.nan)
    dec = np.ma.filled(np.ma.asarray(dec, dtype=float), np.nan)
    mag = np.ma.filled(np.ma.asarray(mag, dtype=float), np.nan)
    for name, values, low, high in (
        ("ra", ra, 0.0, 360.0),
        ("dec", dec, -90.0, 90.0),
        ("mag", mag, -2.0, 30.0),
    ):
        bad = ~np.isfinite(values) | (values < low) | (values > high)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                where,
                f"column {name!r}, row {i + first_row}: {float(values[i])!r} is not a number "
                f"in [{low:g}, {high:g}]" + (" (degrees)" if name != "mag" else ""),
            )
    text_ids = [str(v).strip() for v in ids]
    for i, sid in enumerate(text_ids):
        if not sid or sid == "--":
            raise DataError(where, f"column 'id', row {i + first_row}: empty identifier")
    seen: dict[str, int] = {}
    for i, sid in enumerate(text_ids):
        if sid in seen:
            raise DataError(
                where, f"column 'id', row {i + first_row}: {sid!r} repeats row {seen[sid] + first_row}"
            )
        seen[sid] = i
    return tuple(Star(sid, r % 360.0, d, m) for sid, r, d, m in zip(text_ids, ra, dec, mag, strict=True))


def read_neighbours(path: str | Path, band: str = "") -> Neighbours:
    """The neighbour list in a CSV or ECSV file (columns ``id``, ``ra``, ``dec``, ``mag``).

    Column names are matched case-insensitively; other columns are ignored.
    Raises :class:`~vetcore.errors.DataError` naming the file and the column
    (and row) for a missing file, an unreadable table, a missing column or a
    value that is not a finite number in range (RA in [0, 360], Dec in
    [−90, 90] degrees, magnitude in [−2, 30]).
    """
    from astropy.table import Table

    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise DataError(where, "neighbour list not found")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    fmt = {".csv": "ascii.csv", ".csv.gz": "ascii.csv", ".ecsv": "ascii.ecsv", ".ecsv.gz": "ascii.ecsv"}.get(
        suffix
    )
    if fmt is None:
        raise DataError(where, "neighbour list must be a .csv or .ecsv table")
    try:
        table = Table.read(path, format=fmt)
    except Exception as exc:  # astropy raises many types for unreadable tables
        text = " ".join(str(exc).split())
        raise DataError(where, f"cannot read the neighbour table ({type(exc).__name__}: {text})") from None
    names = {name.lower(): name for name in table.colnames}
    for column in NEIGHBOUR_COLUMNS:
        if column not in names:
            raise DataError(
                where,
                f"column {column!r} missing (need {', '.join(NEIGHBOUR_COLUMNS)}; "
                f"found {', '.join(table.colnames)})",
            )
    columns = {c: table[names[c]] for c in NEIGHBOUR_COLUMNS}
    for c in ("ra", "dec", "mag"):
        if columns[c].dtype.kind not in "fiu":
            for i, value in enumerate(columns[c], start=1):
                try:
                    float(value)
                except (TypeError, ValueError):
                    raise DataError(where, f"column {c!r}, row {i}: {str(value)!r} is not a number") from None
    stars = _stars_from_columns(
        where, list(columns["id"]), columns["ra"], columns["dec"], columns["mag"], first_row=1
    )
    return Neighbours(stars, source=path.name, band=band or str(table.meta.get("band", "")))


# --------------------------------------------------------------------------- TIC at MAST

#: ``query(ra_deg, dec_deg, radius_arcsec) -> rows`` with keys/columns ``ID``, ``ra``, ``dec``, ``Tmag``.
TicQuery = Callable[[float, float, float], Iterable[Any]]


def _astroquery_tic(ra: float, dec: float, radius_arcsec: float) -> Any:
    """The TIC stars around (``ra``, ``dec``) from MAST (astroquery imported here only)."""
    try:
        from astropy import units as u
        from astropy.coordinates import SkyCoord
        from astroquery.mast import Catalogs
    except ImportError:
        raise DataError(
            "TIC", "astroquery is not installed; `pip install astroquery`, or pass a neighbour file"
        ) from None
    coord = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")
    return Catalogs.query_region(coord, radius=radius_arcsec * u.arcsec, catalog="TIC")


def _cache_file(cache_dir: Path, ra: float, dec: float, radius_arcsec: float) -> Path:
    key = hashlib.sha256(f"{ra:.6f} {dec:.6f} {radius_arcsec:.1f}".encode()).hexdigest()[:16]
    return cache_dir / "neighbours" / f"tic_{ra:.5f}_{dec:+.5f}_{radius_arcsec:.0f}as_{key}.ecsv"


def query_tic(
    ra: float,
    dec: float,
    radius_arcsec: float,
    *,
    cache_dir: str | Path,
    offline: bool = False,
    query: TicQuery | None = None,
) -> Neighbours:
    """The TIC stars within ``radius_arcsec`` of (``ra``, ``dec``), through a cache.

    A cached ECSV for the same position and radius is used when present (and is
    the only option when ``offline``: without it a :class:`DataError` says so).
    Otherwise ``query`` (default: astroquery's MAST ``Catalogs`` with
    ``catalog="TIC"``) is called and its rows are cached.  Magnitudes are TESS
    magnitudes (band ``"T"``); rows without a position or a Tmag are dropped.
    """
    cache = _cache_file(Path(cache_dir).expanduser(), ra, dec, radius_arcsec)
    if cache.is_file():
        listed = read_neighbours(cache, band="T")
        return attrs.evolve(listed, source=f"TIC (cached {cache})")
    label = f"TIC around RA {ra:.5f}, Dec {dec:+.5f}"
    if offline:
        raise DataError(
            label, f"offline and no cached neighbour list {cache}; run once online or pass a file"
        )
    try:
        rows = list((query or _astroquery_tic)(ra, dec, radius_arcsec))
    except DataError:
        raise
    except Exception as exc:  # network and archive failures come in many types
        raise DataError(label, f"TIC query failed ({type(exc).__name__}: {exc})") from None

    def get(row: Any, *keys: str) -> Any:
        for key in keys:
            try:
                return row[key]
            except (KeyError, IndexError, ValueError):
                continue
        return None

    records = []
    for row in rows:
        values = [
            get(row, "ID", "id"),
            get(row, "ra", "RA"),
            get(row, "dec", "DEC", "Dec"),
            get(row, "Tmag", "mag"),
        ]
        try:
            numbers = [float(v) for v in values[1:]]
        except (TypeError, ValueError):
            continue
        if values[0] is None or not all(math.isfinite(v) for v in numbers) or np.ma.is_masked(values[3]):
            continue
        records.append((f"TIC {values[0]}", *numbers))
    stars = _stars_from_columns(
        label,
        [r[0] for r in records],
        [r[1] for r in records],
        [r[2] for r in records],
        [r[3] for r in records],
    )
    write_neighbours(cache, Neighbours(stars, band="T"))
    return Neighbours(stars, source="TIC (MAST)", band="T")


def write_neighbours(path: str | Path, neighbours: Neighbours) -> None:
    """Write a neighbour list as ECSV (atomically), readable by :func:`read_neighbours`."""
    import io

    from astropy.table import Table

    from vetcore.io import atomic_write

    table = Table(
        {
            "id": [s.id for s in neighbours.stars],
            "ra": np.array([s.ra for s in neighbours.stars], dtype=float),
            "dec": np.array([s.dec for s in neighbours.stars], dtype=float),
            "mag": np.array([s.mag for s in neighbours.stars], dtype=float),
        },
        meta={"band": neighbours.band},
    )
    table["id"] = table["id"].astype(str)
    buffer = io.StringIO()
    table.write(buffer, format="ascii.ecsv")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, buffer.getvalue())


#: What a user passes for the neighbours: nothing, a list, a table file, or ``"tic"``.
NeighbourSpec = str | Path | Neighbours | None


def load_neighbours(
    spec: NeighbourSpec,
    *,
    ra: float | None,
    dec: float | None,
    radius_arcsec: float = 300.0,
    cache_dir: str | Path | None = None,
    offline: bool = False,
    query: TicQuery | None = None,
) -> Neighbours | None:
    """A neighbour list from what a user passed: ``None``, a :class:`Neighbours`, a file path, or ``"tic"``.

    ``"tic"`` queries the TIC (:func:`query_tic`) within ``radius_arcsec`` of the
    target (needs ``ra``/``dec``) through ``cache_dir`` (default: vetcore's
    download cache).
    """
    if spec is None or isinstance(spec, Neighbours):
        return spec
    if str(spec).strip().lower() == "tic":
        if ra is None or dec is None:
            raise DataError("TIC", "the target has no RA/Dec to search around")
        if cache_dir is None:
            from vetcore.loaders.mast import default_cache_dir

            cache_dir = default_cache_dir()
        return query_tic(ra, dec, radius_arcsec, cache_dir=cache_dir, offline=offline, query=query)
    return read_neighbours(spec)


def _footprint_arcsec(stamps: Sequence[Stamp]) -> float:
    """A radius around the target that covers every stamp plus 5 pixels of PSF wings."""
    return max((math.hypot(*s.shape) + 5.0) * s.pixel_scale_arcsec for s in stamps)


def attach_neighbours(
    stamps: Sequence[Stamp],
    spec: NeighbourSpec,
    *,
    cache_dir: str | Path | None = None,
    offline: bool = False,
    query: TicQuery | None = None,
) -> list[Stamp]:
    """``stamps`` with ``target.neighbours`` set from ``spec`` (see :func:`load_neighbours`).

    Only stars around the target that can matter are kept: within the stamps'
    diagonal plus five pixels (the same radius bounds a TIC query).  ``None``
    leaves the stamps unchanged.
    """
    if spec is None or not stamps:
        return list(stamps)
    target = stamps[0].target
    radius = _footprint_arcsec(stamps)
    listed = load_neighbours(
        spec,
        ra=target.ra,
        dec=target.dec,
        radius_arcsec=radius,
        cache_dir=cache_dir,
        offline=offline,
        query=query,
    )
    assert listed is not None
    if target.ra is not None and target.dec is not None:
        listed = attrs.evolve(listed, stars=listed.within(target.ra, target.dec, radius))
    return [s.replace(target=attrs.evolve(s.target, neighbours=listed)) for s in stamps]


def neighbours_identity(spec: NeighbourSpec) -> str | None:
    """A stable string for ``spec`` in a report's inputs hash (file path and size, or the stars)."""
    if spec is None:
        return None
    if isinstance(spec, Neighbours):
        text = ";".join(f"{s.id},{s.ra:.8f},{s.dec:.8f},{s.mag:.3f}" for s in spec.stars)
        return "stars:" + hashlib.sha256(text.encode()).hexdigest()
    if str(spec).strip().lower() == "tic":
        return "tic"
    path = Path(spec)
    return f"file:{path.resolve()}:{path.stat().st_size if path.is_file() else -1}"

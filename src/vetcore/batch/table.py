"""The candidate table of ``vetcore batch``: one row per candidate.

Plain layout (CSV or ECSV), one row per candidate:

==========  =====================================================================
column      meaning
==========  =====================================================================
target      name (also the output sub-folder, made file-name safe)
source      path, glob, folder or identifier; several separated by ``;``;
            relative paths are relative to the table's folder; when empty,
            the target name if it is an identifier (``TIC 188646744``)
period      orbital period (days)
t0          mid-transit epoch: BTJD/BKJD, or a full BJD (> 2 400 000)
duration    total transit duration (hours)
depth       optional: depth (ppm)
ra, dec     optional: target position (deg), overriding the data's
neighbours  optional: a CSV/ECSV neighbour list (id, ra, dec, mag) or ``tic``
            for this target (see :mod:`vetcore.neighbours`), overriding
            ``vetcore batch --neighbours``; relative to the table's folder
==========  =====================================================================

TOI catalogue layout (the ExoFOP/TESS "TOI list" CSV, read as published): the
columns are mapped as ``TOI-<Full TOI ID>`` → target, ``TIC <TIC>`` → source (a
MAST identifier, found in the download cache when offline), ``Orbital Period
Value`` → period, ``Epoch Value`` → t0 (BTJD in that list; a full BJD is also
accepted), ``Transit Duration Value`` → duration (hours), ``Transit Depth
Value`` → depth (ppm), ``TIC Right Ascension``/``TIC Declination`` → ra/dec.
A ``source`` column, when present, overrides the identifier; an empty ``source``
cell falls back to it.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import attrs

from vetcore.errors import ConfigError

__all__ = ["TOI_COLUMNS", "Candidate", "read_table"]

#: How the TOI catalogue's columns map onto the plain layout.
TOI_COLUMNS = {
    "Full TOI ID": "target",
    "TIC": "source",
    "Orbital Period Value": "period",
    "Epoch Value": "t0",
    "Transit Duration Value": "duration",
    "Transit Depth Value": "depth",
    "TIC Right Ascension": "ra",
    "TIC Declination": "dec",
}
REQUIRED = ("target", "source", "period", "t0", "duration")
#: A target name that is itself a MAST identifier (used when the ``source`` cell is empty).
_IDENTIFIER = re.compile(r"^(TIC|KIC|EPIC)\s*\d+$", re.IGNORECASE)


@attrs.frozen
class Candidate:
    """One row of the table, validated.  ``problem`` is set (and the rest may be
    incomplete) when the row itself is unusable; the batch records it as failed."""

    row: int
    name: str
    sources: tuple[str, ...] = ()
    period: float = math.nan
    t0: float = math.nan
    duration: float = math.nan
    depth: float | None = None
    ra: float | None = None
    dec: float | None = None
    problem: str | None = None
    neighbours: Any = None  # a vetcore.neighbours.NeighbourSpec


def _text(value: Any) -> str:
    """A cell as text; ``""`` for an empty or masked cell."""
    if value is None or (hasattr(value, "mask") and bool(value.mask)):
        return ""
    text = str(value).strip()
    return "" if text in ("--", "nan", "NaN") else text


def _number(value: Any) -> float | None:
    text = _text(value)
    return float(text) if text else None


def _read(path: Path) -> Any:
    from astropy.table import Table

    try:
        with open(path, "rb") as fh:
            head = fh.read(20)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the table ({exc.strerror or exc})") from None
    is_ecsv = b"%ECSV" in head or path.name.lower().endswith((".ecsv", ".ecsv.gz"))
    try:
        if is_ecsv:
            return Table.read(path, format="ascii.ecsv")
        return Table.read(path, format="ascii.csv", comment="#")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except Exception as exc:  # astropy raises many types for malformed tables
        raise ConfigError(f"{path}: cannot read the table ({type(exc).__name__}: {exc})") from None


def read_table(path: str | os.PathLike[str]) -> list[Candidate]:
    """The candidates of a plain or TOI-catalogue table; missing columns are a :class:`ConfigError`."""
    path = Path(path)
    table = _read(path)
    columns = list(table.colnames)
    toi = "Full TOI ID" in columns and "Orbital Period Value" in columns
    mapping = {c: c for c in columns} if not toi else {k: v for k, v in TOI_COLUMNS.items() if k in columns}
    if toi and "source" in columns:
        mapping = {k: v for k, v in mapping.items() if v != "source"} | {"source": "source"}
        if "TIC" in columns:
            mapping["TIC"] = "tic"
    have = set(mapping.values())
    missing = [c for c in REQUIRED if c not in have]
    if missing:
        layout = "TOI catalogue" if toi else "plain"
        raise ConfigError(
            f"{path}: missing column(s) {', '.join(missing)} ({layout} layout; have: {', '.join(columns)})"
        )
    base = path.parent
    candidates = []
    for i, record in enumerate(table, start=1):
        values = {dest: record[src] for src, dest in mapping.items()}
        name = str(values["target"]).strip()
        if toi:
            name = f"TOI-{name}"
        try:
            if toi and "source" not in columns:
                values["source"] = f"TIC {int(values['source'])}"
            elif toi and not _text(values["source"]) and _text(values.get("tic")):
                values["source"] = (
                    f"TIC {int(float(_text(values['tic'])))}"  # empty cell: the catalogue's TIC
                )
            elif not toi and not _text(values["source"]) and _IDENTIFIER.match(name):
                values["source"] = name  # empty cell: the target's own catalogue identifier
            sources = tuple(
                s if not _is_relative_path(s, base) else str(base / s)
                for s in (part.strip() for part in _text(values["source"]).split(";"))
                if s
            )
            numbers = {k: _number(values.get(k)) for k in ("period", "t0", "duration", "depth", "ra", "dec")}
            for key in ("period", "t0", "duration"):
                if numbers[key] is None:
                    raise ValueError(f"{key} is empty")
            if not sources:
                raise ValueError("source is empty")
            listed = str(values.get("neighbours") or "").strip()
            if listed in ("--", "nan"):
                listed = ""
            if listed and listed.lower() != "tic" and not os.path.isabs(listed):
                listed = str(base / listed)
            candidate = Candidate(row=i, name=name or f"row{i}", sources=sources, **numbers)  # type: ignore[arg-type]
            _check_ephemeris(candidate)
            candidates.append(attrs.evolve(candidate, neighbours=listed or None))
        except (TypeError, ValueError) as exc:
            candidates.append(Candidate(row=i, name=name or f"row{i}", problem=f"{path} row {i}: {exc}"))
    return candidates


def _check_ephemeris(candidate: Candidate) -> None:
    """Raise ``ValueError`` for an impossible ephemeris or position (period ≤ 0 or not finite,
    duration longer than the period, RA/Dec out of range...)."""
    from vetcore.model import Ephemeris, Target

    Ephemeris(
        period=candidate.period, t0=candidate.t0, duration_hours=candidate.duration, depth_ppm=candidate.depth
    )
    if (candidate.ra is None) != (candidate.dec is None):
        raise ValueError("ra and dec must be given together")
    Target(id=candidate.name, ra=candidate.ra, dec=candidate.dec)


def _is_relative_path(source: str, base: Path) -> bool:
    """A relative path that exists beside the table (identifiers such as 'TIC 1' stay as they are)."""
    if os.path.isabs(source):
        return False
    return (base / source).exists() or any(ch in source for ch in "*?[") or "/" in source

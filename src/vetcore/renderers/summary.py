"""``csv`` and ``ecsv`` formats: summary tables for spreadsheets and batch runs.

:func:`summary_row` is the single definition of the wide row, one per target
(also used by ``vetcore batch`` for ``summary.ecsv``): target, position,
ephemeris with the time system of t0, sectors, the target's disposition
(``disposition``, ``likely_host``, ``confusion_radius_arcsec``,
``disposition_reason``), the status of every check in every sector
(``V08_S83``), target-level results (``V25``), the target-level verdict, the
best localization offset and errors.  :func:`long_rows` gives the long form
beside it (``summary_long.*``): one row per target, check and sector.
Numbers are written at full precision (t0, RA and Dec are never rounded) and
the ECSV columns carry their units (:data:`UNITS`).

``summary.csv`` is opened in spreadsheets, which run a cell starting with ``=``,
``+``, ``-`` or ``@`` as a formula (CSV injection).  :func:`table_text` writes
such text cells with a leading apostrophe; numeric columns, and text cells that
are plain numbers, are written as they are.  ``summary.ecsv`` keeps the text
unchanged (it is read by programs, not spreadsheets).

Summary files gather targets: :func:`update_summary` adds or replaces a
target's rows in an existing summary file under an exclusive lock
(``.summary.lock``, :func:`fcntl.flock`), so runs and batches writing into one
folder, even at the same time, never lose each other's rows.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vetcore.errors import VetcoreError
from vetcore.io import atomic_write, inside

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.report import Report

__all__ = [
    "SUFFIXES",
    "UNITS",
    "long_rows",
    "long_table",
    "neutralised",
    "read_summary",
    "render_csv",
    "render_ecsv",
    "summary_row",
    "summary_table",
    "table_text",
    "update_summary",
]

#: File suffix of each astropy table format.
SUFFIXES = {"ascii.ecsv": "ecsv", "ascii.csv": "csv"}
LOCK_FILE = ".summary.lock"

#: Units of the numeric summary columns (astropy unit strings; "" = dimensionless).
UNITS: dict[str, str] = {
    "ra": "deg",
    "dec": "deg",
    "period_d": "d",
    "t0": "d",
    "duration_h": "h",
    "offset_arcsec": "arcsec",
    "offset_sigma": "",
    "offset_error_arcsec": "arcsec",
    "confusion_radius_arcsec": "arcsec",
}


def _t0_system(report: Report) -> str:
    """The time system t0 is expressed in: BJD, or the data's BTJD/BKJD."""
    if report.ephemeris.time_system != "data":
        return report.ephemeris.time_system
    return "/".join(sorted({s.stamp.time_system for s in report.sectors})) or "data"


#: First characters that make a spreadsheet evaluate a cell (with tab and carriage return,
#: which some spreadsheets strip before looking).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else math.nan


def summary_row(report: Report) -> dict[str, Any]:
    """One flat row describing a report (plain str/float/int values, NaN for missing)."""
    row: dict[str, Any] = {
        "target": report.target.id,
        "ra": _number(report.target.ra),
        "dec": _number(report.target.dec),
        "period_d": report.ephemeris.period,
        "t0": report.ephemeris.t0,
        "t0_time_system": _t0_system(report),
        "duration_h": report.ephemeris.duration_hours,
        "sectors": " ".join(s.label for s in report.sectors),
    }
    disposition = report.disposition
    row["disposition"] = disposition.verdict
    row["likely_host"] = disposition.likely_host or ""
    row["confusion_radius_arcsec"] = _number(disposition.confusion_radius_arcsec)
    row["disposition_reason"] = disposition.reason
    errors = []
    for sector in report.sectors:
        for check_id, result in sector.results.items():
            row[f"{check_id}_{sector.label}"] = result.status.value
            if result.error:
                errors.append(f"{check_id} {sector.label}: {result.error.strip().splitlines()[-1]}")
    verdict, best = "", None
    for check_id, result in report.aggregates.items():
        row[check_id] = result.status.value
        verdict = verdict or str(result.metrics.get("verdict", ""))
        if result.localization is not None:
            best = best or result.localization
        if result.error:
            errors.append(f"{check_id}: {result.error.strip().splitlines()[-1]}")
    row["verdict"] = verdict
    row["offset_arcsec"] = best.distance_arcsec if best is not None else math.nan
    row["offset_sigma"] = best.offset_sigma if best is not None else math.nan
    row["offset_method"] = best.method if best is not None else ""
    row["errors"] = "; ".join(errors)
    return row


def summary_table(rows: Iterable[dict[str, Any]]) -> Any:
    """An astropy Table of summary rows (columns: the union, in first-seen order)."""
    from astropy.table import Table

    rows = list(rows)
    names: list[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        numeric = all(isinstance(v, (int, float)) or v is None for v in values)
        columns[name] = [
            (math.nan if v is None else v) if numeric else ("" if v is None else str(v)) for v in values
        ]
    table = Table(columns, names=names) if rows else Table()
    _set_units(table)
    table.meta["comments"] = ["vetcore summary: one row per target; statuses per check and sector"]
    return table


def _set_units(table: Any) -> None:
    import astropy.units as u

    for name, unit in UNITS.items():
        if name in table.colnames and table[name].dtype.kind == "f":
            table[name].unit = u.dimensionless_unscaled if unit == "" else u.Unit(unit)


def long_rows(report: Report) -> list[dict[str, Any]]:
    """One row per (target, check, sector); ``sector`` is ``"all"`` for target-level results."""
    rows = []
    for label, result in report.results():
        loc = result.localization
        rows.append(
            {
                "target": report.target.id,
                "check": result.check,
                "sector": label or "all",
                "status": result.status.value,
                "verdict": str(result.metrics.get("verdict", "")),
                "flags": " ".join(result.flags),
                "offset_arcsec": loc.distance_arcsec if loc is not None else math.nan,
                "offset_sigma": loc.offset_sigma if loc is not None else math.nan,
                "offset_error_arcsec": loc.sigma_arcsec if loc is not None else math.nan,
                "message": " ".join(result.message.split()),
            }
        )
    return rows


def long_table(rows: Iterable[dict[str, Any]]) -> Any:
    """An astropy Table of :func:`long_rows` (units on the numeric columns)."""
    table = summary_table(rows)
    table.meta["comments"] = ["vetcore summary, long form: one row per target, check and sector"]
    return table


def neutralised(text: str) -> str:
    """``text`` made inert for a spreadsheet: ``'`` before a leading formula character,
    unless the whole cell is a number (``-3.5`` stays a number)."""
    if not text.startswith(FORMULA_START):
        return text
    try:
        float(text)
    except ValueError:
        return "'" + text
    return text


def table_text(table: Any, fmt: str) -> str:
    """``table`` written in astropy format ``fmt``; for CSV, text cells are :func:`neutralised`."""
    if fmt == "ascii.csv":
        table = table.copy()
        for name in table.colnames:
            if table[name].dtype.kind in "US":
                table[name] = [neutralised(str(v)) for v in table[name]]
    buffer = io.StringIO()
    table.write(buffer, format=fmt)
    return buffer.getvalue()


def _plain_value(value: Any, fmt: str) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and fmt == "ascii.csv" and value[:1] == "'" and value[1:2] in FORMULA_START:
        value = value[1:]  # undo neutralised()
    return value


def read_summary(path: str | os.PathLike[str], fmt: str) -> list[dict[str, Any]]:
    """The rows of an existing summary file (text as it was before :func:`neutralised`;
    empty numeric cells as ``None``)."""
    import numpy as np
    from astropy.table import Table

    try:
        table = Table.read(path, format=fmt)
    except Exception as exc:  # astropy raises many types for a damaged table
        raise VetcoreError(
            f"{path}: cannot read the existing summary to add rows to it ({type(exc).__name__}: {exc}); "
            "move it away or choose another --out"
        ) from None
    columns = {}
    for name in table.colnames:
        column = table[name]
        mask = np.ma.getmaskarray(column)
        empty = "" if column.dtype.kind in "US" else None
        columns[name] = [empty if mask[i] else _plain_value(column[i], fmt) for i in range(len(table))]
    return [{name: values[i] for name, values in columns.items()} for i in range(len(table))]


@contextlib.contextmanager
def _summary_lock(out_dir: Path) -> Iterator[None]:
    import fcntl

    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _merged(existing: list[dict[str, Any]], rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``existing`` with each target's rows replaced, in place, by its ``rows``; then the new targets."""
    new: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        new.setdefault(str(row.get("target")), []).append(row)
    merged: list[dict[str, Any]] = []
    for row in existing:
        target = str(row.get("target"))
        if target not in new:
            merged.append(row)
        elif new[target]:
            merged.extend(new[target])
            new[target] = []
    return merged + [r for rows_of in new.values() for r in rows_of]


def update_summary(
    out_dir: str | os.PathLike[str],
    rows: Sequence[dict[str, Any]],
    formats: Sequence[str] = tuple(SUFFIXES),
    name: str = "summary",
    table: Callable[[Iterable[dict[str, Any]]], Any] = summary_table,
) -> list[Path]:
    """Add ``rows`` to ``out_dir/<name>.<suffix>`` in each format, replacing the rows of the same
    targets; ``table`` builds the astropy table (:func:`summary_table`, :func:`long_table`)."""
    out = Path(out_dir)
    paths = []
    with _summary_lock(out):
        for fmt in formats:
            path = inside(out, f"{name}.{SUFFIXES[fmt]}")
            existing = read_summary(path, fmt) if path.exists() else []
            paths.append(atomic_write(path, table_text(table(_merged(existing, rows)), fmt)))
    return paths


def _write(report: Report, out_dir: str | os.PathLike[str], fmt: str) -> list[Path]:
    return update_summary(out_dir, [summary_row(report)], [fmt]) + update_summary(
        out_dir, long_rows(report), [fmt], "summary_long", long_table
    )


def render_csv(report: Report, out_dir: str | os.PathLike[str]) -> list[Path]:
    return _write(report, out_dir, "ascii.csv")


def render_ecsv(report: Report, out_dir: str | os.PathLike[str]) -> list[Path]:
    return _write(report, out_dir, "ascii.ecsv")

"""The report of one target: every check result, with the inputs that produced it.

:class:`Report` is the in-memory record returned by :func:`vetcore.vet`.
:meth:`Report.to_dict` gives the JSON form described by
``vetcore/schema/report.schema.json`` (``SCHEMA_VERSION``); :meth:`Report.save`
hands the report to renderers (``json``, and whatever else plugins provide).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from vetcore.errors import ConfigError, did_you_mean
from vetcore.model import Check, CheckResult, Ephemeris, Renderer, Stamp, Target
from vetcore.requirements import RUNNER_FLAGS
from vetcore.serialize import jsonable, result_to_dict
from vetcore.version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.disposition import Disposition

__all__ = [
    "SCHEMA_VERSION",
    "Report",
    "SectorReport",
    "content_digest",
    "inputs_hash",
    "json_schema",
    "source_identity",
]

#: Version of the report.json layout (major.minor; minor bumps only add keys).
SCHEMA_VERSION = "1.1"


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def target_to_dict(target: Target) -> dict[str, Any]:
    return {
        "id": target.id,
        "ra": target.ra,
        "dec": target.dec,
        "magnitude": jsonable(target.magnitude),
        "magnitude_band": target.magnitude_band,
    }


def ephemeris_to_dict(ephemeris: Ephemeris) -> dict[str, Any]:
    return {
        "period_days": ephemeris.period,
        "t0": ephemeris.t0,
        "time_system": ephemeris.time_system,
        "duration_hours": ephemeris.duration_hours,
        "depth_ppm": jsonable(ephemeris.depth_ppm),
    }


def stamp_to_dict(stamp: Stamp) -> dict[str, Any]:
    """Description of a stamp for the report (no pixel data)."""
    target_pixel = None
    if stamp.target.has_position:
        row, col = stamp.target_pixel
        target_pixel = {"row": jsonable(row), "col": jsonable(col)}
    good = stamp.good
    times = stamp.time[good]
    return {
        "label": stamp.label,
        "mission": stamp.mission,
        "sector": int(stamp.sector),
        "time_system": stamp.time_system,
        "bjd_ref": float(stamp.bjd_ref),
        "source": stamp.source,
        "n_cadences": stamp.n_cadences,
        "n_good_cadences": int(good.sum()),
        "cadence_seconds": jsonable(stamp.cadence_seconds),
        "time_range": [jsonable(times.min()), jsonable(times.max())] if times.size else None,
        "shape": list(stamp.shape),
        "pixel_scale_arcsec": jsonable(stamp.pixel_scale_arcsec),
        "target_pixel": target_pixel,
        "aperture_source": stamp.aperture_source,
        "n_aperture_pixels": int(stamp.aperture_mask.sum()),
    }


def source_identity(source: Any) -> str:
    """A stable string standing for one input source (used by :func:`inputs_hash`).

    A :class:`Stamp` is identified by its source, mission, sector and data shape;
    an existing file by its absolute path and a digest of its content (so a file
    replaced by another of the same size and time stamp is noticed); a folder or
    glob by the files it holds, each the same way; anything else by ``str()``.
    """
    if isinstance(source, Stamp):
        return f"stamp:{source.source}:{source.mission}:{source.sector}:{source.flux.shape}"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if path.is_file():
            return f"file:{path.resolve()}:{content_digest(path)}"
        files = _files_of(str(source))
        if files:
            return f"files:{source}:" + ";".join(source_identity(f) for f in files)
    return f"source:{source}"


def _files_of(source: str) -> list[Path]:
    """The regular files inside a folder (recursively) or matching a glob, sorted; else none."""
    import glob

    path = Path(source).expanduser()
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    if any(ch in source for ch in "*?[") and not path.exists():
        return sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
    return []


_DIGESTS: dict[tuple[str, int, int, int, int], str] = {}


def content_digest(path: str | os.PathLike[str]) -> str:
    """BLAKE2b digest (hex, 32 bytes) of a file's content, read in 1 MiB blocks.

    Within one process a file is read once: the digest is kept under its path,
    size, inode, modification and change times.
    """
    path = Path(path)
    info = path.stat()
    key = (str(path.resolve()), info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns)
    if key not in _DIGESTS:
        digest = hashlib.blake2b(digest_size=32)
        with open(path, "rb") as fh:
            while block := fh.read(1024**2):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def inputs_hash(
    config: Mapping[str, Any],
    ephemeris: Ephemeris,
    sources: Iterable[Any],
    extra: Mapping[str, Any] | None = None,
) -> str:
    """SHA-256 (hex) of everything that determines a report's results.

    ``config`` is the effective configuration (its ``source`` path is ignored,
    its content is not), ``sources`` the inputs as given (see
    :func:`source_identity`), ``extra`` any further options (target overrides,
    sector selection).  Equal hashes mean a finished report can be reused.
    """
    payload = {
        "config": {k: v for k, v in config.items() if k != "source"},
        "ephemeris": ephemeris_to_dict(ephemeris),
        "sources": sorted(source_identity(s) for s in sources),
        "extra": jsonable(extra or {}),
    }
    text = json.dumps(jsonable(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@attrs.define(eq=False)
class SectorReport:
    """The results of the sector-scope checks on one stamp, keyed by check id."""

    stamp: Stamp = attrs.field(repr=lambda stamp: stamp.label)
    results: dict[str, CheckResult] = attrs.field(factory=dict)

    @property
    def label(self) -> str:
        return self.stamp.label

    def to_dict(self) -> dict[str, Any]:
        out = stamp_to_dict(self.stamp)
        out["results"] = {cid: result_to_dict(r) for cid, r in self.results.items()}
        return out


@attrs.define(eq=False, repr=False)
class Report:
    """Everything vetcore found about one target.

    ``config`` is the effective configuration (:meth:`vetcore.config.Config.effective`),
    ``plugins`` the plugins that took part (name, version, origin, error),
    ``sectors`` the per-stamp results, ``aggregates`` the target-scope results,
    ``checks`` the :class:`Check` objects that ran (not serialised; used for flag
    explanations and figures), ``timings`` wall-clock seconds, ``inputs_hash``
    see :func:`inputs_hash`, ``renderers`` the renderers available to the run
    that made it (by name; not serialised), used by :meth:`save`.
    """

    target: Target
    ephemeris: Ephemeris
    config: dict[str, Any] = attrs.field(factory=dict)
    plugins: list[dict[str, Any]] = attrs.field(factory=list)
    sectors: list[SectorReport] = attrs.field(factory=list)
    aggregates: dict[str, CheckResult] = attrs.field(factory=dict)
    checks: dict[str, Check] = attrs.field(factory=dict, repr=False)
    timings: dict[str, Any] = attrs.field(factory=dict)
    inputs_hash: str = ""
    vetcore_version: str = __version__
    created: str = attrs.field(factory=_utc_now)
    renderers: Mapping[str, Renderer] = attrs.field(factory=dict, repr=False)
    warnings: list[str] = attrs.field(factory=list)
    #: Names of the files written beside the HTML page (set on the copy the HTML renderer gets).
    products: list[str] = attrs.field(factory=list, repr=False)

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for _, result in self.results():
            counts[result.status.value] = counts.get(result.status.value, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in counts.items())
        return (
            f"<Report {self.target.id}: sectors {[s.label for s in self.sectors]}, "
            f"checks {list(self.checks)}, results: {summary or 'none'}>"
        )

    # -- notebook ---------------------------------------------------------------------
    def _repr_html_(self) -> str:
        """Jupyter view: the verdict box, the status table and compact figures."""
        from vetcore.display import report_html

        return report_html(self)

    def to_table(self, metrics: bool = True) -> Any:
        """An astropy ``Table``, one row per (check, sector), a unit on every numeric column.

        See :func:`vetcore.display.report_table`.
        """
        from vetcore.display import report_table

        return report_table(self, metrics=metrics)

    def to_pandas(self, metrics: bool = True) -> Any:
        """:meth:`to_table` as a pandas ``DataFrame`` (needs pandas; units go to ``df.attrs["units"]``)."""
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise ImportError("to_pandas needs pandas (pip install pandas)") from None
        table = self.to_table(metrics=metrics)
        units = {name: str(table[name].unit) for name in table.colnames if table[name].unit is not None}
        frame = table.to_pandas(index=False)
        frame.attrs["units"] = units
        return frame

    def plot(
        self,
        check: str,
        sector: str | int | None = None,
        ax: Any = None,
        panel: int | None = None,
        pixel_axes: str = "stamp",
    ) -> Any:
        """Draw ``check``'s panels for ``sector`` (``"S83"`` or ``83``) into ``ax``; returns the axes.

        ``ax`` is one matplotlib Axes (choose the panel with ``panel`` when the
        check draws several), a sequence of ``Check.plot_panels`` axes, or
        ``None`` for a new pyplot figure.  ``pixel_axes="ccd"`` labels pixel
        images in CCD column/row (as lightkurve does) when the data give the
        stamp's CCD position.  See :func:`vetcore.display.plot_check`.
        """
        from vetcore.display import plot_check
        from vetcore.plotting import pixel_axes as axes_mode

        with axes_mode(pixel_axes):
            return plot_check(self, check, sector, ax=ax, panel=panel)

    # -- access ---------------------------------------------------------------------
    @property
    def stamps(self) -> list[Stamp]:
        return [s.stamp for s in self.sectors]

    def result(self, check_id: str, sector_label: str | None = None) -> CheckResult:
        """The result of ``check_id`` for one sector (``"S83"``), or its target-level result.

        Without ``sector_label``, a target-scope result, or the sector result when
        the check ran on exactly one sector.  Raises ``KeyError`` otherwise.
        """
        if sector_label is None and check_id in self.aggregates:
            return self.aggregates[check_id]
        found = {s.label: s.results[check_id] for s in self.sectors if check_id in s.results}
        if sector_label is not None:
            if sector_label not in found:
                raise KeyError(
                    f"no result of {check_id} for {sector_label} (have: {', '.join(found) or 'none'})"
                )
            return found[sector_label]
        if len(found) == 1:
            return next(iter(found.values()))
        if not found:
            raise KeyError(f"no result of {check_id} in this report")
        raise KeyError(f"{check_id} ran on {', '.join(found)}; pass sector_label")

    @property
    def disposition(self) -> Disposition:
        """The target's one disposition, from the results (:func:`vetcore.disposition.report_disposition`)."""
        from vetcore.disposition import report_disposition

        listed = self.target.neighbours
        return report_disposition(
            self.aggregates,
            [(s.label, s.results) for s in self.sectors],
            None if listed is None else listed.describe(),
        )

    def results(self) -> list[tuple[str | None, CheckResult]]:
        """Every result as ``(sector_label or None for target-level, result)``."""
        rows: list[tuple[str | None, CheckResult]] = [
            (s.label, r) for s in self.sectors for r in s.results.values()
        ]
        rows.extend((None, r) for r in self.aggregates.values())
        return rows

    def statuses(self) -> list[dict[str, Any]]:
        """One row per result: check, sector (``None`` for target level), status, flags, message."""
        return [
            {
                "check": r.check,
                "sector": label,
                "status": r.status.value,
                "flags": list(r.flags),
                "message": r.message,
            }
            for label, r in self.results()
        ]

    def explain(self, result: CheckResult) -> list[tuple[str, str]]:
        """``(flag, explanation)`` for each flag of ``result``, from the check's declared flags."""
        check = self.checks.get(result.check)
        declared = dict(check.flags) if check is not None else {}
        return [
            (f, declared.get(f) or RUNNER_FLAGS.get(f) or "no explanation declared by the check")
            for f in result.flags
        ]

    # -- serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (see ``schema/report.schema.json``); NaN/inf become ``None``."""
        return {
            "schema_version": SCHEMA_VERSION,
            "vetcore_version": self.vetcore_version,
            "created": self.created,
            "target": target_to_dict(self.target),
            "ephemeris": ephemeris_to_dict(self.ephemeris),
            "disposition": self.disposition.to_dict(),
            "config": jsonable(self.config),
            "plugins": [
                {
                    "name": p["name"],
                    "version": p.get("version", ""),
                    "origin": p.get("origin", ""),
                    "error": p.get("error"),
                }
                for p in self.plugins
            ],
            "sectors": [s.to_dict() for s in self.sectors],
            "aggregates": {cid: result_to_dict(r) for cid, r in self.aggregates.items()},
            "timings": jsonable(self.timings),
            "inputs_hash": self.inputs_hash,
            "warnings": list(self.warnings),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text (strict JSON: no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"

    def save(
        self,
        out_dir: str | os.PathLike[str],
        formats: Sequence[str] | None = None,
        renderers: Mapping[str, Renderer] | None = None,
        *,
        force: bool = False,
    ) -> list[Path]:
        """Render the report into ``out_dir`` in each format; return the paths written.

        ``formats`` defaults to the configuration's ``output.formats``, else
        ``["json"]``.  ``renderers`` maps format names to renderers (default: the
        renderers of the run that made the report, else the installed ones).
        An unknown format raises :class:`ConfigError` before anything is written.

        One folder holds one target: when ``out_dir`` already holds the
        ``report.json`` of another target, :class:`ConfigError` is raised before
        anything is written, unless ``force``; then that target's files
        (``report.*``, ``summary*``, its figures) are removed first.
        """
        if formats is None:
            formats = self.config.get("output", {}).get("formats") or ["json"]
        if isinstance(formats, str):
            raise ConfigError(f"formats must be a list of names, got the string {formats!r}")
        if renderers is None:
            renderers = self.renderers
        if not renderers:
            from vetcore.plugins import PluginManager

            renderers = PluginManager().renderers
        chosen = [_renderer(renderers, name) for name in formats]
        out = Path(out_dir)
        _claim_folder(out, self.target.id, force)
        out.mkdir(parents=True, exist_ok=True)
        written: dict[int, list[Path]] = {}
        # the HTML page lists the other products, so it is written last, from a copy that knows them
        for i in sorted(range(len(chosen)), key=lambda k: chosen[k].name == "html"):
            subject = self
            if chosen[i].name == "html":
                from vetcore.renderers.html_report import FILENAME

                done = [p.name for group in written.values() for p in group]
                subject = attrs.evolve(self, products=[*done, FILENAME])
            written[i] = [Path(p) for p in chosen[i].render(subject, out)]
        paths = [p for i in range(len(chosen)) for p in written[i]]
        return paths


def _claim_folder(out: Path, target_id: str, force: bool) -> None:
    """Refuse (or, with ``force``, clear) an output folder holding another target's report."""
    from vetcore.io import safe_name

    previous = out / "report.json"
    try:
        other = json.loads(previous.read_text(encoding="utf-8"))["target"]["id"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # no readable report: nothing to mix with
    if other == target_id:
        return
    if not force:
        raise ConfigError(
            f"output folder {out} already holds the report of {other!r}, not {target_id!r}; "
            f"choose another folder, or replace it with --force (force=True)"
        )
    stale = [previous, *out.glob("report.*"), *out.glob("summary*.csv"), *out.glob("summary*.ecsv")]
    stale += list(out.glob(f"{safe_name(str(other))}_*.png"))
    for path in stale:
        path.unlink(missing_ok=True)


def _renderer(renderers: Mapping[str, Renderer], name: str) -> Renderer:
    try:
        return renderers[name]
    except KeyError:
        raise ConfigError(
            f"unknown output format {name!r}{did_you_mean(name, renderers)} "
            f"(available: {', '.join(sorted(renderers)) or 'none'})"
        ) from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that ``report.json`` follows."""
    from importlib.resources import files

    return json.loads(files("vetcore").joinpath("schema", "report.schema.json").read_text(encoding="utf-8"))

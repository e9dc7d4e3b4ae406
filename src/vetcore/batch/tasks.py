"""The two kinds of batch work, as plain functions that pickle to any worker.

* :func:`sector_task` — load one data source of one candidate (usually one
  sector) and run the sector-scope checks on it;
* :func:`target_task` — take a candidate's sector outcomes, run the
  target-scope checks (V25), and write the candidate's reports atomically into
  its own folder, ``report.json`` last (its presence marks the target done).

Both catch user-level problems (bad files, no transit in the data) and return
them as an error outcome instead of raising, so one bad target never stops a
batch.  Both run in the driver's :class:`~vetcore.session.Session`, rebuilt once
per worker process from its :class:`~vetcore.session.SessionSpec` (so every
process that runs checks fires ``vetcore_configure`` once); the target task
fires ``vetcore_report_finished`` once per target, on the complete report.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import attrs

from vetcore.batch.table import Candidate
from vetcore.errors import VetcoreError
from vetcore.inputs import ephemeris_warnings
from vetcore.io import atomic_write, inside, safe_name
from vetcore.loaders.checks import check_target_on_stamp
from vetcore.model import Ephemeris, Target
from vetcore.report import SectorReport
from vetcore.session import Session, SessionSpec, check_stamps

__all__ = [
    "FORMATS_FILE",
    "ROW_FILE",
    "SectorOutcome",
    "TargetOutcome",
    "candidate_hash",
    "ephemeris_of",
    "failed_outcome",
    "folder_name",
    "sector_task",
    "target_task",
]

#: Per-target summary row, written next to ``report.json`` (read back when resuming).
ROW_FILE = "summary_row.json"
#: The formats rendered for a target (a resumed batch renders a target again for new ones).
FORMATS_FILE = "formats.json"


@attrs.frozen(eq=False)
class SectorOutcome:
    """What a sector task returns: the stamps' sector reports, or an error."""

    source: str
    sectors: tuple[SectorReport, ...] = ()
    error: str | None = None
    elapsed_s: float = 0.0
    peak_rss_mb: float = 0.0


@attrs.frozen
class TargetOutcome:
    """What a target task returns (small: it travels back to the driver).  ``status`` is the
    target's disposition (on_target, off_target, …), or ``"failed"``."""

    name: str
    folder: str
    status: str
    row: dict[str, Any]
    error: str | None = None
    n_sector_checks: int = 0
    peak_rss_mb: float = 0.0


def folder_name(candidate: Candidate) -> str:
    """The candidate's output sub-folder: its name made file-name safe, with the row number."""
    return f"{safe_name(candidate.name)}"


def ephemeris_of(candidate: Candidate) -> Ephemeris:
    return Ephemeris(
        period=candidate.period, t0=candidate.t0, duration_hours=candidate.duration, depth_ppm=candidate.depth
    )


def _peak_rss_mb() -> float:
    """This process's peak resident memory (MB): Linux ``VmHWM`` (reset at exec, unlike
    ``ru_maxrss``, which a spawned worker inherits from its parent), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _target_override(candidate: Candidate) -> Target:
    return Target(id=candidate.name, ra=candidate.ra, dec=candidate.dec)


def candidate_hash(candidate: Candidate, effective: dict[str, Any]) -> str:
    """The :func:`~vetcore.report.inputs_hash` of a candidate's report (its sources' content included)."""
    from vetcore.report import inputs_hash

    if candidate.problem:
        return ""
    extra: dict[str, Any] = {
        "target": {"id": candidate.name, "ra": candidate.ra, "dec": candidate.dec},
        "batch": True,
    }
    if candidate.neighbours is not None:
        from vetcore.neighbours import neighbours_identity

        extra["neighbours"] = neighbours_identity(candidate.neighbours)
    return inputs_hash(effective, ephemeris_of(candidate), candidate.sources, extra)


def _position_from(candidate: Candidate) -> str | None:
    return f"the ra/dec columns of row {candidate.row}" if candidate.ra is not None else None


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, VetcoreError) else str(exc)


def sector_task(candidate: Candidate, source: str, spec: SessionSpec) -> SectorOutcome:
    """Load ``source`` for ``candidate`` and run the selected sector-scope checks on each stamp."""
    start = time.perf_counter()
    try:
        session = Session.from_spec(spec)
        stamps = session.load(source, target=_target_override(candidate))
        for stamp in stamps:
            check_target_on_stamp(stamp, _position_from(candidate))
        if candidate.neighbours is not None:
            from vetcore.neighbours import attach_neighbours

            stamps = attach_neighbours(
                stamps,
                candidate.neighbours,
                cache_dir=session.config.cache_dir,
                offline=session.config.offline,
            )
        eph = ephemeris_of(candidate)
        sectors = tuple(session.run_sector(stamp, eph) for stamp in stamps)
        error = None
    except VetcoreError as exc:
        sectors, error = (), _one_line(exc)
    except Exception as exc:  # an unexpected failure of one source must not stop the batch
        sectors, error = (), f"internal error: {_one_line(exc)}\n{traceback.format_exc()}"
    return SectorOutcome(source, sectors, error, time.perf_counter() - start, _peak_rss_mb())


def target_task(
    candidate: Candidate,
    outcomes: list[SectorOutcome],
    spec: SessionSpec,
    out_dir: str,
    formats: tuple[str, ...],
    inputs_hash: str,
) -> TargetOutcome:
    """Run target-scope checks on the sector outcomes and write the reports; never raises."""
    from vetcore.renderers.summary import summary_row

    folder = folder_name(candidate)
    peak = max([o.peak_rss_mb for o in outcomes] + [_peak_rss_mb()])
    try:
        if candidate.problem:
            raise VetcoreError(candidate.problem)
        errors = [
            f"{o.source}: {o.error}" if not o.error.startswith(o.source) else o.error
            for o in outcomes
            if o.error
        ]
        if errors:
            raise VetcoreError("; ".join(e.splitlines()[0] for e in errors))
        session = Session.from_spec(spec)
        sectors = [s for o in outcomes for s in o.sectors]
        stamps = [s.stamp for s in sectors]
        eph = ephemeris_of(candidate)
        check_stamps(stamps, eph, _position_from(candidate))
        report = session.run_target(
            stamps,
            eph,
            hash_inputs=inputs_hash or candidate_hash(candidate, session.effective),
            precomputed={s.label: s for s in sectors},
            warnings=ephemeris_warnings(eph),
        )
        target_dir = inside(out_dir, folder)
        ordered = [f for f in formats if f != "json"] + ["json"]  # report.json last: the completion mark
        row = summary_row(report)
        row["folder"] = folder
        target_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(target_dir / ROW_FILE, json.dumps(_plain(row), allow_nan=True))
        atomic_write(target_dir / FORMATS_FILE, json.dumps(sorted(set(ordered))))
        session.render(report, target_dir, ordered)
        status = str(row.get("disposition") or "done")
        n_checks = sum(len(s.results) for s in report.sectors)
        return TargetOutcome(candidate.name, folder, status, row, None, n_checks, peak)
    except Exception as exc:  # the batch records the failure and goes on
        return failed_outcome(candidate, _one_line(exc).splitlines()[0], peak)


def failed_outcome(candidate: Candidate, message: str, peak_rss_mb: float = 0.0) -> TargetOutcome:
    """The outcome of a target that could not be vetted, with its summary row."""
    folder = folder_name(candidate)
    row = {"target": candidate.name, "folder": folder, "errors": message}
    return TargetOutcome(candidate.name, folder, "failed", row, message, 0, peak_rss_mb)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}


def rendered_formats(out_dir: str | Path, folder: str) -> set[str]:
    """The formats a finished target was rendered in (empty when unknown)."""
    try:
        return set(json.loads(Path(out_dir, folder, FORMATS_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return set()


def read_row(out_dir: str | Path, folder: str) -> dict[str, Any] | None:
    """The stored summary row of a finished target, or ``None``."""
    try:
        return dict(json.loads(Path(out_dir, folder, ROW_FILE).read_text()))
    except (OSError, ValueError):
        return None

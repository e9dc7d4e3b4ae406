"""Plan a batch, skip what is already done, run the rest, and write the summary.

A target is *done* when ``DIR/<folder>/report.json`` exists, records the same
inputs hash (configuration, ephemeris, the sources' content digests, target
overrides) as this run would, and the target was rendered in every format
asked for now; such targets are skipped, everything else is (re)computed.  A
row whose ephemeris or position is impossible fails with its row number and
the batch goes on.  Each target's files are written atomically by its own
task, so an interrupted batch (Ctrl-C, a killed worker) loses no finished
target; the summary files gather this batch's rows with those already in the
folder (:func:`vetcore.renderers.summary.update_summary`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from vetcore.batch.executors import EXECUTORS, TargetJob, default_workers
from vetcore.batch.table import Candidate, read_table
from vetcore.batch.tasks import TargetOutcome, candidate_hash, folder_name, read_row, rendered_formats
from vetcore.config import Config
from vetcore.errors import ConfigError
from vetcore.io import inside
from vetcore.plugins import PluginManager
from vetcore.progress import printable
from vetcore.session import Session

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.neighbours import NeighbourSpec

__all__ = ["BatchProgress", "BatchResult", "run_batch"]


@attrs.define
class BatchResult:
    """Counts, rows and timing of a batch run."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    rows: list[dict[str, Any]] = attrs.field(factory=list)
    elapsed_s: float = 0.0
    sector_checks: int = 0
    peak_rss_mb: float = 0.0
    summary_paths: list[Path] = attrs.field(factory=list)


class BatchProgress:
    """One line per finished target: done / failed / remaining and throughput."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.stream, self.start = total, stream, time.perf_counter()
        self.done = self.failed = 0

    def __call__(self, outcome: TargetOutcome) -> None:
        if outcome.error:
            self.failed += 1
        else:
            self.done += 1
        finished = self.done + self.failed
        rate = finished / max(time.perf_counter() - self.start, 1e-9)
        detail = printable(f"failed: {outcome.error}" if outcome.error else outcome.status)
        print(
            f"[{finished}/{self.total}] {printable(outcome.name)}: {detail}  "
            f"(done {self.done}, failed {self.failed}, remaining {self.total - finished}; "
            f"{rate:.2f} targets/s)",
            file=self.stream if self.stream is not None else sys.stderr,
            flush=True,
        )


def _finished(out_dir: Path, folder: str, expected: str, formats: Sequence[str]) -> bool:
    """Done before with the same inputs, and rendered in every format asked for now."""
    try:
        recorded = json.loads((out_dir / folder / "report.json").read_text()).get("inputs_hash")
    except (OSError, ValueError, AttributeError):
        return False
    return bool(expected) and recorded == expected and set(formats) <= rendered_formats(out_dir, folder)


def _check_unique(candidates: Sequence[Candidate]) -> None:
    seen: dict[str, int] = {}
    for c in candidates:
        folder = folder_name(c)
        if folder in seen:
            raise ConfigError(
                f"rows {seen[folder]} and {c.row} both write to the folder {folder!r}; "
                "give targets distinct names"
            )
        seen[folder] = c.row


def run_batch(
    table: str | os.PathLike[str] | Sequence[Candidate],
    out_dir: str | os.PathLike[str],
    *,
    executor: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    config: Config | None = None,
    checks: Sequence[str] | None = None,
    formats: Sequence[str] = ("json",),
    progress: Callable[[TargetOutcome], None] | None = None,
    disabled: Sequence[str] = (),
    neighbours: NeighbourSpec = None,
) -> BatchResult:
    """Vet every candidate of ``table`` into ``out_dir``; see the module docstring.

    The configuration (checks, parameters, formats) is validated here, before any
    data is read; workers run in the same :class:`~vetcore.session.Session`.
    ``disabled`` names further plugins not to load (``--disable-plugin``).
    ``neighbours`` is one neighbour list for every candidate without its own
    ``neighbours`` column value (a file, read here once, or ``"tic"``; see
    :mod:`vetcore.neighbours`): each target keeps the stars around it.
    """
    if executor not in EXECUTORS:
        raise ConfigError(f"--executor: unknown executor {executor!r} (choose from {', '.join(EXECUTORS)})")
    if scheduler and executor != "dask":
        executor = "dask"
    cfg = config or Config()
    candidates = read_table(table) if isinstance(table, (str, os.PathLike)) else list(table)
    _check_unique(candidates)
    if neighbours is not None:
        from vetcore.neighbours import load_neighbours

        if not isinstance(neighbours, str) or neighbours.strip().lower() != "tic":
            neighbours = load_neighbours(neighbours, ra=None, dec=None)  # one read, validated up front
        candidates = [
            c if c.neighbours is not None else attrs.evolve(c, neighbours=neighbours) for c in candidates
        ]
    pm = PluginManager(disabled=(*cfg.disable_plugins, *disabled))
    for name in formats:
        pm.get_renderer(name)
    session = Session(cfg, checks=tuple(checks) if checks else None, plugin_manager=pm, disabled=disabled)
    effective = session.effective
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = BatchResult()
    start = time.perf_counter()

    jobs, rows_by_folder = [], {}
    for cand in candidates:
        folder = folder_name(cand)
        inside(out, folder)  # refuses names that would escape the output folder
        digest = ""  # computed by the worker, in parallel, for targets never finished before
        if (out / folder / "report.json").exists():
            digest = candidate_hash(cand, effective)
            if _finished(out, folder, digest, formats):
                row = read_row(out, folder)
                if row is not None:
                    rows_by_folder[folder] = row
                    result.skipped += 1
                    continue
        jobs.append(TargetJob(cand, cand.sources, session.spec, str(out), tuple(formats), digest))
    workers = workers or default_workers()
    for outcome in EXECUTORS[executor](jobs, workers, scheduler):
        rows_by_folder[outcome.folder] = outcome.row
        result.sector_checks += outcome.n_sector_checks
        result.peak_rss_mb = max(result.peak_rss_mb, outcome.peak_rss_mb)
        if outcome.error:
            result.failed += 1
        else:
            result.done += 1
        if progress is not None:
            progress(outcome)
    order = [folder_name(c) for c in candidates]
    result.rows = [rows_by_folder[f] for f in order if f in rows_by_folder]
    result.summary_paths = write_summary(out, result.rows)
    result.elapsed_s = time.perf_counter() - start
    return result


def write_summary(out: Path, rows: list[dict[str, Any]]) -> list[Path]:
    """``summary.ecsv`` and ``summary.csv``: this batch's rows added to (or replacing, target by
    target) those already in the folder, atomically and under the summary lock."""
    from vetcore.renderers.summary import update_summary

    return update_summary(out, rows)

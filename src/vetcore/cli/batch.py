"""``vetcore batch``: vet every candidate of a table, resumably, on all cores or a Dask cluster."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vetcore.cli.verdict_options import FAIL_ON_EXIT, add_verdict_options, failing


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "batch",
        help="vet many candidates from a CSV/ECSV table (resumable; processes or Dask)",
        description="Vet every row of TABLE (plain layout: target, source, period, t0, duration[, depth, ra, "
        "dec]; or the TOI catalogue as published) into DIR/<target>/, and write DIR/summary.ecsv and "
        "DIR/summary.csv.  Re-running skips targets whose report has the same inputs.",
        epilog="example: vetcore batch candidates.csv --out survey/ --workers 2 --format json,html\n\n"
        "summary.ecsv/csv hold one row per target with its disposition (columns disposition,\n"
        "likely_host, confusion_radius_arcsec, disposition_reason).\n\n"
        "exit codes: 0 every row done (whatever the verdicts), 3 some target's disposition is one of\n"
        "--fail-on, 4 finished but some rows failed (their errors are in the summary), 2 bad table,\n"
        "options or configuration, 1 internal error.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("table", metavar="TABLE", help="CSV or ECSV table, one row per candidate")
    p.add_argument(
        "--out", default="vetcore-batch", metavar="DIR", help="output folder (default: ./vetcore-batch)"
    )
    p.add_argument("--executor", default="processes", choices=("serial", "processes", "dask"),
                   help="where to run: in this process, a local process pool (default) or Dask")  # fmt: skip
    p.add_argument(
        "--workers", type=int, default=None, metavar="N", help="worker processes (default: all cores)"
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--config", metavar="FILE", help="TOML configuration (default: ./vetcore.toml if present)")
    p.add_argument(
        "--checks", metavar="LIST", help="checks to run: ids, globs or plugin:NAME, comma-separated"
    )
    p.add_argument(
        "--format", default="json", metavar="LIST", help="report formats per target (default: json)"
    )
    p.add_argument("--offline", action="store_true", help="never download; use files and the cache")
    p.add_argument(
        "--cache-dir", metavar="DIR", help="download cache folder (must be shared by Dask workers)"
    )
    p.add_argument("--quiet", action="store_true", help="no per-target progress lines")
    add_verdict_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    from vetcore.batch import read_table, run_batch
    from vetcore.batch.driver import BatchProgress
    from vetcore.cli import BATCH_ROWS_FAILED, announce_config, logger
    from vetcore.config import load_config
    from vetcore.errors import ConfigError
    from vetcore.io import check_output_folder

    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    check_output_folder(args.out)
    config = load_config(args.config)
    if args.offline:
        config = config.replace(offline=True)
    if args.cache_dir:
        config = config.replace(cache_dir=args.cache_dir)
    candidates = read_table(args.table)
    progress = None if args.quiet else BatchProgress(len(candidates))
    checks = [c.strip() for c in args.checks.split(",") if c.strip()] if args.checks else None
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    if config.source:  # validate the file before saying it is in use
        from vetcore.session import Session

        Session(config, checks=checks, disabled=args.disable_plugin)
        announce_config(config)
    try:
        result = run_batch(
            candidates, args.out, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
            config=config, checks=checks, formats=formats, progress=progress, disabled=args.disable_plugin,
            neighbours=args.neighbours,
        )  # fmt: skip
    except KeyboardInterrupt:
        print(
            f"vetcore: interrupted; finished targets are kept in {args.out}; re-run to resume",
            file=sys.stderr,
        )
        return 130
    rate = result.sector_checks / result.elapsed_s if result.elapsed_s > 0 else 0.0
    print(
        f"{len(candidates)} targets: {result.done} done, {result.failed} failed, {result.skipped} skipped "
        f"(already done) in {result.elapsed_s:.1f} s ({rate:.1f} sector-checks/s)"
    )
    for path in result.summary_paths:
        print(f"wrote {path}")
    dispositions = [str(row.get("disposition") or "") for row in result.rows]
    counts = {v: dispositions.count(v) for v in dict.fromkeys(d for d in dispositions if d)}
    if counts:
        print("dispositions: " + ", ".join(f"{n} {v}" for v, n in counts.items()))
    if failing(dispositions, args.fail_on):
        return FAIL_ON_EXIT
    if result.failed:
        logger.warning(f"{result.failed} of {len(candidates)} rows failed; their errors are in the summary")
        return BATCH_ROWS_FAILED
    return 0
